"""「AIチャット」: offline retrieval over the FAQ and help pages, and personal answers."""

from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "keizoku.chat"
    label = "chat"
    verbose_name = "AIチャット"
