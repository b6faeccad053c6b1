"""Every form of the service, customer and staff, fuzzed through HTTP (hypothesis): never a 500,
and a refused post saves nothing half-way (issue 10's goal, W8).

The field names come from the rendered page itself (the ``<form>`` that posts to the target), so
a field added to a form is fuzzed without editing this file; ``test_every_route_is_fuzzed_or_
exempted`` walks the URLconf so that a new view cannot be forgotten: it must be fuzzed here or
listed in ``EXEMPT`` with the reason it takes no input.

Each target gets a deterministic sweep (every value of ``NASTY`` in every field at once), then
hypothesis's search: ``FUZZ_EXAMPLES`` examples (12 in the suite, deadline off; set 500 for a
long run).
"""

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache as cache_result
from html.parser import HTMLParser
from urllib.parse import quote, urlsplit

import pytest
from django.apps import apps
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from keizoku.accounts.models import PolicyLink
from keizoku.backoffice.tests.conftest import login_staff, make_application, make_staff
from keizoku.renewals import steps
from keizoku.renewals.models import Application
from keizoku.renewals.tests.conftest import walk
from tests.factories import make_agency, make_contract, make_group, make_member

# A bounded number of examples per target in the suite (every NASTY value has a fair chance over
# the ~50 targets); FUZZ_EXAMPLES=500 for a long run.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))

PASSWORD = "x9Lq2!zz"
STAFF_PASSWORD = "Staff-pass-2026"

# Values that broke, or could break, a parser somewhere: Unicode digits ("²".isdigit() is true),
# numbers past int()'s 4,300 digits or a column's range, controls and bidi marks, full-width
# input, dates that do not exist, markup, path tricks, very long text.
NASTY = [
    "",
    " ",
    "²",
    "٣",
    "１２３",
    "9" * 5000,
    "9" * 25,
    "-1",
    "0",
    "1e3",
    "NaN",
    "\x00",
    "継続\u202e太郎",
    "継続\u2067太郎\u2069",
    "\u061c",
    "\r\n",
    "ｍｅｍｂｅｒ@ｄｅｍｏ.example.jp",
    "member@例え.jp",
    "a@b",
    "@",
    "2026-02-30",
    "99999-01-01",
    "0000-00-00",
    "<script>alert(1)</script>",
    "' OR '1'='1",
    "../../etc/passwd",
    "//evil.example/",
    "𠮷" * 300,
    "あ" * 3000,
    "on",
    "yes",
    "no",
    "true",
    "1",
    "2",
    "same",
    "custom",
    "web",
    "ja",
    "en",
    '{"id": "x", "type": "public-key"}',
    "[]",
]
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
VALUE = st.one_of(st.sampled_from(NASTY), TEXT, st.integers().map(str))


# --- the world every target acts in ---------------------------------------------------------


@dataclass
class World:
    member: object
    contract: object
    link: object
    clerk: object
    application: object
    wizard_contract: object


@pytest.fixture
def world(settings) -> World:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()  # the rate limits of earlier targets
    agency = make_agency(code="DEMO", name="デモ保険サービス")
    group = make_group(agency=agency, code="DEMO-A", name="株式会社デモ製作所")
    contract = make_contract(group=group, policy_number="DM-0001")
    wizard_contract = make_contract(group=group, policy_number="DM-0002")
    member = make_member("member@example.jp", PASSWORD)
    link = PolicyLink.objects.create(member=member, contract=contract)
    PolicyLink.objects.create(member=member, contract=wizard_contract)
    clerk = make_staff("clerk@demo.example.jp", "agency_staff", agency)
    application = make_application(contract, member)
    return World(member, contract, link, clerk, application, wizard_contract)


def as_member(client: Client, world: World) -> None:
    response = client.post("/mypage/login/", {"login": "member@example.jp", "password": PASSWORD})
    assert response.status_code == 302


def as_member_reauthenticated(client: Client, world: World) -> None:
    """Account changes ask for the password again (allauth): done once, valid five minutes."""
    as_member(client, world)
    response = client.post("/mypage/reauthenticate/?next=/mypage/", {"password": PASSWORD})
    assert response.status_code == 302


def as_staff(client: Client, world: World) -> None:
    login_staff(client, world.clerk)


