"""The mail outbox end to end: queue in the transaction, deliver through a real SMTP server
(aiosmtpd), survive an SMTP outage and a killed worker, retry on schedule, never send twice."""

import io
import threading
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from config.env import mailer_from_url
from keizoku.notifications.models import MailboxMessage, OutboundMail
from keizoku.notifications.services import (
    LEASE,
    MAX_ATTEMPTS,
    backoff,
    mail_deliver,
    mail_deliver_many,
    mail_enqueue_many,
    mail_queue,
    mail_sweep,
)
from tests.processes import run_worker

# The worker opens and closes its own database connections: real transactions are needed.
pytestmark = pytest.mark.django_db(transaction=True)

SUBJECT = "【継続】ご契約の更改手続きのご案内"
BODY = "継続 太郎 様\n\n満期日は2026年12月25日です。マイページからお手続きください。\n"


def queue(key: str = "notice:1", to: str = "taro@example.jp") -> OutboundMail:
    return mail_queue(key=key, kind="notice", to=to, subject=SUBJECT, body=BODY)


@pytest.fixture
def smtp_down(smtp_server):
    """The SMTP server of the settings, stopped: connections are refused."""
    smtp_server.stop()
    return smtp_server


def test_a_queued_mail_is_delivered_once_with_its_japanese_subject_and_body(smtp_server):
    mail = queue()
    assert mail.status == OutboundMail.Status.QUEUED
    assert smtp_server.messages == []  # nothing leaves before the worker runs
    run_worker()
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["Subject"] == SUBJECT
    assert message.get_content().replace("\r\n", "\n") == BODY
    assert message["To"] == "taro@example.jp"
    assert message["Message-ID"] == mail.message_id
    mail.refresh_from_db()
    assert (mail.status, mail.attempts, mail.last_error) == (OutboundMail.Status.SENT, 1, "")
    assert mail.sent_at is not None
    run_worker()
    assert len(smtp_server.messages) == 1


def test_a_template_mail_takes_its_subject_from_the_first_line(smtp_server, settings):
    settings.BASE_URL = "https://keizoku.example.jp"
    mail_queue(key="test:1", kind="test", to="taro@example.jp", context={})
    run_worker()
    message = smtp_server.messages[0]
    assert message["Subject"] == "【継続】テストメール"
    assert "送信元サイト: https://keizoku.example.jp/" in message.get_content()


def test_queuing_the_same_key_twice_sends_one_mail(smtp_server):
    first = queue(key="registration:7")
    second = mail_queue(
        key="registration:7",
        kind="notice",
        to="other@example.jp",
        subject="別の件名",
        body="別の本文",
    )
    assert second.pk == first.pk
    assert OutboundMail.objects.count() == 1
    run_worker()
    assert [m["To"] for m in smtp_server.messages] == ["taro@example.jp"]


def test_a_mail_is_queued_in_the_callers_transaction_and_vanishes_with_its_rollback(smtp_server):
    with pytest.raises(RuntimeError), transaction.atomic():
        queue()
        raise RuntimeError("the change that caused the mail failed")
    assert not OutboundMail.objects.exists()
    assert not DBTaskResult.objects.exists()
    run_worker()
    assert smtp_server.messages == []


def test_a_committed_change_and_its_mail_go_together(smtp_server):
    with transaction.atomic():
        queue()
        assert DBTaskResult.objects.count() == 1  # the delivery task is written alongside
    run_worker()
    assert len(smtp_server.messages) == 1


def test_smtp_down_keeps_the_mail_pending_then_delivers_it_once_when_smtp_is_back(smtp_down):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        mail = queue()  # the action that queues it succeeds
        run_worker()
        mail.refresh_from_db()
        assert mail.status == OutboundMail.Status.QUEUED
        assert mail.attempts == 1
        assert mail.next_attempt_at == start + timedelta(seconds=30)
        assert "Error" in mail.last_error
        run_worker()  # the retry is not due yet
        mail.refresh_from_db()
        assert mail.attempts == 1

    smtp_down.start()
    with time_machine.travel(start + timedelta(seconds=31), tick=False):
        run_worker()
        run_worker()
    assert len(smtp_down.messages) == 1
    assert smtp_down.messages[0]["Subject"] == SUBJECT
    mail.refresh_from_db()
    assert (mail.status, mail.attempts, mail.last_error) == (OutboundMail.Status.SENT, 2, "")


