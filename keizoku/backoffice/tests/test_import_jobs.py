"""W3 (issue 10): the preview of a large CSV file writes nothing and holds no lock; a confirmed
large file is imported by the worker with its progress on a page the clerk watches; a lock not
had in time is retried (then fails with a message), and the worker carries on."""

import logging
import re
import sqlite3
from datetime import timedelta

import psycopg
import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from keizoku.backoffice.models import ImportJob
from keizoku.contracts.models import Contract, ContractChange, ImportBatch
from keizoku.contracts.tests.test_import_contracts import row, to_csv
from keizoku.notifications.models import OutboundMail
from keizoku.notifications.services import mail_queue
from tests.processes import database_url, run_worker

from .conftest import login_staff

pytestmark = pytest.mark.django_db(transaction=True)  # the worker closes its connections


@pytest.fixture
def big(settings):
    """Files of more than 2 rows count as large here (the setting is 2,000 in production)."""
    settings.IMPORT_SYNC_MAX_ROWS = 2


def upload(client, text: str):
    return client.post(
        "/backoffice/imports/",
        {"kind": "contracts", "file": SimpleUploadedFile("big.csv", text.encode(), "text/csv")},
    )


def token_of(response) -> str:
    return re.search(r'name="token" value="([0-9a-f]+)"', response.content.decode()).group(1)


def own_rows(count: int, start: int = 0) -> list[dict[str, str]]:
    return [row(policy_number=f"DM-{start + i:04d}", group_code="DEMO-A") for i in range(count)]


def test_a_large_file_is_imported_by_the_worker_with_a_page_that_follows_it(
    client, clerk, group, big
):
    login_staff(client, clerk)
    preview = upload(client, to_csv(own_rows(5)))
    assert preview.status_code == 200
    assert "行数が多いため、取込は順番に処理されます" in preview.content.decode()

    response = client.post("/backoffice/imports/confirm/", {"token": token_of(preview)})
    assert response.status_code == 302
    status_url = response["Location"]
    page = client.get(status_url).content.decode()
    assert "取込の順番を待っています" in page
    assert f'hx-get="{status_url}" hx-trigger="every 2s"' in page  # the page follows the job
    assert Contract.objects.count() == 0  # nothing yet: the worker has not run
    assert ImportJob.objects.get().data  # the file waits in the database, not on this host

    run_worker()

    page = client.get(status_url).content.decode()
    assert "取込が完了しました（新規 5件・更新 0件・変更なし 0件）。" in page
    assert "hx-trigger" not in page  # the polling stops
    assert Contract.objects.count() == 5
    job = ImportJob.objects.get()
    assert (job.status, job.attempts, bytes(job.data)) == ("done", 1, b"")
    assert job.batch == ImportBatch.objects.get()


def test_a_job_refused_at_the_worker_shows_the_rows_and_writes_nothing(
    client, clerk, group, other_group, big
):
    login_staff(client, clerk)
    preview = upload(client, to_csv(own_rows(4)))
    client.post("/backoffice/imports/confirm/", {"token": token_of(preview)})
    # Meanwhile the other agency imports one of these policy numbers.
    from tests.factories import make_contract

    make_contract(group=other_group, policy_number="DM-0002", holder_name="他社 次郎")
    run_worker()

    job = ImportJob.objects.get()
    page = client.get(f"/backoffice/imports/{job.token}/").content.decode()
    assert "取り込めませんでした（何も登録されていません）。" in page
    assert re.findall(r"<tr><td>(\d+)</td><td>([a-z_]+)</td><td>([^<]+)</td>", page) == [
        ("4", "policy_number", "他の代理店の契約です")
    ]
    assert Contract.objects.count() == 1
    assert not ImportBatch.objects.exists()


