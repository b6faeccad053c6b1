"""Benchmark: the AI chat's answer latency over the evaluation set, in one process.

    .venv/bin/python bench/bench_chat.py [--repeat 5]

Builds the FAQ index once (timed apart: the first question of a process pays for it), then
answers every question of keizoku/help/content/eval.toml ``--repeat`` times as an anonymous
visitor: clean the input, tokenise (SudachiPy), rank (BM25), decide the confidence, and render
the answer fragment the widget receives (``chat/_exchange.html``). Personal answers read the
database and are not part of this figure. Reports p50/p95/max per answer and the machine.
Goal: p95 ≤ 50 ms. The exit status is 1 above the goal.
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
    retrieval.index()
    build_ms = (time.perf_counter() - started) * 1000

    questions = [q.text for q in evaluation.eval_questions()]
    visitor = AnonymousUser()
    now = datetime.now(UTC)
    timings: list[float] = []
    for _ in range(args.repeat):
        for question in questions:
            begin = time.perf_counter()
            result = answer(question=clean_question(question), member=visitor, now=now)
            render_to_string("chat/_exchange.html", {"answer": result})
            timings.append((time.perf_counter() - begin) * 1000)

    p50, p95 = percentile(timings, 50), percentile(timings, 95)
    print(f"questions: {len(questions)} × {args.repeat} = {len(timings)} answers")
    print(f"index build (dictionary + {len(retrieval.index().entries)} entries): {build_ms:.0f} ms")
    print(
        f"answer latency: p50 {p50:.2f} ms, p95 {p95:.2f} ms, "
        f"mean {statistics.fmean(timings):.2f} ms, max {max(timings):.2f} ms"
    )
    print(f"machine: {machine.describe()}")
    ok = p95 <= GOAL_P95_MS
    print(f"goal p95 ≤ {GOAL_P95_MS:.0f} ms: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