def test_the_retry_schedule_doubles_from_30_seconds_caps_at_an_hour_and_stops_after_20(
    smtp_down,
):
    expected = [30, 60, 120, 240, 480, 960, 1920] + [3600] * 12
    assert [int(backoff(n).total_seconds()) for n in range(1, MAX_ATTEMPTS)] == expected
    now = timezone.now()
    with time_machine.travel(now, tick=False) as clock:
        mail = queue()
        for attempt in range(1, MAX_ATTEMPTS + 1):
            run_worker()
            mail.refresh_from_db()
            assert mail.attempts == attempt
            if attempt < MAX_ATTEMPTS:
                assert mail.status == OutboundMail.Status.QUEUED
                assert mail.next_attempt_at - timezone.now() == timedelta(
                    seconds=expected[attempt - 1]
                )
                clock.move_to(mail.next_attempt_at - timedelta(seconds=1))
                run_worker()  # one second early: nothing happens
                mail.refresh_from_db()
                assert mail.attempts == attempt
                clock.move_to(mail.next_attempt_at)
        assert mail.status == OutboundMail.Status.FAILED
        assert not DBTaskResult.objects.filter(status="READY").exists()  # no further retry
        clock.shift(timedelta(days=1))
        assert mail_sweep() == 0
        run_worker()
    mail.refresh_from_db()
    assert (mail.status, mail.attempts) == (OutboundMail.Status.FAILED, MAX_ATTEMPTS)


def test_a_mail_left_by_a_killed_worker_is_requeued_by_the_sweep_and_sent_once(smtp_server):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        mail = queue()
        # A worker claimed the mail and its task, then was killed before sending.
        OutboundMail.objects.filter(pk=mail.pk).update(
            status=OutboundMail.Status.SENDING, lease_until=start + LEASE
        )
        DBTaskResult.objects.update(status="RUNNING")
        assert mail_sweep() == 0  # the lease still runs: the worker may be alive
        run_worker()
        assert smtp_server.messages == []

    with time_machine.travel(start + LEASE + timedelta(seconds=1), tick=False):
        assert mail_sweep() == 1
        run_worker()
        assert mail_sweep() == 0
        run_worker()
    assert len(smtp_server.messages) == 1
    mail.refresh_from_db()
    assert mail.status == OutboundMail.Status.SENT


def test_a_mail_whose_task_was_lost_is_requeued_once_after_the_grace(smtp_server):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        mail = queue()
        DBTaskResult.objects.all().delete()  # e.g. a crash between commit and queue
    with time_machine.travel(start + timedelta(minutes=3), tick=False):
        assert mail_sweep() == 1
        run_worker()
    assert len(smtp_server.messages) == 1
    mail.refresh_from_db()
    assert mail.status == OutboundMail.Status.SENT


def test_the_sweep_leaves_a_mail_whose_task_is_still_waiting(smtp_server):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        queue()
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        assert mail_sweep() == 0  # the worker is only late: nothing is lost
        run_worker()
    assert len(smtp_server.messages) == 1


def test_two_workers_delivering_the_same_mail_send_it_once(smtp_server):
    mail = queue()
    assert mail_deliver(mail_id=mail.pk) is True
    assert mail_deliver(mail_id=mail.pk) is False
    assert len(smtp_server.messages) == 1


def test_a_mail_not_yet_due_is_not_sent_early(smtp_server):
    now = timezone.now()
    mail = mail_queue(
        key="later",
        kind="notice",
        to="taro@example.jp",
        subject=SUBJECT,
        body=BODY,
        now=now + timedelta(minutes=5),
    )
    assert mail_deliver(mail_id=mail.pk, now=now) is False
    assert smtp_server.messages == []


# --- manage.py mail_test and the developer's mailbox -------------------------------------------


def test_mail_test_queues_a_mail_that_the_worker_sends_through_smtp(smtp_server):
    out = io.StringIO()
    call_command("mail_test", "ops@example.jp", stdout=out)
    assert "queued mail" in out.getvalue()
    assert "ops@example.jp" in out.getvalue()
    run_worker()
    assert [m["To"] for m in smtp_server.messages] == ["ops@example.jp"]
    assert smtp_server.messages[0]["Subject"] == "【継続】テストメール"


def test_with_the_default_mailbox_the_mail_is_readable_at_dev_mailbox_when_debug(client, settings):
    settings.DEBUG = True
    settings.MAILERS = {"default": mailer_from_url("mailbox:")}  # the test runner's is locmem
    call_command("mail_test", "ops@example.jp", stdout=io.StringIO())
    run_worker()
    stored = MailboxMessage.objects.get()
    assert stored.subject == "【継続】テストメール"
    html = client.get("/dev/mailbox/").content.decode()
    assert "ops@example.jp" in html
    assert "【継続】テストメール" in html
    detail = client.get(f"/dev/mailbox/{stored.pk}/")
    assert detail.status_code == 200
    assert "テストメールです" in detail.content.decode()


@pytest.mark.parametrize("path", ["/dev/mailbox/", "/dev/mailbox/1/"])
def test_dev_mailbox_is_a_404_when_debug_is_off(client, settings, path):
    settings.DEBUG = False
    MailboxMessage.objects.create(
        pk=1, to="a@example.jp", from_email="k@example.jp", subject="件名", body="本文"
    )
    response = client.get(path)
    assert response.status_code == 404
    assert "件名" not in response.content.decode()


