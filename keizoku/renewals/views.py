"""Clickar: the renewal wizard (guide steps 10–21). Thin views: parse → service → render."""

import secrets
import time
from collections.abc import Callable

from allauth.account import app_settings as allauth_settings
from django import forms
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
from keizoku.rating.engine import Coverages

from . import labels, legal, pricing, selectors, services, steps
from .choices import DECLARATIONS, Plan
from .forms import (
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
from .snapshot import Conditions, PlanChoice, Quote, StepAnswer, declarations_from_form

StepHandler = Callable[[MemberRequest, Application], HttpResponse]

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


def _save(
    request: HttpRequest,
    application: Application,
    slug: str,
    answer: StepAnswer,
    *,
    quote: Quote | None = None,
    referral_reasons: list[dict[str, str]] | None = None,
) -> HttpResponse:
    try:
        services.application_save_step(
            application=application,
            slug=slug,
            answer=answer,
            quote=quote,
            referral_reasons=referral_reasons,
            request=request,
        )
    except services.ApplicationError as error:
        messages.error(request, str(error))
    if request.GET.get("return") == "confirm" and steps.is_reachable(
        "confirm", application.completed_steps
    ):
        return redirect(_step_url(application, "confirm"))
    return _next(application)


def _tick_step(form_class: type[forms.Form], slug: str, field: str) -> StepHandler:
    """A step whose form is one required checkbox; its answer is True once saved."""

    def handle(request: HttpRequest, application: Application) -> HttpResponse:
        saved = getattr(application.answers, slug)
        form = form_class(_posted(request), initial={field: True} if saved else None)
        if request.method == "POST" and form.is_valid():
            return _save(request, application, slug, True)
        return _render_step(
            request, application, slug, {"form": form}, status=400 if form.errors else 200
        )

    return handle


def _notes(request: HttpRequest, application: Application) -> HttpResponse:
    """11: who may renew online; an ineligible policy ends here and is flagged for the agency."""
    reasons = pricing.eligibility_reasons(application, now=timezone.now(), linked=LINKED)
    if reasons:
        # Flagged as soon as the customer is told, not only if they press 【次へ】: the agency
        # must call even a customer who closes the page here.
        services.application_refer_ineligible(
            application=application,
            reasons=pricing.stored_reasons(reasons),
            request=request,
        )
        if request.method == "POST":
            return _next(application)
    elif request.method == "POST":
        return _save(request, application, "notes", True)
    shown = [{"code": reason.code, "text": labels.reason_text(reason)} for reason in reasons]
    return _render_step(request, application, "notes", {"reasons": shown})


def _current(request: HttpRequest, application: Application) -> HttpResponse:
    """13: the expiring policy as it stands."""
    if request.method == "POST":
        return _save(request, application, "current", True)
    return _render_step(request, application, "current", {"c": application.contract})


def _conditions(request: HttpRequest, application: Application) -> HttpResponse:
    """14: driver conditions, licence, vehicle — each change re-prices."""
    saved = application.answers.conditions
    shown = saved or pricing.contract_conditions(application.contract)
    initial = {
        "age_condition": shown.age_condition,
        "driver_scope": shown.driver_scope,
        "use": shown.use,
        "gold_license": "yes" if shown.gold_license else "no",
    }
    if saved is not None:
        initial["same_vehicle"] = "yes"  # saved only with the same vehicle
    form = ConditionsForm(_posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not data["same_vehicle"]:
            services.application_refer_ineligible(
                application=application,
                reasons=[labels.stored_reason("vehicle_change")],
                request=request,
            )
            return _next(application)
        conditions = Conditions(
            age_condition=data["age_condition"],
            driver_scope=data["driver_scope"],
            use=data["use"],
            gold_license=data["gold_license"],
        )
        return _save(request, application, "conditions", conditions)
    return _render_step(
        request, application, "conditions", {"form": form}, status=400 if form.errors else 200
    )


# --- 15 「補償内容の選択」: one handler per mode, sharing the helpers below ---------------------


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _plan(request: HttpRequest, application: Application) -> HttpResponse:
    """15: 前年同等 / おすすめ / カスタマイズ side by side, each with its premium. Four modes: the
    page (GET, or 【保険料を再計算】 without JavaScript), the live premium of the custom plan
    (htmx), choosing 前年同等 or おすすめ, and choosing カスタマイズ."""
    if request.method != "POST":
        return _plan_page(request, application)
    if _is_htmx(request):
        return _plan_custom_premium(request, application)
    if "reprice" in request.POST:
        return _plan_page(request, application, custom_form=_custom_form(request, application))
    choice_form = PlanChoiceForm(request.POST)
    if not choice_form.is_valid():
        return _plan_page(request, application, choice_form=choice_form)
    if choice_form.cleaned_data["plan"] == Plan.CUSTOM:
        return _plan_choose_custom(request, application, choice_form)
    return _plan_choose(request, application, choice_form.cleaned_data["plan"])


def _custom_form(
    request: HttpRequest, application: Application, *, bound: bool = True
) -> CustomPlanForm:
    """「カスタマイズ」's fields, ``bound`` to the POST when the customer works on them; the saved
    custom coverages (or last year's cover) as initial values."""
    saved = application.answers.plan
    initial = (saved.custom if saved else None) or pricing.coverages_of(application, Plan.SAME)
    data = _posted(request) if bound else None
    return CustomPlanForm(data, initial=initial.as_dict(), prefix="custom")


def _custom_coverages(form: CustomPlanForm) -> Coverages:
    """The custom coverages the form stands for: the valid posted ones, else its initial."""
    if form.is_bound and form.is_valid():
        return pricing.coverages_from_form(form.cleaned_data)
    return Coverages.from_dict(dict(form.initial))


def _plan_custom_premium(request: HttpRequest, application: Application) -> HttpResponse:
    """htmx: the custom plan re-priced on every change; only its premium fragment."""
    custom_form = _custom_form(request, application)
    quotes = pricing.plan_quotes(
        application, custom=_custom_coverages(custom_form), plans_shown=("custom",), linked=LINKED
    )
    return render(
        request,
        "renewals/_custom_premium.html",
        {
            "quote": labels.quote_shown(
                quotes.custom, vehicle_value=application.contract.vehicle_value
            ),
            "error": quotes.custom_error,
        },
    )


def _plan_choose(request: HttpRequest, application: Application, plan: str) -> HttpResponse:
    """前年同等 or おすすめ chosen: nothing to price (step 16 prices the chosen plan)."""
    saved = application.answers.plan
    choice = PlanChoice(
        plan=plan,
        coverages=pricing.coverages_of(application, plan),
        custom=saved.custom if saved else None,
    )
    return _save(request, application, "plan", choice)


def _plan_choose_custom(
    request: HttpRequest, application: Application, choice_form: PlanChoiceForm
) -> HttpResponse:
    """カスタマイズ chosen: saved when the engine accepts the combination, else the page again."""
    custom_form = _custom_form(request, application)
    coverages = _custom_coverages(custom_form)
    quotes = pricing.plan_quotes(
        application, custom=coverages, plans_shown=("custom",), linked=LINKED
    )
    if quotes.custom_error or not custom_form.is_valid():
        choice_form.add_error(
            None, quotes.custom_error or _("カスタマイズの内容をご確認ください。")
        )
        return _plan_page(request, application, choice_form=choice_form, custom_form=custom_form)
    choice = PlanChoice(plan=Plan.CUSTOM, coverages=coverages, custom=coverages)
    return _save(request, application, "plan", choice)


def _plan_page(
    request: HttpRequest,
    application: Application,
    *,
    choice_form: PlanChoiceForm | None = None,
    custom_form: CustomPlanForm | None = None,
) -> HttpResponse:
    """The three cards with their premiums (an invalid choice: with its error, as a 400)."""
    saved = application.answers.plan
    if choice_form is None:
        choice_form = PlanChoiceForm(
            _posted(request), initial={"plan": saved.plan if saved else None}
        )
    if custom_form is None:
        custom_form = _custom_form(request, application, bound=False)
    quotes = pricing.plan_quotes(application, custom=_custom_coverages(custom_form), linked=LINKED)
    vehicle_value = application.contract.vehicle_value
    shown = {
        code: labels.quote_shown(getattr(quotes, code), vehicle_value=vehicle_value)
        for code in Plan.values
    }
    # When last year's cover already meets the recommendation, one card says so (no two
    # identical cards); choosing it is choosing either.
    recommended_is_same = not quotes.changes
    codes = ("same", "custom") if recommended_is_same else ("same", "recommended", "custom")
    changes = [labels.change_text(change) for change in quotes.changes]
    cards = [
        {
            "code": code,
            "label": Plan(code).label,
            "quote": shown[code],
            "changes": changes if code == Plan.RECOMMENDED else (),
        }
        for code in codes
    ]
    selected = request.POST.get("plan") or (saved.plan if saved else None)
    if recommended_is_same and selected == "recommended":
        selected = "same"
    return _render_step(
        request,
        application,
        "plan",
        {
            "choice_form": choice_form,
            "custom_form": custom_form,
            "quotes": shown,
            "plans": cards,
            "custom_error": quotes.custom_error,
            "recommended_is_same": recommended_is_same,
            "selected": selected,
        },
        status=400 if choice_form.errors else 200,
    )


def _premium(request: HttpRequest, application: Application) -> HttpResponse:
    """16: the renewed premium, the monthly deduction, the new grade and why it changed."""
    quote = pricing.application_quote(application, linked=LINKED)
    if request.method == "POST":
        return _save(request, application, "premium", True, quote=quote)
    projection = quote.projection
    rows = list(zip(projection.with_accidents, projection.without_accidents, strict=True))
    shown = labels.quote_shown(quote, vehicle_value=application.contract.vehicle_value)
    return _render_step(request, application, "premium", {"quote": shown, "projection_rows": rows})


def _delivery(request: HttpRequest, application: Application) -> HttpResponse:
    """19: Web証券 (with its discount) or paper; the quote follows the choice."""
    saved = application.answers.delivery
    form = DeliveryForm(_posted(request), initial={"delivery": saved} if saved else None)
    if request.method == "POST" and form.is_valid():
        delivery = form.cleaned_data["delivery"]
        application.answers = application.answers.with_step("delivery", delivery)
        quote = pricing.application_quote(application, linked=LINKED)
        return _save(request, application, "delivery", delivery, quote=quote)
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


def _declarations(request: HttpRequest, application: Application) -> HttpResponse:
    """17: はい/いいえ, nothing pre-selected; some はい refer the application to the agency."""
    saved = application.answers.declarations
    initial = (
        {d.code: "yes" if saved.answered(d.code) else "no" for d in DECLARATIONS}
        if saved is not None
        else None
    )
    form = DeclarationsForm(_posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        declarations = declarations_from_form(form.cleaned_data)
        referring = [
            labels.stored_reason(d.code)
            for d in DECLARATIONS
            if d.refers and declarations.answered(d.code)
        ]
        return _save(request, application, "declarations", declarations, referral_reasons=referring)
    return _render_step(
        request, application, "declarations", {"form": form}, status=400 if form.errors else 200
    )


def _payment(request: HttpRequest, application: Application) -> HttpResponse:
    """18: payroll deduction (12 instalments) for employees; annual transfer for retirees."""
    form = PaymentForm(_posted(request))
    method = pricing.payment_method(application)
    if request.method == "POST" and form.is_valid():
        return _save(request, application, "payment", str(method))
    return _render_step(
        request,
        application,
        "payment",
        {"form": form, "method": method, "quote": application.quote},
        status=400 if form.errors else 200,
    )


def _confirm(request: MemberRequest, application: Application) -> HttpResponse:
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


STEP_HANDLERS: dict[str, StepHandler] = {
    "consent": _tick_step(ConsentForm, "consent", "agree"),
    "notes": _notes,
    "disclosure": _tick_step(DisclosureForm, "disclosure", "confirmed"),
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
