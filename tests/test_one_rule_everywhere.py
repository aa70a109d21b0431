"""One rule, every surface: the sealed-bid answer a page, the API, a CSV download and the admin give
is the answer `bid_disclosure` gives, for every role of the standard cast at every tender state; and
"is this tender open" is the database clock's answer wherever it is asked."""

import csv
import io
import re
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from bidding.models import Bid, Tender
from bidding.selectors import (
    BACK_OFFICE,
    bid_disclosure,
    database_now,
    tender_is_open,
    tender_open_q,
    tender_state_code,
    with_open_flag,
)
from bidding.services import bid_submit, tender_award, tender_close_and_evaluate, tender_publish
from core.errors import ConflictError
from fairness.models import Challenge, StandstillRule
from fairness.selectors import bid_challenge_eligibility
from fairness.services import challenge_raise
from lots.models import Lot
from organisations.models import User
from quality.models import RatingValue

from .factories import PlacementRequestFactory, UserFactory, admitted_home
from .fairness_world import evaluated, make_world

pytestmark = pytest.mark.django_db

AMOUNT_A = "812.34"
AMOUNT_B = "799.87"
ROLES = ["broker_a", "commissioner_a", "broker_b", "commissioner_b", "provider_user_a", "provider_user_b"]
STATES = ["open", "closed", "awarded"]


def _text(response) -> str:
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def _close(tender: Tender) -> Tender:
    Tender.objects.filter(pk=tender.pk).update(
        opened_at=timezone.now() - timedelta(hours=3), closes_at=timezone.now() - timedelta(seconds=1)
    )
    tender_close_and_evaluate(tender_id=tender.pk)
    return Tender.objects.select_related("request__commissioner").get(pk=tender.pk)


@pytest.fixture(params=STATES)
def tender_at(request, council_a, broker_a, provider_a, provider_b, provider_user_a, provider_user_b):
    """A tender of council A with a bid from each provider, open, closed and ranked, or awarded."""
    home_a = admitted_home(council_a, provider=provider_a, rating=RatingValue.GOOD, name="Home A")
    home_b = admitted_home(council_a, provider=provider_b, rating=RatingValue.OUTSTANDING, name="Home B")
    placement_request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a)
    tender = tender_publish(actor=broker_a, request=placement_request)
    for user, home, fee in ((provider_user_a, home_a, AMOUNT_A), (provider_user_b, home_b, AMOUNT_B)):
        bid_submit(
            actor=user,
            tender=tender,
            care_home=home,
            weekly_fee=Decimal(fee),
            earliest_start=timezone.localdate(),
            needs_confirmed=True,
        )
    if request.param != "open":
        tender = _close(tender)
    if request.param == "awarded":
        top = Bid.objects.get(tender=tender, rank=1)
        tender_award(actor=broker_a, tender=tender, bid=top, top_up_payer="Family")
        tender = Tender.objects.select_related("request__commissioner").get(pk=tender.pk)
    return request.param, tender


def _rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(_text(response))))


def _council_surfaces(client, tender: Tender) -> dict[str, bool]:
    """Whether each council surface shows every bid's amount."""
    page = client.get(f"/broker/requests/{tender.request_id}/")
    download = client.get(f"/broker/requests/{tender.request_id}/?format=csv")
    api = client.get(f"/api/v1/tenders/{tender.pk}/evaluation/")
    assert page.status_code in (200, 404), page.status_code
    assert api.status_code in (200, 403, 404, 409), api.status_code
    return {
        "page": AMOUNT_A in _text(page) and AMOUNT_B in _text(page),
        "csv": download.status_code == 200 and {r["weekly_fee"] for r in _rows(download)} == {AMOUNT_A, AMOUNT_B},
        "api": api.status_code == 200 and {r["weekly_fee"] for r in api.json()["ranked"]} == {AMOUNT_A, AMOUNT_B},
    }


