"""Filling a void live block bed, ending a stay, taking beds out of service, and the block-first offer."""

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from blockbeds.models import BedEvent, BlockBed, BlockOfferDecline, Occupancy
from blockbeds.selectors import BedState, bed_state, fitting_void_beds
from blockbeds.services import (
    block_bed_fill,
    block_bed_return_to_service,
    block_bed_set_live,
    block_bed_take_out_of_service,
    block_offer_decline,
    block_offer_ensure_settled,
    block_offer_pending,
    occupancy_end,
)
from core.errors import ApplicationError, ConflictError, ForbiddenError
from core.models import AuditEvent
from placements.models import Placement, PlacementRequest
from providers.models import Admission

from .factories import (
    AdmissionFactory,
    BlockContractFactory,
    BlockRequestFactory,
    CareHomeFactory,
)

TODAY = timezone.localdate


@pytest.fixture
def home(provider_a):
    return CareHomeFactory(
        provider=provider_a, specialism_codes=["older-people", "dementia"], local_authority="Staffordshire"
    )


@pytest.fixture
def contract(council_a, home):
    return BlockContractFactory(
        commissioner=council_a, care_home=home, weekly_rate=Decimal("735.50"), lot_numbers=[1, 2], beds=2
    )


@pytest.fixture
def bed(contract):
    return contract.beds.order_by("label").first()


@pytest.fixture
def request_a(council_a, broker_a):
    return BlockRequestFactory(commissioner=council_a, created_by=broker_a, specialism_codes=["dementia"])


