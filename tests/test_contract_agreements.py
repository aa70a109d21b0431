"""Service agreements: generated once per placement, versioned on change, accepted by the provider, PDF."""

import datetime as dt
import io
import threading
from decimal import Decimal

import pytest
from django.db import connection
from pypdf import PdfReader

from contracts.models import FeePeriod, ServiceAgreement
from contracts.pdf import agreement_pdf
from contracts.selectors import weekly_fee_on
from contracts.services import (
    agreement_accept,
    agreement_create_for_placement,
    fee_change_record,
    placement_end_record,
)
from core.errors import ApplicationError, ConflictError, ForbiddenError
from core.models import AuditEvent, Notification

from .factories import CareHomeFactory, PaidPlacementFactory, lot

D = Decimal


@pytest.fixture
def placement(council_a, provider_a):
    home = CareHomeFactory(provider=provider_a, name="Alder House", postcode="ST16 2AB")
    return PaidPlacementFactory(
        commissioner=council_a,
        care_home=home,
        case_reference="CASE-0042",
        lot=lot(2),
        start_date=dt.date(2026, 3, 2),
        council_weekly_amount=D("845.50"),
        top_up_weekly_amount=D("60.00"),
        top_up_payer="Mrs A Example (daughter)",
    )


@pytest.mark.django_db
def test_agreement_is_generated_once_per_placement_with_parties_and_fee_split(placement, broker_a, provider_user_a):
    first = agreement_create_for_placement(placement=placement, actor=broker_a)
    again = agreement_create_for_placement(placement=placement, actor=broker_a)

    assert again.pk == first.pk
    assert ServiceAgreement.objects.filter(placement=placement).count() == 1
    assert (first.version, first.is_current, first.reference) == (1, True, f"ISA-{placement.pk}-v1")
    assert (first.commissioner_name, first.provider_name) == ("Staffordshire County Council", "Trentside Care Ltd")
    assert (first.weekly_fee, first.council_weekly_amount, first.top_up_weekly_amount) == (
        D("905.50"),
        D("845.50"),
        D("60.00"),
    )
    assert first.case_reference == "CASE-0042"
    assert first.terms_version
    assert AuditEvent.objects.filter(verb="contracts.agreement.created").count() == 1
    assert Notification.objects.filter(recipient=provider_user_a, verb="contracts.agreement.issued").count() == 1
    # The fee it was agreed at starts the placement's fee history.
    assert list(placement.fee_periods.values_list("effective_from", "weekly_fee")) == [
        (dt.date(2026, 3, 2), D("905.50"))
    ]


@pytest.mark.django_db(transaction=True)
def test_simultaneous_generation_makes_one_agreement(reference_data, placement, broker_a):
    results, barrier = [], threading.Barrier(2)

    def generate():
        try:
            barrier.wait()
            results.append(agreement_create_for_placement(placement=placement, actor=broker_a).pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=generate) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 2 and results[0] == results[1]
    assert ServiceAgreement.objects.filter(placement=placement).count() == 1
    assert FeePeriod.objects.filter(placement=placement).count() == 1


@pytest.mark.django_db
def test_a_placement_without_a_known_home_gets_no_agreement(council_a, broker_a):
    imported = PaidPlacementFactory(commissioner=council_a, care_home=None, source="imported")
    with pytest.raises(ApplicationError):
        agreement_create_for_placement(placement=imported, actor=broker_a)


@pytest.mark.django_db
def test_another_council_cannot_generate_the_agreement(placement, broker_b, provider_user_a):
    for actor in (broker_b, provider_user_a):
        with pytest.raises(ForbiddenError):
            agreement_create_for_placement(placement=placement, actor=actor)


