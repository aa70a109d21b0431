"""Webhooks: signed deliveries, retried with backoff, logged, redelivered on request."""

import base64
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from bidding.models import Tender
from core.models import AuditEvent
from integrations import signing
from integrations.events import award_payload, emit, tender_payload
from integrations.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from integrations.services import webhook_delivery_attempt, webhook_subscription_create
from integrations.signing import verify

from .factories import CareHomeFactory
from .integration_data import awarded_tender, bid, open_tender, placement_request


class Receiver:
    """A real HTTP endpoint on 127.0.0.1 that fails a set number of times, then accepts."""

    def __init__(self, failures: int):
        self.failures = failures
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                failing = len(receiver.requests) <= receiver.failures
                self.send_response(503 if failing else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/placements"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_receiver_failing_twice_gets_one_signed_delivery_and_the_log_shows_three_attempts(
    celery_worker, settings, council_a, commissioner_a
):
    settings.WEBHOOK_BACKOFF_BASE_SECONDS = 0.2
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    with Receiver(failures=2) as receiver:
        subscription, secret = webhook_subscription_create(
            actor=commissioner_a, url=receiver.url, events=["tender.awarded"]
        )
        with transaction.atomic():
            emit(
                event="tender.awarded",
                organisation=council_a,
                payload={"tender": {"id": 7, "case_reference": "CASE-7"}},
                dedupe_key="tender.awarded:7",
            )
        delivery = WebhookDelivery.objects.get(subscription=subscription)
        assert wait_for(lambda: WebhookDelivery.objects.get(pk=delivery.pk).status == "succeeded")

    delivery.refresh_from_db()
    attempts = list(delivery.attempts.order_by("number"))
    assert [(a.number, a.status_code, a.succeeded) for a in attempts] == [
        (1, 503, False),
        (2, 503, False),
        (3, 204, True),
    ]
    assert all(a.attempted_at for a in attempts)
    assert "503" in attempts[0].error
    assert len(receiver.requests) == 3
    accepted = receiver.requests[-1]
    # Every attempt verifies with the Standard Webhooks library and carries the same message id.
    for attempt in receiver.requests:
        assert Webhook(secret).verify(attempt["body"], attempt["headers"]) == json.loads(attempt["body"])
        assert verify(secret=secret, headers=attempt["headers"], body=attempt["body"])
    assert {attempt["headers"]["Webhook-Id"] for attempt in receiver.requests} == {f"evt_{delivery.event_id}"}
    assert accepted["headers"]["Webhook-Signature"].startswith("v1,")
    tampered = accepted["body"].replace(b"CASE-7", b"CASE-8")
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(tampered, accepted["headers"])
    assert not verify(secret=secret, headers=accepted["headers"], body=tampered)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.secret_generate()).verify(accepted["body"], accepted["headers"])
    envelope = json.loads(accepted["body"])
    assert envelope["type"] == "tender.awarded"
    assert envelope["data"] == {"tender": {"id": 7, "case_reference": "CASE-7"}}
    # The backoff doubles: the second wait is at least twice the first.
    gap_1 = (attempts[1].attempted_at - attempts[0].attempted_at).total_seconds()
    gap_2 = (attempts[2].attempted_at - attempts[1].attempted_at).total_seconds()
    assert gap_1 >= 0.2
    assert gap_2 >= 0.4


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_delivery_gives_up_after_the_last_attempt_and_can_be_redelivered(
    celery_worker, settings, council_a, commissioner_a, as_user
):
    settings.WEBHOOK_BACKOFF_BASE_SECONDS = 0.1
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    with Receiver(failures=2) as receiver:
        subscription, _ = webhook_subscription_create(actor=commissioner_a, url=receiver.url, events=["tender.closed"])
        with transaction.atomic():
            emit(event="tender.closed", organisation=council_a, payload={"tender": {"id": 1}}, dedupe_key="closed:1")
        delivery = WebhookDelivery.objects.get(subscription=subscription)
        assert wait_for(lambda: WebhookDelivery.objects.get(pk=delivery.pk).status == "failed")

        response = as_user(commissioner_a).post(f"/api/v1/webhooks/deliveries/{delivery.pk}/redeliver/")
        assert response.status_code == 202
        assert wait_for(lambda: WebhookDelivery.objects.get(pk=delivery.pk).status == "succeeded")

    attempts = list(delivery.attempts.order_by("number"))
    assert [(a.status_code, a.manual) for a in attempts] == [(503, False), (503, False), (204, True)]
    assert AuditEvent.objects.filter(verb="integrations.webhook_delivery.redelivered").count() == 1


