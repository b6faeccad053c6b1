"""Accuracy of the chat over the evaluation set (keizoku/help/content/eval.toml): the split into
a tuning part and a held-out part, calibration, and k-fold cross-validation of the parameters.

A question counts as right at top-1 when the entry the chat shows first is the expected one
(the confident answer, or the first of the three suggestions), and at top-3 when the expected
entry is among the first three of the ranking.

The held-out part is only ever measured. Everything that is chosen — ``retrieval.Params``, the
confidence threshold, the synonyms and the FAQ keywords — is chosen on the tuning part, and
``cross_validate`` shows how well each choice carries to questions it was not chosen on.
"""

from __future__ import annotations

import math
import random
import re
import tomllib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from keizoku.help import content
from keizoku.help.content import EvalQuestion as Question

from . import retrieval, text
from .answers import CONFIDENCE_THRESHOLD  # noqa: F401 (shown by chat_eval)

TUNING, HELD_OUT = content.EVAL_PARTS
SPLIT_SEED = 15  # fixed: the split must never move once questions are assigned
HELD_OUT_SHARE = 0.5  # of each entry's new questions (rounded up)
FOLDS = 5


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


def eval_questions(part: str | None = None) -> tuple[Question, ...]:
    """The evaluation set (one part of it when ``part`` is given)."""
    questions = content.eval_questions()
    return questions if part is None else tuple(q for q in questions if q.part == part)


OFF_TOPIC_FILE = Path(__file__).parent / "offtopic.toml"


def off_topic_questions() -> tuple[str, ...]:
    """Questions nothing in the help site answers (our own list, used for calibration)."""
    return tuple(tomllib.loads(OFF_TOPIC_FILE.read_text(encoding="utf-8"))["questions"])


def evaluate(questions: Sequence[Question], index: retrieval.Index | None = None) -> list[Result]:
    """Each question ranked as the chat ranks it (in its language, on a Japanese page), or by
    ``index``."""
    results = []
    for question in questions:
        ranking = index.rank(question.text) if index else retrieval.rank(question.text)[1]
        shown = tuple(entry.id for entry in ranking.top(3))  # as the chat shows them
        results.append(Result(question, shown, ranking.confidence))
    return results


def accuracy(results: Sequence[Result]) -> tuple[float, float]:
    n = len(results) or 1
    return sum(r.top1 for r in results) / n, sum(r.top3 for r in results) / n


# ---------------------------------------------------------------- the split


def stratified_split(
    questions: Sequence[Question], *, seed: int = SPLIT_SEED, share: float = HELD_OUT_SHARE
) -> set[str]:
    """The texts to hold out: per FAQ entry, ⌈share × n⌉ of its questions, drawn with a
    random generator seeded by ``seed`` and the entry id (so entries do not disturb each
    other, and the same questions always give the same split)."""
    by_entry: dict[str, list[str]] = defaultdict(list)
    for question in questions:
        by_entry[question.expected].append(question.text)
    held_out = set()
    for entry_id, texts in sorted(by_entry.items()):
        rng = random.Random(f"{seed}:{entry_id}")  # noqa: S311 (a reproducible draw, not a secret)
        texts = sorted(texts)
        rng.shuffle(texts)
        held_out.update(texts[: math.ceil(share * len(texts))])
    return held_out


_QUESTION_HEADER = "[[question]]"
_PART_LINE = re.compile(r"^part\s*=")


def assign_split(path: Path) -> tuple[int, int]:
    """Give a part to every question of ``path`` written without one, in place.

    Questions that have a part keep it: the held-out part only grows by questions that no
    tuning ever saw. Returns (newly held out, newly tuning).
    """
    source = path.read_text(encoding="utf-8")
    items = tomllib.loads(source)["question"]
    new = [
        Question(text=item["text"].strip(), expected=item["expected"], part="", style="")
        for item in items
        if "part" not in item
    ]
    held_out = stratified_split(new)
    lines = source.split("\n")
    # The blocks of the file, in the order tomllib read them.
    starts = [i for i, line in enumerate(lines) if line.strip() == _QUESTION_HEADER]
    assert len(starts) == len(items), "one [[question]] header per question"
    inserts = []
    for start, end, item in zip(starts, [*starts[1:], len(lines)], items, strict=True):
        if "part" in item:
            continue
        block = lines[start:end]
        expected_at = next(i for i, line in enumerate(block) if line.startswith("expected"))
        part = HELD_OUT if item["text"].strip() in held_out else TUNING
        inserts.append((start + expected_at + 1, f'part = "{part}"'))
    for at, line in reversed(inserts):
        lines.insert(at, line)
    path.write_text("\n".join(lines), encoding="utf-8")
    newly_held_out = sum(q.text in held_out for q in new)
    return newly_held_out, len(new) - newly_held_out


