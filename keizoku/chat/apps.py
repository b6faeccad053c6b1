"""「AIチャット」: offline retrieval over the FAQ and help pages, and personal answers."""

from datetime import timedelta

from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "keizoku.chat"
    label = "chat"
    verbose_name = "AIチャット"

    def ready(self) -> None:
        from keizoku.core.jobs import periodic_job_register

        from .unanswered import purge

        # Unanswered questions are kept for the FAQ editors a limited time only.
        periodic_job_register(name="chat_unanswered_purge", every=timedelta(hours=24), run=purge)