@pytest.mark.django_db
class TestFill:
    def test_a_fill_takes_the_rate_in_force_on_its_start_date(self, contract, bed, request_a, broker_a):
        contract.rates.create(
            effective_from=TODAY() + timedelta(days=1), weekly_rate=Decimal("760.00"), reason="negotiated"
        )
        occupancy = block_bed_fill(bed=bed, request=request_a, actor=broker_a, start_date=TODAY() + timedelta(days=1))
        assert occupancy.placement.weekly_fee == Decimal("760.00")

    def test_placing_in_a_void_bed_creates_the_placement_at_the_contract_rate_and_stamps_sourced_at(
        self, bed, request_a, broker_a
    ):
        before = timezone.now()
        occupancy = block_bed_fill(bed=bed, request=request_a, actor=broker_a, start_date=TODAY())

        placement = occupancy.placement
        assert placement.source == Placement.Source.BLOCK_BED
        assert placement.weekly_fee == Decimal("735.50")
        assert placement.council_weekly_amount == Decimal("735.50")
        assert placement.top_up_weekly_amount == Decimal("0.00")
        assert placement.care_home_id == bed.contract.care_home_id
        assert placement.target_date == request_a.target_date
        assert placement.requested_at == request_a.requested_at
        assert placement.sourced_at >= before
        assert placement.in_county is True
        request_a.refresh_from_db()
        assert request_a.status == PlacementRequest.Status.PLACED
        assert request_a.sourced_at == placement.sourced_at
        assert bed_state(BlockBed.objects.get(pk=bed.pk), TODAY()) == BedState.FILLED
        assert BedEvent.objects.filter(bed=bed, kind=BedEvent.Kind.FILLED, occupancy=occupancy).exists()
        assert AuditEvent.objects.filter(verb="blockbeds.bed.filled", target_id=str(request_a.pk)).exists()

    def test_a_filled_bed_cannot_be_filled_again(self, bed, request_a, broker_a, council_a):
        block_bed_fill(bed=bed, request=request_a, actor=broker_a, start_date=TODAY())
        second = BlockRequestFactory(commissioner=council_a, created_by=broker_a)
        with pytest.raises(ConflictError) as refused:
            block_bed_fill(bed=bed, request=second, actor=broker_a, start_date=TODAY() + timedelta(days=3))
        assert refused.value.code == "bed_filled"

    def test_a_bed_that_is_not_yet_live_cannot_be_filled(self, bed, request_a, broker_a):
        BlockBed.objects.filter(pk=bed.pk).update(live_from=TODAY() + timedelta(days=10))
        with pytest.raises(ConflictError) as refused:
            block_bed_fill(bed=bed, request=request_a, actor=broker_a, start_date=TODAY())
        assert refused.value.code == "bed_not_live"

    def test_a_request_in_a_lot_the_contract_does_not_serve_is_refused(self, bed, council_a, broker_a):
        from .factories import lot

        other_lot = BlockRequestFactory(commissioner=council_a, created_by=broker_a, lot=lot(6))
        with pytest.raises(ApplicationError) as refused:
            block_bed_fill(bed=bed, request=other_lot, actor=broker_a, start_date=TODAY())
        assert refused.value.code == "wrong_lot"

    def test_another_councils_broker_cannot_fill_the_bed(self, bed, council_b, broker_b):
        theirs = BlockRequestFactory(commissioner=council_b, created_by=broker_b)
        with pytest.raises(ForbiddenError):
            block_bed_fill(bed=bed, request=theirs, actor=broker_b, start_date=TODAY())

    def test_a_commissioner_cannot_fill_a_bed(self, bed, request_a, commissioner_a):
        with pytest.raises(ForbiddenError):
            block_bed_fill(bed=bed, request=request_a, actor=commissioner_a, start_date=TODAY())

    def test_ending_a_stay_makes_the_bed_void_from_that_day(self, bed, request_a, broker_a):
        start = TODAY() - timedelta(days=20)
        occupancy = block_bed_fill(bed=bed, request=request_a, actor=broker_a, start_date=start)
        occupancy_end(occupancy=occupancy, actor=broker_a, end_date=TODAY() - timedelta(days=4), reason="Moved home")

        occupancy.refresh_from_db()
        assert occupancy.end_date == TODAY() - timedelta(days=4)
        # The placement's end date is the last night in the bed.
        assert occupancy.placement.end_date == TODAY() - timedelta(days=5)
        bed = BlockBed.objects.get(pk=bed.pk)
        assert bed_state(bed, TODAY() - timedelta(days=5)) == BedState.FILLED
        assert bed_state(bed, TODAY() - timedelta(days=4)) == BedState.VOID
        assert BedEvent.objects.filter(bed=bed, kind=BedEvent.Kind.VOID, reason="Moved home").exists()

    def test_ending_a_stay_gives_the_service_agreement_a_new_version(self, bed, request_a, broker_a):
        from contracts.models import ServiceAgreement

        occupancy = block_bed_fill(bed=bed, request=request_a, actor=broker_a, start_date=TODAY() - timedelta(days=9))
        occupancy_end(occupancy=occupancy, actor=broker_a, end_date=TODAY(), reason="Moved to a nursing home")
        current = ServiceAgreement.objects.get(placement=occupancy.placement, is_current=True)
        assert (current.version, current.reason) == (2, ServiceAgreement.Reason.ENDED)

    def test_the_provider_reports_a_void_and_another_provider_cannot(
        self, bed, request_a, broker_a, provider_user_a, provider_user_b
    ):
        occupancy = block_bed_fill(bed=bed, request=request_a, actor=broker_a, start_date=TODAY() - timedelta(days=9))
        with pytest.raises(ForbiddenError):
            occupancy_end(occupancy=occupancy, actor=provider_user_b, end_date=TODAY(), reason="Died")
        occupancy_end(occupancy=occupancy, actor=provider_user_a, end_date=TODAY(), reason="Died")
        assert AuditEvent.objects.filter(verb="blockbeds.bed.void", actor=provider_user_a, reason="Died").exists()

    def test_ending_a_stay_needs_a_reason(self, bed, request_a, broker_a):
        occupancy = block_bed_fill(bed=bed, request=request_a, actor=broker_a, start_date=TODAY() - timedelta(days=2))
        with pytest.raises(ApplicationError) as refused:
            occupancy_end(occupancy=occupancy, actor=broker_a, end_date=TODAY(), reason=" ")
        assert "reason" in refused.value.fields