# ---------------------------------------------------------------- calibration


@dataclass(frozen=True)
class Calibration:
    threshold: float
    answered: int  # questions answered with confidence (evaluation set)
    precision: float  # of the confident answers (both sets), the share that were right
    off_topic: int  # off-topic questions answered with confidence


def calibrate(results: Sequence[Result], off_topic: Sequence[float]) -> list[Calibration]:
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


def suggested_threshold(table: Sequence[Calibration], *, target: float = 0.95) -> float:
    """The lowest threshold from which on the confident answers are right ≥ ``target`` of the
    time and no off-topic question is answered with confidence."""
    suggestion = 1.0
    for row in reversed(table):
        if row.precision < target or row.off_topic:
            break
        suggestion = row.threshold
    return suggestion


# ---------------------------------------------------------------- tuning and cross-validation

# The values each parameter is searched over; ties go to the earlier value.
GRID: dict[str, tuple] = {
    "title": (1.0, 2.0, 3.0, 4.0, 5.0),
    "k1": (1.2, 0.6, 0.9, 1.5, 2.0),
    "b": (0.75, 0.3, 0.5, 0.9, 1.0),
    "light": (1.0, 0.15, 0.3, 0.5),
    "reading": (0.0, 0.25, 0.5, 0.75, 1.0),
    "bigram": (0.0, 0.1, 0.2, 0.3, 0.5),
    "synonym": (0.0, 0.1, 0.2, 0.3, 0.5),
    "sound": (0.0, 0.05, 0.1, 0.2, 0.3),
    "kana": (False, True),
    "keywords": (True, False),
    "synonyms": (True, False),
}


def by_language(questions: Sequence[Question]) -> dict[str, tuple[Question, ...]]:
    """The questions the chat answers in each language (English ones from the English FAQ)."""
    languages: dict[str, list[Question]] = {retrieval.JA: [], retrieval.EN: []}
    for question in questions:
        languages[retrieval.language_of(question.text)].append(question)
    return {language: tuple(found) for language, found in languages.items()}


class Scorer:
    """Top-1 of many parameter sets over the same questions (all in ``language``), each
    question cut only once."""

    def __init__(self, questions: Sequence[Question], language: str = retrieval.JA):
        self.questions = tuple(questions)
        self.language = language
        self._analyses: dict[bool, list[text.Analysis]] = {}
        self._cache: dict[retrieval.Params, tuple[list[bool], list[float]]] = {}

    def analyses(self, synonyms: bool) -> list[text.Analysis]:
        if synonyms not in self._analyses:
            analyser = retrieval.ANALYSERS[self.language]
            self._analyses[synonyms] = [analyser(q.text, expand=synonyms) for q in self.questions]
        return self._analyses[synonyms]

    def run(self, params: retrieval.Params) -> tuple[list[bool], list[float]]:
        """(right at top-1, confidence) for every question under ``params``."""
        if params not in self._cache:
            index = retrieval.Index(content.faq_entries(), params, language=self.language)
            right, confidence = [], []
            for question, analysis in zip(
                self.questions, self.analyses(params.synonyms), strict=True
            ):
                ranking = index.rank_analysis(analysis)
                right.append(ranking.best is not None and ranking.best.id == question.expected)
                confidence.append(ranking.confidence)
            self._cache[params] = (right, confidence)
        return self._cache[params]

    def top1(self, params: retrieval.Params, among: Iterable[int]) -> float:
        right = self.run(params)[0]
        among = list(among)
        return sum(right[i] for i in among) / (len(among) or 1)


def folds(questions: Sequence[Question], k: int = FOLDS, seed: int = SPLIT_SEED) -> list[list[int]]:
    """k folds of question positions, stratified by FAQ entry (each entry dealt round the folds)."""
    by_entry: dict[str, list[int]] = defaultdict(list)
    for i, question in enumerate(questions):
        by_entry[question.expected].append(i)
    rng = random.Random(f"{seed}:folds")  # noqa: S311 (reproducible, not a secret)
    result: list[list[int]] = [[] for _ in range(k)]
    turn = 0
    for _entry_id, positions in sorted(by_entry.items()):
        rng.shuffle(positions)
        for position in positions:
            result[turn % k].append(position)
            turn += 1
    return result


