"""A home closing: closed to admissions at once, a move plan of every resident the body placed there,
urgent requests for new homes raised once, placements ending on the day each person moved, block
contracts ended, and the closure dashboard counting down to no one left. Providers hand back care
with notice."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from bidding.models import Invitation, Tender
from blockbeds.models import Occupancy
from blockbeds.services import block_bed_fill, occupancy_end
from closures.models import HandBack, HomeClosure, ResidentMove
from closures.selectors import closure_block_contracts, home_closure_get, home_closure_list
from closures.services import (
    block_contract_hand_back,
    closure_block_contract_end,
    home_closing_announce,
    home_deregistered,
    placement_hand_back,
    resident_move_update,
    urgent_requests_raise,
)
from contracts.models import ServiceAgreement
from contracts.payments import Period, payment_schedule_build
from contracts.services import agreement_create_for_placement
from core.errors import ApplicationError, ConflictError, ForbiddenError, NotFoundError
from core.models import AuditEvent, Notification
from lots.models import Urgency
from placements.models import PlacementRequest
from providers.models import AdmissionClosure

from .factories import (
    BlockContractFactory,
    BlockRequestFactory,
    InvitationFactory,
    PaidPlacementFactory,
    PlacementRequestFactory,
    TenderFactory,
    admitted_home,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


@pytest.fixture
def home(council_a, provider_a):
    return admitted_home(council_a, provider=provider_a, name="Elm Lodge")


@pytest.fixture
def residents(home, council_a, council_b, broker_a):
    """Ten of council A's residents: eight spot placements with agreements (one placed from a request)
    and two block-bed stays in a three-bed contract; and one of council B's."""
    start = TODAY() - timedelta(days=60)
    spots = []
    for number in range(8):
        request = None
        if number == 0:
            request = PlacementRequestFactory(
                commissioner=council_a, created_by=broker_a, case_reference="ELM-0", status="placed"
            )
        placement = PaidPlacementFactory(
            commissioner=council_a, care_home=home, case_reference=f"ELM-{number}", start_date=start, request=request
        )
        agreement_create_for_placement(placement=placement, actor=broker_a)
        spots.append(placement)
    contract = BlockContractFactory(commissioner=council_a, care_home=home, reference="ELM-BLOCK", beds=3)
    stays = []
    for number, bed in enumerate(contract.beds.order_by("label")[:2]):
        request = BlockRequestFactory(commissioner=council_a, created_by=broker_a, case_reference=f"ELM-B{number}")
        stays.append(block_bed_fill(bed=bed, request=request, actor=broker_a, start_date=start).placement)
    other = PaidPlacementFactory(commissioner=council_b, care_home=home, case_reference="SEFTON-1")
    return {"spots": spots, "stays": stays, "contract": contract, "other": other}