def test_the_progress_of_a_running_import_is_shown(client, clerk, group, big):
    login_staff(client, clerk)
    preview = upload(client, to_csv(own_rows(3)))
    client.post("/backoffice/imports/confirm/", {"token": token_of(preview)})
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(status="running", phase="parse", percent=42)
    page = client.get(f"/backoffice/imports/{job.token}/").content.decode()
    assert "取り込んでいます" in page
    assert '<progress max="100" value="42">' in page
    assert "ファイルを読み込んで確認しています。" in page


def test_an_import_silent_for_15_minutes_is_shown_as_stopped(client, clerk, group, big):
    login_staff(client, clerk)
    preview = upload(client, to_csv(own_rows(3)))
    client.post("/backoffice/imports/confirm/", {"token": token_of(preview)})
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(status="running", phase="write", percent=80)
    with time_machine.travel(timezone.now() + timedelta(minutes=14)):
        assert (
            "登録しています。" in client.get(f"/backoffice/imports/{job.token}/").content.decode()
        )
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        page = client.get(f"/backoffice/imports/{job.token}/").content.decode()
    assert "取込が途中で止まったようです" in page
    assert "hx-trigger" not in page


def test_only_the_clerk_who_uploaded_sees_the_job(client, clerk, other_clerk, group, big):
    login_staff(client, clerk)
    preview = upload(client, to_csv(own_rows(3)))
    client.post("/backoffice/imports/confirm/", {"token": token_of(preview)})
    token = ImportJob.objects.get().token
    login_staff(client, other_clerk)
    assert client.get(f"/backoffice/imports/{token}/").status_code == 404
    # Nor can another clerk confirm someone else's preview.
    login_staff(client, clerk)
    preview = upload(client, to_csv(own_rows(3, start=100)))
    login_staff(client, other_clerk)
    response = client.post("/backoffice/imports/confirm/", {"token": token_of(preview)})
    assert response["Location"] == "/backoffice/imports/"
    assert ImportJob.objects.filter(status="previewed").count() == 1


