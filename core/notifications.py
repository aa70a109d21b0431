"""Notifying people: a durable row per recipient, then an e-mail sent by a Celery task."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.template.loader import render_to_string

from .bulk import insert_once
from .models import Notification


@dataclass(frozen=True)
class Notice:
    """One notification to each of `users` (or to the people of `organisation` in `roles`)."""

    verb: str
    subject: str
    template: str
    context: dict
    dedupe_key: str
    organisation: object = None
    link: str = ""
    users: object = None
    roles: tuple = ()


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
    notice = Notice(verb, subject, template, context, dedupe_key, organisation=organisation, link=link, users=users)
    return notify_each([notice])


def notify_each(notices: list[Notice]) -> list[Notification]:
    """`notify_users` for many notices at once (an award tells every bidder), in a fixed number of
    queries: the people of the organisations addressed, the notifications already recorded, and
    the new ones written together. Returns the notifications created."""
    recipients = _recipients(notices)
    keys = {(user.pk, notice.dedupe_key) for notice, users in zip(notices, recipients, strict=True) for user in users}
    if not keys:
        return []
    existing = set(
        Notification.objects.filter(
            recipient_id__in={user_id for user_id, _ in keys}, dedupe_key__in={key for _, key in keys}
        ).values_list("recipient_id", "dedupe_key")
    )
    new = {}
    for notice, users in zip(notices, recipients, strict=True):
        absolute_link = f"{settings.SITE_URL.rstrip('/')}{notice.link}" if notice.link.startswith("/") else notice.link
        for user in users:
            key = (user.pk, notice.dedupe_key)
            if key in existing or key in new:
                continue
            body = render_to_string(notice.template, {**notice.context, "recipient": user, "link": absolute_link})
            new[key] = Notification(
                recipient=user,
                dedupe_key=notice.dedupe_key,
                organisation=notice.organisation,
                verb=notice.verb,
                subject=notice.subject,
                body=body,
                link=notice.link,
            )
    created = insert_once(list(new.values()), ("recipient_id", "dedupe_key"))
    for notification in created:
        # Robust: a broker outage must not fail the committed work that notifies; the unsent
        # row (sent_at empty) and the logged error say which notification was not queued.
        transaction.on_commit(lambda pk=notification.pk: _send(pk), robust=True)
    return created


def _send(pk: int) -> None:
    from .tasks import send_notification

    send_notification.delay(pk)


def _recipients(notices: list[Notice]) -> list[list]:
    """Each notice's users: its own, or the people of its organisation (one query for them all)."""
    organisation_ids = {notice.organisation.pk for notice in notices if notice.users is None}
    people: dict = {}
    if organisation_ids:
        for user in people_of_organisations(organisation_ids).order_by("pk"):
            people.setdefault(user.organisation_id, []).append(user)
    return [
        list(notice.users)
        if notice.users is not None
        else [u for u in people.get(notice.organisation.pk, []) if not notice.roles or u.role in notice.roles]
        for notice in notices
    ]


def people_of(organisation, *, roles=None):
    """The people (not API service accounts) of an organisation who should hear about its work."""
    users = people_of_organisations([organisation.pk])
    if roles:
        users = users.filter(role__in=roles)
    return users


def people_of_organisations(organisation_ids):
    return get_user_model().objects.filter(
        organisation_id__in=organisation_ids, is_active=True, is_service_account=False
    )


def notify_organisation(*, organisation, roles=None, **kwargs) -> list[Notification]:
    return notify_users(users=people_of(organisation, roles=roles), organisation=organisation, **kwargs)


def organisation_notice(*, organisation, roles=(), **kwargs) -> Notice:
    """A `Notice` to the people of `organisation` (in `roles`), for `notify_each`."""
    return Notice(organisation=organisation, roles=tuple(roles or ()), **kwargs)
