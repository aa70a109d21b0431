"""Notifying people: a durable row per recipient, then an e-mail sent by a Celery task."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.template.loader import render_to_string

from .models import Notification


def notify_users(
    *,
    users,
    verb: str,
    subject: str,
    template: str,
    context: dict,
    dedupe_key: str,
    organisation=None,
    link: str = "",
) -> list[Notification]:
    """Record a notification for each user once per `dedupe_key`; e-mail them after commit.

    `template` is a text template under templates/emails/; it gets `context` plus
    `recipient` and `link` (absolute).
    """
    from .tasks import send_notification

    absolute_link = f"{settings.SITE_URL.rstrip('/')}{link}" if link.startswith("/") else link
    created = []
    for user in users:
        body = render_to_string(template, {**context, "recipient": user, "link": absolute_link})
        notification, was_created = Notification.objects.get_or_create(
            recipient=user,
            dedupe_key=dedupe_key,
            defaults={
                "organisation": organisation,
                "verb": verb,
                "subject": subject,
                "body": body,
                "link": link,
            },
        )
        if was_created:
            created.append(notification)
            # Robust: a broker outage must not fail the committed work that notifies; the unsent
            # row (sent_at empty) and the logged error say which notification was not queued.
            transaction.on_commit(lambda pk=notification.pk: send_notification.delay(pk), robust=True)
    return created


def people_of(organisation, *, roles=None):
    """The people (not API service accounts) of an organisation who should hear about its work."""
    users = get_user_model().objects.filter(organisation=organisation, is_active=True, is_service_account=False)
    if roles:
        users = users.filter(role__in=roles)
    return users


def notify_organisation(*, organisation, roles=None, **kwargs) -> list[Notification]:
    return notify_users(users=people_of(organisation, roles=roles), organisation=organisation, **kwargs)
