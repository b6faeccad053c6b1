"""Clickar: the renewal wizard (guide steps 10–21). Thin views: parse → service → render."""

import secrets
import time

from allauth.account import app_settings as allauth_settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from keizoku.accounts import allauth_bridge
from keizoku.accounts.http import MemberRequest
from keizoku.contracts.windows import contract_window

from . import labels, legal, pricing, selectors, services, steps
from .forms import (
    DECLARATIONS,
    ConditionsForm,
    ConfirmForm,
    ConsentForm,
    CustomPlanForm,
    DeclarationsForm,
    DeliveryForm,
    DisclosureForm,
    PaymentForm,
    PlanChoiceForm,
)
from .models import Application
from .pdf import application_pdf

# Every step handler gets its application from ``selectors.member_application_get``, which reads it
# through the member's own link to the policy: the link stands, no need to look it up again.
LINKED = True


def _recently_authenticated(request: HttpRequest) -> bool:
    """A password or second factor entered in this session within the last 5 minutes (SECURITY.md):
    at login or at a re-authentication."""
    records = allauth_bridge.authentication_records(request, request.user)
    latest = max((record.get("at", 0) for record in records), default=0)
    return time.time() - latest < allauth_settings.REAUTHENTICATION_TIMEOUT


def _posted(request: HttpRequest):
    """The POST data for a form, even an empty POST (an unticked lone checkbox posts nothing)."""
    return request.POST if request.method == "POST" else None


def _step_url(application: Application, slug: str) -> str:
    return reverse("renewals:step", args=[application.contract_id, slug])


def _next(application: Application) -> HttpResponse:
    if application.status == Application.Status.REFERRED and not application.acceptance_number:
        return redirect("renewals:referred", application.contract_id)
    return redirect(
        _step_url(application, steps.first_incomplete(application.completed_steps).slug)
    )


@login_required
@require_GET
def start(request: MemberRequest, contract_id: int) -> HttpResponse:
    """「契約の更改」 / 「手続きを再開」: the first incomplete step of the member's application."""
    contract = selectors.member_contract_get(member=request.user, contract_id=contract_id)
    try:
        application = services.application_start(
            member=request.user, contract=contract, request=request
        )
    except services.ApplicationError as error:
        messages.error(request, str(error))
        return redirect("accounts:renewals")
    if application.acceptance_number:
        return redirect("renewals:complete", contract.pk)
    return _next(application)


@login_required
@require_http_methods(["GET", "POST"])
def step(request: MemberRequest, contract_id: int, slug: str) -> HttpResponse:
    if slug not in steps.BY_SLUG:
        raise Http404
    application = selectors.member_application_get(member=request.user, contract_id=contract_id)
    if application.acceptance_number:
        return redirect("renewals:complete", contract_id)
    if application.status != Application.Status.DRAFT:
        return _next(application)
    if not steps.is_reachable(slug, application.completed_steps):
        # No step can be skipped by typing its URL: back to the first one not done.
        return _next(application)
    if not contract_window(application.contract).is_open(timezone.now()):
        return render(
            request,
            "renewals/window_closed.html",
            {"application": application, "contract": application.contract},
            status=410,
        )
    if application.quote and application.quoted_contract_version != application.contract.version:
        messages.warning(
            request,
            _("ご契約内容が変更されたため、保険料を計算し直しました。補償内容からご確認ください。"),
        )
        services.application_invalidate_quote(application=application)
        if not steps.is_reachable(slug, application.completed_steps):
            return _next(application)
    handler = STEP_HANDLERS[slug]
    return handler(request, application)


# The steps whose text is binding in Japanese (shown with its English reading aid).
LEGAL = {"consent": legal.CONSENT, "disclosure": legal.DISCLOSURE}