def test_closing_a_home_plans_every_move_and_counts_down_to_no_one_left(
    home, residents, council_a, commissioner_a, broker_a, as_user
):
    invitation = InvitationFactory(care_home=home, tender=TenderFactory(request__commissioner=council_a))
    closing_on = TODAY() + timedelta(days=28)

    [closure] = home_closing_announce(
        actor=commissioner_a, care_home=home, closing_on=closing_on, reason="The provider is in administration."
    )

    # Closed to admissions for every body, the open invitation withdrawn.
    admission_closure = AdmissionClosure.objects.get(care_home=home)
    assert admission_closure.reason == AdmissionClosure.Reason.CLOSING and admission_closure.commissioner is None
    assert closure.admission_closure == admission_closure
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.WITHDRAWN
    # A row for each of council A's ten residents, none of council B's.
    placed = {p.pk for p in residents["spots"] + residents["stays"]}
    assert set(closure.moves.values_list("placement_id", flat=True)) == placed
    assert closure.residents_at_start == 10
    assert set(closure.moves.values_list("status", flat=True)) == {ResidentMove.Status.TO_ASSESS}
    assert AuditEvent.objects.filter(verb="closures.home_closure.announced").count() == 1

    # Announcing again changes nothing.
    again = home_closing_announce(actor=commissioner_a, care_home=home, closing_on=closing_on, reason="Again")
    assert again == [closure] and ResidentMove.objects.count() == 10

    # The block contract shows what its beds cost void until it ends.
    [row] = closure_block_contracts(closure=closure)
    assert row.contract == residents["contract"]
    assert row.void.live_beds == 3 and row.void.weekly_cost == Decimal("2100.00")
    days = (residents["contract"].end_date - TODAY()).days + 1
    assert row.void.cost_to_end == (Decimal("2100.00") * days / 7).quantize(Decimal("0.01"))

    # Urgent requests for every resident, linked to their old placements, raised once.
    moves = list(closure.moves.all())
    raised = urgent_requests_raise(actor=broker_a, moves=moves)
    assert len(raised) == 10
    assert all(r.urgency == Urgency.URGENT_COMMUNITY and r.commissioner == council_a for r in raised)
    for move in ResidentMove.objects.select_related("new_request", "placement"):
        assert move.new_request.case_reference == move.placement.case_reference
    assert urgent_requests_raise(actor=broker_a, moves=moves) == []
    assert PlacementRequest.objects.filter(urgency=Urgency.URGENT_COMMUNITY).count() == 10
    assert home_closure_get(actor=broker_a, pk=closure.pk).requests_open == 10

    # Each one moves: the placements end on their move day, payments stop then.
    moved_on = TODAY() - timedelta(days=3)
    for move in closure.moves.select_related("placement"):
        resident_move_update(actor=broker_a, move=move, status=ResidentMove.Status.ASSESSED)
        resident_move_update(actor=broker_a, move=move, status=ResidentMove.Status.MOVED, moved_on=moved_on)
    for placement in residents["spots"]:
        placement.refresh_from_db()
        assert placement.end_date == moved_on
        current = ServiceAgreement.objects.get(placement=placement, is_current=True)
        assert current.reason == ServiceAgreement.Reason.ENDED and current.end_date == moved_on
    for placement in residents["stays"]:
        occupancy = Occupancy.objects.get(placement=placement)
        assert occupancy.end_date == moved_on  # the bed is free from the day they moved
    period = Period(start=TODAY() - timedelta(days=13), end=TODAY(), label="fortnight")
    lines = [
        line
        for line in payment_schedule_build(period=period, commissioner_id=council_a.pk).lines
        if line.kind == "placement" and line.care_home == home
    ]
    assert {line.placement_id for line in lines} == {p.pk for p in residents["spots"]}
    assert max(line.end for line in lines) == moved_on
    other_lines = payment_schedule_build(period=period, commissioner_id=residents["other"].commissioner_id).lines
    assert max(line.end for line in other_lines) == TODAY()  # council B's resident is untouched

    # Everyone has moved: the dashboard's figure is zero (service, page, CSV and API).
    summary = home_closure_get(actor=broker_a, pk=closure.pk)
    assert (summary.remaining, summary.moved, summary.residents_at_start) == (0, 10, 10)
    assert summary.requests_open == 0  # their requests wait on nobody once they have moved
    page = as_user(broker_a).get(reverse("closures:closure_list"))
    assert b"Elm Lodge" in page.content and b"data-remaining>0<" in page.content
    csv = b"".join(as_user(broker_a).get(reverse("closures:closure_list") + "?format=csv").streaming_content)
    assert b"Elm Lodge" in csv and b",10,0,10,0" in csv
    api = as_user(broker_a).get(reverse("api-home-closures"))
    assert api.status_code == 200
    assert api.json()["results"][0]["residents_remaining"] == 0

    # The block contract ends on a date: its beds are paid up to that day only.
    end = TODAY() - timedelta(days=1)
    closure_block_contract_end(
        actor=commissioner_a, closure=closure, contract=residents["contract"], end_date=end, reason="Home closed"
    )
    contract_lines = [
        line
        for line in payment_schedule_build(period=period, commissioner_id=council_a.pk).lines
        if line.kind != "placement" and line.care_home == home
    ]
    assert contract_lines and max(line.end for line in contract_lines) == end


