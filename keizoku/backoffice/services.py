"""Writes of the back office: staff accounts and the reminder mails before expiry."""

import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from keizoku.accounts.models import PolicyLink, User
from keizoku.contracts.models import Agency, Contract
from keizoku.contracts.windows import contract_window
from keizoku.core import ja
from keizoku.core.audit import audit_record
from keizoku.core.links import absolute_url
from keizoku.notifications.models import OutboundMail
from keizoku.notifications.reminders import (
    REMINDER_THRESHOLDS,
    DueReminder,
    ReminderRun,
    reminder_threshold,
    reminders_queue,
    reminders_sending_hours,
)
from keizoku.renewals.models import Application

from .models import Reminder, StaffProfile


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
    try:
        email = ja.normalize_email(email)  # the spelling every address gets (W5)
    except ja.JaInputError as error:
        raise StaffError(f"{email}: {error}") from None
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


def reminders_send(*, now: datetime | None = None) -> ReminderRun:
    """Queue the reminder mails due now: once per policy, period, threshold and recipient.

    Members with the policy linked and no application past draft get ``reminder_member``;
    holders who have not linked it (and whose email is on record) ``reminder_holder``. Only
    while the renewal window is open, in the daytime. When, how often and how the mails are
    queued is ``keizoku.notifications.reminders``; who is due is decided here. The unique
    constraint on ``Reminder`` and the mail key make a second run (or two runs at once) send
    nothing more.
    """
    now = now or timezone.now()
    if not reminders_sending_hours(now):
        return ReminderRun()
    run = ReminderRun()
    return reminders_queue(_reminders_due(now, run), now=now, record=_reminder_record, run=run)


def _reminders_due(now: datetime, run: ReminderRun) -> Iterator[DueReminder]:
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
    mypage_url, login_url = absolute_url("accounts:top"), absolute_url("account_login")
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
        yield DueReminder(
            key=f"reminder:{contract.pk}:{contract.period_end:%Y%m%d}:{threshold}:{recipient}",
            kind=f"reminder_{recipient}",
            to=to,
            language=language,
            context={
                "name": name,
                "contract": contract,
                "agency": contract.group.agency,
                "threshold": threshold,
                "deadline": window.closes_at,
                "mypage_url": mypage_url,
                "login_url": login_url,
            },
            about=(contract, threshold, recipient),
        )


def _reminder_record(reminder: DueReminder, mail: OutboundMail) -> None:
    contract, threshold, recipient = reminder.about
    Reminder.objects.create(
        contract=contract,
        period_end=contract.period_end,
        threshold=threshold,
        recipient=recipient,
        to=reminder.to,
        mail=mail,
    )


def _policy_link(contract: Contract) -> PolicyLink | None:
    try:
        return contract.policy_link
    except PolicyLink.DoesNotExist:
        return None