def _render_step(request, application, slug, context, *, status=200) -> HttpResponse:
    step_info = steps.BY_SLUG[slug]
    previous = steps.previous_step(slug)
    return render(
        request,
        f"renewals/step_{slug}.html",
        {
            "application": application,
            "contract": application.contract,
            "step": step_info,
            "steps": steps.STEPS,
            "last_step_number": steps.LAST_NUMBER,
            "previous_url": _step_url(application, previous.slug)
            if previous
            else reverse("accounts:renewals"),
            "legal": LEGAL.get(slug),
            **context,
        },
        status=status,
    )


def _save(request, application, slug, answers, *, quote=None) -> HttpResponse:
    try:
        services.application_save_step(
            application=application, slug=slug, answers=answers, quote=quote, request=request
        )
    except services.ApplicationError as error:
        messages.error(request, str(error))
    if request.GET.get("return") == "confirm" and steps.is_reachable(
        "confirm", application.completed_steps
    ):
        return redirect(_step_url(application, "confirm"))
    return _next(application)


def _simple_form_step(form_class, slug):
    def handle(request, application):
        saved = application.answers.get(slug)
        form = form_class(_posted(request), initial=saved or None)
        if request.method == "POST" and form.is_valid():
            return _save(request, application, slug, form.cleaned_data)
        return _render_step(
            request, application, slug, {"form": form}, status=400 if form.errors else 200
        )

    return handle


def _notes(request, application):
    """11: who may renew online; an ineligible policy ends here and is flagged for the agency."""
    reasons = pricing.eligibility_reasons(application, now=timezone.now(), linked=LINKED)
    if reasons:
        # Flagged as soon as the customer is told, not only if they press 【次へ】: the agency
        # must call even a customer who closes the page here.
        services.application_refer_ineligible(
            application=application, reasons=reasons, request=request
        )
        if request.method == "POST":
            return _next(application)
    elif request.method == "POST":
        return _save(request, application, "notes", {"eligible": True})
    shown = [{**reason, "text": labels.reason_text(reason)} for reason in reasons]
    return _render_step(request, application, "notes", {"reasons": shown})


def _current(request, application):
    """13: the expiring policy as it stands."""
    if request.method == "POST":
        return _save(request, application, "current", {"seen": True})
    return _render_step(request, application, "current", {"c": application.contract})


