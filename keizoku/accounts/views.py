"""MyPage: registration (guide steps 1–7), the top page (8), the renewable list (9), linking."""

from datetime import date, datetime

from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.hashers import make_password
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views import i18n
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from keizoku.core import ja
from keizoku.renewals.selectors import member_policy_renewals

from . import services
from .forms import (
    MAX_POLICIES,
    POLICY_MISMATCH,
    SURVEY_SOURCE_CHOICES,
    PolicyLinkForm,
    RegistrationForm,
    RegistrationPasswordForm,
)
from .http import MemberRequest
from .models import PolicyLink
from .selectors import contract_match, member_agencies, member_link_get
from .terms import TERMS

SESSION_KEY = "registration"
TOKEN_SESSION_KEY = "registration_token"  # noqa: S105 - a session key name
LINK_STATE_TEMPLATES = {
    services.LinkState.USED: ("accounts/register/link_used.html", 410),
    services.LinkState.EXPIRED: ("accounts/register/link_expired.html", 410),
    services.LinkState.INVALID: ("accounts/register/link_invalid.html", 404),
}


# --- language ------------------------------------------------------------------------------------


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """「English / 日本語」: Django's set_language (cookie, back to ``next``), and for a member the
    choice is kept on the account, for their pages on any browser and for their mails and PDF."""
    response = i18n.set_language(request)
    services.member_language_set(member=request.user, language=request.POST.get("language", ""))
    return response


# --- registration ----------------------------------------------------------------------------


@require_GET
def register_start(request: HttpRequest) -> HttpResponse:
    """Step 1 「マイページの会員登録」: 【新規登録】."""
    return render(request, "accounts/register/start.html")


@require_http_methods(["GET", "POST"])
def register_terms(request: HttpRequest) -> HttpResponse:
    """Step 1: the terms of use, 【同意する】 and 【次へ】 (refused until the box is ticked)."""
    error = ""
    if request.method == "POST":
        if request.POST.get("agree") == "1":
            request.session[SESSION_KEY] = {"agreed": True}
            return redirect("accounts:register_form")
        error = _("利用規約をご確認のうえ、「同意する」にチェックを入れてください。")
    return render(
        request,
        "accounts/register/terms.html",
        {"error": error, "terms": TERMS},
        status=400 if error else 200,
    )


def _registration_session(request: HttpRequest) -> dict | None:
    state = request.session.get(SESSION_KEY)
    return state if isinstance(state, dict) and state.get("agreed") else None


@require_http_methods(["GET", "POST"])
def register_form(request: HttpRequest) -> HttpResponse:
    """Step 2 「必要事項入力」."""
    state = _registration_session(request)
    if state is None:
        return redirect("accounts:register_terms")

    if request.method == "GET":
        initial = state.get("form", {})
        form = RegistrationForm(initial=initial, policy_count=_policy_count(initial))
        return _render_form(request, form)

    count = min(ja.ascii_int(request.POST.get("policy_count"), max_digits=2) or 1, MAX_POLICIES)
    if "add_policy" in request.POST or "lookup_address" in request.POST:
        # 「追加」 and 「住所を検索」 without JavaScript: redisplay what was typed, no validation.
        initial = _typed(request)
        notice = ""
        if "add_policy" in request.POST:
            count += 1
        else:
            address = ja.address_for_postal_code(initial.get("postal_code", ""))
            if address:
                initial["address"] = address
            else:
                notice = _("郵便番号から住所が見つかりませんでした。住所を入力してください。")
        form = RegistrationForm(initial=initial, policy_count=count)
        return _render_form(request, form, address_notice=notice)

    form = RegistrationForm(request.POST, policy_count=max(count, _filled_policies(request)))
    if form.is_valid():
        contract_ids = _check_policies(request, form)
        if contract_ids is not None:
            data = form.cleaned_data
            state["form"] = _typed(request)
            state["data"] = {
                "email": data["email"],
                "name": data["name"],
                "kana": data["kana"],
                "birth_date": data["birth_date"].isoformat(),
                "postal_code": data["postal_code"],
                "address": data["address"],
                "phone": data["phone"],
                "policy_numbers": data["policy_numbers"],
                "survey": {"source": data["survey_source"], "comment": data["survey_comment"]},
            }
            state["password_hash"] = make_password(data["password"])
            state["contract_ids"] = contract_ids
            request.session[SESSION_KEY] = state
            return redirect("accounts:register_confirm")
    return _render_form(request, form, status=400)


