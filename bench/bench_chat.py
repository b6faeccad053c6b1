"""Benchmark: the AI chat's answer latency over the evaluation set, in one process, and its
accuracy on the tuning and held-out parts.

    .venv/bin/python bench/bench_chat.py [--repeat 5]

Builds the FAQ indexes once (timed apart: the first question of a process pays for it), then
answers every question of keizoku/help/content/eval.toml ``--repeat`` times as an anonymous
visitor: clean the input, tokenise (SudachiPy), rank (BM25, Japanese or English), decide the
confidence, and render the answer fragment the widget receives (``chat/_exchange.html``).
Personal answers and the log of unanswered questions use the database and are not part of
this figure. The baseline, measured in the same run on the same questions, is SudachiPy's
tokenisation alone (the floor any Japanese answer pays); the ratio shows what retrieval adds.
Reports p50/p95/max per answer, per language, the machine and load average.
Goals: p95 ≤ 50 ms; held-out top-1 ≥ 95 %. The exit status is 1 when the latency goal is missed
(accuracy is reported, not enforced here: tests/test_evaluation.py holds its floors).
"""

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import machine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

GOAL_P95_MS = 50.0
GOAL_HELD_OUT_TOP1 = 0.95


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import logging

    import django

    django.setup()
    logging.disable(logging.INFO)  # the per-answer log line is not what is measured

    from django.contrib.auth.models import AnonymousUser
    from django.template.loader import render_to_string

    from keizoku.chat import evaluation, retrieval, text
    from keizoku.chat.answers import answer, clean_question

    started = time.perf_counter()
    text.terms("初期化")  # loads the Sudachi dictionary
    indexes = [retrieval.index(language) for language in (retrieval.JA, retrieval.EN)]
    build_ms = (time.perf_counter() - started) * 1000

    questions = evaluation.eval_questions()
    visitor = AnonymousUser()
    now = datetime.now(UTC)
    timings: dict[str, list[float]] = {retrieval.JA: [], retrieval.EN: []}
    baseline: list[float] = []
    for _ in range(args.repeat):
        for question in questions:
            begin = time.perf_counter()
            list(text.tokenize(text.normalize(question.text)))
            baseline.append((time.perf_counter() - begin) * 1000)
            begin = time.perf_counter()
            result = answer(question=clean_question(question.text), member=visitor, now=now)
            render_to_string("chat/_exchange.html", {"answer": result})
            timings[result.language].append((time.perf_counter() - begin) * 1000)

    every = [t for values in timings.values() for t in values]
    p50, p95 = percentile(every, 50), percentile(every, 95)
    entries = len(indexes[0].entries)
    print(f"questions: {len(questions)} × {args.repeat} = {len(every)} answers")
    print(
        f"index build (dictionary + {entries} entries in Japanese and English): {build_ms:.0f} ms"
    )
    print(
        f"answer latency: p50 {p50:.2f} ms, p95 {p95:.2f} ms, "
        f"mean {statistics.fmean(every):.2f} ms, max {max(every):.2f} ms"
        f"  (goal p95 ≤ {GOAL_P95_MS:.0f} ms)"
    )
    for language, values in timings.items():
        print(
            f"  {language}: {len(values)} answers, p50 {percentile(values, 50):.2f} ms, "
            f"p95 {percentile(values, 95):.2f} ms"
        )
    base95 = percentile(baseline, 95)
    print(
        f"baseline (SudachiPy tokenisation alone): p95 {base95:.2f} ms; "
        f"answer / baseline p95 ratio {p95 / base95:.1f}"
    )
    results = evaluation.evaluate(questions)
    for part in (evaluation.TUNING, evaluation.HELD_OUT):
        part_results = [r for r in results if r.question.part == part]
        top1, top3 = evaluation.accuracy(part_results)
        goal = f"  (goal ≥ {GOAL_HELD_OUT_TOP1:.0%})" if part == evaluation.HELD_OUT else ""
        print(f"{part}: {len(part_results)} questions, top-1 {top1:.1%}, top-3 {top3:.1%}{goal}")
    print(f"machine: {machine.describe()}")
    ok = p95 <= GOAL_P95_MS
    print(f"goal p95 ≤ {GOAL_P95_MS:.0f} ms: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
