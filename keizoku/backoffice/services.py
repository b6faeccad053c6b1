"""Writes of the back office: staff accounts, the reminder mails before expiry, CSV imports."""

import hashlib
import logging
import secrets
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import OperationalError, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from keizoku.accounts.models import PolicyLink, User
from keizoku.contracts.importing import RowError
from keizoku.contracts.models import Agency, Contract, Group, ImportBatch
from keizoku.contracts.services import ImportResult, Phase, contracts_import, groups_import
from keizoku.contracts.windows import contract_window
from keizoku.core import ja
from keizoku.core.audit import audit_record
from keizoku.core.converters import is_hex_token
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

from .models import ImportJob, Reminder, StaffProfile

logger = logging.getLogger(__name__)


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


# --- CSV imports in the browser: preview → confirmation → run (in the request or the worker) ---

IMPORTERS: dict[str, Callable[..., ImportResult]] = {
    ImportBatch.Kind.GROUPS: groups_import,
    ImportBatch.Kind.CONTRACTS: contracts_import,
}
PREVIEW_MAX_AGE = timedelta(hours=1)  # a preview waits that long for its confirmation
IMPORT_MAX_ATTEMPTS = 3  # tries when the database stays locked, then the job fails
IMPORT_RETRY_AFTER = timedelta(seconds=30)  # doubled at each further try
IMPORT_STALLED_AFTER = timedelta(minutes=15)  # a running job silent that long was interrupted
JOB_ERRORS_KEPT = 1000  # refused rows kept on a failed job (the count is kept whole)
# Share of the progress bar per phase: reading and checking the file is the long part.
_PHASE_SPAN = {Phase.PARSE: (0, 70), Phase.CHECK: (70, 80), Phase.WRITE: (80, 99)}


def import_scope(staff: StaffProfile, kind: str) -> dict[str, Any] | None:
    """The importer's scope argument for this staff member, or None when the file is not theirs
    to import at all (groups belong to the insurer's roles)."""
    if staff.read_only:
        return None
    if kind == ImportBatch.Kind.GROUPS:
        return {} if staff.sees_all_agencies else None
    if staff.sees_all_agencies:
        return {"allowed_groups": None}
    groups = Group.objects.filter(agency_id=staff.own_agency_id()).values_list("code", flat=True)
    return {"allowed_groups": set(groups)}


def import_job_preview(
    *, staff: StaffProfile, kind: str, data: bytes, source: str
) -> tuple[ImportJob | None, ImportResult]:
    """Check an uploaded file without writing anything of it: (job to confirm, result).

    The job, which keeps the file until the import ends, exists only when every row can be
    imported. Nothing here holds a write transaction, however big the file.
    """
    scope = import_scope(staff, kind)
    if scope is None:
        refusal = RowError(0, "file", _("団体の取込は保険会社の管理者が行います。"))
        return None, ImportResult(ok=False, errors=[refusal])
    result = IMPORTERS[kind](
        data=data, source=source, imported_by=str(staff.user), dry_run=True, **scope
    )
    if not result.ok:
        return None, result
    now = timezone.now()
    # Previews never confirmed go after an hour; files of ended imports were emptied already.
    ImportJob.objects.filter(
        status=ImportJob.Status.PREVIEWED, created_at__lt=now - PREVIEW_MAX_AGE
    ).delete()
    job = ImportJob.objects.create(
        token=secrets.token_hex(24),
        requested_by=staff.user,
        kind=kind,
        source=source[:255],
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        rows=result.total,
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
    )
    return job, result


def import_job_confirm(*, token: str, user: User) -> ImportJob | None:
    """Start the import of a previewed file, once: None when there is no such preview of this
    user's (confirmed already, expired, someone else's). Up to ``IMPORT_SYNC_MAX_ROWS`` rows it
    runs now, in the caller's request; a bigger file goes to the worker."""
    if not is_hex_token(token):
        return None  # not one of ours (and never a NUL byte sent to PostgreSQL)
    now = timezone.now()
    with transaction.atomic():
        claimed = ImportJob.objects.filter(
            token=token,
            requested_by=user,
            status=ImportJob.Status.PREVIEWED,
            created_at__gte=now - PREVIEW_MAX_AGE,
        ).update(status=ImportJob.Status.QUEUED, updated_at=now)
        if not claimed:
            return None
        job = ImportJob.objects.get(token=token)
        in_request = job.rows <= settings.IMPORT_SYNC_MAX_ROWS
        if not in_request:
            _import_enqueue(job)
    if in_request:
        import_job_run(job_id=job.pk)
        job.refresh_from_db()
    return job