@pytest.mark.django_db
class TestOutOfServiceAndLiveDates:
    def test_an_out_of_service_bed_is_neither_live_nor_void_and_returns(self, bed, commissioner_a):
        block_bed_take_out_of_service(bed=bed, actor=commissioner_a, start_date=TODAY(), reason="Refurbishment")
        assert bed_state(BlockBed.objects.get(pk=bed.pk), TODAY()) == BedState.OUT_OF_SERVICE
        with pytest.raises(ConflictError):
            block_bed_take_out_of_service(bed=bed, actor=commissioner_a, start_date=TODAY(), reason="Again")
        block_bed_return_to_service(bed=bed, actor=commissioner_a, end_date=TODAY() + timedelta(days=3))
        bed = BlockBed.objects.get(pk=bed.pk)
        assert bed_state(bed, TODAY() + timedelta(days=2)) == BedState.OUT_OF_SERVICE
        assert bed_state(bed, TODAY() + timedelta(days=3)) == BedState.VOID
        kinds = list(bed.events.values_list("kind", flat=True))
        assert kinds[-2:] == [BedEvent.Kind.OUT_OF_SERVICE, BedEvent.Kind.RETURNED]

    def test_taking_a_bed_out_of_service_needs_a_reason(self, bed, provider_user_a):
        with pytest.raises(ApplicationError) as refused:
            block_bed_take_out_of_service(bed=bed, actor=provider_user_a, start_date=TODAY(), reason="")
        assert "reason" in refused.value.fields

    def test_an_occupied_bed_cannot_be_taken_out_of_service(self, bed, request_a, broker_a, commissioner_a):
        block_bed_fill(bed=bed, request=request_a, actor=broker_a, start_date=TODAY())
        with pytest.raises(ConflictError):
            block_bed_take_out_of_service(bed=bed, actor=commissioner_a, start_date=TODAY(), reason="Repairs")

    def test_setting_the_live_date_is_recorded_in_the_history(self, bed, commissioner_a):
        later = TODAY() + timedelta(days=7)
        block_bed_set_live(bed=bed, actor=commissioner_a, live_from=later, reason="Refit finishes")
        bed = BlockBed.objects.get(pk=bed.pk)
        assert bed.live_from == later
        assert bed_state(bed, TODAY()) == BedState.CONTRACTED
        assert bed.events.filter(kind=BedEvent.Kind.LIVE_DATE_SET, effective_date=later).exists()
        assert AuditEvent.objects.filter(verb="blockbeds.bed.live_date_set", target_id=str(bed.pk)).exists()


@pytest.mark.django_db
class TestBlockFirst:
    def test_a_fitting_void_live_bed_is_on_offer(self, contract, request_a):
        offered = list(fitting_void_beds(request=request_a))
        assert [b.contract_id for b in offered] == [contract.pk, contract.pk]
        assert block_offer_pending(request=request_a)
        with pytest.raises(ConflictError) as refused:
            block_offer_ensure_settled(request=request_a)
        assert refused.value.code == "block_bed_on_offer"

    def test_beds_that_do_not_fit_are_not_offered(self, council_a, broker_a, provider_a, contract):
        from .factories import lot

        # Another lot; a specialism the home lacks; another area.
        assert not fitting_void_beds(request=BlockRequestFactory(commissioner=council_a, lot=lot(6)))
        assert not fitting_void_beds(
            request=BlockRequestFactory(commissioner=council_a, specialism_codes=["learning-disabilities"])
        )
        assert not fitting_void_beds(request=BlockRequestFactory(commissioner=council_a, local_authority="Derby"))
        far = BlockRequestFactory(
            commissioner=council_a, local_authority="", latitude=53.4808, longitude=-2.2426, max_distance_km=10
        )
        assert not fitting_void_beds(request=far)
        near = BlockRequestFactory(
            commissioner=council_a, local_authority="", latitude=52.81, longitude=-2.12, max_distance_km=10
        )
        assert len(fitting_void_beds(request=near)) == 2

    def test_filled_not_live_and_out_of_service_beds_are_not_offered(
        self, contract, request_a, council_a, broker_a, commissioner_a
    ):
        first, second = contract.beds.order_by("label")
        block_bed_fill(
            bed=first, request=BlockRequestFactory(commissioner=council_a), actor=broker_a, start_date=TODAY()
        )
        block_bed_take_out_of_service(bed=second, actor=commissioner_a, start_date=TODAY(), reason="Repairs")
        assert not fitting_void_beds(request=request_a)
        block_bed_return_to_service(bed=second, actor=commissioner_a, end_date=TODAY() + timedelta(days=1))
        BlockBed.objects.filter(pk=second.pk).update(live_from=TODAY() + timedelta(days=1))
        assert not fitting_void_beds(request=request_a)

    def test_a_suspended_home_is_not_offered(self, contract, request_a, council_a):
        AdmissionFactory(commissioner=council_a, care_home=contract.care_home, status=Admission.Status.SUSPENDED)
        assert not fitting_void_beds(request=request_a)

    def test_a_home_rated_inadequate_is_not_offered(self, contract, request_a):
        from .factories import RatingFactory

        home = contract.care_home
        home.current_rating = RatingFactory(care_home=home, overall="Inadequate")
        home.save(update_fields=["current_rating"])
        assert not fitting_void_beds(request=request_a)

    def test_beds_are_offered_nearest_first_with_their_distance(self, council_a, provider_a, contract):
        far_home = CareHomeFactory(
            provider=provider_a, latitude=52.95, longitude=-2.12, local_authority="Staffordshire"
        )
        BlockContractFactory(commissioner=council_a, care_home=far_home, beds=1, weekly_rate=Decimal("600.00"))
        request = BlockRequestFactory(commissioner=council_a, latitude=52.8065, longitude=-2.1166, max_distance_km=50)
        offered = fitting_void_beds(request=request)
        assert [b.contract.care_home_id for b in offered] == [contract.care_home_id] * 2 + [far_home.pk]
        assert offered[0].distance_km < 0.01
        assert 15 < offered[-1].distance_km < 17

    def test_another_councils_beds_are_not_offered(self, contract, council_b, broker_b):
        assert not fitting_void_beds(request=BlockRequestFactory(commissioner=council_b, created_by=broker_b))

    def test_declining_needs_a_reason_which_is_audited_and_then_tendering_may_go_ahead(
        self, request_a, broker_a, contract
    ):
        with pytest.raises(ApplicationError) as refused:
            block_offer_decline(request=request_a, actor=broker_a, reason="  ")
        assert "reason" in refused.value.fields
        assert not BlockOfferDecline.objects.exists()

        block_offer_decline(request=request_a, actor=broker_a, reason="Family want a home near Leek")

        event = AuditEvent.objects.get(verb="blockbeds.offer.declined", target_id=str(request_a.pk))
        assert event.reason == "Family want a home near Leek"
        assert event.actor == broker_a
        assert sorted(event.detail["offered_beds"]) == sorted(contract.beds.values_list("pk", flat=True))
        assert not block_offer_pending(request=request_a)
        block_offer_ensure_settled(request=request_a)

    def test_with_nothing_on_offer_there_is_nothing_to_decline(self, request_a, broker_a):
        assert not block_offer_pending(request=request_a)
        with pytest.raises(ConflictError):
            block_offer_decline(request=request_a, actor=broker_a, reason="No")


