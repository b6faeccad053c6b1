"""Writes of the back office: staff accounts and the reminder mails before expiry."""

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from keizoku.accounts.models import PolicyLink, User
from keizoku.contracts.models import Agency, Contract
from keizoku.contracts.windows import JST, contract_window
from keizoku.core.audit import audit_record
from keizoku.core.links import absolute_url
from keizoku.renewals.models import Application

from .models import Reminder, StaffProfile

logger = logging.getLogger(__name__)

# Days before expiry (PRODUCT.md: 60, 30, 14, 7 and 3).
REMINDER_THRESHOLDS: tuple[int, ...] = (60, 30, 14, 7, 3)
SENDING_HOURS = (9, 20)  # JST: reminders go out in the daytime only
REMINDER_CHUNK = 100  # reminders queued per transaction


class StaffError(Exception):
    """A refused staff change; ``str(error)`` says why."""


def staff_create(
    *, email: str, role: str, agency: Agency | None = None, password: str | None = None
) -> tuple[User, str]:
    """A staff user with a role; returns it with its first password (random if none given).

    The address is marked verified (the insurer vouches for it); two-step login is set up at the
    first login, before any back-office page opens.
    """
    if role not in StaffProfile.Role.values:
        raise StaffError(f"unknown role {role!r}")
    if (role == StaffProfile.Role.AGENCY_STAFF) != (agency is not None):
        raise StaffError("agency staff need --agency; the insurer's roles take none")
    password = password or secrets.token_urlsafe(12)[:16]
    with transaction.atomic():
        if User.objects.filter(email__iexact=email).exists():
            raise StaffError(f"{email} already has an account")
        insurer_admin = role == StaffProfile.Role.INSURER_ADMIN
        user = User.objects.create_user(
            email=email,
            password=password,
            kind=User.Kind.STAFF,
            is_staff=insurer_admin,  # Django admin: insurer admins only
            is_superuser=insurer_admin,
        )
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        StaffProfile.objects.create(user=user, role=role, agency=agency)
        audit_record(action="staff.created", obj=user, details={"role": role})
    return user, password


# --- reminders ------------------------------------------------------------------------------


def reminder_threshold(days_left: int) -> int | None:
    """The threshold a contract is at: the smallest one not below the days left (a contract
    imported late gets the reminder it would have had last, not all the missed ones)."""
    due = [threshold for threshold in REMINDER_THRESHOLDS if threshold >= days_left]
    return min(due) if due and days_left >= 0 else None


@dataclass
class ReminderRun:
    queued: int = 0
    skipped: int = 0


def reminders_send(*, now: datetime | None = None) -> ReminderRun:
    """Queue the reminder mails due now: once per policy, period, threshold and recipient.

    Members with the policy linked and no application past draft get ``reminder_member``;
    holders who have not linked it (and whose email is on record) ``reminder_holder``. Only
    while the renewal window is open. The unique constraint on ``Reminder`` and the mail key
    make a second run (or two runs at once) send nothing more.
    """
    now = now or timezone.now()
    if not SENDING_HOURS[0] <= now.astimezone(JST).hour < SENDING_HOURS[1]:
        return ReminderRun()  # no reminder in the middle of the night
    today = timezone.localdate(now)
    applied = Application.objects.filter(
        contract=OuterRef("pk"), period_start=OuterRef("period_end")
    ).exclude(status__in=[Application.Status.DRAFT, Application.Status.WITHDRAWN])
    candidates = (
        Contract.objects.filter(
            period_end__gte=today,
            period_end__lte=today + timedelta(days=max(REMINDER_THRESHOLDS)),
        )
        .annotate(applied=Exists(applied))
        .filter(applied=False)
        .select_related("group__agency", "policy_link__member")
        .order_by("pk")
    )
    sent = set(
        Reminder.objects.filter(period_end__gte=today).values_list(
            "contract_id", "period_end", "threshold", "recipient"
        )
    )
    run = ReminderRun()
    due: list[_DueReminder] = []
    for contract in candidates.iterator(chunk_size=500):
        threshold = reminder_threshold((contract.period_end - today).days)
        window = contract_window(contract)
        if threshold is None or not window.is_open(now):
            continue
        link = _policy_link(contract)
        if link is not None:
            recipient, to, name = Reminder.Recipient.MEMBER, link.member.email, link.member.name
            language = link.member.language
        elif contract.email:
            recipient, to, name = Reminder.Recipient.HOLDER, contract.email, contract.holder_name
            language = settings.LANGUAGE_CODE  # not a member yet: no language chosen
        else:
            continue
        if (contract.pk, contract.period_end, threshold, recipient) in sent:
            run.skipped += 1
            continue
        due.append(
            _DueReminder(contract, threshold, recipient, to, name, window.closes_at, language)
        )
        if len(due) >= REMINDER_CHUNK:
            _reminders_queue(due, now=now, run=run)
            due = []
    _reminders_queue(due, now=now, run=run)
    if run.queued:
        logger.info("reminders queued", extra={"count": run.queued})
    return run


@dataclass(frozen=True)
class _DueReminder:
    contract: Contract
    threshold: int
    recipient: str
    to: str
    name: str
    deadline: datetime
    language: str


def _reminders_queue(due: list[_DueReminder], *, now: datetime, run: ReminderRun) -> None:
    """One transaction per chunk (one commit, not one per mail), a savepoint per reminder: a
    reminder another run queued meanwhile is skipped alone, and a crash leaves no mail without
    its Reminder row nor the reverse. The chunk's mails go out as batches over one SMTP
    connection each (``mail_enqueue_many``)."""
    from keizoku.notifications.services import mail_enqueue_many, mail_queue

    if not due:
        return
    queued: list[int] = []
    with transaction.atomic():
        for item in due:
            contract = item.contract
            key = (
                f"reminder:{contract.pk}:{contract.period_end:%Y%m%d}:"
                f"{item.threshold}:{item.recipient}"
            )
            try:
                with transaction.atomic():
                    mail = mail_queue(
                        key=key,
                        kind=f"reminder_{item.recipient}",
                        to=item.to,
                        language=item.language,
                        now=now,
                        context={
                            "name": item.name,
                            "contract": contract,
                            "agency": contract.group.agency,
                            "threshold": item.threshold,
                            "deadline": item.deadline,
                            "mypage_url": absolute_url("accounts:top"),
                            "login_url": absolute_url("account_login"),
                        },
                        enqueue=False,
                    )
                    Reminder.objects.create(
                        contract=contract,
                        period_end=contract.period_end,
                        threshold=item.threshold,
                        recipient=item.recipient,
                        to=item.to,
                        mail=mail,
                    )
            except IntegrityError:
                run.skipped += 1  # another run queued it a moment ago
                continue
            run.queued += 1
            queued.append(mail.pk)
        mail_enqueue_many(queued)


def _policy_link(contract: Contract) -> PolicyLink | None:
    try:
        return contract.policy_link
    except PolicyLink.DoesNotExist:
        return None
