"""「WEB更改サービスご説明サイト」: the guide's procedure with our own screens, and the FAQ."""

from django.apps import AppConfig


class HelpConfig(AppConfig):
    name = "keizoku.help"
    label = "help"
    verbose_name = "ご説明サイト"