@pytest.mark.django_db
def test_a_fee_change_makes_a_new_version_and_keeps_the_old(placement, broker_a):
    first = agreement_create_for_placement(placement=placement, actor=broker_a)

    fee_change_record(
        placement=placement,
        actor=broker_a,
        effective_from=dt.date(2026, 5, 4),
        council_weekly_amount=D("900.00"),
        top_up_weekly_amount=D("60.00"),
        note="Needs reassessed as higher",
    )

    first.refresh_from_db()
    current = ServiceAgreement.objects.get(placement=placement, is_current=True)
    assert (first.is_current, first.superseded_at is not None, first.weekly_fee) == (False, True, D("905.50"))
    assert (current.version, current.reason, current.weekly_fee) == (2, "fee_change", D("960.00"))
    assert current.fee_effective_from == dt.date(2026, 5, 4)
    assert weekly_fee_on(placement=placement, on=dt.date(2026, 5, 3)) == D("905.50")
    assert weekly_fee_on(placement=placement, on=dt.date(2026, 5, 4)) == D("960.00")
    assert weekly_fee_on(placement=placement, on=dt.date(2026, 3, 1)) is None
    with pytest.raises(ConflictError):
        fee_change_record(
            placement=placement,
            actor=broker_a,
            effective_from=dt.date(2026, 5, 4),
            council_weekly_amount=D("1.00"),
        )


@pytest.mark.django_db
def test_ending_the_placement_makes_a_new_version_with_the_end_date(placement, broker_a):
    agreement_create_for_placement(placement=placement, actor=broker_a)

    ended = placement_end_record(placement=placement, actor=broker_a, end_date=dt.date(2026, 6, 30), reason="Moved")

    versions = list(placement.agreements.order_by("version").values_list("version", "end_date", "is_current"))
    assert versions == [(1, None, False), (2, dt.date(2026, 6, 30), True)]
    assert weekly_fee_on(placement=ended, on=dt.date(2026, 6, 30)) == D("905.50")
    assert weekly_fee_on(placement=ended, on=dt.date(2026, 7, 1)) is None
    with pytest.raises(ApplicationError):
        placement_end_record(placement=placement, actor=broker_a, end_date=dt.date(2026, 1, 1))


@pytest.mark.django_db
def test_the_provider_accepts_the_current_version_recording_time_and_person(
    placement, broker_a, provider_user_a, provider_user_b
):
    agreement = agreement_create_for_placement(placement=placement, actor=broker_a)
    for outsider in (provider_user_b, broker_a):
        with pytest.raises(ForbiddenError):
            agreement_accept(agreement=agreement, actor=outsider)

    accepted = agreement_accept(agreement=agreement, actor=provider_user_a)

    assert accepted.accepted_by == provider_user_a
    assert accepted.accepted_at is not None
    assert AuditEvent.objects.filter(verb="contracts.agreement.accepted", actor=provider_user_a).exists()
    with pytest.raises(ConflictError):
        agreement_accept(agreement=agreement, actor=provider_user_a)


@pytest.mark.django_db
def test_a_replaced_version_cannot_be_accepted(placement, broker_a, provider_user_a):
    first = agreement_create_for_placement(placement=placement, actor=broker_a)
    placement_end_record(placement=placement, actor=broker_a, end_date=dt.date(2026, 6, 30))
    with pytest.raises(ConflictError):
        agreement_accept(agreement=first, actor=provider_user_a)


def _pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.mark.django_db
def test_the_agreement_pdf_contains_the_parties_and_the_fee_split(placement, broker_a, provider_user_a):
    agreement = agreement_create_for_placement(placement=placement, actor=broker_a)
    agreement_accept(agreement=agreement, actor=provider_user_a)
    agreement.refresh_from_db()

    text = _pdf_text(agreement_pdf(agreement))

    for expected in (
        "Individual service agreement",
        agreement.reference,
        "Staffordshire County Council",
        "Trentside Care Ltd",
        "Alder House",
        "CASE-0042",
        "Lot 2: Older people residential dementia",
        "£905.50",
        "£845.50",
        "£60.00",
        "Mrs A Example (daughter)",
        "02 March 2026",
        "Accepted by",
    ):
        assert expected in text, expected
