"""Writes of renewal applications: start, save a step, submit once, and the agency's decisions."""

import logging
import secrets
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from keizoku.accounts.models import PolicyLink, User
from keizoku.contracts.models import Contract
from keizoku.contracts.windows import contract_window
from keizoku.core.audit import audit_record
from keizoku.core.links import absolute_url

from . import pricing, steps
from .models import Application
from .snapshot import Quote, StepAnswer

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """A refused change of an application; ``str(error)`` is the Japanese message."""


class StaleApplication(ApplicationError):
    """Somebody else changed the application since it was shown (optimistic lock)."""


# Allowed transitions (STYLE.md: statuses are guarded, never bare assignments).
TRANSITIONS: dict[str, set[str]] = {
    Application.Status.DRAFT: {
        Application.Status.SUBMITTED,
        Application.Status.REFERRED,
        Application.Status.WITHDRAWN,
    },
    Application.Status.SUBMITTED: {
        Application.Status.ACCEPTED,
        Application.Status.REFERRED,
        Application.Status.WITHDRAWN,
    },
    Application.Status.REFERRED: {
        Application.Status.DRAFT,
        Application.Status.ACCEPTED,
        Application.Status.WITHDRAWN,
    },
    Application.Status.ACCEPTED: set(),
    Application.Status.WITHDRAWN: set(),
}


def _transition(
    application: Application, to: str, *, actor, request=None, details: dict | None = None
) -> None:
    before = application.status
    if to not in TRANSITIONS[before]:
        raise ApplicationError(_("この申込は現在の状態では変更できません。"))
    application.status = to
    application.version = F("version") + 1
    application.save()
    application.refresh_from_db(fields=["version"])
    audit_record(
        action="application.status",
        actor=actor,
        obj=application,
        request=request,
        details={"from": before, "to": to, **(details or {})},
    )


def new_acceptance_number() -> str:
    """受付番号: K + 11 random digits, grouped for reading over the phone (K-1234-5678-901)."""
    digits = f"{secrets.randbelow(10**11):011d}"
    return f"K-{digits[:4]}-{digits[4:8]}-{digits[8:]}"


def application_start(
    *,
    member: User,
    contract: Contract,
    now: datetime | None = None,
    request: HttpRequest | None = None,
) -> Application:
    """The member's live application for this policy and period, created at the first visit."""
    now = now or timezone.now()
    if not PolicyLink.objects.filter(member=member, contract=contract).exists():
        raise ApplicationError(_("このご契約はマイページに登録されていません。"))
    live = Application.objects.filter(contract=contract, period_start=contract.period_end).exclude(
        status=Application.Status.WITHDRAWN
    )
    existing = live.first()
    if existing is not None:
        if existing.member_id != member.pk:
            raise ApplicationError(
                _("このご契約の手続きはできません。代理店にお問い合わせください。")
            )
        return existing
    if not contract_window(contract).is_open(now):
        raise ApplicationError(_("このご契約のWEB更改手続きの受付期間外です。"))
    try:
        with transaction.atomic():
            application = Application.objects.create(
                contract=contract, member=member, period_start=contract.period_end
            )
            audit_record(
                action="application.started", actor=member, obj=application, request=request
            )
    except IntegrityError:
        # Two first visits at once (two tabs): both get the one that won.
        return live.get()
    return application


STEP_FIELDS = [
    "answers",
    "completed_steps",
    "quote",
    "quoted_contract_version",
    "version",
    "updated_at",
]


def application_save_step(
    *,
    application: Application,
    slug: str,
    answer: StepAnswer,
    quote: Quote | None = None,
    referral_reasons: list[dict[str, str]] | None = None,
    request: HttpRequest | None = None,
) -> None:
    """Save one step's answer (the type of its ``Answers`` field); later steps that depend on
    it must be done again.

    ``referral_reasons`` (step 17): the declarations answered 「はい」 that need the agency, so the
    draft will be `referred` when it is submitted (``[]``: no longer). Written in the same
    transaction and version as the answers, with its own audit row when it changes."""
    # The member acting (the audit's actor): the request's user when it is the applicant, as in
    # the wizard, without reading it again.
    user = getattr(request, "user", None)
    actor = user if user is not None and user.pk == application.member_id else None
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        if locked.status != Application.Status.DRAFT:
            raise ApplicationError(_("この申込はすでに手続きが済んでいます。"))
        if not steps.is_reachable(slug, locked.completed_steps):
            raise ApplicationError(_("前の手順が完了していません。"))
        locked.answers = locked.answers.with_step(slug, answer)
        locked.completed_steps = steps.after_completing(slug, locked.completed_steps)
        if quote is not None:
            # The version the quote was priced on: the contract as the caller read it.
            locked.quote = quote
            locked.quoted_contract_version = application.contract.version
        referral_before = [reason["code"] for reason in locked.referral_reasons]
        if referral_reasons is not None:
            locked.referral_reasons = referral_reasons
        locked.version += 1
        locked.save(update_fields=[*STEP_FIELDS, "referral_reasons"])
        audit_record(
            action="application.step_saved",
            actor=actor or locked.member,
            obj=locked,
            request=request,
            details={"step": slug},
        )
        referral_after = [reason["code"] for reason in locked.referral_reasons]
        if referral_after != referral_before:
            audit_record(
                action="application.referral_set",
                actor=actor or locked.member,
                obj=locked,
                request=request,
                details={"from": referral_before, "to": referral_after},
            )
    # The caller's copy becomes what was just written (no second read of the row).
    for field in Application._meta.concrete_fields:
        setattr(application, field.attname, getattr(locked, field.attname))


