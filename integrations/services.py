"""Webhook subscriptions and deliveries, and housekeeping of idempotency keys."""

import ipaddress
import json
import socket
import time
import urllib.error
import urllib.request
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.audit import audit_record
from core.bulk import insert_once
from core.errors import ApplicationError, ConflictError, ForbiddenError
from placements.models import Placement

from .models import IdempotencyKey, WebhookAttempt, WebhookDelivery, WebhookEvent, WebhookSubscription
from .permissions import can_manage_webhooks
from .signing import secret_generate, sign_legacy, signature_header

MAX_BACKOFF_SECONDS = 6 * 3600
# After a rotation the old secret signs too for this long, so a receiver can switch without a gap.
SECRET_ROTATION_OVERLAP = timedelta(hours=24)
# Receivers see at most this much of their own error body in our log.
ERROR_EXCERPT_CHARS = 500


def is_private_destination(hostname: str) -> bool:
    """Whether the host resolves to this machine or a private network (webhooks must not reach those)."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(hostname, None)}
    except (socket.gaierror, UnicodeError):
        return False
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not ip.is_global:
            return True
    return False


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ApplicationError("The webhook address must be an http or https URL.", fields={"url": "Enter a URL."})
    if not settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES and is_private_destination(parts.hostname):
        message = "The webhook address must be reachable on the internet, not a private or local network."
        raise ApplicationError(message, code="private_address", fields={"url": message})


def _check_events(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - set(WebhookEvent.Type.values))
    if unknown or not events:
        raise ApplicationError(
            f"Unknown event types: {', '.join(unknown) or 'none given'}.",
            fields={"events": f"Choose from {', '.join(WebhookEvent.Type.values)}."},
        )
    return sorted(set(events))


@transaction.atomic
def webhook_subscription_create(
    *, actor, url: str, events: list[str], description: str = ""
) -> tuple[WebhookSubscription, str]:
    """Subscribe the actor's organisation; returns the subscription and its secret (shown once)."""
    if not can_manage_webhooks(actor):
        raise ForbiddenError("Only commissioners, provider users and API clients manage webhooks.")
    _check_url(url)
    events = _check_events(events)
    secret = secret_generate()
    subscription = WebhookSubscription.objects.create(
        organisation=actor.organisation,
        url=url,
        events=events,
        description=description,
        secret=secret,
        signature_version=WebhookSubscription.SignatureVersion.STANDARD,
        created_by=actor,
    )
    audit_record(
        actor=actor,
        verb="integrations.webhook_subscription.created",
        target=subscription,
        organisation=actor.organisation,
        detail={"url": url, "events": events},
    )
    return subscription, secret


@transaction.atomic
def webhook_subscription_disable(*, actor, subscription: WebhookSubscription) -> WebhookSubscription:
    if not can_manage_webhooks(actor) or subscription.organisation_id != actor.organisation_id:
        raise ForbiddenError("You cannot change this subscription.")
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    if subscription.disabled_at is not None:
        raise ConflictError("This subscription is already switched off.", code="already_disabled")
    subscription.disabled_at = timezone.now()
    subscription.save(update_fields=["disabled_at"])
    audit_record(
        actor=actor,
        verb="integrations.webhook_subscription.disabled",
        target=subscription,
        organisation=subscription.organisation,
    )
    return subscription


@transaction.atomic
def webhook_subscription_secret_rotate(*, actor, subscription: WebhookSubscription) -> tuple[WebhookSubscription, str]:
    """A new Standard Webhooks secret; returns the subscription and the secret (shown once).

    A legacy subscription moves to Standard Webhooks signatures at once (the two formats cannot
    share the header). A standard one signs with both secrets for a day, so the receiver can
    change secrets while deliveries keep verifying.
    """
    if not can_manage_webhooks(actor) or subscription.organisation_id != actor.organisation_id:
        raise ForbiddenError("You cannot change this subscription.")
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    if subscription.disabled_at is not None:
        raise ConflictError("This subscription is switched off.", code="already_disabled")
    was_standard = subscription.signature_version == WebhookSubscription.SignatureVersion.STANDARD
    secret = secret_generate()
    subscription.previous_secret = subscription.secret if was_standard else ""
    subscription.previous_secret_expires_at = timezone.now() + SECRET_ROTATION_OVERLAP if was_standard else None
    subscription.secret = secret
    subscription.signature_version = WebhookSubscription.SignatureVersion.STANDARD
    subscription.save(update_fields=["secret", "signature_version", "previous_secret", "previous_secret_expires_at"])
    audit_record(
        actor=actor,
        verb="integrations.webhook_subscription.secret_rotated",
        target=subscription,
        organisation=subscription.organisation,
        detail={"from_legacy": not was_standard},
    )
    return subscription, secret


