"""Back-office views (thin): parse, check the staff member's reach, call a selector or service."""

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import BadRequest
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from keizoku.accounts import allauth_bridge
from keizoku.accounts.models import PolicyLink
from keizoku.contracts.importing import RowError
from keizoku.contracts.models import Group
from keizoku.core import ja
from keizoku.core.audit import audit_record
from keizoku.core.models import AuditEvent
from keizoku.renewals import exports
from keizoku.renewals import selectors as renewal_selectors
from keizoku.renewals.models import Application
from keizoku.renewals.services import (
    ApplicationError,
    StaleApplication,
    application_accept,
    application_refer_back,
    application_withdraw,
)

from . import selectors, services
from .auth import Role, StaffRequest, not_found, staff_required
from .forms import (
    AuditFilterForm,
    ImportForm,
    ReferForm,
    SearchForm,
    TotpForm,
    VersionForm,
    WithdrawForm,
)
from .models import ImportJob

WRITERS = (Role.AGENCY_STAFF, Role.INSURER_ADMIN)


# --- session -----------------------------------------------------------------------------------


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        audit_record(action="staff.logout", request=request)
    logout(request)
    messages.info(request, _("ログアウトしました。"))
    return redirect("backoffice:login")


@staff_required(mfa=False, read_only_post=True)
def mfa_setup(request: StaffRequest) -> HttpResponse:
    """First login of a staff member: set up the authenticator app (TOTP) before anything else."""
    if is_mfa_enabled(request.user):
        return redirect("backoffice:dashboard")
    form = TotpForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            totp = allauth_bridge.totp_activate(request.user, form.secret)
            codes = allauth_bridge.recovery_codes_generate(request)
            allauth_bridge.totp_secret_clear(request)
            audit_record(action="staff.mfa_activated", request=request, obj=request.user)
        # The code just typed proves the second factor for this session.
        allauth_bridge.authentication_record(
            request, request.user, "mfa", id=totp.pk, type=totp.type
        )
        return render(request, "backoffice/mfa_done.html", {"codes": codes})
    adapter = get_mfa_adapter()
    totp_url = adapter.build_totp_url(request.user, form.secret)
    svg = adapter.build_totp_svg(totp_url)
    qr = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    return render(
        request, "backoffice/mfa_setup.html", {"form": form, "secret": form.secret, "qr": qr}
    )


# --- dashboard and contracts ---------------------------------------------------------------------


@require_GET
@staff_required
def dashboard(request: StaffRequest) -> HttpResponse:
    now = timezone.now()
    blocks = selectors.dashboard(request.staff, now=now)
    return render(
        request,
        "backoffice/dashboard.html",
        {
            "blocks": blocks,
            "states": selectors.STATES,
            "alerts": selectors.ALERTS,
            "today": timezone.localdate(now),
        },
    )


