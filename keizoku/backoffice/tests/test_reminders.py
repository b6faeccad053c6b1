"""Reminder mails before expiry (60, 30, 14, 7, 3 days): to members who have not applied and to
holders with an email who have not registered; once per policy and threshold, in Japanese, with
the deadline in JST; sent by `manage.py send_reminders` and by the periodic job of `make run`."""

import io
import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from keizoku.accounts.models import PolicyLink
from keizoku.backoffice.models import Reminder
from keizoku.backoffice.services import reminders_send
from keizoku.notifications.models import OutboundMail
from keizoku.notifications.reminders import reminder_threshold
from tests.factories import make_contract, make_member
from tests.processes import run_worker

from .conftest import make_application

JST = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 10, 1, 10, 0, tzinfo=JST)  # a Thursday morning
TODAY = date(2026, 10, 1)


def expiring(group, number: str, days: int, *, email: str = "", member_email: str = ""):
    contract = make_contract(
        group=group,
        policy_number=number,
        period_end=TODAY + timedelta(days=days),
        period_start=TODAY + timedelta(days=days - 365),
        email=email,
    )
    if member_email:
        member = make_member(member_email, name=f"会員 {number}")
        PolicyLink.objects.create(member=member, contract=contract)
        contract.member = member
    return contract


@pytest.mark.parametrize(
    ("days_left", "threshold"),
    [
        (61, None),
        (60, 60),
        (31, 60),
        (30, 30),
        (15, 30),
        (14, 14),
        (8, 14),
        (7, 7),
        (4, 7),
        (3, 3),
        (0, 3),
        (-1, None),
    ],
)
def test_the_threshold_of_each_day_before_expiry(days_left, threshold):
    assert reminder_threshold(days_left) == threshold


@pytest.mark.django_db(transaction=True)
def test_run_twice_each_reminder_goes_out_once(group, smtp_server):
    member_contract = expiring(group, "R-MEMBER", 30, member_email="member@example.jp")
    holder_contract = expiring(group, "R-HOLDER", 14, email="holder@example.jp")
    expiring(group, "R-NOMAIL", 7)  # not registered and no email on record: nobody to write to
    applied = expiring(group, "R-APPLIED", 7, member_email="applied@example.jp")
    make_application(applied, applied.member, number="K-0000-0000-777")
    drafted = expiring(group, "R-DRAFT", 3, member_email="draft@example.jp")
    make_application(drafted, drafted.member, status="draft")  # a draft is not an application
    expiring(group, "R-FAR", 90, email="far@example.jp")  # not yet
    with time_machine.travel(NOW, tick=False):
        first = reminders_send()
        second = reminders_send()
        out = io.StringIO()
        call_command("send_reminders", stdout=out)
    with time_machine.travel(NOW):
        run_worker()
        run_worker()
    assert (first.queued, second.queued) == (3, 0)
    assert second.skipped == 3
    assert "0 reminders queued, 3 already sent" in out.getvalue()
    received = sorted(smtp_server.messages, key=lambda message: message["To"])
    assert [message["To"] for message in received] == [
        "draft@example.jp",
        "holder@example.jp",
        "member@example.jp",
    ]
    assert set(
        Reminder.objects.values_list("contract__policy_number", "threshold", "recipient")
    ) == {("R-MEMBER", 30, "member"), ("R-HOLDER", 14, "holder"), ("R-DRAFT", 3, "member")}
    member_mail = received[2]
    assert member_contract.policy_number in member_mail["Subject"]
    body = member_mail.get_content()
    assert "会員 R-MEMBER 様" in body
    assert "継続のお手続きがまだお済みでない" in body
    # Expiry 2026-10-31 (Sat): the web window closes at 15:59 JST that day.
    assert "お手続き期限　2026年10月31日（土）15時59分（日本時間）" in body
    holder_body = received[1].get_content()
    assert "継続 太郎 様" in holder_body  # the holder's name from the contract
    assert "マイページに会員登録をすると" in holder_body
    assert "2026年10月15日（木）15時59分" in holder_body
    assert holder_contract.policy_number in received[1]["Subject"]