def webhook_signature_headers(*, subscription: WebhookSubscription, message_id: str, body: bytes) -> dict:
    """The signature headers of one attempt, in the subscription's signature version."""
    timestamp = int(time.time())
    if subscription.signature_version == WebhookSubscription.SignatureVersion.LEGACY:
        return {
            "Webhook-Id": message_id,
            "Webhook-Timestamp": str(timestamp),
            "Webhook-Signature": sign_legacy(secret=subscription.secret, timestamp=timestamp, body=body),
        }
    secrets_in_use = [subscription.secret]
    expires = subscription.previous_secret_expires_at
    if subscription.previous_secret and expires is not None and expires > timezone.now():
        secrets_in_use.append(subscription.previous_secret)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(
            secrets_in_use=secrets_in_use, message_id=message_id, timestamp=timestamp, body=body
        ),
    }


def webhook_event_record(*, event: str, organisation, payload: dict, dedupe_key: str) -> WebhookEvent:
    """Record the event once per organisation and dedupe key; queue deliveries after commit."""
    return webhook_events_record(event=event, items=[(organisation, payload, dedupe_key)])[0]


def webhook_events_record(*, event: str, items: list[tuple]) -> list[WebhookEvent]:
    """`event` for each (organisation, payload, dedupe key) of `items`, recorded once per organisation
    and key, with its deliveries queued after commit: in a fixed number of queries however many
    organisations hear of it (a tender's close tells every bidding provider). Returns the events
    in the order of `items`, each the one recorded before if it was."""
    if event not in WebhookEvent.Type.values:
        raise ValueError(f"Unknown webhook event type {event!r}")
    keys = {(organisation.pk, dedupe_key) for organisation, _, dedupe_key in items}
    with transaction.atomic():
        found = _webhook_events_recorded(keys)
        new = {}
        for organisation, payload, dedupe_key in items:
            if (organisation.pk, dedupe_key) not in found and (organisation.pk, dedupe_key) not in new:
                new[(organisation.pk, dedupe_key)] = WebhookEvent(
                    organisation=organisation,
                    dedupe_key=dedupe_key,
                    type=event,
                    payload=json.loads(json.dumps(payload, cls=DjangoJSONEncoder)),
                )
        created = insert_once(list(new.values()), ("organisation_id", "dedupe_key"))
        _deliveries_queue(event, created)
        found.update({(record.organisation_id, record.dedupe_key): record for record in created})
        if len(found) < len(keys):
            # Recorded by another transaction since they were read: theirs stands.
            found.update(_webhook_events_recorded(keys - set(found)))
    return [found[(organisation.pk, dedupe_key)] for organisation, _, dedupe_key in items]


def _webhook_events_recorded(keys: set[tuple]) -> dict[tuple, WebhookEvent]:
    """The events already recorded under these (organisation id, dedupe key) pairs, by pair."""
    if not keys:
        return {}
    recorded = WebhookEvent.objects.filter(
        organisation_id__in={pk for pk, _ in keys}, dedupe_key__in={key for _, key in keys}
    )
    return {
        (event.organisation_id, event.dedupe_key): event
        for event in recorded
        if (event.organisation_id, event.dedupe_key) in keys
    }


def _deliveries_queue(event: str, records: list[WebhookEvent]) -> None:
    """A delivery of each new event to each of its organisation's live subscriptions to it."""
    from .tasks import deliver_webhook

    if not records:
        return
    by_organisation: dict = {}
    for record in records:
        by_organisation.setdefault(record.organisation_id, []).append(record)
    subscriptions = WebhookSubscription.objects.filter(
        organisation_id__in=by_organisation, disabled_at__isnull=True, events__contains=[event]
    )
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(event=record, subscription=subscription, attempts_left=settings.WEBHOOK_MAX_ATTEMPTS)
        for subscription in subscriptions
        for record in by_organisation[subscription.organisation_id]
    )
    for delivery in deliveries:
        # Robust: a broker outage must not fail the committed work that emits the event; the
        # delivery stays pending, as the deliveries list shows, and the logged error names it.
        transaction.on_commit(lambda pk=delivery.pk: deliver_webhook.delay(pk), robust=True)