def as_insurer_admin(client: Client, world: World) -> None:
    login_staff(client, make_staff("admin@insurer.example.jp", "insurer_admin"))


def as_staff_without_mfa(client: Client, world: World) -> None:
    agency = world.clerk.staff_profile.agency
    user = make_staff("new@demo.example.jp", "agency_staff", agency, totp=False)
    login_staff(client, user, mfa=False)


def agreed(client: Client, world: World) -> None:
    client.post("/mypage/register/terms/", {"agree": "1"})


def at_step(slug: str) -> Callable[[Client, World], None]:
    """Logged in, with every step before ``slug`` completed (the wizard skips none)."""

    def login(client: Client, world: World) -> None:
        as_member(client, world)
        walk(client, world.wizard_contract, until=slug)

    return login


# --- what a target is ---------------------------------------------------------------------------


@dataclass
class Target:
    route: str  # the URL name
    path: Callable[[World], str]
    method: str = "post"
    login: Callable[[Client, World], None] | None = None
    form_page: Callable[[World], str] | None = None  # where the form is drawn (default: path)
    fields: tuple[str, ...] = ()  # beyond those found on the page (a JSON endpoint, a query)
    files: tuple[str, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)
    path_values: Callable[[World, str], str] | None = None  # a fuzzed value put into the path

    @property
    def id(self) -> str:
        return f"{self.route}:{self.method}"


def _wizard(slug: str) -> Target:
    return Target(
        f"renewals:step:{slug}",
        lambda w, slug=slug: f"/clickar/{w.wizard_contract.pk}/{slug}/",
        login=at_step(slug),
        fields=("return", "reprice", "plan", "idempotency_key"),
    )


def _query(route: str, path: Callable[[World], str], login=None, fields=()) -> Target:
    return Target(route, path, method="get", login=login, fields=("page", *fields))


def _app(w: World, action: str) -> str:
    return f"/backoffice/applications/{w.application.pk}/{action}/"