def application_refer_ineligible(
    *, application: Application, reasons: list[dict[str, str]], request: HttpRequest | None = None
) -> None:
    """Step 11: a policy that cannot be renewed online is flagged for the agency (`referred`)."""
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        if locked.status != Application.Status.DRAFT:
            return
        _refer_locked(locked, reasons, request=request)
    application.refresh_from_db()


def _refer_locked(
    locked: Application,
    reasons: list[dict],
    *,
    request: HttpRequest | None = None,
    idempotency_key: str | None = None,
) -> None:
    """The referral of a locked draft (step 11 and the submit's re-check of its rules)."""
    locked.referral_reasons = reasons
    fields = ["referral_reasons", "updated_at"]
    if idempotency_key is not None:
        locked.idempotency_key = idempotency_key
        fields.append("idempotency_key")
    locked.save(update_fields=fields)
    _transition(
        locked,
        Application.Status.REFERRED,
        actor=locked.member,
        request=request,
        details={"reasons": [reason["code"] for reason in reasons]},
    )


def application_submit(
    *,
    application: Application,
    idempotency_key: str,
    member: User,
    now: datetime | None = None,
    request: HttpRequest | None = None,
) -> Application:
    """【申し込む】: the binding application, exactly once.

    One transaction writes the status, the 受付番号 and the confirmation mail. A repeated submit
    (double click, reload, back button, second tab, parallel POSTs) returns the first result.
    """
    from keizoku.notifications.services import mail_to

    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            Application.objects.select_for_update()
            .select_related("contract__group")
            .get(pk=application.pk, member=member)
        )
        # The key is this application's: a repeat of this submit (reload, parallel POST) gets the
        # first result; the same key on another application means nothing here.
        if locked.acceptance_number or locked.idempotency_key == idempotency_key:
            return locked  # submitted (or referred) already, from another tab
        if locked.status != Application.Status.DRAFT:
            raise ApplicationError(_("この申込は現在の状態では申し込めません。"))
        if not steps.is_reachable("confirm", locked.completed_steps):
            raise ApplicationError(_("まだ完了していない手順があります。"))
        if not contract_window(locked.contract).is_open(now):
            raise ApplicationError(
                _("WEB更改手続きの受付期間が終了しました。代理店にお問い合わせください。")
            )
        # Step 11's rules again: the agency may have changed the contract since (an open claim,
        # a pending change, a retiree's age) — then the agency takes it over, as at step 11.
        ineligible = pricing.stored_reasons(pricing.eligibility_reasons(locked, now=now))
        if ineligible:
            _refer_locked(
                locked,
                ineligible + _declared_reasons(locked, ineligible),
                request=request,
                idempotency_key=idempotency_key,
            )
            return locked
        if locked.quoted_contract_version != locked.contract.version:
            raise ApplicationError(
                _("ご契約内容が変更されたため、保険料を計算し直す必要があります。")
            )
        referred = bool(locked.referral_reasons)
        locked.acceptance_number = _unique_acceptance_number()
        locked.idempotency_key = idempotency_key
        locked.submitted_at = now
        locked.save(
            update_fields=["acceptance_number", "idempotency_key", "submitted_at", "updated_at"]
        )
        _transition(
            locked,
            Application.Status.REFERRED if referred else Application.Status.SUBMITTED,
            actor=member,
            request=request,
            details={"acceptance_number": locked.acceptance_number},
        )
        mail_to(
            member,
            key=f"application-submitted:{locked.pk}",
            kind="application_submitted",
            context={
                "application": locked,
                "contract": locked.contract,
                "referred": referred,
                "premium": locked.quote.annual_premium if locked.quote else None,
                "mypage_url": absolute_url("accounts:top"),
            },
        )
    logger.info("application submitted", extra={"application_id": locked.pk})
    return locked


def _declared_reasons(application: Application, ineligible: list[dict]) -> list[dict]:
    """The step-17 reasons already on the application, kept beside new eligibility ones."""
    codes = {reason["code"] for reason in ineligible}
    return [reason for reason in application.referral_reasons if reason["code"] not in codes]


def _unique_acceptance_number() -> str:
    for _attempt in range(10):
        number = new_acceptance_number()
        if not Application.objects.filter(acceptance_number=number).exists():
            return number
    raise RuntimeError("could not draw a free acceptance number")


