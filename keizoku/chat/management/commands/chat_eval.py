"""``manage.py chat_eval``: the AI chat's accuracy on the tuning and the held-out parts of the
evaluation set, calibration of the threshold and k-fold cross-validation of the parameters."""

from collections import defaultdict

from django.core.management.base import BaseCommand

from keizoku.chat import evaluation, retrieval
from keizoku.help import content


class Command(BaseCommand):
    help = "AIチャットの評価セット（調整用・評価専用）での正答率を表示します。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--misses", action="store_true", help="top-1 を外した質問を表示します。"
        )
        parser.add_argument(
            "--calibrate",
            action="store_true",
            help="確信度のしきい値ごとの適合率を表示します（調整用の質問のみ）。",
        )
        parser.add_argument(
            "--cross-validate",
            action="store_true",
            help="調整した各パラメータの k 分割交差検証（調整用の質問のみ）。",
        )
        parser.add_argument(
            "--tuning-only",
            action="store_true",
            help="評価専用の質問の結果を表示しません（方法を選んでいる間は評価専用を見ないため）。",
        )
        parser.add_argument(
            "--assign-split",
            action="store_true",
            help="part のない新しい質問を調整用・評価専用に振り分けて eval.toml に書き込みます。",
        )

    def handle(self, *args, misses=False, calibrate=False, cross_validate=False, **options):
        if options["assign_split"]:
            held_out, tuning = evaluation.assign_split(content.CONTENT / "eval.toml")
            content.eval_questions.cache_clear()
            self.stdout.write(f"assigned: held-out {held_out}, tuning {tuning}")
        shown: tuple[str, ...] = (evaluation.TUNING,)
        if not options["tuning_only"]:
            shown = (evaluation.TUNING, evaluation.HELD_OUT)
        results = evaluation.evaluate([q for q in evaluation.eval_questions() if q.part in shown])
        parts = {part: [r for r in results if r.question.part == part] for part in shown}
        self.stdout.write(
            f"questions: {len(results)} ("
            + ", ".join(f"{part} {len(part_results)}" for part, part_results in parts.items())
            + ")"
        )
        for part, part_results in parts.items():
            self._figures(part, part_results)
        for part, part_results in parts.items():
            self._by_style(part, part_results)
        if misses:
            self._misses(parts)
        if calibrate:
            self._calibrate(parts[evaluation.TUNING])
        if cross_validate:
            self._cross_validate()

    def _figures(self, label: str, results) -> None:
        top1, top3 = evaluation.accuracy(results)
        n = len(results)
        self.stdout.write(
            f"{label:>8}  top-1: {top1:.1%} ({sum(r.top1 for r in results)}/{n})"
            f"  top-3: {top3:.1%} ({sum(r.top3 for r in results)}/{n})"
        )

    def _by_style(self, part: str, results) -> None:
        by_style = defaultdict(list)
        for result in results:
            by_style[result.question.style or "first set"].append(result)
        self.stdout.write(f"{part} by style:")
        for style, style_results in sorted(by_style.items()):
            top1, _top3 = evaluation.accuracy(style_results)
            right = sum(r.top1 for r in style_results)
            self.stdout.write(f"  {style:>12}: {top1:.1%} ({right}/{len(style_results)})")

    def _misses(self, parts) -> None:
        for part, results in parts.items():
            if part == evaluation.HELD_OUT:
                self.stdout.write(
                    "misses (held-out; to read, never to fix one by one with keywords or "
                    "synonyms: that would make the held-out figure meaningless):"
                )
            else:
                self.stdout.write("misses (tuning):")
            for result in results:
                if not result.top1:
                    self.stdout.write(
                        f"  {result.question.text!r} expected={result.question.expected}"
                        f" shown={list(result.shown)} confidence={result.confidence}"
                    )

    def _calibrate(self, tuning) -> None:
        off_topic = [retrieval.rank(q)[1].confidence for q in evaluation.off_topic_questions()]
        table = evaluation.calibrate(tuning, off_topic)
        self.stdout.write("calibration on the tuning part:")
        self.stdout.write("threshold  confident  off-topic  precision")
        for row in table[::5]:
            self.stdout.write(
                f"{row.threshold:9.2f}  {row.answered:9d}  {row.off_topic:9d}  {row.precision:9.1%}"
            )
        self.stdout.write(
            "suggested threshold (precision ≥ 95%, no off-topic answer): "
            f"{evaluation.suggested_threshold(table)}; in use: {evaluation.CONFIDENCE_THRESHOLD}"
        )

    def _cross_validate(self) -> None:
        tuning = evaluation.by_language(evaluation.eval_questions(evaluation.TUNING))
        k = evaluation.FOLDS
        for language, questions in tuning.items():
            self.stdout.write(
                f"{k}-fold cross-validation, {language} questions of the tuning part "
                f"({len(questions)}, folds stratified by FAQ entry): each value chosen on k−1 "
                "folds, scored on the fold left out; 'in use' is the value in use on the same folds"
            )
            self.stdout.write(
                f"{'parameter':>10}  {'in use':>6}  {'chosen per fold':<32}  "
                f"{'train':>6}  {'test':>6}  {'in use':>6}"
            )
            params = retrieval.PARAMS_BY_LANGUAGE[language]
            for report in evaluation.cross_validate(questions, language=language):
                scores = f"{report.train:6.1%}  {report.test:6.1%}  {report.in_use:6.1%}"
                if report.name in evaluation.GRID:
                    chosen = ", ".join(str(f.chosen) for f in report.folds)
                    current = getattr(params, report.name)
                    self.stdout.write(f"{report.name:>10}  {current!s:>6}  {chosen:<32}  {scores}")
                else:
                    self.stdout.write(
                        f"{'all':>10}  {'':>6}  {'(coordinate ascent)':<32}  {scores}"
                    )
                    for number, fold in enumerate(report.folds, 1):
                        self.stdout.write(
                            f"{'':>20}fold {number}: {_differences(fold.chosen, params)}"
                        )
        everything = evaluation.eval_questions(evaluation.TUNING)
        thresholds = evaluation.cross_validate_threshold(everything)
        fixed = evaluation.cross_validate_threshold(
            everything, threshold=evaluation.CONFIDENCE_THRESHOLD
        )
        self.stdout.write(
            "threshold: calibrated per fold "
            + ", ".join(f"{t.threshold:.2f}" for t in thresholds)
            + "; on the fold left out: precision of confident answers "
            f"{_mean(t.precision for t in thresholds):.1%}, answered "
            f"{_mean(t.answered for t in thresholds):.1%}"
            f" (in use {evaluation.CONFIDENCE_THRESHOLD}: precision "
            f"{_mean(t.precision for t in fixed):.1%}, answered "
            f"{_mean(t.answered for t in fixed):.1%})"
        )


def _mean(values) -> float:
    values = list(values)
    return sum(values) / (len(values) or 1)


def _differences(params, base) -> str:
    """The parameters where ``params`` differs from ``base``."""
    changed = [
        f"{name}={getattr(params, name)}"
        for name in evaluation.GRID
        if getattr(params, name) != getattr(base, name)
    ]
    return " ".join(changed) or "the values in use"