def test_a_resident_who_moves_without_their_new_request_has_it_withdrawn_and_its_tender_cancelled(
    home, residents, council_a, commissioner_a, broker_a, provider_b, provider_user_b
):
    [closure] = home_closing_announce(
        actor=commissioner_a, care_home=home, closing_on=TODAY() + timedelta(days=28), reason="Closing."
    )
    moves = list(closure.moves.select_related("placement").order_by("pk"))
    urgent_requests_raise(actor=broker_a, moves=moves)
    tendering, fresh, awarded, placed_by_it = (
        ResidentMove.objects.select_related("new_request").get(pk=m.pk) for m in moves[:4]
    )
    # Out to tender, with a home of another provider invited to bid.
    PlacementRequest.objects.filter(pk=tendering.new_request_id).update(status=PlacementRequest.Status.TENDERING)
    tender = TenderFactory(request=tendering.new_request)
    InvitationFactory(tender=tender, care_home=admitted_home(council_a, provider=provider_b, name="Birch House"))
    # Awarded to a home the person did not go to; and awarded and placed from the request.
    PlacementRequest.objects.filter(pk__in=[awarded.new_request_id, placed_by_it.new_request_id]).update(
        status=PlacementRequest.Status.AWARDED
    )
    PaidPlacementFactory(
        commissioner=council_a, request=placed_by_it.new_request, case_reference=placed_by_it.new_request.case_reference
    )
    moved_on = TODAY() - timedelta(days=1)

    # A commissioner records the moves, as brokers may: the requests still being sourced are withdrawn.
    for move in (tendering, fresh, awarded, placed_by_it):
        resident_move_update(
            actor=commissioner_a, move=move, status=ResidentMove.Status.MOVED, moved_on=moved_on, note="To family."
        )

    for move in (tendering, fresh):
        request = PlacementRequest.objects.get(pk=move.new_request_id)
        assert request.status == PlacementRequest.Status.CANCELLED
        assert request.cancel_reason == (
            f"The resident moved on {moved_on:%d/%m/%Y} without this request, from Elm Lodge. To family."
        )
        assert AuditEvent.objects.filter(
            verb="placements.request.cancelled", target_id=str(request.pk), actor=commissioner_a
        ).exists()
    tender.refresh_from_db()
    assert tender.status == Tender.Status.CANCELLED
    assert Notification.objects.filter(verb="bidding.tender.cancelled", recipient=provider_user_b).exists()
    # The award is the brokers' to undo: they are told once, and it stands until they do.
    assert PlacementRequest.objects.get(pk=awarded.new_request_id).status == PlacementRequest.Status.AWARDED
    told = Notification.objects.filter(verb="closures.resident_move.award_unneeded")
    assert {n.recipient for n in told} == {broker_a}
    assert awarded.new_request.case_reference in told.get().subject
    # The request that placed the person is done: nothing withdrawn, nobody told.
    assert PlacementRequest.objects.get(pk=placed_by_it.new_request_id).status == PlacementRequest.Status.AWARDED
    assert told.count() == 1
    # The remaining moves' requests stand.
    assert ResidentMove.objects.get(pk=moves[4].pk).new_request.status == PlacementRequest.Status.NEW


def test_a_move_once_recorded_is_final_and_needs_its_day(home, residents, commissioner_a, broker_a):
    [closure] = home_closing_announce(actor=commissioner_a, care_home=home, closing_on=TODAY(), reason="Closing")
    move = closure.moves.get(placement=residents["spots"][1])
    with pytest.raises(ApplicationError) as error:
        resident_move_update(actor=broker_a, move=move, status=ResidentMove.Status.MOVED)
    assert "moved_on" in error.value.fields
    with pytest.raises(ApplicationError) as error:
        resident_move_update(
            actor=broker_a, move=move, status=ResidentMove.Status.MOVED, moved_on=TODAY() + timedelta(days=1)
        )
    assert "moved_on" in error.value.fields
    resident_move_update(actor=broker_a, move=move, status=ResidentMove.Status.MOVED, moved_on=TODAY())
    with pytest.raises(ConflictError):
        resident_move_update(actor=broker_a, move=move, status=ResidentMove.Status.ASSESSED)
    assert AuditEvent.objects.filter(verb="closures.resident_move.updated").count() == 1


