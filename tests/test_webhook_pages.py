"""Webhook pages: subscribe with the secret shown once, read the delivery log, redeliver."""

import pytest

from core.models import AuditEvent
from integrations.events import emit
from integrations.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from integrations.services import webhook_subscription_create

pytestmark = pytest.mark.django_db


def test_commissioner_subscribes_and_sees_the_secret_once(as_user, commissioner_a):
    web = as_user(commissioner_a)

    created = web.post(
        "/integrations/webhooks/new/", {"url": "https://case.example.org/hooks", "events": ["tender.awarded"]}
    )

    assert created.status_code == 302
    page = web.get(created["Location"])
    assert page.status_code == 200
    subscription = WebhookSubscription.objects.get()
    assert subscription.secret.encode() in page.content
    detail = web.get(f"/integrations/webhooks/{subscription.pk}/")
    listing = web.get("/integrations/webhooks/")
    assert subscription.secret.encode() not in detail.content, "the secret is shown once: a reload hides it"
    assert WebhookSubscription.objects.count() == 1
    assert subscription.secret.encode() not in listing.content
    assert b"https://case.example.org/hooks" in listing.content


def test_delivery_page_shows_each_attempt_and_redelivers(as_user, council_a, commissioner_a):
    from django.utils import timezone

    webhook_subscription_create(actor=commissioner_a, url="https://case.example.org/h", events=["tender.closed"])
    emit(event="tender.closed", organisation=council_a, payload={"tender": {"id": 3}}, dedupe_key="closed:3")
    delivery = WebhookDelivery.objects.get()
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=1,
        status_code=503,
        error="HTTP 503: busy",
        succeeded=False,
        attempted_at=timezone.now(),
    )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed", attempt_count=1, attempts_left=0)
    web = as_user(commissioner_a)

    page = web.get(f"/integrations/webhooks/deliveries/{delivery.pk}/")
    assert b"HTTP 503: busy" in page.content
    csv = b"".join(web.get(f"/integrations/webhooks/deliveries/{delivery.pk}/?format=csv").streaming_content)
    assert b"503" in csv

    web.post(f"/integrations/webhooks/deliveries/{delivery.pk}/")

    delivery.refresh_from_db()
    assert delivery.status == "pending"
    assert delivery.manual is True


def test_other_organisations_and_brokers_cannot_see_webhooks(as_user, commissioner_a, commissioner_b, broker_a):
    subscription, _ = webhook_subscription_create(
        actor=commissioner_a, url="https://case.example.org/h", events=["tender.closed"]
    )

    assert as_user(commissioner_b).get(f"/integrations/webhooks/{subscription.pk}/").status_code == 404
    assert as_user(broker_a).get("/integrations/webhooks/").status_code == 403


def test_a_new_signing_secret_is_made_after_a_confirmation_and_shown_once(as_user, commissioner_a, commissioner_b):
    subscription, first = webhook_subscription_create(
        actor=commissioner_a, url="https://case.example.org/h", events=["tender.closed"]
    )
    web = as_user(commissioner_a)
    path = f"/integrations/webhooks/{subscription.pk}/new-secret/"
    assert path.encode() in web.get(f"/integrations/webhooks/{subscription.pk}/").content

    confirm = web.get(path)
    assert b"Make a new signing secret?" in confirm.content and b"carries a signature" in confirm.content
    subscription.refresh_from_db()
    assert subscription.secret == first, "showing the confirmation changes nothing"

    made = web.post(path)

    assert made.status_code == 302 and made["Location"] == f"/integrations/webhooks/{subscription.pk}/"
    subscription.refresh_from_db()
    assert subscription.secret != first and subscription.previous_secret == first
    shown = web.get(made["Location"])
    assert b"New signing secret made" in shown.content and subscription.secret.encode() in shown.content
    assert subscription.secret.encode() not in web.get(made["Location"]).content, "a reload hides it"
    assert AuditEvent.objects.filter(verb="integrations.webhook_subscription.secret_rotated").count() == 1
    # Another body's commissioner finds no such webhook; nothing changes.
    assert as_user(commissioner_b).post(path).status_code == 404
    assert WebhookSubscription.objects.get().secret == subscription.secret


def test_a_switched_off_webhook_gets_no_new_secret(as_user, commissioner_a):
    subscription, first = webhook_subscription_create(
        actor=commissioner_a, url="https://case.example.org/h", events=["tender.closed"]
    )
    web = as_user(commissioner_a)
    web.post(f"/integrations/webhooks/{subscription.pk}/switch-off/")

    refused = web.post(f"/integrations/webhooks/{subscription.pk}/new-secret/", follow=True)

    assert b"This subscription is switched off." in refused.content
    assert WebhookSubscription.objects.get().secret == first
