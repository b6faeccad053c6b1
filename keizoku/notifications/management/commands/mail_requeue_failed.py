"""manage.py mail_requeue_failed: send again the mails that gave up after 20 tries."""

from django.core.management.base import BaseCommand

from keizoku.notifications.services import mail_requeue_failed


class Command(BaseCommand):
    help = "Re-queue every mail in `failed` (after fixing the cause, e.g. the SMTP relay)."

    def handle(self, *args, **options):
        self.stdout.write(f"{mail_requeue_failed()} failed mails re-queued")