def _provider_surfaces(client, tender: Tender, own: str, other: str) -> dict[str, dict[str, bool]]:
    """For each provider surface: its own amount shown, another's shown, its rank shown."""
    page = _text(client.get("/provider/invitations/"))
    rows = [r for r in _rows(client.get("/provider/invitations/?format=csv")) if r["tender"] == str(tender.pk)]
    api = client.get(f"/api/v1/tenders/{tender.pk}/").json()
    return {
        "page": {"own": own in page, "other": other in page, "rank": re.search(r"ranked \d", page) is not None},
        "csv": {
            "own": any(r["weekly_fee"] == own for r in rows),
            "other": any(r["weekly_fee"] == other for r in rows),
            "rank": any(r["rank"] for r in rows),
        },
        "api": {
            "own": any(b["weekly_fee"] == own for b in api["own_bids"]),
            # Only the amounts as such: after the award a bid's price working names the lowest fee.
            "other": any(b["weekly_fee"] == other for b in api["own_bids"]),
            "rank": any(b["rank"] is not None for b in api["own_bids"]),
        },
    }


@pytest.mark.parametrize("role", ROLES)
def test_every_surface_gives_the_sealed_bid_answer_of_the_one_predicate(role, tender_at, request, as_user):
    state, tender = tender_at
    actor = request.getfixturevalue(role)
    disclosure = bid_disclosure(actor=actor, tender=tender)
    client = as_user(actor)

    if actor.role == "provider":
        own, other = (AMOUNT_A, AMOUNT_B) if role == "provider_user_a" else (AMOUNT_B, AMOUNT_A)
        for surface, seen in _provider_surfaces(client, tender, own, other).items():
            assert seen == {"own": disclosure.own_amounts, "other": disclosure.amounts, "rank": disclosure.ranks}, (
                surface,
                state,
            )
        assert disclosure.own_amounts and not disclosure.amounts
        assert disclosure.ranks == (state == "awarded")
    else:
        seen = _council_surfaces(client, tender)
        assert seen == {"page": disclosure.amounts, "csv": disclosure.amounts, "api": disclosure.amounts}, state
        commissioning_body = actor.organisation_id == tender.request.commissioner_id
        assert disclosure.amounts == (commissioning_body and state != "open")


@pytest.mark.parametrize("superuser", [False, True])
def test_the_admin_unseals_exactly_when_the_predicate_does(superuser, tender_at, as_user, broker_a):
    state, tender = tender_at
    if superuser:
        user = User.objects.create_superuser(email="ops@example.org", password="x")
    else:
        user = UserFactory(email="staff@example.org", is_staff=True)
        user.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    client = as_user(user)
    back_office = bid_disclosure(actor=BACK_OFFICE, tender=tender)
    bid = Bid.objects.get(tender=tender, weekly_fee=Decimal(AMOUNT_A))

    paths = (
        "/admin/bidding/bid/",
        f"/admin/bidding/bid/{bid.pk}/change/",
        f"/admin/bidding/tender/{tender.pk}/change/",
    )
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        assert (AMOUNT_A in _text(response)) == back_office.amounts, (path, state)
    # The back office and the commissioning body read amounts at the same moment.
    assert back_office.amounts == bid_disclosure(actor=broker_a, tender=tender).amounts == (state != "open")


def _set_deadline(tender: Tender, seconds_from_db_now: float) -> Tender:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE bidding_tender SET opened_at = clock_timestamp() - interval '1 hour', "
            "closes_at = clock_timestamp() + %s * interval '1 second' WHERE id = %s",
            [seconds_from_db_now, tender.pk],
        )
    return Tender.objects.get(pk=tender.pk)


@pytest.fixture
def open_tender(council_a, broker_a, provider_a, provider_user_a):
    home = admitted_home(council_a, provider=provider_a, rating=RatingValue.GOOD, name="Home A")
    tender = tender_publish(
        actor=broker_a, request=PlacementRequestFactory(commissioner=council_a, created_by=broker_a)
    )
    return tender, home


def _answers(tender: Tender, client) -> dict[str, object]:
    return {
        "function": tender_is_open(Tender.objects.get(pk=tender.pk)),
        "annotation": with_open_flag(Tender.objects.filter(pk=tender.pk)).get().is_open,
        "filter": Tender.objects.filter(tender_open_q(), pk=tender.pk).exists(),
        "api": client.get(f"/api/v1/tenders/{tender.pk}/").json()["is_open"],
    }