@pytest.mark.django_db
def test_an_event_is_recorded_once_per_dedupe_key_and_only_for_matching_subscriptions(
    council_a, council_b, commissioner_a, commissioner_b
):
    awarded, _ = webhook_subscription_create(actor=commissioner_a, url="https://a.example/h", events=["tender.awarded"])
    webhook_subscription_create(actor=commissioner_a, url="https://a.example/c", events=["tender.closed"])
    webhook_subscription_create(actor=commissioner_b, url="https://b.example/h", events=["tender.awarded"])

    for _ in range(2):
        emit(event="tender.awarded", organisation=council_a, payload={"tender": {"id": 1}}, dedupe_key="award:1")

    assert WebhookEvent.objects.count() == 1
    assert list(WebhookDelivery.objects.values_list("subscription", flat=True)) == [awarded.pk]


@pytest.mark.django_db
def test_payload_with_personal_data_is_refused(council_a):
    with pytest.raises(ValueError, match="needs_summary"):
        emit(
            event="placement_request.published",
            organisation=council_a,
            payload={"placement_request": {"id": 1, "needs_summary": "Has dementia"}},
            dedupe_key="published:1",
        )


@pytest.mark.django_db
def test_tender_payload_never_carries_bid_amounts_and_counts_bids_only_after_close(
    council_a, broker_a, provider_user_a
):
    home = CareHomeFactory(provider=provider_user_a.organisation)
    request = placement_request(commissioner=council_a, created_by=broker_a)
    tender = open_tender(request=request, created_by=broker_a, homes=[home])
    bid(tender=tender, home=home, weekly_fee="1234.56", submitted_by=provider_user_a)

    open_payload = json.dumps(tender_payload(tender), default=str)
    assert "1234.56" not in open_payload
    assert "bid_count" not in open_payload
    assert "needs_summary" not in open_payload and "mobility" not in open_payload

    Tender.objects.filter(pk=tender.pk).update(status=Tender.Status.CLOSED, closed_at=tender.closes_at)
    tender.refresh_from_db()
    closed = tender_payload(tender)
    assert closed["tender"]["bid_count"] == 1
    assert "1234.56" not in json.dumps(closed, default=str)


@pytest.mark.django_db
def test_award_payload_names_the_home_and_fee_but_not_the_person(council_a, broker_a, provider_user_a):
    home = CareHomeFactory(provider=provider_user_a.organisation)
    tender = awarded_tender(commissioner=council_a, broker=broker_a, home=home, provider_user=provider_user_a)

    payload = award_payload(tender.award)
    text = json.dumps(payload, default=str)
    assert payload["award"]["care_home"]["name"] == home.name
    assert payload["tender"]["case_reference"] == "CASE-000123"
    assert "mobility" not in text and "Room 4" not in text


@pytest.mark.django_db
def test_subscription_api_shows_the_secret_once(api_as, council_a):
    system = api_as(council_a, scopes=["read", "webhooks"])
    created = system.post(
        "/api/v1/webhooks/subscriptions/", {"url": "https://case.example.org/h", "events": ["tender.awarded"]}
    )
    assert created.status_code == 201
    assert created["Location"].startswith("http")
    assert created.json()["secret"].startswith("whsec_")

    listed = system.get("/api/v1/webhooks/subscriptions/").json()["results"]
    detail = system.get(f"/api/v1/webhooks/subscriptions/{created.json()['id']}/").json()
    assert "secret" not in listed[0]
    assert "secret" not in detail