@pytest.mark.django_db
def test_each_threshold_is_sent_once_as_expiry_comes_closer(group):
    contract = expiring(group, "R-STEP", 60, member_email="step@example.jp")
    sent = []
    for day in range(0, 61):
        moment = NOW + timedelta(days=day)
        with time_machine.travel(moment, tick=False):
            if reminders_send().queued:
                sent.append((contract.period_end - moment.date()).days)
    assert sent == [60, 30, 14, 7, 3]
    assert OutboundMail.objects.filter(kind="reminder_member").count() == 5


@pytest.mark.django_db
def test_a_policy_imported_late_gets_only_the_reminder_due_now(group):
    expiring(group, "R-LATE", 10, member_email="late@example.jp")
    with time_machine.travel(NOW, tick=False):
        assert reminders_send().queued == 1
    assert list(Reminder.objects.values_list("threshold", flat=True)) == [14]


@pytest.mark.django_db
def test_applying_stops_the_reminders(group):
    contract = expiring(group, "R-STOP", 30, member_email="stop@example.jp")
    with time_machine.travel(NOW, tick=False):
        reminders_send()
    make_application(contract, contract.member, number="K-0000-0000-888")
    with time_machine.travel(NOW + timedelta(days=16), tick=False):
        assert reminders_send().queued == 0
    assert Reminder.objects.count() == 1


@pytest.mark.django_db
def test_registering_turns_the_holder_reminder_into_a_member_one(group):
    contract = expiring(group, "R-REG", 30, email="holder@example.jp")
    with time_machine.travel(NOW, tick=False):
        reminders_send()
    member = make_member("new@example.jp", name="新規 会員")
    PolicyLink.objects.create(member=member, contract=contract)
    with time_machine.travel(NOW + timedelta(days=16), tick=False):
        reminders_send()
    assert list(
        Reminder.objects.order_by("threshold").values_list("threshold", "recipient", "to")
    ) == [(14, "member", "new@example.jp"), (30, "holder", "holder@example.jp")]


@pytest.mark.django_db
@pytest.mark.parametrize("hour", [7, 8, 20, 23])
def test_no_reminder_goes_out_at_night_jst(group, hour):
    expiring(group, "R-NIGHT", 30, member_email="night@example.jp")
    with time_machine.travel(NOW.replace(hour=hour), tick=False):
        assert reminders_send().queued == 0
    with time_machine.travel(NOW.replace(hour=9), tick=False):
        assert reminders_send().queued == 1


@pytest.mark.django_db
def test_a_closed_window_sends_nothing(group):
    group.renewal_window_days = 20
    group.save()
    expiring(group, "R-SHORT", 30, member_email="short@example.jp")
    with time_machine.travel(NOW, tick=False):
        assert reminders_send().queued == 0  # the window opens in 10 days


@pytest.mark.django_db(transaction=True)  # the command closes its connections between jobs
def test_the_periodic_job_of_make_run_sends_the_reminders(group):
    expiring(group, "R-PERIODIC", 30, member_email="periodic@example.jp")
    with time_machine.travel(NOW, tick=False):
        call_command("periodic", once=True)
        call_command("periodic", once=True)
    assert OutboundMail.objects.filter(kind="reminder_member").count() == 1
    assert Reminder.objects.get().threshold == 30


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_queue_each_reminder_once(group):
    for i in range(30):
        expiring(group, f"R-PAR{i:02d}", 30, member_email=f"par{i}@example.jp")
    barrier = threading.Barrier(2)
    results: list = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(reminders_send(now=NOW))
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sum(result.queued for result in results) == 30
    assert sum(result.skipped for result in results) == 30
    assert OutboundMail.objects.filter(kind="reminder_member").count() == 30
    assert Reminder.objects.count() == 30
