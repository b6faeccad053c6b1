"""The request of a MyPage page behind ``login_required``: its user is a logged-in member."""

from django.http import HttpRequest

from .models import User


class MemberRequest(HttpRequest):
    """For type checking only (django-stubs' documented pattern): ``login_required`` has let
    only a logged-in user through, so ``request.user`` is a ``User``, never ``AnonymousUser``.
    Django never builds one; views annotate their ``request`` with it."""

    user: User