@pytest.mark.django_db
def test_an_organisation_never_sees_another_organisations_subscriptions_or_deliveries(
    api_as, council_a, council_b, commissioner_a
):
    subscription, _ = webhook_subscription_create(
        actor=commissioner_a, url="https://a.example/h", events=["tender.awarded"]
    )
    emit(event="tender.awarded", organisation=council_a, payload={"tender": {"id": 1}}, dedupe_key="a:1")
    delivery = WebhookDelivery.objects.get()
    other = api_as(council_b, scopes=["read", "webhooks"])

    assert other.get(f"/api/v1/webhooks/subscriptions/{subscription.pk}/").status_code == 404
    assert other.get(f"/api/v1/webhooks/deliveries/{delivery.pk}/").status_code == 404
    assert other.post(f"/api/v1/webhooks/deliveries/{delivery.pk}/redeliver/").status_code == 404
    assert other.get("/api/v1/webhooks/deliveries/").json()["results"] == []


@pytest.mark.django_db
def test_clients_without_the_webhooks_scope_cannot_manage_webhooks(api_as, council_a):
    reader = api_as(council_a, scopes=["read", "placement-requests"])

    assert reader.get("/api/v1/webhooks/subscriptions/").status_code == 403


@pytest.mark.django_db
def test_published_request_reaches_invited_providers_without_the_case_reference(
    council_a, broker_a, commissioner_a, provider_a, provider_b, provider_user_a
):
    from integrations import events
    from organisations.models import Role

    from .factories import UserFactory

    provider_user_b = UserFactory(organisation=provider_b, role=Role.PROVIDER)
    webhook_subscription_create(actor=commissioner_a, url="https://a.example/h", events=["placement_request.published"])
    webhook_subscription_create(
        actor=provider_user_a, url="https://p.example/h", events=["placement_request.published"]
    )
    webhook_subscription_create(
        actor=provider_user_b, url="https://q.example/h", events=["placement_request.published"]
    )
    home_a = CareHomeFactory(provider=provider_a)
    tender = open_tender(
        request=placement_request(commissioner=council_a, created_by=broker_a), created_by=broker_a, homes=[home_a]
    )

    events.placement_request_published(tender)
    events.placement_request_published(tender)

    by_org = {e.organisation_id: e.payload for e in WebhookEvent.objects.all()}
    assert set(by_org) == {council_a.pk, provider_a.pk}
    assert by_org[council_a.pk]["tender"]["case_reference"] == "CASE-000123"
    assert "CASE-000123" not in json.dumps(by_org[provider_a.pk])
    assert WebhookDelivery.objects.count() == 2


@pytest.mark.django_db
def test_award_event_reaches_the_council_and_the_winning_provider(
    council_a, broker_a, commissioner_a, provider_a, provider_user_a
):
    from integrations import events

    home = CareHomeFactory(provider=provider_a)
    tender = awarded_tender(commissioner=council_a, broker=broker_a, home=home, provider_user=provider_user_a)

    events.tender_awarded(tender.award)

    assert set(WebhookEvent.objects.values_list("organisation", flat=True)) == {council_a.pk, provider_a.pk}
    assert all(e.type == "tender.awarded" for e in WebhookEvent.objects.all())


@pytest.mark.django_db
def test_webhooks_to_local_or_private_addresses_are_refused(api_as, council_a, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    system = api_as(council_a, scopes=["read", "webhooks"])

    for url in ("http://127.0.0.1:8000/h", "http://10.1.2.3/h", "http://[::1]/h", "http://localhost/h"):
        response = system.post("/api/v1/webhooks/subscriptions/", {"url": url, "events": ["tender.closed"]})
        assert response.status_code == 400, url
        assert response.json()["code"] == "private_address"


def _deliver_once(receiver, organisation, key: str) -> dict:
    """Record an event and make its delivery's attempt now; returns what the receiver got."""
    emit(event="tender.closed", organisation=organisation, payload={"tender": {"id": 3}}, dedupe_key=key)
    delivery = WebhookDelivery.objects.get(event__dedupe_key=key)
    webhook_delivery_attempt(delivery_id=delivery.pk)
    return receiver.requests[-1]


@pytest.mark.django_db
def test_secrets_are_standard_webhooks_secrets_of_random_bytes(commissioner_a):
    _, secret = webhook_subscription_create(actor=commissioner_a, url="https://a.example/h", events=["tender.closed"])
    _, other = webhook_subscription_create(actor=commissioner_a, url="https://a.example/i", events=["tender.closed"])

    assert secret.startswith("whsec_") and secret != other
    assert 24 <= len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) <= 64