def test_a_commissioner_records_a_block_bed_residents_move_and_the_bed_is_free_from_that_day(
    home, residents, commissioner_a, broker_b
):
    [closure] = home_closing_announce(actor=commissioner_a, care_home=home, closing_on=TODAY(), reason="Closing")
    stay = residents["stays"][0]
    move = closure.moves.get(placement=stay)
    moved_on = TODAY() - timedelta(days=1)
    resident_move_update(actor=commissioner_a, move=move, status=ResidentMove.Status.MOVED, moved_on=moved_on)
    occupancy = Occupancy.objects.get(placement=stay)
    assert occupancy.end_date == moved_on
    assert AuditEvent.objects.filter(verb="blockbeds.bed.void", actor=commissioner_a).count() == 1
    # Another body's staff cannot end the stay.
    other = Occupancy.objects.get(placement=residents["stays"][1])
    with pytest.raises(ForbiddenError):
        occupancy_end(occupancy=other, actor=broker_b, end_date=TODAY(), reason="Not theirs")


def test_another_bodys_staff_get_not_found_and_providers_cannot_close_others_homes(
    home, residents, commissioner_a, broker_b, commissioner_b, provider_user_b, as_user
):
    [closure] = home_closing_announce(actor=commissioner_a, care_home=home, closing_on=TODAY(), reason="Closing")
    move = closure.moves.first()
    with pytest.raises(NotFoundError):
        home_closure_get(actor=broker_b, pk=closure.pk)
    assert as_user(broker_b).get(reverse("closures:closure_detail", args=[closure.pk])).status_code == 404
    assert as_user(broker_b).get(reverse("closures:move_update", args=[move.pk])).status_code == 404
    assert as_user(broker_b).post(reverse("closures:closure_requests_raise", args=[closure.pk])).status_code == 404
    with pytest.raises(ForbiddenError):
        resident_move_update(actor=commissioner_b, move=move, status=ResidentMove.Status.ASSESSED)
    assert urgent_requests_raise(actor=broker_b, moves=[move]) == []
    assert list(home_closure_list(actor=broker_b)) == []
    with pytest.raises(NotFoundError):
        home_closing_announce(actor=provider_user_b, care_home=home, closing_on=TODAY(), reason="Not mine")
    assert as_user(provider_user_b).get(reverse("closures:closure_list")).status_code == 403


def test_a_commissioner_cannot_close_a_home_their_body_does_not_know(commissioner_b, provider_a):
    from .factories import CareHomeFactory

    stranger = CareHomeFactory(provider=provider_a)
    with pytest.raises(NotFoundError):
        home_closing_announce(actor=commissioner_b, care_home=stranger, closing_on=TODAY(), reason="Closing")
    assert not AdmissionClosure.objects.exists()


def test_the_closing_date_and_reason_are_required(home, commissioner_a):
    with pytest.raises(ApplicationError) as error:
        home_closing_announce(actor=commissioner_a, care_home=home, closing_on=TODAY() - timedelta(days=1), reason=" ")
    assert set(error.value.fields) == {"closing_on", "reason"}
    assert not HomeClosure.objects.exists() and not AdmissionClosure.objects.exists()


def test_the_provider_closing_its_home_plans_the_moves_of_every_body(
    home, residents, council_a, council_b, provider_user_a
):
    closures = home_closing_announce(actor=provider_user_a, care_home=home, closing_on=TODAY(), reason="Closing")
    assert {c.commissioner for c in closures} == {council_a, council_b}
    assert {c.commissioner: c.residents_at_start for c in closures} == {council_a: 10, council_b: 1}


def test_a_deregistered_home_closes_today_for_the_bodies_with_residents(home, residents, council_a, council_b):
    closures = home_deregistered(care_home=home)
    assert {c.commissioner for c in closures} == {council_a, council_b}
    assert all(c.source == HomeClosure.Source.CQC and c.closing_on == TODAY() for c in closures)


def test_a_provider_hands_back_a_placement_and_the_council_plans_the_move(
    home, residents, council_a, provider_user_a, provider_user_b, broker_a, as_user
):
    placement = residents["spots"][2]
    with pytest.raises(NotFoundError):
        placement_hand_back(actor=provider_user_b, placement=placement, notice_ends_on=TODAY(), reason="No")
    notice = TODAY() + timedelta(days=28)
    hand_back = placement_hand_back(
        actor=provider_user_a, placement=placement, notice_ends_on=notice, reason="We cannot meet their needs."
    )
    move = ResidentMove.objects.get(placement=placement)
    assert move.hand_back == hand_back and move.planned_move_on == notice and move.home_closure is None
    with pytest.raises(ConflictError):
        placement_hand_back(actor=provider_user_a, placement=placement, notice_ends_on=notice, reason="Again")
    [request] = urgent_requests_raise(actor=broker_a, moves=[move])
    assert request.needed_from == notice
    resident_move_update(actor=broker_a, move=move, status=ResidentMove.Status.MOVED, moved_on=TODAY())
    placement.refresh_from_db()
    assert placement.end_date == TODAY()
    page = as_user(broker_a).get(reverse("closures:closure_list"))
    assert b"We cannot meet their needs." in page.content