def webhook_body(event: WebhookEvent) -> bytes:
    envelope = {
        "id": f"evt_{event.pk}",
        "type": event.type,
        "created_at": event.created_at.isoformat(),
        "organisation": event.organisation.slug,
        "data": event.payload,
    }
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True).encode()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A receiver answers itself: a redirect counts as a failed attempt, never followed."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _post(url: str, body: bytes, headers: dict) -> tuple[int | None, str]:
    """Send one delivery; returns the status code (None if no answer) and an error text."""
    # Checked again at each attempt: the name may resolve elsewhere than when subscribing.
    if not settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES and is_private_destination(urlsplit(url).hostname or ""):
        return None, "Refused: the address resolves to a private or local network."
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (http(s) only, checked on subscribe)
    try:
        with _opener.open(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
            return response.status, ""
    except urllib.error.HTTPError as error:
        excerpt = error.read(ERROR_EXCERPT_CHARS).decode("utf-8", "replace")
        return error.code, f"HTTP {error.code}: {excerpt}".strip()
    except (urllib.error.URLError, OSError) as error:
        return None, str(getattr(error, "reason", error))


def backoff_seconds(attempt_number: int) -> float:
    return min(settings.WEBHOOK_BACKOFF_BASE_SECONDS * 2 ** (attempt_number - 1), MAX_BACKOFF_SECONDS)


def webhook_delivery_attempt(*, delivery_id: int) -> WebhookDelivery | None:
    """Make one attempt if the delivery is due; schedule the next one with exponential backoff.

    The claim is a conditional UPDATE, so a task that runs twice sends once. The HTTP call
    happens outside any transaction: a slow receiver holds no database lock.
    """
    from .tasks import deliver_webhook

    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING]
    ).update(status=WebhookDelivery.Status.SENDING, attempt_count=F("attempt_count") + 1)
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("event__organisation", "subscription").get(pk=delivery_id)
    subscription = delivery.subscription
    if not subscription.is_active:
        delivery.status = WebhookDelivery.Status.FAILED
        delivery.save(update_fields=["status"])
        return delivery
    body = webhook_body(delivery.event)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"{settings.SERVICE_NAME} webhooks",
        "Webhook-Event": delivery.event.type,
        # The event's id, the same on every retry and redelivery, so receivers can drop repeats.
        **webhook_signature_headers(subscription=subscription, message_id=f"evt_{delivery.event_id}", body=body),
    }
    attempted_at = timezone.now()
    started = time.monotonic()
    status_code, error = _post(subscription.url, body, headers)
    duration_ms = int((time.monotonic() - started) * 1000)
    succeeded = status_code is not None and 200 <= status_code < 300
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempt_count,
            manual=delivery.manual,
            status_code=status_code,
            error=error,
            succeeded=succeeded,
            duration_ms=duration_ms,
            attempted_at=attempted_at,
        )
        delivery.attempts_left = max(delivery.attempts_left - 1, 0)
        if succeeded:
            delivery.status = WebhookDelivery.Status.SUCCEEDED
            delivery.delivered_at = timezone.now()
            delivery.next_attempt_at = None
        elif delivery.attempts_left > 0:
            delay = backoff_seconds(delivery.attempt_count)
            delivery.status = WebhookDelivery.Status.RETRYING
            delivery.next_attempt_at = timezone.now() + timedelta(seconds=delay)
            transaction.on_commit(lambda: deliver_webhook.apply_async((delivery.pk,), countdown=delay))
        else:
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.next_attempt_at = None
        delivery.save(update_fields=["status", "attempts_left", "delivered_at", "next_attempt_at"])
    return delivery


@transaction.atomic
def webhook_delivery_redeliver(*, actor, delivery: WebhookDelivery) -> WebhookDelivery:
    """A person (or client) asks for one more attempt of a finished delivery."""
    from .tasks import deliver_webhook

    if not can_manage_webhooks(actor) or delivery.subscription.organisation_id != actor.organisation_id:
        raise ForbiddenError("You cannot redeliver this webhook.")
    claimed = WebhookDelivery.objects.filter(
        pk=delivery.pk, status__in=[WebhookDelivery.Status.SUCCEEDED, WebhookDelivery.Status.FAILED]
    ).update(status=WebhookDelivery.Status.PENDING, attempts_left=1, manual=True, next_attempt_at=None)
    if not claimed:
        raise ConflictError("This delivery is already being sent or waiting to retry.", code="delivery_in_progress")
    delivery.refresh_from_db()
    audit_record(
        actor=actor,
        verb="integrations.webhook_delivery.redelivered",
        target=delivery,
        organisation=delivery.subscription.organisation,
    )
    transaction.on_commit(lambda: deliver_webhook.delay(delivery.pk))
    return delivery


def idempotency_keys_purge(*, older_than: timedelta) -> int:
    """Forget idempotency keys after their retention period; returns how many were removed."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted


def placement_started_events_emit(*, today, lookback_days: int = 7) -> int:
    """Emit `placement.started` for placements whose start date has come, once each.

    Runs on a schedule: a placement starts on its date whether or not anyone touches it.
    Imported history is not announced; the look-back covers days the scheduler missed.
    """
    from .events import placement_started  # events builds on this module

    placements = list(
        Placement.objects.live()
        .filter(start_date__lte=today, start_date__gte=today - timedelta(days=lookback_days))
        .exclude(source=Placement.Source.IMPORTED)
        .select_related("commissioner", "care_home__provider", "lot")
    )
    announced = set(
        WebhookEvent.objects.filter(
            type=WebhookEvent.Type.PLACEMENT_STARTED,
            dedupe_key__in=[f"placement.started:{placement.pk}" for placement in placements],
        ).values_list("dedupe_key", flat=True)
    )
    count = 0
    for placement in placements:
        if f"placement.started:{placement.pk}" in announced:
            continue
        with transaction.atomic():
            placement_started(placement)
        count += 1
    return count
