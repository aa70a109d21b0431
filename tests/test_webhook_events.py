"""The services of tendering and of the DPS emit webhook events as things happen."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bidding.models import Tender
from bidding.services import (
    bid_submit,
    placement_request_cancel,
    tender_award,
    tender_close_and_evaluate,
    tender_publish,
)
from core.models import Notification
from integrations.models import WebhookDelivery, WebhookEvent
from integrations.services import webhook_subscription_create
from organisations.models import Role
from providers.models import Admission
from providers.services import admission_reinstate, admission_suspend
from quality.models import RatingValue

from .factories import PlacementRequestFactory, ProviderOrganisationFactory, UserFactory, admitted_home

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


def _bid(user, tender, home, fee: str):
    return bid_submit(
        actor=user,
        tender=tender,
        care_home=home,
        weekly_fee=Decimal(fee),
        earliest_start=timezone.localdate() + timedelta(days=2),
        needs_confirmed=True,
    )


def _past_deadline(tender) -> None:
    Tender.objects.filter(pk=tender.pk).update(
        opened_at=timezone.now() - timedelta(hours=3), closes_at=timezone.now() - timedelta(seconds=1)
    )


def test_every_bidder_hears_its_own_outcome_and_no_other_provider_hears_about_it(
    council_a, broker_a, provider_a, provider_b, provider_user_a, provider_user_b
):
    provider_c = ProviderOrganisationFactory(name="Dovedale Care Ltd", slug="provider-c")
    user_c = UserFactory(organisation=provider_c, role=Role.PROVIDER, email="user@provider-c.example")
    subscriptions = {
        organisation: webhook_subscription_create(
            actor=user, url=f"https://{organisation.slug}.example/h", events=ALL_EVENTS
        )[0]
        for organisation, user in ((provider_a, provider_user_a), (provider_b, provider_user_b), (provider_c, user_c))
    }
    home_a = admitted_home(council_a, provider=provider_a, rating=RatingValue.GOOD, name="Good A")
    home_b = admitted_home(council_a, provider=provider_b, rating=RatingValue.GOOD, name="Good B")
    admitted_home(council_a, provider=provider_c, rating=RatingValue.GOOD, name="Good C")
    request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a, max_weekly_rate=Decimal("1300.00"))
    tender = tender_publish(actor=broker_a, request=request)
    winning = _bid(provider_user_a, tender, home_a, "850.00")
    losing = _bid(provider_user_b, tender, home_b, "1234.56")

    # Nothing about bids leaves before the window closes.
    for organisation in (provider_a, provider_b, provider_c):
        assert set(events_for(organisation)) == {"placement_request.published"}

    _past_deadline(tender)
    tender_close_and_evaluate(tender_id=tender.pk)
    tender_award(actor=broker_a, tender=tender, bid=winning)

    a_events, b_events, c_events = (events_for(org) for org in (provider_a, provider_b, provider_c))
    assert set(a_events) == {"placement_request.published", "tender.closed", "tender.awarded"}
    assert set(b_events) == {"placement_request.published", "tender.closed", "bid.unsuccessful"}
    assert set(c_events) == {"placement_request.published"}, "a provider that did not bid hears no outcome"
    assert [bid["id"] for bid in a_events["tender.closed"]["bids"]] == [winning.pk]
    assert [bid["id"] for bid in b_events["tender.closed"]["bids"]] == [losing.pk]
    assert b_events["bid.unsuccessful"]["bid"] == {
        "id": losing.pk,
        "care_home": {"id": home_b.pk, "name": "Good B"},
        "weekly_fee": "1234.56",
        "status": "submitted",
        "outcome": "unsuccessful",
    }
    assert "case_reference" not in json.dumps(b_events)
    # One provider's fee never reaches another.
    assert "1234.56" not in json.dumps(a_events) and "1234.56" not in json.dumps(c_events)
    assert str(losing.pk) not in {str(bid["id"]) for bid in a_events["tender.closed"]["bids"]}
    delivered = {
        organisation: set(
            WebhookDelivery.objects.filter(subscription=subscription).values_list("event__type", flat=True)
        )
        for organisation, subscription in subscriptions.items()
    }
    assert delivered[provider_b] == {"placement_request.published", "tender.closed", "bid.unsuccessful"}
    assert delivered[provider_a] == {"placement_request.published", "tender.closed", "tender.awarded"}
    assert delivered[provider_c] == {"placement_request.published"}


def test_a_provider_hears_when_its_invitation_is_withdrawn_by_a_suspension_or_a_cancellation(
    council_a, broker_a, commissioner_a, provider_a, provider_b, provider_user_a, provider_user_b
):
    for user in (provider_user_a, provider_user_b):
        webhook_subscription_create(actor=user, url="https://provider.example/h", events=["invitation.withdrawn"])
    home_a = admitted_home(council_a, provider=provider_a, rating=RatingValue.GOOD, name="Good A")
    home_b = admitted_home(council_a, provider=provider_b, rating=RatingValue.GOOD, name="Good B")
    request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a, max_weekly_rate=Decimal("900.00"))
    tender = tender_publish(actor=broker_a, request=request)
    excluded = _bid(provider_user_a, tender, home_a, "850.00")

    admission_suspend(
        actor=commissioner_a, admission=Admission.objects.get(care_home=home_a), reason="Concern about a resident"
    )

    withdrawn = events_for(provider_a)["invitation.withdrawn"]
    assert withdrawn["invitation"] == {
        "id": tender.invitations.get(care_home=home_a).pk,
        "care_home": {"id": home_a.pk, "name": "Good A"},
        "cause": "care_home_suspended",
        "bid": {"id": excluded.pk, "status": "excluded"},
    }
    assert withdrawn["tender"]["id"] == tender.pk
    assert "resident" not in json.dumps(withdrawn) and "bid_count" not in json.dumps(withdrawn)
    assert "invitation.withdrawn" not in events_for(provider_b)

    placement_request_cancel(actor=broker_a, request=request, reason="The person chose to stay at home")

    cancelled = events_for(provider_b)["invitation.withdrawn"]
    assert cancelled["invitation"]["cause"] == "tender_cancelled"
    assert cancelled["invitation"]["care_home"]["id"] == home_b.pk
    assert cancelled["tender"]["status"] == "cancelled"
    assert WebhookEvent.objects.filter(organisation=provider_a, type="invitation.withdrawn").count() == 1
    assert WebhookDelivery.objects.filter(event__type="invitation.withdrawn").count() == 2


def _tender_with_bidders(council, broker, count: int, tag: str):
    """A tender with a bid from each of `count` providers, each subscribed to every event."""
    request = PlacementRequestFactory(commissioner=council, created_by=broker, max_weekly_rate=Decimal("1300.00"))
    bidders = []
    for number in range(count):
        provider = ProviderOrganisationFactory(name=f"{tag} provider {number}", slug=f"{tag}-provider-{number}")
        user = UserFactory(organisation=provider, role=Role.PROVIDER, email=f"bids@{tag}-{number}.example")
        webhook_subscription_create(actor=user, url=f"https://{tag}-{number}.example/h", events=ALL_EVENTS)
        home = admitted_home(council, provider=provider, rating=RatingValue.GOOD, name=f"{tag} home {number}")
        bidders.append((user, home))
    with CaptureQueriesContext(connection) as publishing:
        tender = tender_publish(actor=broker, request=request)
    bids = [_bid(user, tender, home, f"{800 + number}.00") for number, (user, home) in enumerate(bidders)]
    return tender, bids, len(publishing)


def test_publishing_closing_and_awarding_tell_every_home_in_the_same_queries_for_three_as_for_nine(council_a, broker_a):
    queries = {}
    for count in (3, 9):
        tender, bids, publishing = _tender_with_bidders(council_a, broker_a, count, tag=f"t{count}")
        _past_deadline(tender)
        with CaptureQueriesContext(connection) as closing:
            tender_close_and_evaluate(tender_id=tender.pk)
        with CaptureQueriesContext(connection) as awarding:
            tender_award(actor=broker_a, tender=tender, bid=bids[0])
        queries[count] = (publishing, len(closing), len(awarding))
        invited = WebhookEvent.objects.filter(dedupe_key=f"placement_request.published:tender-{tender.pk}")
        # Every home admitted is invited: this round's and the earlier round's.
        assert invited.filter(organisation__slug__startswith=f"t{count}-").count() == count
        told = Notification.objects.filter(dedupe_key=f"tender-{tender.pk}-invited")
        assert told.filter(recipient__organisation__slug__startswith=f"t{count}-").count() == count
        # Every bidder heard of the close, each losing one of its outcome, each once with a delivery.
        closed = WebhookEvent.objects.filter(type="tender.closed", dedupe_key=f"tender.closed:{tender.pk}")
        assert closed.exclude(organisation=council_a).count() == count
        lost = WebhookEvent.objects.filter(type="bid.unsuccessful", payload__tender__id=tender.pk)
        assert sorted(lost.values_list("payload__bid__id", flat=True)) == sorted(bid.pk for bid in bids[1:])
        assert WebhookDelivery.objects.filter(event__in=closed.exclude(organisation=council_a)).count() == count
        assert WebhookDelivery.objects.filter(event__in=lost).count() == count - 1
        # Closing again records nothing more.
        tender_close_and_evaluate(tender_id=tender.pk)
        assert closed.count() == count + 1
    assert queries[3] == queries[9]
