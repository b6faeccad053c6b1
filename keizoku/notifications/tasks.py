"""Background tasks of the notifications app (run by the django-tasks-db worker)."""

from django.tasks import task

from . import services


@task(queue_name="mail")
def deliver_mail(mail_id: int) -> None:
    services.mail_deliver(mail_id=mail_id)


@task(queue_name="mail")
def deliver_mails(mail_ids: list[int]) -> None:
    services.mail_deliver_many(mail_ids=mail_ids)