@pytest.mark.django_db
def test_the_database_refuses_two_overlapping_occupancies_of_one_bed(bed, council_a):
    def placement(case):
        return Placement.objects.create(
            commissioner=council_a,
            case_reference=case,
            care_home=bed.contract.care_home,
            lot=bed.contract.lots.first(),
            source=Placement.Source.BLOCK_BED,
            weekly_fee=Decimal("700.00"),
            council_weekly_amount=Decimal("700.00"),
            start_date=date(2026, 3, 1),
            in_county=True,
            target_date=date(2026, 3, 1),
            sourced_at=timezone.now(),
        )

    Occupancy.objects.create(bed=bed, placement=placement("A"), start_date=date(2026, 3, 1), end_date=date(2026, 3, 10))
    # Leaving and arriving on the same day is not an overlap.
    Occupancy.objects.create(bed=bed, placement=placement("B"), start_date=date(2026, 3, 10))
    with pytest.raises(IntegrityError), transaction.atomic():
        Occupancy.objects.create(
            bed=bed, placement=placement("C"), start_date=date(2026, 4, 1), end_date=date(2026, 4, 2)
        )


@pytest.mark.django_db(transaction=True)
def test_two_brokers_filling_one_bed_at_once_make_exactly_one_occupancy(reference_data, bed, council_a, broker_a):
    requests = [BlockRequestFactory(commissioner=council_a, created_by=broker_a) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes = []

    def fill(request):
        try:
            barrier.wait(timeout=10)
            block_bed_fill(bed=bed, request=request, actor=broker_a, start_date=TODAY())
            outcomes.append("filled")
        except ConflictError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=fill, args=(request,)) for request in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["bed_filled", "filled"]
    assert Occupancy.objects.filter(bed=bed).count() == 1
    assert PlacementRequest.objects.filter(status=PlacementRequest.Status.PLACED).count() == 1
    assert Placement.objects.count() == 1