def test_a_deadline_just_past_by_the_database_clock_reads_closed_everywhere(
    open_tender, broker_a, provider_user_a, as_user
):
    tender, home = open_tender
    # The deadline passes within this test's transaction: PostgreSQL's `now()`, the transaction's
    # start, would still call the tender open; the database clock every rule reads does not.
    tender = _set_deadline(tender, 0.3)
    time.sleep(0.5)
    assert tender.closes_at <= database_now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT now() < %s", [tender.closes_at])
        assert cursor.fetchone()[0], "the test needs the transaction to have started before the deadline"

    answers = _answers(tender, as_user(broker_a))
    assert answers == {"function": False, "annotation": False, "filter": False, "api": False}
    assert tender_state_code(with_open_flag(Tender.objects.filter(pk=tender.pk)).get()) == "closed"
    with pytest.raises(ConflictError):
        bid_submit(
            actor=provider_user_a,
            tender=tender,
            care_home=home,
            weekly_fee=Decimal("700.00"),
            earliest_start=timezone.localdate(),
            needs_confirmed=True,
        )


def test_a_deadline_just_ahead_by_the_database_clock_reads_open_everywhere(open_tender, broker_a, as_user):
    tender, _ = open_tender
    tender = _set_deadline(tender, 30)
    assert _answers(tender, as_user(broker_a)) == {"function": True, "annotation": True, "filter": True, "api": True}
    assert tender_is_open(tender, at=tender.closes_at) is False
    assert tender_is_open(tender, at=tender.closes_at - timedelta(microseconds=1)) is True


# --- May this bid challenge the award: page, API and service ask `bid_challenge_eligibility` ------


@pytest.fixture
def standstill_world(council_a, broker_a, provider_a, provider_b, provider_user_a, provider_user_b):
    StandstillRule.objects.create(commissioner=council_a, lot=Lot.objects.get(number=1), days=5)
    world = make_world(council_a, broker_a, provider_a, provider_b, provider_user_a, provider_user_b)
    tender, bids = evaluated(world, {"a": "850.00", "b": "870.00", "c": "880.00"})
    ordered = sorted(bids.values(), key=lambda bid: bid.rank)
    tender_award(actor=broker_a, tender=tender, bid=ordered[0])
    owner = {bid.pk: next(u for u in world[1].values() if u.organisation_id == bid.provider_id) for bid in ordered}
    return tender, ordered, owner


def _challenge_answers(bid: Bid, user, as_user) -> dict[str, bool]:
    page = as_user(user).get(reverse("fairness:provider_award", args=[bid.pk])).content.decode()
    api = as_user(user).get(f"/api/v1/tenders/{bid.tender_id}/bids/{bid.pk}/outcome/")
    return {
        "predicate": bid_challenge_eligibility(bid=Bid.objects.get(pk=bid.pk)).allowed,
        "page": 'name="grounds"' in page,
        "api": api.json()["may_challenge"],
    }


def test_page_api_and_service_agree_who_may_challenge(standstill_world, as_user):
    _tender, ordered, owner = standstill_world
    winner, loser = ordered[0], ordered[1]

    assert _challenge_answers(loser, owner[loser.pk], as_user) == {"predicate": True, "page": True, "api": True}
    assert _challenge_answers(winner, owner[winner.pk], as_user) == {"predicate": False, "page": False, "api": False}
    with pytest.raises(ConflictError):
        challenge_raise(actor=owner[winner.pk], bid=winner, grounds="We won.")


def test_a_ranked_bid_no_longer_submitted_may_not_challenge_on_the_page_either(standstill_world, as_user):
    _tender, ordered, owner = standstill_world
    loser = ordered[1]
    # The bid was ranked, then left the competition (excluded), as a suspended home's bid is.
    Bid.objects.filter(pk=loser.pk).update(status=Bid.Status.EXCLUDED, excluded_reason="Home suspended.")

    answers = _challenge_answers(loser, owner[loser.pk], as_user)
    assert answers == {"predicate": False, "page": False, "api": False}
    with pytest.raises(ConflictError) as refused:
        challenge_raise(actor=owner[loser.pk], bid=Bid.objects.get(pk=loser.pk), grounds="Scoring error.")
    assert refused.value.code == "not_ranked"
    assert not Challenge.objects.filter(bid=loser).exists()
