"""Reads of the back office: what a staff member may see, the season's counts, search, audit."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import jaconv
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Replace
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from keizoku.accounts.models import PolicyLink
from keizoku.contracts.models import Agency, Contract, Group
from keizoku.core import ja
from keizoku.core.models import AuditEvent
from keizoku.renewals.models import Application

from .models import StaffProfile

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

Status = Application.Status
STUCK_AFTER = timedelta(days=7)
EXPIRY_HORIZONS = (7, 14, 30)

# The season's states of a contract, in the order of the dashboard.
STATES: list[tuple[str, "StrOrPromise"]] = [
    ("not_registered", _("未登録")),
    ("registered", _("登録済み（未着手）")),
    ("draft", _("手続き中")),
    ("submitted", _("申込済み")),
    ("referred", _("代理店確認中")),
    ("accepted", _("受付完了")),
]
ALERTS: list[tuple[str, "StrOrPromise"]] = [
    ("expiring7", _("7日以内に満期（未申込）")),
    ("expiring14", _("14日以内に満期（未申込）")),
    ("expiring30", _("30日以内に満期（未申込）")),
    ("stuck", _("7日以上進んでいない手続き")),
]
FILTER_LABELS = dict(STATES + ALERTS)


# --- what a staff member may see ------------------------------------------------------------


def visible_agencies(staff: StaffProfile) -> QuerySet[Agency]:
    agencies = Agency.objects.all()
    return agencies if staff.sees_all_agencies else agencies.filter(pk=staff.own_agency_id())


def visible_groups(staff: StaffProfile) -> QuerySet[Group]:
    groups = Group.objects.select_related("agency")
    return groups if staff.sees_all_agencies else groups.filter(agency_id=staff.own_agency_id())


def visible_contracts(staff: StaffProfile) -> QuerySet[Contract]:
    contracts = Contract.objects.select_related("group__agency")
    if staff.sees_all_agencies:
        return contracts
    return contracts.filter(group__agency_id=staff.own_agency_id())


def visible_applications(staff: StaffProfile) -> QuerySet[Application]:
    applications = Application.objects.select_related("contract__group__agency", "member")
    if staff.sees_all_agencies:
        return applications
    return applications.filter(contract__group__agency_id=staff.own_agency_id())


# --- the season's state of each contract ------------------------------------------------------


def with_state(contracts: QuerySet[Contract]) -> QuerySet[Contract]:
    """Annotate each contract with its live application's status and the policy link."""
    live = Application.objects.filter(
        contract=OuterRef("pk"), period_start=OuterRef("period_end")
    ).exclude(status=Status.WITHDRAWN)
    return contracts.annotate(
        app_status=Subquery(live.values("status")[:1]),
        app_updated_at=Subquery(live.values("updated_at")[:1], output_field=DateTimeField()),
        app_id=Subquery(live.values("pk")[:1]),
        linked=Exists(PolicyLink.objects.filter(contract=OuterRef("pk"))),
    )


def state_conditions(*, now: datetime) -> dict[str, Q]:
    """One Q per dashboard figure, used both for the counts and for the filtered list."""
    today = timezone.localdate(now)
    not_applied = Q(app_status__isnull=True) | Q(app_status=Status.DRAFT)
    conditions = {
        "not_registered": Q(app_status__isnull=True, linked=False),
        "registered": Q(app_status__isnull=True, linked=True),
        **{status: Q(app_status=status) for status in ("draft", "submitted", "referred")},
        "accepted": Q(app_status=Status.ACCEPTED),
        "stuck": Q(app_status=Status.DRAFT, app_updated_at__lt=now - STUCK_AFTER),
    }
    for days in EXPIRY_HORIZONS:
        conditions[f"expiring{days}"] = not_applied & Q(
            period_end__gte=today, period_end__lte=today + timedelta(days=days)
        )
    return conditions


def season_contracts(contracts: QuerySet[Contract], *, now: datetime) -> QuerySet[Contract]:
    """The contracts of this renewal season: not expired yet (JST)."""
    return contracts.filter(period_end__gte=timezone.localdate(now))


@dataclass
class GroupRow:
    group: Group
    counts: dict[str, int]

    @property
    def cells(self) -> list[tuple[str, int]]:
        return [(name, self.counts.get(name, 0)) for name in FILTER_LABELS]


@dataclass
class AgencyBlock:
    agency: Agency
    rows: list[GroupRow] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def total_cells(self) -> list[tuple[str, int]]:
        return [(name, self.totals.get(name, 0)) for name in FILTER_LABELS]


def dashboard(staff: StaffProfile, *, now: datetime) -> list[AgencyBlock]:
    """Counts by state per agency and group: two queries whatever the number of contracts."""
    conditions = state_conditions(now=now)
    counts = (
        with_state(season_contracts(visible_contracts(staff), now=now))
        .order_by()
        .values("group_id")
        .annotate(**{name: Count("pk", filter=q) for name, q in conditions.items()})
        .values_list("group_id", *conditions)
    )
    by_group = {group_id: dict(zip(conditions, row, strict=True)) for group_id, *row in counts}
    blocks: dict[int, AgencyBlock] = {}
    empty = dict.fromkeys(conditions, 0)
    for group in visible_groups(staff).order_by("agency__code", "code"):
        block = blocks.setdefault(group.agency_id, AgencyBlock(agency=group.agency))
        row = GroupRow(group=group, counts={**empty, **by_group.get(group.pk, {})})
        block.rows.append(row)
        for name, value in row.counts.items():
            block.totals[name] = block.totals.get(name, 0) + value
    return list(blocks.values())