def _conditions(request, application):
    """14: driver conditions, licence, vehicle — each change re-prices."""
    contract = application.contract
    initial = application.answers.get("conditions") or {
        "age_condition": contract.age_condition,
        "driver_scope": contract.driver_scope,
        "use": contract.use,
        "gold_license": "yes" if contract.gold_license else "no",
    }
    if isinstance(initial.get("gold_license"), bool):
        initial = {
            **initial,
            "gold_license": "yes" if initial["gold_license"] else "no",
            "same_vehicle": "yes" if initial.get("same_vehicle", True) else "no",
        }
    form = ConditionsForm(_posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        answers = form.cleaned_data
        if not answers["same_vehicle"]:
            services.application_refer_ineligible(
                application=application,
                reasons=[labels.stored_reason("vehicle_change")],
                request=request,
            )
            return _next(application)
        return _save(request, application, "conditions", answers)
    return _render_step(
        request, application, "conditions", {"form": form}, status=400 if form.errors else 200
    )


def _plan(request, application):
    """15: 前年同等 / おすすめ / カスタマイズ side by side, each with its premium."""
    saved = application.answers.get("plan") or {}
    custom_initial = saved.get("custom") or pricing.coverages_of(application, "same")
    htmx = request.headers.get("HX-Request") == "true"
    # The custom coverages count when the customer works on them: chose the plan, asked for a
    # new price without JavaScript, or changed one of them (htmx).
    editing_custom = request.POST.get("plan") == "custom" or "reprice" in request.POST or htmx
    custom_form = CustomPlanForm(
        _posted(request) if editing_custom else None, initial=custom_initial, prefix="custom"
    )
    choice_form = PlanChoiceForm(_posted(request), initial={"plan": saved.get("plan")})
    custom_coverages = custom_initial
    if custom_form.is_bound and custom_form.is_valid():
        custom_coverages = pricing.coverages_from_form(custom_form.cleaned_data)
    posted = request.method == "POST" and not htmx and "reprice" not in request.POST
    chosen = choice_form.cleaned_data["plan"] if posted and choice_form.is_valid() else None
    if chosen in ("same", "recommended"):
        # Nothing to price: step 16 computes the premium of the chosen plan.
        answers = {
            "plan": chosen,
            "coverages": pricing.coverages_of(application, chosen),
            "custom": saved.get("custom"),
        }
        return _save(request, application, "plan", answers)
    # The live re-pricing of the custom plan (htmx) needs only its own premium.
    shown = ("custom",) if htmx and request.method == "POST" else ("same", "recommended", "custom")
    quotes = pricing.plan_quotes(
        application, custom=custom_coverages, plans_shown=shown, linked=LINKED
    )
    custom_error = ""
    if isinstance(quotes["custom"], str):
        custom_error, quotes["custom"] = quotes["custom"], None
    vehicle_value = application.contract.vehicle_value
    quotes = {
        code: labels.quote_shown(quote, vehicle_value=vehicle_value)
        for code, quote in quotes.items()
    }
    if htmx and request.method == "POST":
        # The live re-pricing of the custom plan: only its premium fragment.
        return render(
            request,
            "renewals/_custom_premium.html",
            {"quote": quotes.get("custom"), "error": custom_error},
        )
    if chosen == "custom":
        if custom_error or not custom_form.is_valid():
            choice_form.add_error(None, custom_error or _("カスタマイズの内容をご確認ください。"))
        else:
            answers = {"plan": "custom", "coverages": custom_coverages, "custom": custom_coverages}
            return _save(request, application, "plan", answers)
    plan_labels = dict(choice_form.fields["plan"].choices)
    # When last year's cover already meets the recommendation, one card says so (no two
    # identical cards); choosing it is choosing either.
    recommended_is_same = not quotes["recommended"]["changes"]
    shown_plans = ("same", "custom") if recommended_is_same else ("same", "recommended", "custom")
    plans = [
        {"code": code, "label": plan_labels[code], "quote": quotes.get(code)}
        for code in shown_plans
    ]
    selected = request.POST.get("plan") or saved.get("plan")
    if recommended_is_same and selected == "recommended":
        selected = "same"
    return _render_step(
        request,
        application,
        "plan",
        {
            "choice_form": choice_form,
            "custom_form": custom_form,
            "quotes": quotes,
            "plans": plans,
            "custom_error": custom_error,
            "recommended_is_same": recommended_is_same,
            "selected": selected,
        },
        status=400 if choice_form.errors else 200,
    )


def _premium(request, application):
    """16: the renewed premium, the monthly deduction, the new grade and why it changed."""
    quote = pricing.application_quote(application, linked=LINKED)
    if request.method == "POST":
        return _save(request, application, "premium", {"seen": True}, quote=quote)
    projection = quote["projection"]
    rows = list(zip(projection["with_accidents"], projection["without_accidents"], strict=True))
    shown = labels.quote_shown(quote, vehicle_value=application.contract.vehicle_value)
    return _render_step(request, application, "premium", {"quote": shown, "projection_rows": rows})


def _delivery(request, application):
    """19: Web証券 (with its discount) or paper; the quote follows the choice."""
    form = DeliveryForm(_posted(request), initial=application.answers.get("delivery"))
    if request.method == "POST" and form.is_valid():
        application.answers = {**application.answers, "delivery": form.cleaned_data}
        quote = pricing.application_quote(application, linked=LINKED)
        return _save(request, application, "delivery", form.cleaned_data, quote=quote)
    return _render_step(
        request,
        application,
        "delivery",
        {
            "form": form,
            "paperless_discount": pricing.paperless_discount(application),
        },
        status=400 if form.errors else 200,
    )


def _declarations(request, application):
    """17: はい/いいえ, nothing pre-selected; some はい refer the application to the agency."""
    form = DeclarationsForm(_posted(request), initial=application.answers.get("declarations"))
    if request.method == "POST" and form.is_valid():
        answers = form.cleaned_data
        response = _save(request, application, "declarations", answers)
        referring = [
            labels.stored_reason(code)
            for code, _question, refers in DECLARATIONS
            if refers and answers[code] == "yes"
        ]
        services.application_set_referral(application=application, reasons=referring)
        return response
    return _render_step(
        request, application, "declarations", {"form": form}, status=400 if form.errors else 200
    )


def _payment(request, application):
    """18: payroll deduction (12 instalments) for employees; annual transfer for retirees."""
    form = PaymentForm(_posted(request))
    method = pricing.payment_method(application)
    if request.method == "POST" and form.is_valid():
        return _save(request, application, "payment", {"method": method, "confirmed": True})
    return _render_step(
        request,
        application,
        "payment",
        {"form": form, "method": method, "quote": application.quote},
        status=400 if form.errors else 200,
    )


def _confirm(request, application):
    """20: everything, 「修正する」 per section, the intent checkbox, re-authentication, 【申し込む】."""
    form = ConfirmForm(_posted(request), initial={"idempotency_key": secrets.token_urlsafe(24)})
    if request.method == "POST" and form.is_valid():
        if not _recently_authenticated(request):
            # The final 【申し込む】 needs a password (or second factor) in the last 5 minutes.
            url = (
                reverse("account_reauthenticate")
                + "?"
                + urlencode({"next": _step_url(application, "confirm")})
            )
            messages.info(request, _("お申し込みの前に、もう一度パスワードを入力してください。"))
            return redirect(url)
        try:
            services.application_submit(
                application=application,
                idempotency_key=form.cleaned_data["idempotency_key"],
                member=request.user,
                request=request,
            )
        except services.ApplicationError as error:
            form.add_error(None, str(error))
        else:
            return redirect("renewals:complete", application.contract_id)
    return _render_step(
        request,
        application,
        "confirm",
        {
            "form": form,
            **selectors.application_summary(application),
            "needs_reauth": not _recently_authenticated(request),
        },
        status=400 if form.errors else 200,
    )


STEP_HANDLERS = {
    "consent": _simple_form_step(ConsentForm, "consent"),
    "notes": _notes,
    "disclosure": _simple_form_step(DisclosureForm, "disclosure"),
    "current": _current,
    "conditions": _conditions,
    "plan": _plan,
    "premium": _premium,
    "declarations": _declarations,
    "payment": _payment,
    "delivery": _delivery,
    "confirm": _confirm,
}


@login_required
@require_GET
def referred(request: MemberRequest, contract_id: int) -> HttpResponse:
    """The end of the online path: the agency takes over, with its contact."""
    application = selectors.member_application_get(member=request.user, contract_id=contract_id)
    return render(
        request,
        "renewals/referred.html",
        {
            "application": application,
            "contract": application.contract,
            "reasons": [labels.reason_text(reason) for reason in application.referral_reasons],
        },
    )


@login_required
@require_GET
def complete(request: MemberRequest, contract_id: int) -> HttpResponse:
    """21 「お申込み完了」: the 受付番号, the PDF and the mail."""
    application = selectors.member_application_get(member=request.user, contract_id=contract_id)
    if not application.acceptance_number:
        return _next(application)
    return render(
        request,
        "renewals/complete.html",
        {"application": application, "contract": application.contract},
    )


@login_required
@require_GET
def receipt_pdf(request: MemberRequest, contract_id: int) -> FileResponse:
    """申込内容控え (PDF)."""
    application = selectors.member_application_get(member=request.user, contract_id=contract_id)
    if not application.acceptance_number:
        raise Http404
    pdf = application_pdf(application)
    response = FileResponse(
        pdf,
        content_type="application/pdf",
        as_attachment=True,
        filename=f"moushikomi-{application.acceptance_number}.pdf",
    )
    return response
