"""A provider system finds its invitations to tender over the API, with its own bids only."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bidding.models import Award, Bid, Tender

from .factories import BidFactory, CareHomeFactory, InvitationFactory, PlacementRequestFactory, TenderFactory

pytestmark = pytest.mark.django_db

INBOX = "/api/v1/invitations/"


def _tender(council, broker, *, opened_days_ago=1, closes_in_hours=48, status=Tender.Status.OPEN, **request):
    now = timezone.now()
    placement_request = PlacementRequestFactory(commissioner=council, created_by=broker, **request)
    return TenderFactory(
        request=placement_request,
        opened_at=now - timedelta(days=opened_days_ago),
        closes_at=now + timedelta(hours=closes_in_hours),
        status=status,
    )


@pytest.fixture
def inbox(council_a, broker_a, provider_a, provider_b):
    """Provider A's invitations in each state, and provider B's bids beside them."""
    brook = CareHomeFactory(provider=provider_a, name="Brook House")
    elm = CareHomeFactory(provider=provider_a, name="Elm Lodge")
    rival = CareHomeFactory(provider=provider_b, name="Rival Court")

    open_tender = _tender(council_a, broker_a, case_reference="SECRET-OPEN", needs_summary="Needs night care.")
    open_invitation = InvitationFactory(tender=open_tender, care_home=brook)
    BidFactory(invitation=open_invitation, weekly_fee=Decimal("871.00"))
    open_unbid = InvitationFactory(tender=open_tender, care_home=elm)
    BidFactory(invitation=InvitationFactory(tender=open_tender, care_home=rival), weekly_fee=Decimal("799.00"))

    closed_tender = _tender(council_a, broker_a, opened_days_ago=4, closes_in_hours=-24)
    closed = InvitationFactory(tender=closed_tender, care_home=brook)
    BidFactory(invitation=closed, weekly_fee=Decimal("880.00"))

    won_tender = _tender(council_a, broker_a, opened_days_ago=9, closes_in_hours=-120, status=Tender.Status.AWARDED)
    won = InvitationFactory(tender=won_tender, care_home=elm)
    winning = BidFactory(invitation=won, weekly_fee=Decimal("860.00"), rank=1)
    BidFactory(invitation=InvitationFactory(tender=won_tender, care_home=rival), weekly_fee=Decimal("865.00"), rank=2)
    Award.objects.create(tender=won_tender, bid=winning, awarded_by=broker_a, top_ranked=True)

    lost_tender = _tender(council_a, broker_a, opened_days_ago=9, closes_in_hours=-100, status=Tender.Status.AWARDED)
    lost = InvitationFactory(tender=lost_tender, care_home=brook)
    BidFactory(invitation=lost, weekly_fee=Decimal("910.00"), rank=2)
    rival_win = BidFactory(
        invitation=InvitationFactory(tender=lost_tender, care_home=rival), weekly_fee=Decimal("777.00"), rank=1
    )
    Award.objects.create(tender=lost_tender, bid=rival_win, awarded_by=broker_a, top_ranked=True)

    return {
        "brook": brook,
        "elm": elm,
        "open": open_invitation,
        "open_unbid": open_unbid,
        "closed": closed,
        "won": won,
        "lost": lost,
    }


def _ids(body) -> set[int]:
    return {row["id"] for row in body["results"]}


def test_a_provider_system_lists_its_own_invitations_with_tender_needs_and_own_bid(api_as, provider_a, inbox):
    response = api_as(provider_a, scopes=["bids"]).get(INBOX)

    assert response.status_code == 200
    body = response.json()
    assert _ids(body) == {inbox[name].pk for name in ("open", "open_unbid", "closed", "won", "lost")}
    row = next(r for r in body["results"] if r["id"] == inbox["open"].pk)
    tender = inbox["open"].tender
    assert row["state"] == "open"
    assert row["care_home"] == {"id": inbox["brook"].pk, "name": "Brook House"}
    assert row["tender"]["id"] == tender.pk
    assert row["tender"]["lot"] == 1
    assert row["tender"]["is_open"] is True
    assert row["tender"]["closes_at"].startswith(timezone.localtime(tender.closes_at).isoformat()[:16])
    assert row["needs"]["needs_summary"] == "Needs night care."
    assert row["bid"]["weekly_fee"] == "871.00"
    unbid = next(r for r in body["results"] if r["id"] == inbox["open_unbid"].pk)
    assert unbid["bid"] is None


def test_the_inbox_never_shows_the_person_or_another_providers_amounts(api_as, provider_a, inbox):
    text = api_as(provider_a, scopes=["bids"]).get(INBOX).content.decode()

    assert "SECRET-OPEN" not in text
    assert "case_reference" not in text
    for rival_fee in ("799.00", "865.00", "777.00"):
        assert rival_fee not in text


@pytest.mark.parametrize("state", ["open", "closed", "won", "lost"])
def test_the_state_filter_keeps_only_invitations_in_that_state(api_as, provider_a, inbox, state):
    expected = {"open": {"open", "open_unbid"}, "closed": {"closed"}, "won": {"won"}, "lost": {"lost"}}[state]

    body = api_as(provider_a, scopes=["bids"]).get(INBOX, data={"state": state}).json()

    assert _ids(body) == {inbox[name].pk for name in expected}
    assert {row["state"] for row in body["results"]} == {state}


def test_won_and_lost_show_the_own_rank_once_awarded(api_as, provider_a, inbox):
    body = api_as(provider_a, scopes=["bids"]).get(INBOX).json()
    rows = {row["id"]: row for row in body["results"]}

    assert rows[inbox["won"].pk]["bid"]["outcome"] == "won"
    assert rows[inbox["lost"].pk]["bid"]["outcome"] == "unsuccessful"
    assert rows[inbox["lost"].pk]["bid"]["rank"] == 2
    assert rows[inbox["open"].pk]["bid"]["rank"] is None


def test_care_home_and_closes_before_filters(api_as, provider_a, inbox):
    caller = api_as(provider_a, scopes=["bids"])

    by_home = caller.get(INBOX, data={"care_home": inbox["elm"].pk}).json()
    soon = caller.get(INBOX, data={"closes_before": timezone.now().isoformat()}).json()

    assert _ids(by_home) == {inbox["open_unbid"].pk, inbox["won"].pk}
    assert _ids(soon) == {inbox[name].pk for name in ("closed", "won", "lost")}


def test_a_bad_filter_value_is_a_problem_response(api_as, provider_a, inbox):
    response = api_as(provider_a, scopes=["bids"]).get(INBOX, data={"state": "maybe"})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "state" in response.json()["errors"]


def test_pages_follow_next_and_previous_links(api_as, provider_a, inbox):
    caller = api_as(provider_a, scopes=["bids"])

    first = caller.get(INBOX, data={"page_size": 2}).json()
    second = caller.get(first["next"]).json()
    back = caller.get(second["previous"]).json()

    assert len(first["results"]) == 2
    assert first["previous"] is None
    assert _ids(first).isdisjoint(_ids(second))
    assert _ids(back) == _ids(first)


def test_councils_and_clients_without_the_bids_scope_are_refused(
    api_as, as_user, council_a, broker_a, provider_a, provider_user_a, inbox
):
    assert api_as(council_a, scopes=["read", "placement-requests", "bids"]).get(INBOX).status_code == 403
    assert as_user(broker_a).get(INBOX).status_code == 403
    assert api_as(provider_a, scopes=["read"]).get(INBOX).status_code == 403
    assert as_user(provider_user_a).get(INBOX).status_code == 200


def test_another_provider_sees_only_its_own(api_as, provider_b, inbox):
    body = api_as(provider_b, scopes=["bids"]).get(INBOX).json()

    assert len(body["results"]) == 3
    assert inbox["open"].pk not in _ids(body)
    assert "871.00" not in str(body)


def test_the_inbox_reads_a_fixed_number_of_queries(api_as, provider_a, inbox, django_assert_max_num_queries):
    caller = api_as(provider_a, scopes=["bids"])
    for _ in range(5):
        BidFactory(invitation=InvitationFactory(tender=TenderFactory(), care_home=inbox["brook"]))

    with django_assert_max_num_queries(16):
        response = caller.get(INBOX)

    assert response.status_code == 200
    body = response.json()
    assert len(body["results"]) == 10
    assert (
        sum(row["bid"] is not None for row in body["results"])
        == Bid.objects.filter(provider=inbox["brook"].provider).count()
    )