def _render_form(
    request: HttpRequest, form: RegistrationForm, *, status: int = 200, address_notice: str = ""
) -> HttpResponse:
    policies = [form[f"policy_{index}"] for index in range(1, MAX_POLICIES + 1)]
    return render(
        request,
        "accounts/register/form.html",
        {
            "form": form,
            "policies": policies,
            "visible_policies": form.visible_policies,
            "max_policies": MAX_POLICIES,
            "address_notice": address_notice,
        },
        status=status,
    )


def _typed(request: HttpRequest) -> dict[str, str]:
    """What the customer typed, passwords excluded (SECURITY.md: never redisplayed)."""
    return {
        key: request.POST[key]
        for key in request.POST
        if key
        not in (
            "csrfmiddlewaretoken",
            "password",
            "password_confirm",
            "add_policy",
            "lookup_address",
            "policy_count",
        )
    }


def _policy_count(initial: dict) -> int:
    filled = [index for index in range(1, MAX_POLICIES + 1) if initial.get(f"policy_{index}")]
    return max(filled, default=1)


def _filled_policies(request: HttpRequest) -> int:
    return _policy_count(request.POST)


def _check_policies(request: HttpRequest, form: RegistrationForm) -> list[int] | None:
    """Each policy must match a free contract; one message for every kind of mismatch."""
    data = form.cleaned_data
    contract_ids = []
    for number in data["policy_numbers"]:
        allowed = ratelimit.consume(
            request, action="policy_check", key=ja.normalize_policy_number(number)
        )
        contract = (
            contract_match(policy_number=number, address=data["address"], phone=data["phone"])
            if allowed
            else None
        )
        if contract is None or PolicyLink.objects.filter(contract=contract).exists():
            form.add_error(None, POLICY_MISMATCH)
            return None
        contract_ids.append(contract.pk)
    return contract_ids


@require_GET
def register_address(request: HttpRequest) -> HttpResponse:
    """htmx: the 住所 input filled from the postal code (the no-JS path is 「住所を検索」)."""
    address = ja.address_for_postal_code(request.GET.get("postal_code", ""))
    return render(
        request,
        "accounts/register/_address.html",
        {
            "value": address or request.GET.get("address", ""),
            "notice": ""
            if address
            else _("郵便番号から住所が見つかりませんでした。住所を入力してください。"),
        },
    )


@require_http_methods(["GET", "POST"])
def register_confirm(request: HttpRequest) -> HttpResponse:
    """Step 3 「登録内容確認」: everything but the password, 【確定】 and 【戻る】."""
    state = _registration_session(request)
    if state is None or "data" not in state:
        return redirect("accounts:register_form" if state else "accounts:register_terms")
    data = state["data"]
    if request.method == "POST":
        services.registration_submit(
            data=services.RegistrationData(
                email=data["email"],
                password_hash=state["password_hash"],
                name=data["name"],
                kana=data["kana"],
                birth_date=date.fromisoformat(data["birth_date"]),
                postal_code=data["postal_code"],
                address=data["address"],
                phone=data["phone"],
                contract_ids=state["contract_ids"],
                survey=data["survey"],
                language=get_language(),
            ),
            request=request,
        )
        del request.session[SESSION_KEY]
        request.session["registration_email"] = data["email"]
        return redirect("accounts:register_accepted")
    return render(
        request,
        "accounts/register/confirm.html",
        {
            "data": data,
            "birth_date": date.fromisoformat(data["birth_date"]),
            "postal_code": ja.format_postal_code(data["postal_code"]),
            "phone": ja.format_phone(data["phone"]),
            "survey_source": dict(SURVEY_SOURCE_CHOICES).get(data["survey"]["source"]) or "",
        },
    )


@require_GET
def register_accepted(request: HttpRequest) -> HttpResponse:
    """Step 4 「仮登録受付」."""
    return render(
        request,
        "accounts/register/accepted.html",
        {"email": request.session.get("registration_email", "")},
    )


