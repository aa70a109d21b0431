"""Fee uplifts: preview, apply all or nothing in batches, idempotent, audited, notified."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import DataError, IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from contracts.models import FeePeriod, ServiceAgreement, Uplift
from contracts.selectors import fee_on_expression, weekly_fee_on, with_weekly_fee_on
from contracts.services import (
    agreement_create_for_placement,
    uplift_apply,
    uplift_create,
    uplift_preview,
    uplift_queue,
)
from core.errors import ApplicationError, ConflictError, ForbiddenError
from core.models import AuditEvent, Notification
from placements.models import Placement

from .factories import CareHomeFactory, PaidPlacementFactory, backdated_uplift, lot

D = Decimal
APRIL = dt.date(2026, 4, 6)


def _placement(council, home, number, fee, **extra):
    return PaidPlacementFactory(
        commissioner=council,
        care_home=home,
        lot=lot(number),
        start_date=extra.pop("start_date", dt.date(2025, 5, 1)),
        council_weekly_amount=D(fee),
        **extra,
    )


def _define(commissioner, rules, effective_from=APRIL):
    return backdated_uplift(
        actor=commissioner,
        name="April 2026",
        basis=Uplift.Basis.REAL_LIVING_WAGE,
        basis_note="Real Living Wage 2026/27: 13.45 an hour",
        effective_from=effective_from,
        rules=rules,
    )


def _define_now(actor, rules):
    """Through the service, which checks who may define an uplift and its rules, from a date ahead."""
    return uplift_create(
        actor=actor,
        name="Next uplift",
        basis=Uplift.Basis.REAL_LIVING_WAGE,
        effective_from=timezone.localdate() + dt.timedelta(days=30),
        rules=rules,
    )


def _snapshot():
    return {
        "fees": sorted(Placement.objects.values_list("pk", "weekly_fee", "council_weekly_amount")),
        "periods": sorted(FeePeriod.objects.values_list("placement_id", "effective_from", "weekly_fee")),
        "agreements": sorted(ServiceAgreement.objects.values_list("placement_id", "version", "is_current")),
        "audit": AuditEvent.objects.filter(verb__startswith="contracts.fee").count(),
        "notifications": Notification.objects.count(),
    }


@pytest.fixture
def homes(provider_a, provider_b):
    return CareHomeFactory(provider=provider_a), CareHomeFactory(provider=provider_b)


@pytest.mark.django_db
def test_preview_counts_placements_and_weekly_totals_per_lot(council_a, council_b, commissioner_a, homes):
    home_a, home_b = homes
    _placement(council_a, home_a, 1, "800.00")  # older people group: 4% -> 832.00
    _placement(council_a, home_b, 2, "1000.00", top_up_weekly_amount=D("100.00"))  # group: 1100 -> 1144.00
    _placement(council_a, home_a, 6, "1200.00")  # lot 6 rule beats its group: 2.5% -> 1230.00
    _placement(council_a, home_a, 1, "900.00", start_date=APRIL)  # agreed at the new rates
    _placement(council_a, home_a, 1, "900.00", end_date=dt.date(2026, 4, 5))  # ended before
    _placement(council_a, home_a, 1, "900.00", source=Placement.Source.BLOCK_BED)  # block contract rate
    _placement(council_b, home_a, 1, "900.00")  # another council's
    uplift = _define(
        commissioner_a,
        [
            {"client_group": "older_people", "percentage": D("4")},
            {"lot": lot(6), "percentage": D("2.5")},
        ],
    )
    assert {lot(1).client_group, lot(2).client_group, lot(6).client_group} == {"older_people"}

    preview = uplift_preview(uplift=uplift)

    assert (preview.count, preview.old_weekly_total, preview.new_weekly_total) == (3, D("3100.00"), D("3206.00"))
    assert [(t.lot.number, t.count, t.old_weekly_total, t.new_weekly_total) for t in preview.lots] == [
        (1, 1, D("800.00"), D("832.00")),
        (2, 1, D("1100.00"), D("1144.00")),
        (6, 1, D("1200.00"), D("1230.00")),
    ]
    assert FeePeriod.objects.count() == 0, "a preview changes nothing"


@pytest.mark.django_db
def test_rate_table_lifts_fees_below_the_new_rate_and_leaves_the_rest(council_a, commissioner_a, homes):
    below = _placement(council_a, homes[0], 1, "700.00", top_up_weekly_amount=D("40.00"))
    above = _placement(council_a, homes[0], 1, "900.00")
    uplift = _define(commissioner_a, [{"lot": lot(1), "new_weekly_rate": D("800.00")}])
    uplift_queue(uplift=uplift, actor=commissioner_a)
    uplift_apply(uplift_id=uplift.pk)

    below.refresh_from_db()
    above.refresh_from_db()
    # 740 rises to 800: the council pays the extra 60, the top-up stays 40.
    assert (below.weekly_fee, below.council_weekly_amount, below.top_up_weekly_amount) == (
        D("800.00"),
        D("760.00"),
        D("40.00"),
    )
    assert above.weekly_fee == D("900.00")
    assert weekly_fee_on(placement=below, on=APRIL - dt.timedelta(days=1)) == D("740.00")
    assert weekly_fee_on(placement=below, on=APRIL) == D("800.00")


@pytest.mark.django_db
def test_applying_keeps_history_versions_agreements_audits_and_notifies_providers(
    council_a, commissioner_a, broker_a, homes, provider_user_a, provider_user_b
):
    home_a, home_b = homes
    with_agreement = _placement(council_a, home_a, 1, "800.00")
    agreement_create_for_placement(placement=with_agreement, actor=broker_a)
    _placement(council_a, home_b, 1, "850.00")
    uplift = _define(commissioner_a, [{"client_group": "older_people", "percentage": D("5")}])
    uplift_queue(uplift=uplift, actor=commissioner_a)

    uplift = uplift_apply(uplift_id=uplift.pk)

    assert (uplift.status, uplift.placements_uplifted) == (Uplift.Status.APPLIED, 2)
    with_agreement.refresh_from_db()
    assert with_agreement.weekly_fee == D("840.00")
    assert list(with_agreement.fee_periods.values_list("effective_from", "weekly_fee", "reason")) == [
        (dt.date(2025, 5, 1), D("800.00"), "initial"),
        (APRIL, D("840.00"), "uplift"),
    ]
    versions = list(with_agreement.agreements.order_by("version").values_list("version", "weekly_fee", "is_current"))
    assert versions == [(1, D("800.00"), False), (2, D("840.00"), True)]
    assert AuditEvent.objects.filter(verb="contracts.fee.uplifted").count() == 2
    assert AuditEvent.objects.filter(verb="contracts.uplift.applied", target_id=str(uplift.pk)).exists()
    uplift_notes = Notification.objects.filter(verb="contracts.uplift.applied")
    assert sorted(uplift_notes.values_list("recipient__email", flat=True)) == [
        provider_user_a.email,
        provider_user_b.email,
    ]
    # The dashboards' one-query reading of fees on a date sees the uplift from its date only.
    on_date = with_weekly_fee_on(Placement.objects.filter(pk=with_agreement.pk), APRIL - dt.timedelta(days=1))
    assert on_date.get().fee_on_date == D("800.00")
    assert with_weekly_fee_on(Placement.objects.filter(pk=with_agreement.pk), APRIL).get().fee_on_date == D("840.00")
    totals = Placement.objects.aggregate(
        march=Sum(fee_on_expression(dt.date(2026, 3, 31))), april=Sum(fee_on_expression(dt.date(2026, 4, 30)))
    )
    assert totals == {"march": D("1650.00"), "april": D("1732.50")}


@pytest.mark.django_db
def test_an_uplift_applied_twice_changes_nothing_the_second_time(council_a, commissioner_a, broker_a, homes):
    for fee in ("800.00", "810.00", "820.00"):
        placement = _placement(council_a, homes[0], 1, fee)
        agreement_create_for_placement(placement=placement, actor=broker_a)
    uplift = _define(commissioner_a, [{"lot": lot(1), "percentage": D("3")}])
    uplift_queue(uplift=uplift, actor=commissioner_a)
    uplift_apply(uplift_id=uplift.pk, batch_size=2)
    after_first = _snapshot()

    uplift_apply(uplift_id=uplift.pk, batch_size=2)
    with pytest.raises(ConflictError):
        uplift_queue(uplift=uplift, actor=commissioner_a)

    assert _snapshot() == after_first
    assert sorted(fee for _, fee, _ in after_first["fees"]) == [D("824.00"), D("834.30"), D("844.60")]


@pytest.mark.django_db
def test_the_database_refuses_a_second_fee_period_from_the_same_uplift(council_a, commissioner_a, homes):
    placement = _placement(council_a, homes[0], 1, "800.00")
    uplift = _define(commissioner_a, [{"lot": lot(1), "percentage": D("3")}])
    uplift_queue(uplift=uplift, actor=commissioner_a)
    uplift_apply(uplift_id=uplift.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        FeePeriod.objects.create(
            placement=placement,
            effective_from=APRIL + dt.timedelta(days=1),
            weekly_fee=D("900.00"),
            council_weekly_amount=D("900.00"),
            reason=FeePeriod.Reason.UPLIFT,
            uplift=uplift,
        )


@pytest.mark.django_db(transaction=True)
def test_an_uplift_failing_after_its_first_batch_leaves_no_placement_uplifted(
    reference_data, council_a, commissioner_a, broker_a, homes, provider_user_a
):
    placements = [_placement(council_a, homes[0], 1, fee) for fee in ("800.00", "810.00", "820.00", "830.00")]
    for placement in placements:
        agreement_create_for_placement(placement=placement, actor=broker_a)
    # The last placement's uplifted fee is too large to store: the third batch fails in the database.
    broken = _placement(council_a, homes[0], 1, "99999999.00")
    uplift = _define(commissioner_a, [{"lot": lot(1), "percentage": D("5")}])
    uplift_queue(uplift=uplift, actor=commissioner_a)
    before = _snapshot()

    with pytest.raises(DataError):
        uplift_apply(uplift_id=uplift.pk, batch_size=2)

    assert _snapshot() == before
    uplift.refresh_from_db()
    assert uplift.status == Uplift.Status.FAILED
    assert "out of range" in uplift.failure or "overflow" in uplift.failure

    # Once the bad fee is corrected the commissioner queues it again and every placement is uplifted.
    Placement.objects.filter(pk=broken.pk).update(weekly_fee=D("999.00"), council_weekly_amount=D("999.00"))
    uplift_queue(uplift=uplift, actor=commissioner_a)
    uplift = uplift_apply(uplift_id=uplift.pk, batch_size=2)
    assert (uplift.status, uplift.placements_uplifted) == (Uplift.Status.APPLIED, 5)
    assert FeePeriod.objects.filter(uplift=uplift).count() == 5


@pytest.mark.django_db
def test_only_a_commissioner_of_the_body_defines_and_applies_uplifts(commissioner_a, broker_a, commissioner_b):
    with pytest.raises(ForbiddenError):
        _define_now(broker_a, [{"lot": lot(1), "percentage": D("3")}])
    uplift = _define(commissioner_a, [{"lot": lot(1), "percentage": D("3")}])
    with pytest.raises(ForbiddenError):
        uplift_queue(uplift=uplift, actor=commissioner_b)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "rules",
    [[], [{"lot": None, "client_group": "older_people"}], [{"client_group": "older_people", "percentage": D("-1")}]],
)
def test_an_uplift_needs_a_positive_percentage_or_rate_per_rule(commissioner_a, rules):
    with pytest.raises(ApplicationError):
        _define_now(commissioner_a, rules)
