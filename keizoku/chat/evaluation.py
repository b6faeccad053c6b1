"""Accuracy of the chat over the evaluation set (keizoku/help/content/eval.toml), and calibration.

A question counts as right at top-1 when the entry the chat shows first is the expected one
(the confident answer, or the first of the three suggestions), and at top-3 when the expected
entry is among the first three of the ranking. Calibration looks for the confidence threshold
at which the answers given with confidence are right often enough.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from keizoku.help import content

from . import retrieval
from .answers import CONFIDENCE_THRESHOLD  # noqa: F401 (shown by chat_eval)


@dataclass(frozen=True)
class Question:
    text: str
    expected: str


@dataclass(frozen=True)
class Result:
    question: Question
    shown: tuple[str, ...]  # ids of the entries the chat shows first (up to three)
    confidence: float

    @property
    def top1(self) -> bool:
        return bool(self.shown) and self.shown[0] == self.question.expected

    @property
    def top3(self) -> bool:
        return self.question.expected in self.shown[:3]


def eval_questions() -> tuple[Question, ...]:
    """The evaluation set, through the help content's own loader when it has one."""
    loader = getattr(content, "eval_questions", None)
    if loader is not None:
        items = loader()
    else:
        items = tomllib.loads((content.CONTENT / "eval.toml").read_text(encoding="utf-8"))[
            "question"
        ]
    return tuple(Question(*_pair(item)) for item in items)


def _pair(item) -> tuple[str, str]:
    if isinstance(item, dict):
        return item["text"], item["expected"]
    if isinstance(item, tuple):
        return item[0], item[1]
    return item.text, item.expected


OFF_TOPIC_FILE = Path(__file__).parent / "offtopic.toml"


def off_topic_questions() -> tuple[str, ...]:
    """Questions nothing in the help site answers (our own list, used for calibration)."""
    return tuple(tomllib.loads(OFF_TOPIC_FILE.read_text(encoding="utf-8"))["questions"])


def evaluate(questions: tuple[Question, ...]) -> list[Result]:
    index = retrieval.index()
    results = []
    for question in questions:
        ranking = index.rank(question.text)
        shown = tuple(entry.id for entry in ranking.top(3))  # as the chat shows them
        results.append(Result(question, shown, ranking.confidence))
    return results


def accuracy(results: list[Result]) -> tuple[float, float]:
    n = len(results) or 1
    return sum(r.top1 for r in results) / n, sum(r.top3 for r in results) / n


@dataclass(frozen=True)
class Calibration:
    threshold: float
    answered: int  # questions answered with confidence (evaluation set)
    precision: float  # of the confident answers (both sets), the share that were right
    off_topic: int  # off-topic questions answered with confidence


def calibrate(results: list[Result], off_topic: list[float]) -> list[Calibration]:
    """For thresholds 0.00–1.00 in steps of 0.01: the confident answers and how many were right.

    ``off_topic`` holds the confidences of the off-topic questions: any of them above the
    threshold is a confident wrong answer.
    """
    table = []
    for step in range(0, 101):
        threshold = step / 100
        confident = [r for r in results if r.confidence >= threshold]
        wrong_off = sum(c >= threshold for c in off_topic)
        right = sum(r.top1 for r in confident)
        total = len(confident) + wrong_off
        table.append(
            Calibration(threshold, len(confident), right / total if total else 1.0, wrong_off)
        )
    return table


def suggested_threshold(table: list[Calibration], *, target: float = 0.95) -> float:
    """The lowest threshold from which on the confident answers are right ≥ ``target`` of the
    time and no off-topic question is answered with confidence."""
    suggestion = 1.0
    for row in reversed(table):
        if row.precision < target or row.off_topic:
            break
        suggestion = row.threshold
    return suggestion