@require_GET
def register_link(request: HttpRequest, token: str) -> HttpResponse:
    """Step 5: the link of the mail. A GET never consumes it; the token leaves the URL here."""
    check = services.registration_link_state(token=token)
    if check.state is not services.LinkState.VALID:
        return _link_state_page(request, check.state, check.expires_at)
    request.session[TOKEN_SESSION_KEY] = token
    return redirect("accounts:register_password")


def _link_state_page(
    request: HttpRequest, state: services.LinkState, expires_at: datetime | None = None
) -> HttpResponse:
    template, status = LINK_STATE_TEMPLATES[state]
    return render(request, template, {"expires_at": expires_at}, status=status)


@require_http_methods(["GET", "POST"])
def register_password(request: HttpRequest) -> HttpResponse:
    """Step 6 「パスワード設定」: the password chosen at step 2, 【登録】."""
    token = request.session.get(TOKEN_SESSION_KEY)
    if not token:
        return _link_state_page(request, services.LinkState.INVALID)
    form = RegistrationPasswordForm(request.POST or None)
    if request.method == "GET":
        check = services.registration_link_state(token=token)
        if check.state is not services.LinkState.VALID:
            return _link_state_page(request, check.state, check.expires_at)
    elif form.is_valid():
        try:
            user = services.registration_complete(
                token=token, password=form.cleaned_data["password"], request=request
            )
        except services.WrongPassword:
            form.add_error(
                "password",
                _(
                    "パスワードが正しくありません。会員登録の際（手順2）に設定したパスワードを入力してください。"
                ),
            )
        except services.RegistrationLinkError as error:
            request.session.pop(TOKEN_SESSION_KEY, None)
            return _link_state_page(request, error.state, error.expires_at)
        else:
            request.session.pop(TOKEN_SESSION_KEY, None)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("accounts:register_done")
    return render(
        request,
        "accounts/register/password.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def register_done(request: MemberRequest) -> HttpResponse:
    """Step 7 「マイページ会員登録が完了しました」."""
    return render(request, "accounts/register/done.html")


# --- MyPage ----------------------------------------------------------------------------------


@login_required
@require_GET
def top(request: MemberRequest) -> HttpResponse:
    """Step 8 「マイページトップ」."""
    policies = member_policy_renewals(member=request.user, now=timezone.now())
    return render(
        request,
        "accounts/top.html",
        {
            "policies": policies,
            "can_link": len(policies) < MAX_POLICIES,
            "max_policies": MAX_POLICIES,
        },
    )


@login_required
@require_GET
def renewals(request: MemberRequest) -> HttpResponse:
    """Step 9 「更改手続き可能契約一覧」."""
    policies = member_policy_renewals(member=request.user, now=timezone.now())
    return render(request, "accounts/renewals.html", {"policies": policies})


@login_required
@require_http_methods(["GET", "POST"])
def policy_link(request: MemberRequest) -> HttpResponse:
    form = PolicyLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        limited = not (
            ratelimit.consume(request, action="policy_link", user=request.user)
            and ratelimit.consume(
                request,
                action="policy_check",
                key=ja.normalize_policy_number(data["policy_number"]),
            )
        )
        try:
            if limited:
                raise services.MembershipError(str(POLICY_MISMATCH))
            link = services.policy_link(
                member=request.user,
                policy_number=data["policy_number"],
                address=data["address"],
                phone=data["phone"],
                request=request,
            )
        except services.MembershipError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("ご契約（証券番号 %(number)s）をマイページに登録しました。")
                % {"number": link.contract.policy_number},
            )
            return redirect("accounts:top")
    return render(
        request,
        "accounts/policy_link.html",
        {"form": form, "agencies": member_agencies(member=request.user) if form.errors else []},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def policy_unlink(request: MemberRequest, link_id: int) -> HttpResponse:
    link = member_link_get(member=request.user, link_id=link_id)
    number = link.contract.policy_number
    services.policy_unlink(member=request.user, link=link, request=request)
    messages.success(
        request, _("ご契約（証券番号 %(number)s）の登録を解除しました。") % {"number": number}
    )
    return redirect("accounts:top")
