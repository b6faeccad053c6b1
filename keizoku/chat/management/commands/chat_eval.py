"""``manage.py chat_eval``: top-1 and top-3 accuracy of the AI chat over the evaluation set."""

from django.core.management.base import BaseCommand

from keizoku.chat import evaluation, retrieval


class Command(BaseCommand):
    help = "AIチャットの評価セットでの正答率（top-1 / top-3）を表示します。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--calibrate", action="store_true", help="確信度のしきい値ごとの適合率も表示します。"
        )
        parser.add_argument(
            "--misses", action="store_true", help="top-1 を外した質問を表示します。"
        )

    def handle(self, *args, calibrate: bool = False, misses: bool = False, **options):
        questions = evaluation.eval_questions()
        results = evaluation.evaluate(questions)
        top1, top3 = evaluation.accuracy(results)
        self.stdout.write(f"questions: {len(results)}")
        self.stdout.write(f"top-1: {top1:.1%} ({sum(r.top1 for r in results)}/{len(results)})")
        self.stdout.write(f"top-3: {top3:.1%} ({sum(r.top3 for r in results)}/{len(results)})")
        if misses:
            for result in results:
                if not result.top1:
                    self.stdout.write(
                        f"  miss: {result.question.text!r} expected={result.question.expected}"
                        f" shown={list(result.shown)} confidence={result.confidence}"
                    )
        if calibrate:
            index = retrieval.index()
            off_topic = [index.rank(q).confidence for q in evaluation.off_topic_questions()]
            table = evaluation.calibrate(results, off_topic)
            self.stdout.write("threshold  confident  off-topic  precision")
            for row in table[::5]:
                self.stdout.write(
                    f"{row.threshold:9.2f}  {row.answered:9d}  {row.off_topic:9d}  {row.precision:9.1%}"
                )
            self.stdout.write(
                f"suggested threshold (precision ≥ 95%, no off-topic answer): {evaluation.suggested_threshold(table)}"
                f"; in use: {evaluation.CONFIDENCE_THRESHOLD}"
            )