def application_invalidate_quote(*, application: Application) -> None:
    """The contract changed under the draft: its quote no longer stands, and neither does step
    11's answer (an open claim, a pending change or a retiree's age may now refer it)."""
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        locked.quote = None
        locked.quoted_contract_version = None
        locked.answers = locked.answers.with_step("notes", False)
        locked.completed_steps = [
            slug
            for slug in locked.completed_steps
            if slug not in ("notes", "current", "conditions", "plan", "premium", "confirm")
        ]
        locked.version += 1
        locked.save()
        audit_record(
            action="application.quote_invalidated",
            actor=None,
            obj=locked,
            details={"contract_version": locked.contract.version},
        )
    application.refresh_from_db()


def application_withdraw_unlinked(
    *, member: User, contract: Contract, request: HttpRequest | None = None
) -> Application | None:
    """The member unlinked the policy: their unfinished draft of it is withdrawn (取下げ), or it
    would keep the policy from whoever links it next. What was submitted or is with the agency
    stays: that is the agency's to decide."""
    with transaction.atomic():
        draft = (
            Application.objects.select_for_update()
            .filter(member=member, contract=contract, status=Application.Status.DRAFT)
            .first()
        )
        if draft is None:
            return None
        _transition(
            draft,
            Application.Status.WITHDRAWN,
            actor=member,
            request=request,
            details={"by": "policy_unlinked"},
        )
    return draft


# --- The agency's decisions (back office): accept, refer back, withdraw ------------------------
# Each takes the version the clerk saw; a change by anybody else since (another clerk, the
# customer) makes it stale, and nothing is written (UPDATE ... WHERE version = n).


def _claim_version(application: Application, expected_version: int) -> Application:
    """Take the row at the version the clerk saw, or raise StaleApplication (in the caller's
    transaction: the UPDATE holds the row until commit)."""
    claimed = Application.objects.filter(pk=application.pk, version=expected_version).update(
        version=F("version") + 1, updated_at=timezone.now()
    )
    if not claimed:
        raise StaleApplication(
            _(
                "この申込は、表示した後に他の担当者またはお客さまによって更新されています。"
                "最新の内容を確認してから、もう一度操作してください。"
            )
        )
    return Application.objects.select_related("contract__group__agency", "member").get(
        pk=application.pk
    )


def application_accept(
    *,
    application: Application,
    expected_version: int,
    actor: User,
    now: datetime | None = None,
    request: HttpRequest | None = None,
) -> Application:
    """受付: the agency accepts the application; the premium is fixed at the quoted one."""
    from keizoku.notifications.services import mail_to

    now = now or timezone.now()
    with transaction.atomic():
        locked = _claim_version(application, expected_version)
        premium = locked.quote.annual_premium if locked.quote else None
        if premium is None:
            raise ApplicationError(_("保険料が確定していないため、受付できません。"))
        locked.accepted_premium = premium
        locked.decided_at = now
        _transition(  # checks the transition is allowed, saves the fields above with it
            locked,
            Application.Status.ACCEPTED,
            actor=actor,
            request=request,
            details={"accepted_premium": premium},
        )
        mail_to(
            locked.member,
            key=f"application-accepted:{locked.pk}",
            kind="application_accepted",
            context={
                "application": locked,
                "contract": locked.contract,
                "premium": premium,
                "mypage_url": absolute_url("accounts:top"),
            },
        )
    application.refresh_from_db()
    return application


def application_refer_back(
    *,
    application: Application,
    expected_version: int,
    actor: User,
    message: str,
    request: HttpRequest | None = None,
) -> Application:
    """差し戻し: back to the customer with the agency's message (shown on MyPage, and mailed)."""
    from keizoku.notifications.services import mail_to

    if not message.strip():
        raise ApplicationError(_("お客さまへのメッセージを入力してください。"))
    with transaction.atomic():
        locked = _claim_version(application, expected_version)
        locked.agency_message = message.strip()
        locked.save(update_fields=["agency_message", "updated_at"])
        if locked.status == Application.Status.REFERRED:
            # Already with the agency: a new message only.
            audit_record(
                action="application.message",
                actor=actor,
                obj=locked,
                request=request,
                details={"status": locked.status},
            )
        else:
            _transition(
                locked,
                Application.Status.REFERRED,
                actor=actor,
                request=request,
                details={"by": "agency"},
            )
        locked.refresh_from_db(fields=["version"])
        agency = locked.contract.group.agency
        mail_to(
            locked.member,
            key=f"application-referred:{locked.pk}:{locked.version}",
            kind="application_referred",
            context={
                "application": locked,
                "contract": locked.contract,
                "agency": agency,
                "message": locked.agency_message,
                "mypage_url": absolute_url("accounts:top"),
            },
        )
    application.refresh_from_db()
    return application


def application_withdraw(
    *,
    application: Application,
    expected_version: int,
    actor: User,
    reason: str = "",
    now: datetime | None = None,
    request: HttpRequest | None = None,
) -> Application:
    """取下げ: the application ends; the policy may be renewed again (by the agency or online)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _claim_version(application, expected_version)
        locked.decided_at = now
        _transition(  # checks the transition is allowed, saves decided_at with it
            locked,
            Application.Status.WITHDRAWN,
            actor=actor,
            request=request,
            details={"reason": reason.strip()[:500]} if reason.strip() else None,
        )
    application.refresh_from_db()
    return application