# --- search ------------------------------------------------------------------------------------


def search_contracts(contracts: QuerySet[Contract], query: str) -> QuerySet[Contract]:
    """By 証券番号, 氏名 (kanji) or フリガナ (hiragana, katakana, either width), or 電話番号.

    Spaces are ignored on both sides, so 「けいぞくたろう」 finds 「ケイゾク タロウ」.
    """
    try:
        text = ja.clean_text(query, max_length=100)
    except ja.JaInputError:
        return contracts.none()
    if not text:
        return contracts
    compact = text.replace(" ", "")
    condition = Q(name_compact__contains=compact) | Q(
        kana_compact__contains=jaconv.hira2kata(compact)
    )
    policy_key = ja.normalize_policy_number(text)
    if policy_key.isascii() and policy_key:
        condition |= Q(policy_key__contains=policy_key)
    try:
        condition |= Q(phone=ja.normalize_phone(text))
    except ja.JaInputError:
        pass
    return contracts.annotate(
        name_compact=Replace(F("holder_name"), Value(" "), Value("")),
        kana_compact=Replace(F("holder_kana"), Value(" "), Value("")),
    ).filter(condition)


# --- personal data, shown masked --------------------------------------------------------------


def mask_email(email: str) -> str:
    """t***@example.jp: enough to recognise, not enough to copy."""
    local, at, domain = email.partition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


def contract_mails(contract: Contract, application: Application | None):
    """The mails sent about this contract: to its holder's address, its member, its application."""
    from keizoku.notifications.models import OutboundMail

    condition = Q(key__startswith=f"reminder:{contract.pk}:")
    if application is not None:
        pk = application.pk
        condition |= (
            Q(key=f"application-submitted:{pk}")
            | Q(key=f"application-accepted:{pk}")
            | Q(key__startswith=f"application-referred:{pk}:")
        )
    return OutboundMail.objects.filter(condition).order_by("-created_at")[:50]


# --- audit -------------------------------------------------------------------------------------

# The trail keeps stable codes; staff read them in Japanese (an unknown code is shown as is).
ACTION_LABELS: dict[str, "StrOrPromise"] = {
    "application.started": _("申込手続きの開始"),
    "application.step_saved": _("申込手続きの入力"),
    "application.status": _("申込の状態変更"),
    "application.message": _("代理店からのメッセージ"),
    "application.quote_invalidated": _("保険料の再計算が必要に"),
    "auth.login": _("ログイン"),
    "auth.login_failed": _("ログイン失敗"),
    "auth.login_refused_throttled": _("ログイン制限による拒否"),
    "auth.account_locked": _("アカウントのロック"),
    "auth.logout": _("ログアウト"),
    "auth.session_expired": _("セッションの期限切れ"),
    "auth.new_browser": _("新しいブラウザからのログイン"),
    "auth.password_changed": _("パスワードの変更"),
    "auth.password_reset": _("パスワードの再設定"),
    "auth.mfa_added": _("二段階認証の追加"),
    "registration.submitted": _("会員登録の申請"),
    "registration.completed": _("会員登録の完了"),
    "registration.existing_address": _("登録済みアドレスでの会員登録"),
    "policy.linked": _("証券の登録"),
    "policy.unlinked": _("証券の登録解除"),
    "policy.link_refused": _("証券の登録の拒否"),
    "staff.created": _("スタッフの作成"),
    "staff.logout": _("スタッフのログアウト"),
    "staff.mfa_activated": _("スタッフの二段階認証設定"),
    "backoffice.denied": _("権限のないアクセス（拒否）"),
    "backoffice.not_found": _("他の代理店のデータへのアクセス（拒否）"),
    "backoffice.contract_search": _("契約の検索・一覧"),
    "backoffice.contract_viewed": _("契約の閲覧"),
    "backoffice.application_list": _("申込一覧の閲覧"),
    "backoffice.application_viewed": _("申込の閲覧"),
    "backoffice.import_preview": _("CSV取込の確認"),
    "backoffice.import": _("CSV取込"),
    "backoffice.import_confirmed": _("CSV取込の開始"),
    "backoffice.export_applications": _("申込データの出力"),
    "backoffice.export_payroll": _("給与天引きリストの出力"),
    "chat.unanswered_resolved": _("チャットの未回答の質問を対応済みに"),
}


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def audit_events(
    *,
    actor: str = "",
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.all()
    if actor:
        events = events.filter(actor_label__icontains=actor)
    if action:
        events = events.filter(action__startswith=action)
    if object_type:
        events = events.filter(object_type=object_type)
    if object_id:
        events = events.filter(object_id=object_id)
    if date_from:
        events = events.filter(at__gte=_jst_midnight(date_from))
    if date_to:
        events = events.filter(at__lt=_jst_midnight(date_to + timedelta(days=1)))
    return events


def _jst_midnight(day: date) -> datetime:
    from keizoku.contracts.windows import JST

    return datetime(day.year, day.month, day.day, tzinfo=JST)