@pytest.mark.django_db
def test_a_legacy_subscription_is_signed_as_before_until_it_rotates_to_standard_webhooks(
    settings, council_a, commissioner_a, api_as
):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    with Receiver(failures=0) as receiver:
        subscription, old_secret = webhook_subscription_create(
            actor=commissioner_a, url=receiver.url, events=["tender.closed"]
        )
        # As the migration leaves every subscription made before Standard Webhooks.
        WebhookSubscription.objects.filter(pk=subscription.pk).update(signature_version="legacy")

        legacy = _deliver_once(receiver, council_a, "closed:legacy")
        timestamp = int(legacy["headers"]["Webhook-Timestamp"])
        assert legacy["headers"]["Webhook-Signature"] == signing.sign_legacy(
            secret=old_secret, timestamp=timestamp, body=legacy["body"]
        )
        # The library cannot even read a legacy signature.
        with pytest.raises((WebhookVerificationError, ValueError)):
            Webhook(old_secret).verify(legacy["body"], legacy["headers"])

        system = api_as(council_a, scopes=["read", "webhooks"])
        rotated = system.post(f"/api/v1/webhooks/subscriptions/{subscription.pk}/rotate-secret/")
        assert rotated.status_code == 200
        assert rotated.json()["signature_version"] == "standard"
        new_secret = rotated.json()["secret"]
        assert new_secret != old_secret
        assert AuditEvent.objects.filter(verb="integrations.webhook_subscription.secret_rotated").count() == 1

        standard = _deliver_once(receiver, council_a, "closed:standard")

    assert Webhook(new_secret).verify(standard["body"], standard["headers"])["type"] == "tender.closed"
    assert len(standard["headers"]["Webhook-Signature"].split()) == 1, "a legacy secret does not sign standard"


@pytest.mark.django_db
def test_after_a_rotation_both_secrets_verify_for_a_day(settings, council_a, commissioner_a, api_as):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    with Receiver(failures=0) as receiver:
        subscription, old_secret = webhook_subscription_create(
            actor=commissioner_a, url=receiver.url, events=["tender.closed"]
        )
        system = api_as(council_a, scopes=["read", "webhooks"])
        new_secret = system.post(f"/api/v1/webhooks/subscriptions/{subscription.pk}/rotate-secret/").json()["secret"]

        overlap = _deliver_once(receiver, council_a, "closed:overlap")
        WebhookSubscription.objects.filter(pk=subscription.pk).update(
            previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
        )
        after = _deliver_once(receiver, council_a, "closed:after")

    assert len(overlap["headers"]["Webhook-Signature"].split(" ")) == 2
    for secret in (old_secret, new_secret):
        assert Webhook(secret).verify(overlap["body"], overlap["headers"])
    assert Webhook(new_secret).verify(after["body"], after["headers"])
    with pytest.raises(WebhookVerificationError):
        Webhook(old_secret).verify(after["body"], after["headers"])


@pytest.mark.django_db
def test_only_the_subscription_s_own_organisation_rotates_its_secret(api_as, council_b, commissioner_a):
    subscription, secret = webhook_subscription_create(
        actor=commissioner_a, url="https://a.example/h", events=["tender.closed"]
    )

    response = api_as(council_b, scopes=["read", "webhooks"]).post(
        f"/api/v1/webhooks/subscriptions/{subscription.pk}/rotate-secret/"
    )

    assert response.status_code == 404
    subscription.refresh_from_db()
    assert subscription.secret == secret
