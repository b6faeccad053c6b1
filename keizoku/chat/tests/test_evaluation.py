"""The chat's accuracy over the help site's evaluation set, and its calibrated confidence."""

from io import StringIO

from django.core.management import call_command

from keizoku.chat import evaluation, retrieval
from keizoku.chat.answers import CONFIDENCE_THRESHOLD

TOP1_FLOOR = 0.90


def test_top_1_accuracy_over_the_evaluation_set_is_at_least_90_percent():
    questions = evaluation.eval_questions()
    assert len(questions) >= 150
    top1, top3 = evaluation.accuracy(evaluation.evaluate(questions))
    assert top1 >= TOP1_FLOOR, f"top-1 {top1:.1%} < {TOP1_FLOOR:.0%} (manage.py chat_eval --misses)"
    assert top3 >= top1


def test_confident_answers_are_right_at_least_95_percent_of_the_time():
    results = evaluation.evaluate(evaluation.eval_questions())
    confident = [r for r in results if r.confidence >= CONFIDENCE_THRESHOLD]
    assert len(confident) >= len(results) // 3  # the threshold still lets most answers through
    assert sum(r.top1 for r in confident) / len(confident) >= 0.95


def test_no_off_topic_question_is_answered_with_confidence():
    index = retrieval.index()
    for question in evaluation.off_topic_questions():
        assert index.rank(question).confidence < CONFIDENCE_THRESHOLD, question


def test_the_threshold_in_use_is_the_calibrated_one():
    results = evaluation.evaluate(evaluation.eval_questions())
    off_topic = [retrieval.index().rank(q).confidence for q in evaluation.off_topic_questions()]
    suggested = evaluation.suggested_threshold(evaluation.calibrate(results, off_topic))
    # Re-run `manage.py chat_eval --calibrate` when the content changes; a small drift is fine.
    assert abs(suggested - CONFIDENCE_THRESHOLD) <= 0.1


def test_chat_eval_prints_top_1_and_top_3_accuracy():
    out = StringIO()
    call_command("chat_eval", "--calibrate", stdout=out)
    output = out.getvalue()
    assert "top-1: " in output and "top-3: " in output and "suggested threshold" in output