TARGETS = [
    # --- anonymous ---
    Target("set_language", lambda w: "/i18n/setlang/", form_page=lambda w: "/mypage/login/"),
    Target("accounts:register_terms", lambda w: "/mypage/register/terms/"),
    Target(
        "accounts:register_form",
        lambda w: "/mypage/register/form/",
        login=agreed,
        fields=("policy_count", "add_policy", "lookup_address"),
    ),
    _query(
        "accounts:register_address",
        lambda w: "/mypage/register/address/",
        fields=("postal_code", "address"),
    ),
    Target(
        "accounts:register_confirm",
        lambda w: "/mypage/register/confirm/",
        login=agreed,
        fields=("x",),
    ),
    Target(
        "accounts:register_link",
        lambda w: "/mypage/register/complete/x/",
        path_values=lambda w, v: f"/mypage/register/complete/{quote(v, safe='')}/",
        fields=("password",),
    ),
    Target(
        "accounts:register_password", lambda w: "/mypage/register/password/", fields=("password",)
    ),
    Target("account_login", lambda w: "/mypage/login/"),
    Target("account_reset_password", lambda w: "/mypage/password/reset/"),
    Target(
        "account_reset_password_from_key",
        lambda w: "/mypage/password/reset/key/1-x/",
        path_values=lambda w, v: f"/mypage/password/reset/key/1-{quote(v, safe='') or 'x'}/",
        fields=("password1", "password2"),
    ),
    Target(
        "account_confirm_email",
        lambda w: "/mypage/confirm-email/x/",
        path_values=lambda w, v: f"/mypage/confirm-email/{quote(v, safe='') or 'x'}/",
    ),
    Target("mfa_authenticate", lambda w: "/mypage/2fa/authenticate/", fields=("code",)),
    Target(
        "mfa_login_webauthn",
        lambda w: "/mypage/2fa/webauthn/login/",
        fields=("credential", "next"),
    ),
    Target("chat:index", lambda w: "/chat/"),
    Target("chat:index", lambda w: "/chat/", headers={"HX-Request": "true"}),
    _query("help:faq", lambda w: "/help/faq/", fields=("q",)),
    Target(
        "help:page",
        lambda w: "/help/x/",
        method="get",
        path_values=lambda w, v: f"/help/{quote(v, safe='') or 'x'}/",
    ),
    Target(
        "agency:home",
        lambda w: "/agency/DEMO/",
        method="get",
        path_values=lambda w, v: f"/agency/{quote(v, safe='') or 'x'}/",
    ),
    Target("backoffice:login", lambda w: "/backoffice/login/", fields=("next",)),
    # --- a member ---
    Target("accounts:policy_link", lambda w: "/mypage/policies/link/", login=as_member),
    Target(
        "accounts:policy_unlink",
        lambda w: f"/mypage/policies/{w.link.pk}/unlink/",
        login=as_member,
        form_page=lambda w: "/mypage/",
        path_values=lambda w, v: f"/mypage/policies/{quote(v, safe='') or 1}/unlink/",
    ),
    Target(
        "accounts:session_extend",
        lambda w: "/mypage/session/extend/",
        login=as_member,
        fields=("x",),
    ),
    Target(
        "account_email",
        lambda w: "/mypage/email/",
        login=as_member_reauthenticated,
        fields=("action_add", "action_send", "action_remove", "action_primary"),
    ),
    Target("account_change_password", lambda w: "/mypage/password/change/", login=as_member),
    Target("account_reauthenticate", lambda w: "/mypage/reauthenticate/", login=as_member),
    Target(
        "mfa_reauthenticate",
        lambda w: "/mypage/2fa/reauthenticate/",
        login=as_member,
        fields=("code",),
    ),
    Target(
        "mfa_activate_totp",
        lambda w: "/mypage/2fa/totp/activate/",
        login=as_member_reauthenticated,
        fields=("code",),
    ),
    Target(
        "mfa_add_webauthn",
        lambda w: "/mypage/2fa/webauthn/add/",
        login=as_member_reauthenticated,
        fields=("name", "credential", "passwordless"),
    ),
    Target("usersessions_list", lambda w: "/mypage/sessions/", login=as_member, fields=("x",)),
    Target(
        "renewals:start",
        lambda w: f"/clickar/{w.wizard_contract.pk}/",
        method="get",
        login=as_member,
        path_values=lambda w, v: f"/clickar/{quote(v, safe='') or 1}/",
    ),
    *[_wizard(step.slug) for step in steps.STEPS],
    # --- staff ---
    _query(
        "backoffice:contract_list",
        lambda w: "/backoffice/contracts/",
        login=as_staff,
        fields=("q", "group", "agency", "state"),
    ),
    _query(
        "backoffice:application_list",
        lambda w: "/backoffice/applications/",
        login=as_staff,
        fields=("status",),
    ),
    _query("backoffice:audit", lambda w: "/backoffice/audit/", login=as_insurer_admin),
    _query(
        "backoffice:chat_unanswered",
        lambda w: "/backoffice/chat/",
        login=as_staff,
        fields=("show",),
    ),
    _query(
        "backoffice:export_applications",
        lambda w: "/backoffice/exports/applications.csv",
        login=as_staff,
        fields=("encoding", "report", "status", "date_from", "date_to"),
    ),
    _query(
        "backoffice:export_applications_cp932",
        lambda w: "/backoffice/exports/applications/cp932/",
        login=as_staff,
        fields=("report",),
    ),
    *[
        Target(
            f"backoffice:application_{action}",
            lambda w, action=action: _app(w, action),
            login=as_staff,
            form_page=lambda w: f"/backoffice/applications/{w.application.pk}/",
        )
        for action in ("accept", "refer", "withdraw")
    ],
    Target(
        "backoffice:import_upload",
        lambda w: "/backoffice/imports/",
        login=as_staff,
        files=("file",),
    ),
    Target(
        "backoffice:import_confirm",
        lambda w: "/backoffice/imports/confirm/",
        login=as_staff,
        form_page=lambda w: "/backoffice/imports/",
        fields=("token",),
    ),
    Target(
        "backoffice:import_status",
        lambda w: "/backoffice/imports/x/",
        method="get",
        login=as_staff,
        path_values=lambda w, v: f"/backoffice/imports/{quote(v, safe='') or 'x'}/",
    ),
    Target(
        "backoffice:chat_unanswered_resolve",
        lambda w: "/backoffice/chat/resolve/",
        login=as_staff,
        fields=("id",),
    ),
    Target("backoffice:mfa_setup", lambda w: "/backoffice/mfa/setup/", login=as_staff_without_mfa),
]