def _import_enqueue(job: ImportJob, run_after: datetime | None = None) -> None:
    from .tasks import import_run

    task = import_run.using(run_after=run_after) if run_after else import_run
    task.enqueue(job.pk)


def import_job_run(*, job_id: int) -> None:
    """Import a confirmed file (in the request or the worker): the job ends done or failed with
    the result, or, when a lock could not be had in time, is queued again for a later try."""
    now = timezone.now()
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING,
        attempts=F("attempts") + 1,
        phase="",
        percent=0,
        updated_at=now,
    )
    if not claimed:
        return  # run already (a task enqueued twice) or gone
    job = ImportJob.objects.select_related("requested_by").get(pk=job_id)
    profile = StaffProfile.objects.filter(user=job.requested_by, is_active=True).first()
    scope = import_scope(profile, job.kind) if profile is not None else None
    if scope is None:
        _import_finish(job, ImportResult(ok=False), message=_("取込の権限がありません。"))
        return

    def progress(phase: Phase, done: int, total: int) -> None:
        low, high = _PHASE_SPAN[phase]
        percent = low + (high - low) * done // max(total, 1)
        ImportJob.objects.filter(pk=job_id).update(
            phase=phase, percent=percent, updated_at=timezone.now()
        )

    try:
        result = IMPORTERS[job.kind](
            data=bytes(job.data),
            source=job.source,
            imported_by=str(job.requested_by),
            progress=progress,
            **scope,
        )
    except OperationalError as error:
        # A lock not had within IMPORT_LOCK_TIMEOUT (or the database away): nothing was written.
        logger.warning(
            "import could not lock the database",
            extra={"job": job_id, "attempt": job.attempts, "error": str(error)[:200]},
        )
        if job.attempts >= IMPORT_MAX_ATTEMPTS:
            _import_finish(
                job,
                ImportResult(ok=False),
                message=_(
                    "データベースが混み合っていたため取り込めませんでした（何も登録されていません）。"
                    "時間をおいて、もう一度ファイルを選んでください。"
                ),
            )
            return
        retry_at = now + IMPORT_RETRY_AFTER * 2 ** (job.attempts - 1)
        with transaction.atomic():
            ImportJob.objects.filter(pk=job_id).update(
                status=ImportJob.Status.QUEUED,
                phase="",
                percent=0,
                message=_("データベースが混み合っているため、%(time)s ごろにもう一度取り込みます。")
                % {"time": timezone.localtime(retry_at).strftime("%H:%M")},
                updated_at=now,
            )
            _import_enqueue(job, run_after=retry_at)
        return
    _import_finish(job, result)


def _import_finish(job: ImportJob, result: ImportResult, *, message: str = "") -> None:
    """Record how the import ended, empty the stored file and audit it."""
    with transaction.atomic():
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.DONE if result.ok else ImportJob.Status.FAILED,
            phase="",
            percent=100 if result.ok else 0,
            created=result.created,
            updated=result.updated,
            unchanged=result.unchanged,
            errors=[[e.row, e.column, e.reason] for e in result.errors[:JOB_ERRORS_KEPT]],
            error_count=len(result.errors),
            message=message,
            batch=result.batch,
            data=b"",
            updated_at=timezone.now(),
            finished_at=timezone.now(),
        )
        audit_record(
            action="backoffice.import",
            actor=job.requested_by,
            details={
                "kind": job.kind,
                "file": job.source,
                "ok": result.ok,
                "created": result.created,
                "updated": result.updated,
                "refused_rows": len(result.errors),
            },
        )