@require_GET
@staff_required
def contract_list(request: StaffRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    now = timezone.now()
    contracts = selectors.with_state(selectors.visible_contracts(request.staff))
    group = None
    query = state = ""
    if form.is_valid():
        query = form.cleaned_data["q"] or ""
        state = form.cleaned_data["state"] or ""
        if form.cleaned_data["group"]:
            group = _visible_or_404(
                request,
                selectors.visible_groups(request.staff),
                form.cleaned_data["group"],
                "contracts.group",
            )
            contracts = contracts.filter(group=group)
        if form.cleaned_data["agency"]:
            agency = _visible_or_404(
                request,
                selectors.visible_agencies(request.staff),
                form.cleaned_data["agency"],
                "contracts.agency",
            )
            contracts = contracts.filter(group__agency=agency)
        if state:
            contracts = selectors.season_contracts(contracts, now=now).filter(
                selectors.state_conditions(now=now)[state]
            )
        if query:
            contracts = selectors.search_contracts(contracts, query)
    elif form.is_bound:
        contracts = contracts.none()  # the form shows why beside the field
    page = Paginator(contracts.order_by("period_end", "policy_number"), 50).get_page(
        request.GET.get("page")
    )
    # Every staff look at personal data is in the audit trail (SECURITY.md), a bare list too.
    audit_record(
        action="backoffice.contract_search",
        request=request,
        details={
            "query": query[:100],
            "state": state,
            "group": group.code if group else "",
            "results": page.paginator.count,
        },
    )
    return render(
        request,
        "backoffice/contract_list.html",
        {
            "form": form,
            "page": page,
            "group": group,
            "state_label": selectors.FILTER_LABELS.get(state, ""),
            "query_string": _query_string(request),
        },
    )


def _query_string(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _visible_or_404[M: Model](
    request: HttpRequest, queryset: QuerySet[M], pk: int, label: str
) -> M:
    """The object among those the staff member may see, or a logged 404."""
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        not_found(request, label, pk)
    return obj


@require_GET
@staff_required
def contract_detail(request: StaffRequest, pk: int) -> HttpResponse:
    contract = _visible_or_404(
        request, selectors.visible_contracts(request.staff), pk, "contracts.contract"
    )
    application = (
        Application.objects.filter(contract=contract, period_start=contract.period_end)
        .exclude(status=Application.Status.WITHDRAWN)
        .first()
    )
    applications = contract.applications.order_by("-created_at")
    link = PolicyLink.objects.filter(contract=contract).select_related("member").first()
    audit_record(action="backoffice.contract_viewed", request=request, obj=contract)
    return render(
        request,
        "backoffice/contract_detail.html",
        {
            "contract": contract,
            "phone": ja.format_phone(contract.phone),
            "postal_code": ja.format_postal_code(contract.postal_code),
            "masked_email": selectors.mask_email(contract.email) if contract.email else "",
            "member_email": selectors.mask_email(link.member.email) if link else "",
            "link": link,
            "application": application,
            "applications": applications,
            "changes": contract.changes.select_related("batch").order_by("-at", "-pk"),
            "mails": selectors.contract_mails(contract, application),
            "reminders": contract.reminders.order_by("-created_at"),
        },
    )


# --- applications ------------------------------------------------------------------------------


@require_GET
@staff_required
def application_list(request: StaffRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    applications = selectors.visible_applications(request.staff).exclude(
        status=Application.Status.DRAFT
    )
    if status in Application.Status.values:
        applications = selectors.visible_applications(request.staff).filter(status=status)
    page = Paginator(applications.order_by("-submitted_at", "-pk"), 50).get_page(
        request.GET.get("page")
    )
    audit_record(
        action="backoffice.application_list",
        request=request,
        # Only a known status: the query string is free text, the trail is not its place.
        details={
            "status": status if status in Application.Status.values else "",
            "page": page.number,
            "results": page.paginator.count,
        },
    )
    return render(
        request,
        "backoffice/application_list.html",
        {"page": page, "status": status, "statuses": Application.Status.choices},
    )


def _application_context(request, application, **forms) -> dict:
    version = {"version": application.version}
    return {
        "application": application,
        "contract": application.contract,
        "quote": application.quote,
        "summary": renewal_selectors.application_summary(application),
        "member_email": selectors.mask_email(application.member.email),
        "accept_form": forms.get("accept_form") or VersionForm(initial=version),
        "refer_form": forms.get("refer_form") or ReferForm(initial=version),
        "withdraw_form": forms.get("withdraw_form") or WithdrawForm(initial=version),
        "can_accept": application.status
        in (Application.Status.SUBMITTED, Application.Status.REFERRED),
        "can_refer": application.status
        in (Application.Status.SUBMITTED, Application.Status.REFERRED),
        "can_withdraw": application.status
        not in (Application.Status.ACCEPTED, Application.Status.WITHDRAWN),
        "read_only": request.staff.read_only,
        "history": selectors.audit_events(
            object_type="renewals.application", object_id=str(application.pk)
        ).filter(action__in=["application.status", "application.message"])[:50],
    }


@require_GET
@staff_required
def application_detail(request: StaffRequest, pk: int) -> HttpResponse:
    application = _visible_or_404(
        request, selectors.visible_applications(request.staff), pk, "renewals.application"
    )
    audit_record(action="backoffice.application_viewed", request=request, obj=application)
    return render(
        request, "backoffice/application_detail.html", _application_context(request, application)
    )


@require_POST
@staff_required(roles=WRITERS)
def application_action(request: StaffRequest, pk: int, action: str) -> HttpResponse:
    application = _visible_or_404(
        request, selectors.visible_applications(request.staff), pk, "renewals.application"
    )
    form_class = {"accept": VersionForm, "refer": ReferForm, "withdraw": WithdrawForm}[action]
    form = form_class(request.POST)
    if form.is_valid():
        arguments = {
            "application": application,
            "expected_version": form.cleaned_data["version"],
            "actor": request.user,
            "request": request,
        }
        try:
            if action == "accept":
                application_accept(**arguments)
                messages.success(request, _("申込を受付完了にしました。"))
            elif action == "refer":
                application_refer_back(**arguments, message=form.cleaned_data["message"])
                messages.success(request, _("お客さまに差し戻しました（メールでお知らせします）。"))
            else:
                application_withdraw(**arguments, reason=form.cleaned_data["reason"])
                messages.success(request, _("申込を取り下げました。"))
            return redirect("backoffice:application_detail", pk=application.pk)
        except StaleApplication as error:
            application.refresh_from_db()
            messages.error(request, str(error))
            return redirect("backoffice:application_detail", pk=application.pk)
        except ApplicationError as error:
            # Shown at the top of the page: the form of a refused action may not be shown at all.
            messages.error(request, str(error))
    context = _application_context(request, application, **{f"{action}_form": form})
    return render(request, "backoffice/application_detail.html", context, status=400)


# --- exports -----------------------------------------------------------------------------------


@require_GET
@staff_required
def export_index(request: StaffRequest) -> HttpResponse:
    groups = selectors.visible_groups(request.staff).order_by("agency__code", "code")
    return render(request, "backoffice/exports.html", {"groups": groups})


@dataclass(frozen=True)
class _Export:
    """One back-office download: what it holds and how it is named and audited."""

    title: str
    columns: list[str]
    rows: Callable[[], Iterator[dict]]
    filename: str  # without ".csv"
    action: str  # the audit action
    obj: Group | None
    url: str  # the download (UTF-8 with BOM by default)
    report_url: str  # the CP932 report page


def _applications_export(request: StaffRequest) -> _Export:
    applications = exports.exportable_applications(selectors.visible_applications(request.staff))
    return _Export(
        title=_("申込データ"),
        columns=exports.APPLICATION_COLUMNS,
        rows=lambda: exports.application_rows(applications),
        filename=f"applications-{timezone.localtime():%Y%m%d-%H%M}",
        action="backoffice.export_applications",
        obj=None,
        url=reverse("backoffice:export_applications"),
        report_url=reverse("backoffice:export_applications_cp932"),
    )


def _payroll_export(request: StaffRequest, pk: int) -> _Export:
    group: Group = _visible_or_404(
        request, selectors.visible_groups(request.staff), pk, "contracts.group"
    )
    return _Export(
        title=_("%(name)sの給与天引きリスト") % {"name": group.name},
        columns=exports.PAYROLL_COLUMNS,
        rows=lambda: exports.payroll_rows(exports.payroll_applications(group.pk)),
        filename=f"payroll-{group.code}-{timezone.localtime():%Y%m%d}",
        action="backoffice.export_payroll",
        obj=group,
        url=reverse("backoffice:export_payroll", args=[group.pk]),
        report_url=reverse("backoffice:export_payroll_cp932", args=[group.pk]),
    )


def _download(request: HttpRequest, export: _Export) -> HttpResponse:
    """The CSV in the encoding asked for. A CP932 file is handed out only with the fingerprint of
    the report the clerk saw (``report=``): if the substitutions differ now, back to the report."""
    encoding = request.GET.get("encoding", exports.UTF8_BOM)
    if encoding not in exports.ENCODINGS:
        raise BadRequest("unknown encoding")
    data, written = exports.csv_file(export.columns, export.rows(), encoding=encoding)
    if encoding == exports.CP932 and request.GET.get("report") != written.digest:
        if "report" in request.GET:
            messages.warning(
                request,
                _("出力する内容が変わりました。置き換える文字をもう一度ご確認ください。"),
            )
        return redirect(export.report_url)
    audit_record(
        action=export.action,
        request=request,
        obj=export.obj,
        details={"encoding": encoding, "substitutions": len(written.substitutions)},
    )
    cp932 = encoding == exports.CP932
    response = HttpResponse(
        data, content_type="text/csv; charset=" + ("Shift_JIS" if cp932 else "utf-8")
    )
    filename = f"{export.filename}{'-sjis' if cp932 else ''}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _cp932_report(request: HttpRequest, export: _Export) -> HttpResponse:
    """Before a CP932 download: every character CP932 cannot hold and what replaces it."""
    _data, written = exports.csv_file(export.columns, export.rows(), encoding=exports.CP932)
    audit_record(
        action=f"{export.action}_cp932_report",
        request=request,
        obj=export.obj,
        details={"substitutions": len(written.substitutions)},
    )
    query = urlencode({"encoding": exports.CP932, "report": written.digest})
    return render(
        request,
        "backoffice/export_cp932.html",
        {
            "export": export,
            "written": written,
            "download_url": f"{export.url}?{query}",
            "substitutes": exports.CP932_SUBSTITUTES,
            "placeholder": exports.PLACEHOLDER,
        },
    )


@require_GET
@staff_required
def export_applications(request: StaffRequest) -> HttpResponse:
    return _download(request, _applications_export(request))


@require_GET
@staff_required
def export_applications_cp932(request: StaffRequest) -> HttpResponse:
    return _cp932_report(request, _applications_export(request))


@require_GET
@staff_required
def export_payroll(request: StaffRequest, pk: int) -> HttpResponse:
    return _download(request, _payroll_export(request, pk))


@require_GET
@staff_required
def export_payroll_cp932(request: StaffRequest, pk: int) -> HttpResponse:
    return _cp932_report(request, _payroll_export(request, pk))


# --- imports: upload → preview (nothing written) → confirm → result ----------------------------


@staff_required(roles=WRITERS)
def import_upload(request: StaffRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        kind = form.cleaned_data["kind"]
        name = Path(upload.name).name[:200]
        job, result = services.import_job_preview(
            staff=request.staff, kind=kind, data=upload.read(), source=name
        )
        audit_record(
            action="backoffice.import_preview",
            request=request,
            details={"kind": kind, "file": name, "refused_rows": len(result.errors)},
        )
        return render(
            request,
            "backoffice/import_preview.html",
            {
                "kind": kind,
                "name": name,
                "errors": result.errors,
                "result": result,
                "token": job.token if job else "",
                "in_request": result.total <= settings.IMPORT_SYNC_MAX_ROWS,
            },
            status=200 if job else 400,
        )
    return render(request, "backoffice/import_upload.html", {"form": form})


@require_POST
@staff_required(roles=WRITERS)
def import_confirm(request: StaffRequest) -> HttpResponse:
    job = services.import_job_confirm(token=request.POST.get("token", ""), user=request.user)
    if job is None:
        messages.error(request, _("取込の確認期限が切れました。もう一度ファイルを選んでください。"))
        return redirect("backoffice:import_upload")
    audit_record(
        action="backoffice.import_confirmed",
        request=request,
        details={"kind": job.kind, "file": job.source, "rows": job.rows},
    )
    return redirect("backoffice:import_status", token=job.token)


@require_GET
@staff_required(roles=WRITERS)
def import_status(request: StaffRequest, token: str) -> HttpResponse:
    """Where a confirmed import is; the page polls itself (htmx) until the import ends."""
    job = ImportJob.objects.filter(token=token, requested_by=request.user).first()
    if job is None or job.status == ImportJob.Status.PREVIEWED:
        not_found(request, "backoffice.importjob", token[:16])
    # A worker killed mid-import leaves its job "running": after a quiet spell, say so.
    stalled = (
        job.status == ImportJob.Status.RUNNING
        and job.updated_at < timezone.now() - services.IMPORT_STALLED_AFTER
    )
    return render(
        request,
        "backoffice/import_status.html",
        {"job": job, "stalled": stalled, "errors": [RowError(*error) for error in job.errors]},
    )


# --- audit trail -------------------------------------------------------------------------------


@require_GET
@staff_required(roles=(Role.INSURER_ADMIN, Role.AUDITOR))
def audit_list(request: StaffRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        events = AuditEvent.objects.none()  # the form says why beside the field
    else:
        filters = form.cleaned_data if form.is_bound else {}
        events = selectors.audit_events(**{k: v for k, v in filters.items() if v})
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    rows = [(event, selectors.action_label(event.action)) for event in page]
    return render(
        request,
        "backoffice/audit_list.html",
        {"form": form, "page": page, "rows": rows, "query_string": _query_string(request)},
    )