def best_value(
    scorer: Scorer, base: retrieval.Params, name: str, among: Sequence[int]
) -> tuple[object, float]:
    """The value of parameter ``name`` (others as in ``base``) with the best top-1 on ``among``;
    ties go to the value earlier in the grid (the untuned one first)."""
    best, best_score = None, -1.0
    for value in GRID[name]:
        score = scorer.top1(base.replace(**{name: value}), among)
        if score > best_score + 1e-12:
            best, best_score = value, score
    return best, best_score


def tune(
    scorer: Scorer, among: Sequence[int], start: retrieval.Params, sweeps: int = 2
) -> retrieval.Params:
    """Coordinate ascent over GRID on the questions ``among`` (the procedure that set PARAMS)."""
    params = start
    for _ in range(sweeps):
        for name in GRID:
            value, _score = best_value(scorer, params, name, among)
            params = params.replace(**{name: value})
    return params


@dataclass(frozen=True)
class FoldReport:
    chosen: object  # the value (or Params) chosen on the other folds
    train: float  # its top-1 on the other folds
    test: float  # its top-1 on this fold
    in_use: float  # top-1 of the value in use (PARAMS) on this fold


@dataclass(frozen=True)
class CrossValidation:
    name: str  # a parameter, "all (coordinate ascent)" or "threshold"
    folds: tuple[FoldReport, ...]

    @property
    def test(self) -> float:
        return sum(f.test for f in self.folds) / len(self.folds)

    @property
    def train(self) -> float:
        return sum(f.train for f in self.folds) / len(self.folds)

    @property
    def in_use(self) -> float:
        return sum(f.in_use for f in self.folds) / len(self.folds)


def cross_validate(
    questions: Sequence[Question],
    *,
    language: str = retrieval.JA,
    params: retrieval.Params | None = None,
    k: int = FOLDS,
    names: Sequence[str] | None = None,
    progress: Callable[[str], None] = lambda _name: None,
) -> list[CrossValidation]:
    """k-fold cross-validation of each tuned choice over ``questions`` (the tuning part).

    For each parameter: on every fold, the value is chosen on the other k−1 folds (the others
    held at ``params``) and scored on the fold left out. Then the whole procedure (coordinate
    ascent over every parameter) the same way, and the confidence threshold (calibrated on
    k−1 folds, its precision and share of confident answers measured on the last).
    """
    params = params or retrieval.PARAMS_BY_LANGUAGE[language]
    scorer = Scorer(questions, language)
    parts = folds(questions, k)
    everything = range(len(questions))
    reports = []
    for name in names or GRID:
        progress(name)
        fold_reports = []
        for fold in parts:
            train = sorted(set(everything) - set(fold))
            value, train_score = best_value(scorer, params, name, train)
            fold_reports.append(
                FoldReport(
                    chosen=value,
                    train=train_score,
                    test=scorer.top1(params.replace(**{name: value}), fold),
                    in_use=scorer.top1(params, fold),
                )
            )
        reports.append(CrossValidation(name, tuple(fold_reports)))
    if names is None:
        progress("all")
        fold_reports = []
        for fold in parts:
            train = sorted(set(everything) - set(fold))
            chosen = tune(scorer, train, retrieval.Params())
            fold_reports.append(
                FoldReport(
                    chosen=chosen,
                    train=scorer.top1(chosen, train),
                    test=scorer.top1(chosen, fold),
                    in_use=scorer.top1(params, fold),
                )
            )
        reports.append(CrossValidation("all (coordinate ascent)", tuple(fold_reports)))
    return reports


@dataclass(frozen=True)
class ThresholdFold:
    threshold: float  # calibrated on the other folds
    precision: float  # of the confident answers on this fold
    answered: float  # share of this fold's questions answered with confidence


def cross_validate_threshold(
    questions: Sequence[Question], *, k: int = FOLDS, threshold: float | None = None
) -> list[ThresholdFold]:
    """The threshold calibrated on k−1 folds (with every off-topic question), measured on the
    fold left out; with ``threshold`` given, that fixed value measured on every fold."""
    results = evaluate(questions)
    off_topic = [retrieval.rank(q)[1].confidence for q in off_topic_questions()]
    report = []
    for fold in folds(questions, k):
        train = [results[i] for i in range(len(results)) if i not in set(fold)]
        chosen = (
            threshold if threshold is not None else suggested_threshold(calibrate(train, off_topic))
        )
        confident = [results[i] for i in fold if results[i].confidence >= chosen]
        precision = sum(r.top1 for r in confident) / len(confident) if confident else 1.0
        report.append(ThresholdFold(chosen, precision, len(confident) / len(fold)))
    return report
