"""The back-office page of the questions the AI chat could not answer (/backoffice/chat/)."""

import pytest
from django.utils import timezone

from keizoku.chat import unanswered
from keizoku.chat.models import UnansweredQuestion
from keizoku.core.models import AuditEvent

from .conftest import login_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def questions():
    now = timezone.now()
    for text, times in (("今日の天気は?", 1), ("車検の予約をしたい", 3)):
        for _ in range(times):
            unanswered.record(
                text,
                language="ja",
                suggestions=["contact-agency", "no-longer-in-the-faq"],
                confidence=0.1,
                now=now,
            )
    return UnansweredQuestion.objects.order_by("-count")


@pytest.mark.parametrize("who", ["clerk", "insurer_admin", "auditor"])
def test_staff_see_the_questions_most_asked_first_with_the_entries_offered(
    client, questions, who, request
):
    login_staff(client, request.getfixturevalue(who))
    response = client.get("/backoffice/chat/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>回答できなかった質問</h1>" in html and "2件" in html
    assert html.index("車検の予約をしたい") < html.index("今日の天気は?")
    assert "<td>3</td>" in html
    assert 'href="/help/contact/#faq-contact-agency"' in html  # an entry that is gone is left out
    assert ("対応済みにする" in html) is (who != "auditor")
    assert 'href="/backoffice/chat/"' in html  # in the menu


def test_a_clerk_marks_a_question_handled_and_it_is_audited(client, clerk, questions):
    login_staff(client, clerk)
    top = questions.first()
    response = client.post("/backoffice/chat/resolve/", {"id": top.pk}, follow=True)
    assert "「車検の予約をしたい」を対応済みにしました。" in response.content.decode()
    top.refresh_from_db()
    assert top.resolved_at is not None
    assert AuditEvent.objects.filter(action="chat.unanswered_resolved", actor=clerk).exists()
    html = client.get("/backoffice/chat/").content.decode()
    assert "車検の予約をしたい" not in html and "1件" in html
    html = client.get("/backoffice/chat/?show=all").content.decode()
    assert "車検の予約をしたい" in html and "対応済み（" in html


def test_resolving_an_unknown_question_answers_404(client, clerk):
    login_staff(client, clerk)
    assert client.post("/backoffice/chat/resolve/", {"id": 999}).status_code == 404
    assert client.post("/backoffice/chat/resolve/", {"id": "x"}).status_code == 404
    # "²".isdigit() is true and int() takes 4,300 digits at most (W8): neither is a 500.
    assert client.post("/backoffice/chat/resolve/", {"id": "²"}).status_code == 404
    assert client.post("/backoffice/chat/resolve/", {"id": "9" * 5000}).status_code == 404
    assert client.post("/backoffice/chat/resolve/", {"id": "9" * 30}).status_code == 404
