"""manage.py send_reminders: queue the reminder mails due now (cron-friendly; safe to repeat)."""

from django.core.management.base import BaseCommand

from keizoku.backoffice.services import reminders_send


class Command(BaseCommand):
    help = "Queue the reminder mails before expiry (60/30/14/7/3 days); never twice."

    def handle(self, *args, **options):
        run = reminders_send()
        self.stdout.write(f"{run.queued} reminders queued, {run.skipped} already sent")
