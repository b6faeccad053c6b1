"""The 'mailbox:' email backend: mails are kept in the database for the developer to read."""

from django.core.mail.backends.base import BaseEmailBackend


class MailboxBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        from .models import MailboxMessage

        for message in email_messages:
            MailboxMessage.objects.create(
                to=", ".join(message.recipients()),
                from_email=message.from_email,
                subject=message.subject,
                body=message.body,
                message_id=message.extra_headers.get("Message-ID", ""),
            )
        return len(email_messages)