# Routes that take no input of their own (a page, a button without fields, a file), each with
# why; the Django admin (insurer admins only) is Django's own and out of this test's scope.
EXEMPT = {
    "home": "a page",
    "healthz": "a probe",
    "livez": "a probe",
    "metrics": "a probe (loopback or token only)",
    "agency:auto": "a page; its agency code is fuzzed on agency:home",
    "agency:clickar": "a page; its agency code is fuzzed on agency:home",
    "accounts:top": "a page",
    "accounts:renewals": "a page",
    "accounts:register": "a page",
    "accounts:register_accepted": "a page",
    "accounts:register_done": "a page",
    "account_logout": "a button without fields",
    "account_inactive": "a page",
    "account_signup": "closed (registration is our own flow)",
    "account_email_verification_sent": "a page",
    "account_set_password": "members always have a password (allauth redirects)",
    "account_confirm_login_code": "login by code is off",
    "account_reset_password_done": "a page",
    "account_reset_password_from_key_done": "a page",
    "mfa_index": "a page",
    "mfa_deactivate_totp": "a button without fields (behind re-authentication)",
    "mfa_view_recovery_codes": "a page",
    "mfa_generate_recovery_codes": "a button without fields",
    "mfa_download_recovery_codes": "a file",
    "mfa_list_webauthn": "a page",
    "mfa_reauthenticate_webauthn": "allauth's passkey re-authentication, like mfa_login_webauthn",
    "mfa_remove_webauthn": "a button without fields on the member's own key (404 otherwise)",
    "mfa_edit_webauthn": "the key's name only, the field of mfa_add_webauthn",
    "renewals:referred": "a page",
    "renewals:complete": "a page",
    "renewals:receipt_pdf": "a file",
    "help:index": "a page",
    "backoffice:logout": "a button without fields",
    "backoffice:dashboard": "a page",
    "backoffice:contract_detail": "a page",
    "backoffice:application_detail": "a page (its three forms are fuzzed)",
    "backoffice:exports": "a page",
    "backoffice:export_payroll": "a file of one group (its id is the path)",
    "backoffice:export_payroll_cp932": "the same file in CP932",
    "dev:mailbox": "DEBUG only",
    "dev:mailbox_message": "DEBUG only",
}


# --- reading the forms of a page ------------------------------------------------------------


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, str, set[str]]] = []  # (action, method, names)
        self._current: tuple[str, str, set[str]] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self._current = (
                attributes.get("action") or "",
                (attributes.get("method") or "get").lower(),
                set(),
            )
            self.forms.append(self._current)
        elif tag in ("input", "select", "textarea", "button") and self._current is not None:
            name = attributes.get("name")
            if name and name != "csrfmiddlewaretoken":
                self._current[2].add(name)

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def fields_of(html: str, page: str, path: str, method: str) -> set[str]:
    """The names of the fields of the forms on ``html`` (drawn at ``page``) that send to
    ``path`` with ``method``."""
    parser = _Forms()
    parser.feed(html)
    names: set[str] = set()
    for action, form_method, form_names in parser.forms:
        target = urlsplit(action).path or page
        if target == path and form_method == method:
            names |= form_names
    return names


# --- what "nothing saved half-way" means ------------------------------------------------------

# Tables a refused request may write: the audit trail (a failed login is audited), sessions and
# allauth's record of them.
_SIDE_TABLES = {"core.auditevent", "sessions.session", "usersessions.usersession"}


@cache_result
def _fingerprint_sql() -> str:
    tables = sorted(
        model._meta.db_table
        for model in apps.get_models(include_auto_created=True)
        if model._meta.label_lower not in _SIDE_TABLES and model._meta.managed
    )
    quote_name = connection.ops.quote_name
    counts = ", ".join(f"(SELECT COUNT(*) FROM {quote_name(table)})" for table in tables)
    versions = f"(SELECT SUM(version) FROM {quote_name(Application._meta.db_table)})"
    return f"SELECT {counts}, {versions}"  # one round trip for every table