def test_the_preview_of_a_large_file_only_reads_the_stored_contracts(client, clerk, group):
    """No write transaction, no row lock: the contracts are read, only the job row is written."""
    login_staff(client, clerk)
    existing = own_rows(300)
    client.post(
        "/backoffice/imports/confirm/", {"token": token_of(upload(client, to_csv(existing)))}
    )
    changed = [dict(r, grade="14") if i % 3 == 0 else r for i, r in enumerate(existing)]
    with CaptureQueriesContext(connection) as queries:
        response = upload(client, to_csv(changed + own_rows(200, start=1000)))
    page = response.content.decode()
    assert "新規：200件" in page and "更新：100件" in page and "変更なし：200件" in page
    statements = [query["sql"].upper() for query in queries.captured_queries]
    assert not [sql for sql in statements if "FOR UPDATE" in sql]
    writes = [
        re.search(r'^(?:INSERT INTO|UPDATE|DELETE FROM) "?(\w+)', sql)
        for sql in statements
        if sql.startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    touched = {match.group(1).lower() for match in writes}
    assert touched <= {"backoffice_importjob", "core_auditevent", "django_session"}, touched
    assert Contract.objects.filter(grade=14).count() == 0
    assert ContractChange.objects.count() == 0


class _Blocker:
    """Another connection that holds the lock the import needs: the whole database on SQLite
    (any writer), the contract's row on PostgreSQL (a clerk editing it)."""

    def __init__(self) -> None:
        self.held = None

    def take(self) -> None:
        if connection.vendor == "sqlite":
            self.held = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
            self.held.execute("BEGIN IMMEDIATE")
        else:
            self.held = psycopg.connect(database_url())
            self.held.execute(
                "SELECT 1 FROM contracts_contract WHERE policy_number = 'DM-0000' FOR UPDATE"
            )

    def release(self) -> None:
        if self.held is not None:
            self.held.rollback() if connection.vendor != "sqlite" else self.held.execute("ROLLBACK")
            self.held.close()
            self.held = None


class _OnLockFailure(logging.Handler):
    """Releases the lock once the import has reported that it could not have it."""

    def __init__(self, blocker: _Blocker) -> None:
        super().__init__()
        self.blocker = blocker
        self.failures = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == "import could not lock the database":
            self.failures += 1
            self.blocker.release()


def test_a_lock_not_had_in_time_is_retried_later_and_the_worker_carries_on(
    client, clerk, group, contract, big, settings
):
    settings.IMPORT_LOCK_TIMEOUT = 1
    login_staff(client, clerk)
    # The file updates the clerk's own stored contract DM-0000 and adds two.
    contract.policy_number, contract.policy_key = "DM-0000", "DM0000"
    contract.save()
    rows = own_rows(3)
    rows[0]["holder_name"] = "継続 一郎"
    preview = upload(client, to_csv(rows))
    assert "更新：1件" in preview.content.decode()
    client.post("/backoffice/imports/confirm/", {"token": token_of(preview)})
    job = ImportJob.objects.get()
    mail = mail_queue(key="after-the-import", kind="raw", to="a@example.jp", subject="s", body="b")

    # The lock is taken by another connection when the import starts its write transaction.
    blocker = _Blocker()

    def take_at_the_write(execute, sql, params, many, context):
        if ("busy_timeout = 1000" in sql or "lock_timeout" in sql) and blocker.held is None:
            blocker.take()
        return execute(sql, params, many, context)

    handler = _OnLockFailure(blocker)
    logger = logging.getLogger("keizoku.backoffice.services")
    logger.addHandler(handler)
    try:
        with connection.execute_wrapper(take_at_the_write):
            run_worker()
    finally:
        logger.removeHandler(handler)
        blocker.release()

    assert handler.failures == 1
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("queued", 1)
    page = client.get(f"/backoffice/imports/{job.token}/").content.decode()
    assert "データベースが混み合っているため" in page and "もう一度取り込みます" in page
    assert Contract.objects.count() == 1  # nothing written by the failed try
    # The worker went on with the next task in the same run.
    assert OutboundMail.objects.get(pk=mail.pk).status == "sent"
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL", "READY"}

    run_worker()  # the retry is not due yet
    assert ImportJob.objects.get().status == "queued"
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        run_worker()
    job.refresh_from_db()
    assert (job.status, job.attempts, job.updated) == ("done", 2, 1)
    assert Contract.objects.count() == 3


def test_a_lock_never_had_fails_the_job_with_a_message(
    client, clerk, group, contract, big, settings
):
    settings.IMPORT_LOCK_TIMEOUT = 1
    login_staff(client, clerk)
    contract.policy_number, contract.policy_key = "DM-0000", "DM0000"
    contract.save()
    preview = upload(client, to_csv(own_rows(3)))
    client.post("/backoffice/imports/confirm/", {"token": token_of(preview)})
    blocker = _Blocker()

    def take_at_the_write(execute, sql, params, many, context):
        if ("busy_timeout = 1000" in sql or "lock_timeout" in sql) and blocker.held is None:
            blocker.take()
        return execute(sql, params, many, context)

    handler = _OnLockFailure(blocker)
    logger = logging.getLogger("keizoku.backoffice.services")
    logger.addHandler(handler)
    try:
        for minutes in (0, 1, 3):
            with time_machine.travel(timezone.now() + timedelta(minutes=minutes)):
                with connection.execute_wrapper(take_at_the_write):
                    run_worker()
    finally:
        logger.removeHandler(handler)
        blocker.release()

    assert handler.failures == 3
    job = ImportJob.objects.get()
    assert (job.status, job.attempts, bytes(job.data)) == ("failed", 3, b"")
    page = client.get(f"/backoffice/imports/{job.token}/").content.decode()
    assert "データベースが混み合っていたため取り込めませんでした" in page
    assert "hx-trigger" not in page
    assert Contract.objects.count() == 1
