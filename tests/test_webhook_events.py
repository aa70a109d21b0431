"""The services of tendering and of the DPS emit webhook events as things happen."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bidding.models import Tender
from bidding.services import bid_submit, tender_award, tender_close_and_evaluate, tender_publish
from integrations.models import WebhookDelivery, WebhookEvent
from integrations.services import webhook_subscription_create
from providers.models import Admission
from providers.services import admission_reinstate, admission_suspend
from quality.models import RatingValue

from .factories import PlacementRequestFactory, admitted_home

pytestmark = pytest.mark.django_db

ALL_EVENTS = list(WebhookEvent.Type.values)


def events_for(organisation) -> dict[str, dict]:
    return {e.type: e.payload for e in WebhookEvent.objects.filter(organisation=organisation)}


def test_a_tender_from_publication_to_award_emits_each_event_once(
    council_a, broker_a, commissioner_a, provider_a, provider_b, provider_user_a, provider_user_b
):
    webhook_subscription_create(actor=commissioner_a, url="https://council.example/h", events=ALL_EVENTS)
    webhook_subscription_create(actor=provider_user_a, url="https://provider.example/h", events=ALL_EVENTS)
    home_a = admitted_home(council_a, provider=provider_a, rating=RatingValue.GOOD, name="Good A")
    home_b = admitted_home(council_a, provider=provider_b, rating=RatingValue.GOOD, name="Good B")
    request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a, max_weekly_rate=Decimal("900.00"))

    tender = tender_publish(actor=broker_a, request=request)
    for user, home, fee in ((provider_user_a, home_a, "850.00"), (provider_user_b, home_b, "1234.56")):
        bid_submit(
            actor=user,
            tender=tender,
            care_home=home,
            weekly_fee=Decimal(fee),
            earliest_start=timezone.localdate() + timedelta(days=2),
            needs_confirmed=True,
        )
    published = events_for(council_a)["placement_request.published"]
    assert "1234.56" not in json.dumps(published)
    assert "CASE" not in json.dumps(events_for(provider_a)["placement_request.published"])

    Tender.objects.filter(pk=tender.pk).update(
        opened_at=timezone.now() - timedelta(hours=3), closes_at=timezone.now() - timedelta(seconds=1)
    )
    tender_close_and_evaluate(tender_id=tender.pk)
    tender.refresh_from_db()
    winner = tender.bids.get(care_home=home_a)
    tender_award(actor=broker_a, tender=tender, bid=winner)
    tender_close_and_evaluate(tender_id=tender.pk)

    council_events = events_for(council_a)
    assert set(council_events) == {
        "placement_request.published",
        "tender.closed",
        "tender.evaluated",
        "tender.awarded",
    }
    assert WebhookEvent.objects.filter(organisation=council_a).count() == 4
    assert council_events["tender.closed"]["tender"]["bid_count"] == 2
    assert "1234.56" not in json.dumps(council_events)
    assert council_events["tender.awarded"]["award"]["care_home"]["name"] == "Good A"
    assert "tender.awarded" in events_for(provider_a)
    assert "tender.awarded" not in events_for(provider_b)
    assert WebhookDelivery.objects.filter(subscription__organisation=council_a).count() == 4


def test_suspension_and_reinstatement_reach_the_council_and_the_provider(
    council_a, commissioner_a, provider_a, provider_user_a
):
    webhook_subscription_create(
        actor=commissioner_a, url="https://council.example/h", events=["care_home.suspended", "care_home.reinstated"]
    )
    home = admitted_home(council_a, provider=provider_a, rating=RatingValue.GOOD, name="Good A")
    admission = Admission.objects.get(care_home=home)

    admission_suspend(actor=commissioner_a, admission=admission, reason="Safeguarding concern about a resident")
    admission_reinstate(actor=commissioner_a, admission=admission, reason="Resolved")

    for organisation in (council_a, provider_a):
        events = events_for(organisation)
        assert set(events) == {"care_home.suspended", "care_home.reinstated"}
        assert events["care_home.suspended"]["care_home"]["id"] == home.pk
        assert "resident" not in json.dumps(events)
    assert WebhookDelivery.objects.count() == 2


def test_placement_started_is_announced_once_when_its_start_date_comes(
    council_a, broker_a, provider_a, provider_user_a
):
    from integrations.services import placement_started_events_emit

    from .factories import CareHomeFactory
    from .integration_data import awarded_tender

    home = CareHomeFactory(provider=provider_a)
    tender = awarded_tender(commissioner=council_a, broker=broker_a, home=home, provider_user=provider_user_a)
    start = tender.request.placement.start_date

    assert placement_started_events_emit(today=start - timedelta(days=1)) == 0
    assert placement_started_events_emit(today=start) == 1
    assert placement_started_events_emit(today=start + timedelta(days=1)) == 0

    for organisation in (council_a, provider_a):
        payload = events_for(organisation)["placement.started"]
        assert payload["placement"]["start_date"] == str(start)
        assert payload["placement"]["case_reference"] == "CASE-000123"
        assert "top_up_payer" not in json.dumps(payload)