def fingerprint() -> tuple:
    """Every table's row count, and the sum of the applications' versions."""
    with connection.cursor() as cursor:
        cursor.execute(_fingerprint_sql())
        return tuple(cursor.fetchone())


_REFUSED_MARKERS = (b'class="errorlist', b'class="error-summary', b'role="alert"')


def refused(response) -> bool:
    if response.status_code >= 400:
        return True
    content = b"" if response.streaming else response.content
    return response.status_code == 200 and any(marker in content for marker in _REFUSED_MARKERS)


# --- the property -----------------------------------------------------------------------------


def _send(client: Client, target: Target, world: World, values: dict, path: str) -> None:
    """One request: never a 500; a refused post leaves every table as it was."""
    if target.login is agreed:  # a successful post moves the registration on
        agreed(client, world)
    before = fingerprint() if target.method == "post" else None
    send = client.get if target.method == "get" else client.post
    headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in target.headers.items()}
    response = send(path, values, **headers)  # an exception raised here is the 500
    assert response.status_code < 500, (target.id, path, values)
    if target.method == "post" and refused(response):
        assert fingerprint() == before, (target.id, path, values)


def _prepared(target: Target, world: World) -> tuple[Client, list[str]]:
    client = Client()
    if target.login:
        target.login(client, world)
    form_page = (target.form_page or target.path)(world)
    page = client.get(form_page)
    assert page.status_code < 500
    html = "" if page.streaming else page.content.decode(errors="replace")
    names = sorted(fields_of(html, form_page, urlsplit(target.path(world)).path, target.method))
    names += [name for name in target.fields if name not in names]
    assert names or target.path_values, f"{target.id}: no field found to fuzz"
    return client, names


def _upload(content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("x.csv", content, content_type="text/csv")


def _sweep(client: Client, target: Target, world: World, names: list[str]) -> None:
    """Each value of NASTY in every field (and the path) at once, deterministically."""
    for value in NASTY:
        values: dict = {name: value for name in names}
        values.update({name: _upload(value.encode("utf-8", "replace")) for name in target.files})
        path = target.path_values(world, value) if target.path_values else target.path(world)
        _send(client, target, world, values, path)


@pytest.mark.django_db
@pytest.mark.parametrize("target", TARGETS, ids=[target.id for target in TARGETS])
def test_no_form_answers_500_or_saves_half_way(target: Target, world: World):
    """First the sweep of every known-bad value, then hypothesis's search, which mixes values,
    omissions and repeated fields."""
    client, names = _prepared(target, world)
    _sweep(client, target, world, names)

    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(data=st.data())
    def fuzz(data) -> None:
        values: dict = {}
        for name in names:
            choice = data.draw(
                st.one_of(st.none(), VALUE, st.lists(VALUE, min_size=2, max_size=3)), label=name
            )
            if choice is not None:
                values[name] = choice
        for name in target.files:
            content = data.draw(
                st.one_of(
                    st.binary(max_size=200),
                    st.just("policy_number,holder_name\r\n２,\u202e\r".encode("cp932", "replace")),
                ),
                label=name,
            )
            values[name] = _upload(content)
        path = target.path(world)
        if target.path_values is not None:
            path = target.path_values(world, data.draw(VALUE, label="path"))
        _send(client, target, world, values, path)

    fuzz()


# --- nothing forgotten --------------------------------------------------------------------------


def _routes(patterns, namespace: str = "") -> list[str]:
    names = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or ""
            prefix = f"{namespace}:{inner}" if namespace and inner else inner or namespace
            names += _routes(pattern.url_patterns, prefix)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace else str(pattern.name)
            names.append(name)
    return names


def test_every_route_is_fuzzed_or_exempted():
    fuzzed = {re.sub(r"^(renewals:step):.*", r"\1", target.route) for target in TARGETS}
    routes = {
        name for name in _routes(get_resolver().url_patterns) if not name.startswith("admin:")
    }
    forgotten = routes - fuzzed - set(EXEMPT)
    assert forgotten == set(), f"fuzz these in TARGETS or say in EXEMPT why not: {forgotten}"
    assert fuzzed & set(EXEMPT) == set()
    assert (fuzzed | set(EXEMPT)) - routes == set(), "stale names in TARGETS or EXEMPT"
