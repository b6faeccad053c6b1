"""manage.py mail_test ADDRESS: queue a test mail through the outbox (checks EMAIL_URL end to end)."""

import uuid

from django.core.management.base import BaseCommand

from keizoku.notifications.services import mail_queue


class Command(BaseCommand):
    help = "Queue a test mail to ADDRESS; the worker sends it."

    def add_arguments(self, parser):
        parser.add_argument("address")

    def handle(self, *args, address: str, **options):
        mail = mail_queue(key=f"test:{uuid.uuid4()}", kind="test", to=address, context={})
        self.stdout.write(f"queued mail {mail.pk} to {address}")
