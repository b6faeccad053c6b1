"""What MyPage announces to the apps above it (which it must not import: STYLE.md's direction)."""

from django.dispatch import Signal

# A member unlinked a policy; sent inside the unlink's transaction with ``member``, ``contract``
# and ``request``. keizoku.renewals withdraws the member's unfinished draft of that policy.
policy_unlinked = Signal()
