"""A request's status says what happens next, by the database clock, on every surface; the broker's
work queue groups requests by what the broker must do; each role's home page is a to-do list; the
request page lists the invited homes; a placement page gathers the award, agreements, fees and payments.
Query counts of the home pages, the work queue and the placement page do not grow with the data."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bidding.models import Tender
from bidding.services import placement_request_cancel, tender_award, tender_close_and_evaluate, tender_publish
from blockbeds.services import block_bed_fill
from contracts.models import ServiceAgreement
from contracts.services import fee_change_record
from fairness.models import BedHold, StandstillRule
from fairness.services import bed_hold_confirm, challenge_raise
from lots.models import Lot
from placements.models import Placement, PlacementRequest
from placements.next_steps import Step, request_next_step
from providers.models import Admission

from .factories import (
    AdmissionFactory,
    BlockContractFactory,
    BlockRequestFactory,
    CareHomeFactory,
    PlacementRequestFactory,
    admitted_home,
)
from .fairness_world import close_and_evaluate, evaluated, make_world, place_bid

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(council_a, broker_a, provider_a, provider_b, provider_user_a, provider_user_b):
    return make_world(council_a, broker_a, provider_a, provider_b, provider_user_a, provider_user_b)


def step(request) -> tuple[str, str]:
    found = request_next_step(PlacementRequest.objects.get(pk=request.pk))
    return found.code, found.label


def first(bids):
    return min(bids.values(), key=lambda bid: bid.rank)


def test_a_new_request_is_a_draft_and_a_fitting_void_block_bed_says_so(council_a, broker_a):
    request = BlockRequestFactory(commissioner=council_a, created_by=broker_a)
    assert step(request) == (Step.DRAFT, "Draft")
    home = admitted_home(council_a, provider=CareHomeFactory().provider)
    BlockContractFactory(commissioner=council_a, care_home=home, beds=1)
    assert step(request) == (Step.BLOCK_BED_OFFERED, "Block bed offered")


def test_an_open_tender_says_when_it_closes_in_local_time(world):
    _, _, tender = world
    Tender.objects.filter(pk=tender.pk).update(closes_at=timezone.now() + timedelta(hours=30))
    code, label = step(tender.request)
    closes = timezone.localtime(Tender.objects.get(pk=tender.pk).closes_at)
    assert code == Step.OUT_TO_TENDER
    assert label == f"Out to tender (closes {closes:%H:%M} tomorrow)" or label == (
        f"Out to tender (closes {closes:%H:%M} on {closes:%-d %B})"
    )


def test_past_its_deadline_a_tender_with_bids_is_ready_to_award_before_any_worker_closes_it(world):
    homes, users, tender = world
    place_bid(users["a"], tender, homes["a"], "850.00")
    Tender.objects.filter(pk=tender.pk).update(
        opened_at=timezone.now() - timedelta(hours=3), closes_at=timezone.now() - timedelta(seconds=1)
    )
    assert Tender.objects.get(pk=tender.pk).status == Tender.Status.OPEN
    assert step(tender.request) == (Step.READY_TO_AWARD, "Bids ready to award")
    tender_close_and_evaluate(tender_id=tender.pk)
    assert step(tender.request) == (Step.READY_TO_AWARD, "Bids ready to award")


def test_a_closed_tender_without_bids_asks_for_a_new_tender(world):
    _, _, tender = world
    Tender.objects.filter(pk=tender.pk).update(
        opened_at=timezone.now() - timedelta(hours=3), closes_at=timezone.now() - timedelta(seconds=1)
    )
    assert step(tender.request) == (Step.NO_BIDS, "Closed with no bids: re-tender")
    close_and_evaluate(tender)
    assert Tender.objects.get(pk=tender.pk).status == Tender.Status.NO_BIDS
    assert step(tender.request) == (Step.NO_BIDS, "Closed with no bids: re-tender")


def test_after_the_award_the_status_follows_the_bed_hold_to_the_move_in(world, broker_a, provider_user_a):
    tender, bids = evaluated(world, {"a": "850.00", "b": "870.00"})
    winner = bids["a"] if bids["a"].rank == 1 else bids["b"]
    tender_award(actor=broker_a, tender=tender, bid=winner, start_date=timezone.localdate() + timedelta(days=5))
    assert step(tender.request) == (Step.AWAITING_HOME, "Awarded: waiting for the home to confirm the bed")

    hold = BedHold.objects.get(bid=winner)
    BedHold.objects.filter(pk=hold.pk).update(confirm_by=timezone.now() - timedelta(minutes=1))
    assert step(tender.request)[0] == Step.HOLD_OVERDUE
    BedHold.objects.filter(pk=hold.pk).update(confirm_by=timezone.now() + timedelta(hours=1))

    bed_hold_confirm(actor=winner.submitted_by, hold=hold)
    start = Placement.objects.get(request=tender.request).start_date
    assert step(tender.request) == (Step.MOVING_IN, f"Bed held: moves in on {start:%-d %B %Y}")

    Placement.objects.filter(request=tender.request).update(start_date=timezone.localdate())
    assert step(tender.request) == (Step.PLACED, "Placed")


def test_a_standstill_and_a_challenge_show_on_the_request(world, broker_a, council_a, provider_user_a):
    StandstillRule.objects.create(commissioner=council_a, lot=Lot.objects.get(number=1), days=3)
    tender, bids = evaluated(world, {"a": "850.00", "b": "870.00"})
    winner = first(bids)
    loser = next(bid for bid in bids.values() if bid.pk != winner.pk)
    tender_award(actor=broker_a, tender=tender, bid=winner)
    bed_hold_confirm(actor=winner.submitted_by, hold=BedHold.objects.get(bid=winner))
    code, label = step(tender.request)
    assert code == Step.STANDSTILL and label.startswith("Awarded: standstill until ")
    challenge_raise(actor=loser.submitted_by, bid=loser, grounds="The scores were added up wrongly.")
    assert step(tender.request) == (Step.CHALLENGED, "Award challenged: decide the challenge")


def test_cancelled_and_block_bed_placements_read_as_such(council_a, broker_a):
    request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a)
    placement_request_cancel(actor=broker_a, request=request, reason="The person went home instead.")
    assert step(request) == (Step.CANCELLED, "Cancelled")

    home = admitted_home(council_a, provider=CareHomeFactory().provider)
    contract = BlockContractFactory(commissioner=council_a, care_home=home, beds=1)
    filled = BlockRequestFactory(commissioner=council_a, created_by=broker_a)
    block_bed_fill(bed=contract.beds.get(), request=filled, actor=broker_a, start_date=timezone.localdate())
    assert step(filled) == (Step.PLACED, "Placed")


def test_the_work_queue_groups_requests_by_what_the_broker_must_do(world, broker_a, council_a, as_user):
    tender, _ = evaluated(world, {"a": "850.00"})
    no_bids = PlacementRequestFactory(commissioner=council_a, created_by=broker_a, case_reference="NO-BIDS-1")
    close_and_evaluate(tender_publish(actor=broker_a, request=no_bids))
    draft = PlacementRequestFactory(
        commissioner=council_a,
        created_by=broker_a,
        case_reference="LATE-1",
        target_date=timezone.localdate() - timedelta(days=1),
    )
    PlacementRequestFactory(commissioner=council_a, created_by=broker_a, case_reference="GONE-1", status="cancelled")

    page = as_user(broker_a).get(reverse("broker_home"))
    queue = page.context["queue"]
    assert [r.pk for r in queue.group("ready-to-award").requests] == [tender.request_id]
    assert [r.case_reference for r in queue.group("no-bids").requests] == ["NO-BIDS-1"]
    assert [r.pk for r in queue.group("to-publish").requests] == [draft.pk]
    assert [r.pk for r in queue.at_risk] == [draft.pk]
    assert queue.total == 3
    html = page.content.decode()
    assert "Bids ready to award: <strong>1</strong>" in html
    assert "At risk of missing the target date: <strong>1</strong>" in html
    assert "GONE-1" not in html


def test_the_api_gives_the_next_step_as_a_code_and_a_label(world, api_as, council_a):
    tender, _ = evaluated(world, {"a": "850.00"})
    body = api_as(council_a).get(f"/api/v1/placement-requests/{tender.request_id}/").json()
    assert body["next_step"] == {"code": "ready_to_award", "label": "Bids ready to award"}
    listed = api_as(council_a).get("/api/v1/placement-requests/").json()["results"]
    assert listed[0]["next_step"]["code"] == "ready_to_award"


def test_the_request_page_lists_the_invited_homes_with_rating_and_distance_and_no_amounts(world, broker_a, as_user):
    homes, users, tender = world
    place_bid(users["a"], tender, homes["a"], "861.37")
    html = as_user(broker_a).get(reverse("placements:request_detail", args=[tender.request_id])).content.decode()
    assert 'id="invited-homes-table"' in html
    for name, rating in (
        ("Alder House", "Good"),
        ("Beech Court", "Outstanding"),
        ("Cedar Lodge", "Requires improvement"),
    ):
        assert name in html
        assert rating in html
    assert " km<" in html
    assert "861.37" not in html
    assert "Out to tender (closes " in html


def test_the_placement_page_gathers_award_agreements_fees_and_payments(
    world, broker_a, provider_user_a, provider_user_b, as_user
):
    tender, bids = evaluated(world, {"a": "850.00", "b": "870.00", "c": "880.00"})
    second = sorted(bids.values(), key=lambda bid: bid.rank)[1]
    tender_award(
        actor=broker_a,
        tender=tender,
        bid=second,
        reason="The person's family live next door to this home.",
        start_date=timezone.localdate() + timedelta(days=1),
    )
    placement = Placement.objects.get(request=tender.request)
    url = reverse("contracts:placement_detail", args=[placement.pk])
    request_page = as_user(broker_a).get(reverse("placements:request_detail", args=[tender.request_id]))
    assert url in request_page.content.decode()

    html = as_user(broker_a).get(url).content.decode()
    assert reverse("placements:request_detail", args=[tender.request_id]) in html
    assert "The person&#x27;s family live next door to this home." in html
    agreement = ServiceAgreement.objects.get(placement=placement)
    assert agreement.reference in html
    assert 'id="fee-history"' in html and 'id="payment-lines"' in html
    assert "Awarded: waiting for the home to confirm the bed" in html

    winner_user = provider_user_a if second.provider_id == provider_user_a.organisation_id else provider_user_b
    other_user = provider_user_b if winner_user is provider_user_a else provider_user_a
    provider_html = as_user(winner_user).get(url).content.decode()
    assert agreement.reference in provider_html
    assert "next door" not in provider_html
    assert as_user(other_user).get(url).status_code == 404


def test_provider_and_commissioner_home_pages_count_what_they_must_do(
    world, council_a, broker_a, commissioner_a, provider_a, provider_user_a, as_user
):
    homes, _, tender = world
    Tender.objects.filter(pk=tender.pk).update(closes_at=timezone.now() + timedelta(hours=5))
    todo = {item.key: item.count for item in as_user(provider_user_a).get("/provider/").context["todo"]}
    assert todo == {"invitations-closing": 1, "bed-holds": 0, "agreements": 0}

    tender, bids = evaluated(world, {"a": "850.00"})
    tender_award(actor=broker_a, tender=tender, bid=bids["a"])
    todo = {item.key: item.count for item in as_user(provider_user_a).get("/provider/").context["todo"]}
    assert todo == {"invitations-closing": 0, "bed-holds": 1, "agreements": 1}

    AdmissionFactory(
        commissioner=council_a, care_home=CareHomeFactory(), lot=Lot.objects.get(number=2), status="applied"
    )
    Admission.objects.filter(care_home=homes["c"]).update(status=Admission.Status.SUSPENDED)
    page = as_user(commissioner_a).get("/commissioner/")
    todo = {item.key: item.count for item in page.context["todo"]}
    assert todo == {"applications": 1, "suspensions": 1}
    assert "DPS applications to decide: <strong>1</strong>" in page.content.decode()


# --- Query counts: the same at two data sizes -------------------------------------------------


def _grow(council_a, broker_a, provider_a, size: int) -> None:
    """`size` requests in every state the queue and the home pages count, with their homes."""
    for n in range(size):
        home = admitted_home(council_a, provider=provider_a, name=f"Grown home {size}-{n}")
        open_request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a)
        tender_publish(actor=broker_a, request=open_request)
        # At risk, with a block bed on offer (in lot 2, away from the tenders of lot 1).
        BlockRequestFactory(
            commissioner=council_a,
            created_by=broker_a,
            lot=Lot.objects.get(number=2),
            target_date=timezone.localdate() - timedelta(days=1),
        )
        awarded = PlacementRequestFactory(commissioner=council_a, created_by=broker_a)
        published = tender_publish(actor=broker_a, request=awarded)
        bid = place_bid(provider_a.users.first(), published, home, "800.00")
        evaluated_tender = close_and_evaluate(published)
        tender_award(actor=broker_a, tender=evaluated_tender, bid=type(bid).objects.get(pk=bid.pk))
        BlockContractFactory(commissioner=council_a, care_home=home, beds=1, lot_numbers=[2])
        AdmissionFactory(commissioner=council_a, care_home=home, lot=Lot.objects.get(number=3), status="applied")


def _queries(client, url) -> int:
    client.get(url)  # warm the session and any per-process caches
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "who,url", [("broker", "/broker/"), ("provider", "/provider/"), ("commissioner", "/commissioner/")]
)
def test_home_pages_and_the_work_queue_run_the_same_queries_at_two_sizes(
    who, url, council_a, broker_a, commissioner_a, provider_a, provider_user_a, as_user
):
    user = {"broker": broker_a, "provider": provider_user_a, "commissioner": commissioner_a}[who]
    client = as_user(user)
    _grow(council_a, broker_a, provider_a, 1)
    small = _queries(client, url)
    _grow(council_a, broker_a, provider_a, 4)
    large = _queries(client, url)
    assert small == large, f"{url}: {small} queries with one of each, {large} with five"


def test_the_placement_page_runs_the_same_queries_whatever_the_fee_history(world, broker_a, commissioner_a, as_user):
    tender, bids = evaluated(world, {"a": "850.00"})
    tender_award(actor=broker_a, tender=tender, bid=bids["a"], start_date=timezone.localdate())
    placement = Placement.objects.get(request=tender.request)
    url = reverse("contracts:placement_detail", args=[placement.pk])
    client = as_user(broker_a)
    small = _queries(client, url)
    for days in (1, 2, 3):
        fee_change_record(
            actor=broker_a,
            placement=placement,
            effective_from=timezone.localdate() + timedelta(days=days),
            council_weekly_amount=Decimal("850.00") + days,
            note="A change in needs.",
        )
    large = _queries(client, url)
    assert small == large
    assert ServiceAgreement.objects.filter(placement=placement).count() == 4