def test_a_provider_hands_back_a_block_contract_which_ends_on_the_notice_day(
    home, residents, provider_user_a, provider_user_b
):
    contract = residents["contract"]
    with pytest.raises(NotFoundError):
        block_contract_hand_back(actor=provider_user_b, contract=contract, notice_ends_on=TODAY(), reason="No")
    with pytest.raises(ApplicationError) as error:
        block_contract_hand_back(
            actor=provider_user_a, contract=contract, notice_ends_on=contract.end_date + timedelta(days=1), reason="x"
        )
    assert "notice_ends_on" in error.value.fields
    notice = TODAY() + timedelta(days=56)
    hand_back = block_contract_hand_back(
        actor=provider_user_a, contract=contract, notice_ends_on=notice, reason="Staffing."
    )
    contract.refresh_from_db()
    assert contract.end_date == notice and hand_back.block_contract == contract
    assert HandBack.objects.count() == 1
    assert AuditEvent.objects.filter(verb="blockbeds.contract.ended").count() == 1


def _api_record(home, *, status: str) -> dict:
    return {
        "locationId": home.cqc_location_id,
        "providerId": home.provider.cqc_provider_id or "1-999",
        "providerName": home.provider.name,
        "name": home.name,
        "postalAddressLine1": home.address_line_1,
        "postalAddressTownCity": home.town,
        "postalCode": home.postcode,
        "localAuthority": home.local_authority,
        "region": home.region,
        "numberOfBeds": home.registered_beds,
        "careHome": "Y",
        "registrationStatus": status,
        "onspdLatitude": home.latitude,
        "onspdLongitude": home.longitude,
    }


def test_the_cqc_batch_import_deregistering_a_home_starts_its_move_plans(home, residents, council_a, council_b):
    from quality.services import cqc_locations_import

    cqc_locations_import(records=[_api_record(home, status="Registered")])
    assert not HomeClosure.objects.exists()  # still registered: nothing happens
    cqc_locations_import(records=[_api_record(home, status="Deregistered")])
    closures = HomeClosure.objects.filter(care_home=home)
    assert {c.commissioner for c in closures} == {council_a, council_b}
    assert {c.source for c in closures} == {HomeClosure.Source.CQC}
    assert AdmissionClosure.objects.get(care_home=home).reason == AdmissionClosure.Reason.CLOSING
    cqc_locations_import(records=[_api_record(home, status="Deregistered")])
    assert HomeClosure.objects.count() == 2  # deregistered already: nothing more


def test_the_one_by_one_cqc_import_deregistering_a_home_starts_its_move_plan(home, residents, council_a):
    from quality.cqc import location_from_api
    from quality.services import cqc_location_import

    cqc_location_import(location=location_from_api(_api_record(home, status="Deregistered")))
    assert HomeClosure.objects.filter(care_home=home, commissioner=council_a, residents_at_start=10).exists()


def test_the_closure_list_reads_in_a_fixed_number_of_queries(
    home, residents, commissioner_a, broker_a, provider_a, as_user, django_assert_max_num_queries
):
    home_closing_announce(actor=commissioner_a, care_home=home, closing_on=TODAY(), reason="Closing")
    for number in range(3):
        other = admitted_home(commissioner_a.organisation, provider=provider_a, name=f"Other {number}")
        PaidPlacementFactory(commissioner=commissioner_a.organisation, care_home=other)
        home_closing_announce(actor=commissioner_a, care_home=other, closing_on=TODAY(), reason="Closing")
    client = as_user(broker_a)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("closures:closure_list"))
    assert response.content.count(b"data-remaining>") == 4
    closure = HomeClosure.objects.get(care_home=home)
    with django_assert_max_num_queries(20):
        response = client.get(reverse("closures:closure_detail", args=[closure.pk]))
    assert response.content.count(b"Update<span") == 10