def test_a_batch_goes_out_over_one_connection_with_one_task(smtp_server):
    with transaction.atomic():
        mails = [
            mail_queue(
                key=f"bulk:{i}",
                kind="notice",
                to=f"m{i}@example.jp",
                subject=SUBJECT,
                body=BODY,
                enqueue=False,
            )
            for i in range(3)
        ]
        assert not DBTaskResult.objects.exists()
        mail_enqueue_many([mail.pk for mail in mails], size=2)
    assert DBTaskResult.objects.count() == 2  # 3 mails, batches of 2
    run_worker()
    assert sorted(m["To"] for m in smtp_server.messages) == [
        "m0@example.jp",
        "m1@example.jp",
        "m2@example.jp",
    ]
    assert len(set(smtp_server.peers)) == 2  # one connection per batch
    assert set(OutboundMail.objects.values_list("status", flat=True)) == {"sent"}


def test_in_a_batch_a_refused_recipient_waits_alone_and_the_others_go(smtp_server):
    smtp_server.refuse = {"bad@example.jp"}
    ids = [
        mail_queue(
            key=f"bulk:{to}", kind="notice", to=to, subject=SUBJECT, body=BODY, enqueue=False
        ).pk
        for to in ["a@example.jp", "bad@example.jp", "c@example.jp"]
    ]
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert mail_deliver_many(mail_ids=ids) == 2
    assert sorted(m["To"] for m in smtp_server.messages) == ["a@example.jp", "c@example.jp"]
    bad = OutboundMail.objects.get(to="bad@example.jp")
    assert bad.status == OutboundMail.Status.QUEUED
    assert bad.attempts == 1
    assert "550" in bad.last_error
    assert bad.next_attempt_at == start + backoff(1)

    smtp_server.refuse = set()
    with time_machine.travel(start + backoff(1), tick=False):
        run_worker()  # the retry task of the refused mail alone
    assert sorted(m["To"] for m in smtp_server.messages) == [
        "a@example.jp",
        "bad@example.jp",
        "c@example.jp",
    ]


def test_a_batch_with_smtp_down_is_retried_whole_then_sent_once(smtp_down):
    ids = [
        mail_queue(
            key=f"bulk:{i}",
            kind="notice",
            to=f"m{i}@example.jp",
            subject=SUBJECT,
            body=BODY,
            enqueue=False,
        ).pk
        for i in range(3)
    ]
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert mail_deliver_many(mail_ids=ids) == 0
    assert set(OutboundMail.objects.values_list("status", "attempts")) == {("queued", 1)}
    smtp_down.start()
    with time_machine.travel(start + backoff(1), tick=False):
        run_worker()
        run_worker()
    assert sorted(m["To"] for m in smtp_down.messages) == [
        "m0@example.jp",
        "m1@example.jp",
        "m2@example.jp",
    ]


def test_two_workers_on_one_batch_send_each_mail_once(smtp_server):
    ids = [
        mail_queue(
            key=f"bulk:{i}",
            kind="notice",
            to=f"m{i}@example.jp",
            subject=SUBJECT,
            body=BODY,
            enqueue=False,
        ).pk
        for i in range(6)
    ]
    counts: list[int] = []

    def work():
        try:
            counts.append(mail_deliver_many(mail_ids=ids))
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 6
    assert len(smtp_server.messages) == 6


def test_mails_that_gave_up_are_requeued_by_the_command_and_sent_once(smtp_server):
    mail = queue()
    OutboundMail.objects.filter(pk=mail.pk).update(status="failed", attempts=MAX_ATTEMPTS)
    DBTaskResult.objects.all().delete()
    out = io.StringIO()
    call_command("mail_requeue_failed", stdout=out)
    assert out.getvalue() == "1 failed mails re-queued\n"
    run_worker()
    call_command("mail_requeue_failed", stdout=io.StringIO())  # nothing left to re-queue
    run_worker()
    assert len(smtp_server.messages) == 1
    mail.refresh_from_db()
    assert (mail.status, mail.attempts) == (OutboundMail.Status.SENT, 1)


def test_a_batch_claims_each_mail_just_before_it_and_marks_it_sent_just_after(smtp_server):
    """So a worker killed in the middle leaves only the mail in flight (the others are sent, or
    still queued for the sweep)."""
    import asyncio

    ids = [
        mail_queue(
            key=f"bulk:{i}",
            kind="notice",
            to=f"m{i}@example.jp",
            subject=SUBJECT,
            body=BODY,
            enqueue=False,
        ).pk
        for i in range(3)
    ]
    during: list[list[str]] = []
    receive = smtp_server.handle_DATA

    def statuses() -> list[str]:
        try:
            return list(OutboundMail.objects.order_by("pk").values_list("status", flat=True))
        finally:
            connection.close()

    async def watching(server, session, envelope):
        during.append(await asyncio.to_thread(statuses))  # as the SMTP server receives it
        return await receive(server, session, envelope)

    smtp_server.handle_DATA = watching
    assert mail_deliver_many(mail_ids=ids) == 3
    assert during == [
        ["sending", "queued", "queued"],
        ["sent", "sending", "queued"],
        ["sent", "sent", "sending"],
    ]
