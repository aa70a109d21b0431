"""Block contract rates: a dated history, each contract's own uplift rule, and payment at the
rate in force on each day. Expected figures are worked out by hand in the comments."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import DataError, IntegrityError, transaction

from blockbeds.models import BlockContract, BlockContractRate
from blockbeds.selectors import utilisation
from blockbeds.services import block_bed_fill, block_contract_rate_record
from contracts.models import FeePeriod, Uplift
from contracts.payments import payment_schedule_build, period_parse
from contracts.services import uplift_apply, uplift_preview, uplift_queue
from core.errors import ApplicationError, ForbiddenError
from core.models import AuditEvent, Notification
from placements.models import PlacementRequest

from .factories import (
    BlockContractFactory,
    BlockRequestFactory,
    CareHomeFactory,
    PaidPlacementFactory,
    backdated_uplift,
    lot,
)

D = Decimal
# Monday 6 April 2026; the four-week period 2026-W15/4 runs to Sunday 3 May (28 days).
APRIL = dt.date(2026, 4, 6)
PERIOD = "2026-W15/4"


def _contract(
    council, home, *, rate, basis="negotiated", lots=(1,), beds=2, start=dt.date(2025, 4, 15), end=None, **extra
):
    return BlockContractFactory(
        commissioner=council,
        care_home=home,
        weekly_rate=D(rate),
        uplift_basis=basis,
        lot_numbers=list(lots),
        beds=beds,
        number_of_beds=beds,
        start_date=start,
        end_date=end or dt.date(2028, 4, 14),
        **extra,
    )


def _fixed(council, home, rate="712.34", percentage="3.5", **extra):
    return _contract(council, home, rate=rate, basis="fixed_annual", uplift_percentage=D(percentage), **extra)


def _index_linked(council, home, rate="800.00", **extra):
    return _contract(council, home, rate=rate, basis="index_linked", uplift_index="CPI, 12 months to January", **extra)


def _uplift(commissioner, rules, basis=Uplift.Basis.INDEX_LINKED, effective_from=APRIL):
    return backdated_uplift(
        actor=commissioner,
        name="April 2026",
        basis=basis,
        basis_note="CPI 12 months to January 2026",
        effective_from=effective_from,
        rules=rules,
    )


def _apply(uplift, commissioner, **kwargs):
    uplift_queue(uplift=uplift, actor=commissioner)
    return uplift_apply(uplift_id=uplift.pk, **kwargs)


def _rates(contract):
    return list(contract.rates.order_by("effective_from").values_list("effective_from", "weekly_rate", "reason"))


@pytest.fixture
def home_a(provider_a):
    return CareHomeFactory(provider=provider_a, name="Alder House")


@pytest.fixture
def home_b(provider_b):
    return CareHomeFactory(provider=provider_b, name="Beech Court")


@pytest.mark.django_db
class TestUpliftRules:
    def test_a_fixed_annual_contract_is_uplifted_from_its_anniversary_by_its_own_percentage(
        self, council_a, commissioner_a, home_a
    ):
        contract = _fixed(council_a, home_a)
        # The commissioner's rule (10%) is for spot fees; the contract has its own 3.5%.
        uplift = _apply(_uplift(commissioner_a, [{"lot": lot(1), "percentage": D("10")}]), commissioner_a)

        assert uplift.block_contracts_uplifted == 1
        # 712.34 x 3.5% = 24.9319 -> 24.93; from the anniversary, 15 April, not the uplift's 6 April.
        assert _rates(contract) == [
            (dt.date(2025, 4, 15), D("712.34"), "initial"),
            (dt.date(2026, 4, 15), D("737.27"), "uplift"),
        ]
        assert contract.rate_on(dt.date(2026, 4, 14)) == D("712.34")
        assert contract.rate_on(dt.date(2026, 4, 15)) == D("737.27")
        row = contract.rates.get(reason="uplift")
        assert (row.uplift_id, row.created_by_id) == (uplift.pk, commissioner_a.pk)
        event = AuditEvent.objects.get(verb="blockbeds.contract.rate_uplifted", target_id=str(contract.pk))
        assert event.detail["before"] == "712.34" and event.detail["after"] == "737.27"

    def test_an_as_negotiated_contract_is_left_alone_by_a_percentage_uplift(self, council_a, commissioner_a, home_a):
        negotiated = _contract(council_a, home_a, rate="750.00", basis="negotiated")
        index_linked = _index_linked(council_a, home_a)
        uplift = _uplift(commissioner_a, [{"client_group": "older_people", "percentage": D("4")}])

        preview = uplift_preview(uplift=uplift)
        assert preview.block_count == 1
        uplift = _apply(uplift, commissioner_a)

        assert uplift.block_contracts_uplifted == 1
        assert _rates(negotiated) == [(dt.date(2025, 4, 15), D("750.00"), "initial")]
        # 800.00 + 4% = 832.00 from the uplift's own date.
        assert _rates(index_linked)[-1] == (APRIL, D("832.00"), "uplift")
        assert not AuditEvent.objects.filter(verb="blockbeds.contract.rate_uplifted", target_id=str(negotiated.pk))

    def test_an_index_linked_contract_follows_only_index_linked_uplifts(self, council_a, commissioner_a, home_a):
        index_linked = _index_linked(council_a, home_a)
        fixed = _fixed(council_a, home_a)
        wage = _uplift(commissioner_a, [{"lot": lot(1), "percentage": D("6")}], basis=Uplift.Basis.REAL_LIVING_WAGE)

        _apply(wage, commissioner_a)

        assert _rates(index_linked) == [(dt.date(2025, 4, 15), D("800.00"), "initial")]
        assert _rates(fixed)[-1] == (dt.date(2026, 4, 15), D("737.27"), "uplift")

    def test_a_new_weekly_rate_rule_does_not_set_an_index_linked_block_rate(self, council_a, commissioner_a, home_a):
        index_linked = _index_linked(council_a, home_a)
        _apply(_uplift(commissioner_a, [{"lot": lot(1), "new_weekly_rate": D("900.00")}]), commissioner_a)
        assert len(_rates(index_linked)) == 1

    def test_preview_shows_block_contracts_and_the_weekly_cost_of_their_beds_per_lot(
        self, council_a, council_b, commissioner_a, home_a, home_b
    ):
        _fixed(council_a, home_a, lots=(2, 1), beds=2)  # counted under lot 1, its lowest
        _index_linked(council_a, home_b, lots=(6,), beds=3)
        _contract(council_a, home_a, rate="650.00", basis="negotiated")
        _fixed(council_b, home_a)  # another council's
        _fixed(council_a, home_a, end=dt.date(2026, 4, 14))  # ends first
        PaidPlacementFactory(
            commissioner=council_a,
            care_home=home_a,
            lot=lot(1),
            start_date=dt.date(2025, 5, 1),
            council_weekly_amount=D("1000.00"),
        )
        uplift = _uplift(
            commissioner_a,
            [{"client_group": "older_people", "percentage": D("4")}, {"lot": lot(6), "percentage": D("2.5")}],
        )

        preview = uplift_preview(uplift=uplift)

        # Fixed: 2 beds, 712.34 -> 737.27: 1424.68 -> 1474.54 a week.
        # Index-linked lot 6: 3 beds, 800.00 + 2.5% = 820.00: 2400.00 -> 2460.00 a week.
        assert (preview.count, preview.old_weekly_total, preview.new_weekly_total) == (1, D("1000.00"), D("1040.00"))
        assert (preview.block_count, preview.block_old_weekly_total, preview.block_new_weekly_total) == (
            2,
            D("3824.68"),
            D("3934.54"),
        )
        assert [
            (t.lot.number, t.count, t.block_count, t.block_old_weekly_total, t.block_new_weekly_total)
            for t in preview.lots
        ] == [(1, 1, 1, D("1424.68"), D("1474.54")), (6, 0, 1, D("2400.00"), D("2460.00"))]
        assert BlockContractRate.objects.filter(reason="uplift").count() == 0, "a preview changes nothing"

    def test_an_uplift_applied_twice_changes_block_rates_once(self, council_a, commissioner_a, home_a):
        fixed = _fixed(council_a, home_a)
        index_linked = _index_linked(council_a, home_a)
        uplift = _uplift(commissioner_a, [{"lot": lot(1), "percentage": D("4")}])
        _apply(uplift, commissioner_a)
        after_first = (_rates(fixed), _rates(index_linked), AuditEvent.objects.count())

        again = uplift_apply(uplift_id=uplift.pk)

        assert again.status == Uplift.Status.APPLIED and again.block_contracts_uplifted == 2
        assert (_rates(fixed), _rates(index_linked), AuditEvent.objects.count()) == after_first
        assert [r[1] for r in after_first[0]] == [D("712.34"), D("737.27")]
        assert [r[1] for r in after_first[1]] == [D("800.00"), D("832.00")]
        # A second uplift for the same year finds the rates already changed from those dates.
        second = _apply(_uplift(commissioner_a, [{"lot": lot(1), "percentage": D("4")}]), commissioner_a)
        assert second.block_contracts_uplifted == 0
        assert (_rates(fixed), _rates(index_linked)) == after_first[:2]

    def test_the_database_refuses_a_second_rate_from_the_same_uplift(self, council_a, commissioner_a, home_a):
        contract = _index_linked(council_a, home_a)
        uplift = _apply(_uplift(commissioner_a, [{"lot": lot(1), "percentage": D("4")}]), commissioner_a)
        with pytest.raises(IntegrityError), transaction.atomic():
            BlockContractRate.objects.create(
                contract=contract,
                effective_from=APRIL + dt.timedelta(days=30),
                weekly_rate=D("900.00"),
                reason=BlockContractRate.Reason.UPLIFT,
                uplift=uplift,
            )
        with pytest.raises(IntegrityError), transaction.atomic():
            BlockContractRate.objects.create(
                contract=contract, effective_from=APRIL, weekly_rate=D("1.00"), reason="negotiated"
            )

    def test_the_block_provider_is_told_and_only_its_people(
        self, council_a, commissioner_a, home_a, provider_user_a, provider_user_b
    ):
        _fixed(council_a, home_a)
        _apply(_uplift(commissioner_a, [{"lot": lot(1), "percentage": D("4")}]), commissioner_a)
        notices = Notification.objects.filter(verb="contracts.uplift.applied")
        assert [n.recipient_id for n in notices] == [provider_user_a.pk]
        assert "1 of your block contracts have a new weekly rate" in notices[0].body


@pytest.mark.django_db(transaction=True)
def test_a_failing_block_rate_leaves_no_placement_or_block_contract_uplifted(
    reference_data, council_a, commissioner_a, provider_a
):
    home = CareHomeFactory(provider=provider_a)
    placement = PaidPlacementFactory(commissioner=council_a, care_home=home, lot=lot(1), start_date=dt.date(2025, 5, 1))
    good = [_index_linked(council_a, home, rate="800.00") for _ in range(2)]
    # 4% on this rate is too large to store: the last batch fails in the database.
    broken = _index_linked(council_a, home, rate="99999999.00")
    uplift = _uplift(commissioner_a, [{"lot": lot(1), "percentage": D("4")}])
    uplift_queue(uplift=uplift, actor=commissioner_a)

    with pytest.raises(DataError):
        uplift_apply(uplift_id=uplift.pk, batch_size=2)

    uplift.refresh_from_db()
    assert uplift.status == Uplift.Status.FAILED
    assert FeePeriod.objects.filter(placement=placement).count() == 0
    assert BlockContractRate.objects.filter(reason="uplift").count() == 0
    assert not AuditEvent.objects.filter(verb="blockbeds.contract.rate_uplifted").exists()

    BlockContractRate.objects.filter(contract=broken).update(weekly_rate=D("900.00"))
    uplift_queue(uplift=uplift, actor=commissioner_a)
    uplift = uplift_apply(uplift_id=uplift.pk, batch_size=2)
    assert (uplift.placements_uplifted, uplift.block_contracts_uplifted) == (1, 3)
    assert [c.rate_on(APRIL) for c in good] == [D("832.00"), D("832.00")]


@pytest.mark.django_db
class TestPaymentAtDatedRates:
    def test_void_beds_are_paid_pro_rata_across_an_uplift_inside_the_period(self, council_a, commissioner_a, home_a):
        contract = _fixed(council_a, home_a, beds=2)
        _apply(_uplift(commissioner_a, [{"lot": lot(1), "percentage": D("4")}]), commissioner_a)

        schedule = payment_schedule_build(period=period_parse(PERIOD), commissioner_id=council_a.pk)

        lines = [(x.reference, x.start, x.end, x.weekly_fee, x.council_amount, x.note) for x in schedule.lines]
        ref = contract.reference
        # 6 to 14 April, 9 days at 712.34: 6411.06 / 7 = 915.8657 -> 915.87.
        # 15 April to 3 May, 19 days at 737.27: 14008.13 / 7 = 2001.1614 -> 2001.16.
        assert lines == [
            (f"{ref}/001", dt.date(2026, 4, 6), dt.date(2026, 4, 14), D("712.34"), D("915.87"), "Void"),
            (f"{ref}/001", dt.date(2026, 4, 15), dt.date(2026, 5, 3), D("737.27"), D("2001.16"), "Void"),
            (f"{ref}/002", dt.date(2026, 4, 6), dt.date(2026, 4, 14), D("712.34"), D("915.87"), "Void"),
            (f"{ref}/002", dt.date(2026, 4, 15), dt.date(2026, 5, 3), D("737.27"), D("2001.16"), "Void"),
        ]
        assert (schedule.totals.council, schedule.totals.top_up, schedule.totals.gross) == (
            D("5834.06"),
            D("0.00"),
            D("5834.06"),
        )

    def test_a_negotiated_rate_from_mid_period_splits_the_bed_and_its_fill(
        self, council_a, commissioner_a, home_a, broker_a
    ):
        contract = _contract(council_a, home_a, rate="700.00", beds=1)
        block_contract_rate_record(
            contract=contract,
            actor=commissioner_a,
            effective_from=dt.date(2026, 4, 20),
            weekly_rate=D("745.10"),
            reason="Agreed at contract review",
        )
        bed = contract.beds.get()
        placement = PaidPlacementFactory(
            commissioner=council_a, care_home=home_a, lot=lot(1), start_date=dt.date(2026, 4, 13), source="block_bed"
        )
        bed.occupancies.create(placement=placement, start_date=dt.date(2026, 4, 13))

        lines = payment_schedule_build(period=period_parse(PERIOD), commissioner_id=council_a.pk).lines

        # 6-19 April: 14 days at 700.00 = 1400.00, filled from the 13th (7 of 14 days).
        # 20 April-3 May: 14 days at 745.10 = 1490.20, filled throughout.
        assert [(x.start, x.end, x.council_amount, x.note) for x in lines] == [
            (dt.date(2026, 4, 6), dt.date(2026, 4, 19), D("1400.00"), "Filled 7 of 14 days"),
            (dt.date(2026, 4, 20), dt.date(2026, 5, 3), D("1490.20"), "Filled"),
        ]


@pytest.mark.django_db
class TestNegotiatedRate:
    def test_recording_a_rate_is_audited_and_told_to_the_provider(
        self, council_a, commissioner_a, home_a, provider_user_a
    ):
        contract = _contract(council_a, home_a, rate="700.00")
        rate = block_contract_rate_record(
            contract=contract,
            actor=commissioner_a,
            effective_from=dt.date(2026, 6, 1),
            weekly_rate=D("745.10"),
            reason="Agreed at contract review",
        )
        assert (rate.reason, rate.basis, rate.created_by_id) == (
            "negotiated",
            "Agreed at contract review",
            commissioner_a.pk,
        )
        event = AuditEvent.objects.get(verb="blockbeds.contract.rate_changed")
        assert event.detail == {"effective_from": "2026-06-01", "before": "700.00", "after": "745.10"}
        assert Notification.objects.get(verb="blockbeds.contract.rate_changed").recipient == provider_user_a

    @pytest.mark.parametrize(
        "effective_from, field",
        [(dt.date(2025, 4, 15), "effective_from"), (dt.date(2028, 4, 15), "effective_from")],
    )
    def test_a_rate_must_start_after_the_latest_and_inside_the_contract(
        self, council_a, commissioner_a, home_a, effective_from, field
    ):
        contract = _contract(council_a, home_a, rate="700.00")
        with pytest.raises(ApplicationError) as refused:
            block_contract_rate_record(
                contract=contract, actor=commissioner_a, effective_from=effective_from, weekly_rate=D("1"), reason="x"
            )
        assert field in refused.value.fields
        assert contract.rates.count() == 1

    def test_only_the_contracts_commissioner_records_a_rate(self, council_a, commissioner_b, broker_a, home_a):
        contract = _contract(council_a, home_a, rate="700.00")
        for actor in (commissioner_b, broker_a):
            with pytest.raises(ForbiddenError):
                block_contract_rate_record(
                    contract=contract, actor=actor, effective_from=APRIL, weekly_rate=D("800"), reason="x"
                )
        assert contract.rates.count() == 1


@pytest.mark.django_db
def test_contracts_read_the_rate_in_force_today_from_their_history(council_a, home_a):
    contract = _contract(council_a, home_a, rate="700.00", start=dt.date(2020, 1, 1))
    contract.rates.create(effective_from=dt.date(2021, 1, 1), weekly_rate=D("720.00"), reason="negotiated")
    contract.rates.create(effective_from=dt.date(2099, 1, 1), weekly_rate=D("999.00"), reason="negotiated")
    fresh = BlockContract.objects.prefetch_related("rates").get(pk=contract.pk)
    assert fresh.weekly_rate == D("720.00")
    assert fresh.rate_on(dt.date(2020, 6, 1)) == D("700.00")


@pytest.mark.django_db
def test_the_uplift_page_previews_block_contracts_and_exports_them(as_user, council_a, commissioner_a, home_a):
    _fixed(council_a, home_a, beds=2)
    uplift = _uplift(commissioner_a, [{"lot": lot(1), "percentage": D("4")}])
    client = as_user(commissioner_a)
    page = client.get(f"/commissioner/uplifts/{uplift.pk}/").content.decode()
    assert "1 block contract would change" in page
    assert "from £1,424.68 to £1,474.54" in page
    # Applying is a link to a confirmation page, which states the block contracts' change again before its button.
    apply_url = f"/commissioner/uplifts/{uplift.pk}/apply/"
    assert f'href="{apply_url}">Apply uplift to 0 placements and 1 block contract</a>' in page
    confirm = client.get(apply_url).content.decode()
    assert "Block contracts</dt>" in confirm
    assert "1: weekly cost from £1,424.68 to £1,474.54</dd>" in confirm
    assert 'id="confirm-apply">Apply uplift</button>' in confirm
    csv = b"".join(client.get(f"/commissioner/uplifts/{uplift.pk}/?format=csv")).decode().splitlines()
    assert csv[0].endswith("block_contracts,block_old_weekly_total,block_new_weekly_total")
    assert csv[1] == "1,0,0.00,0.00,1,1424.68,1474.54"


@pytest.mark.django_db
def test_void_cost_on_the_utilisation_dashboard_uses_the_rate_of_each_day(council_a, commissioner_a, home_a):
    contract = _contract(council_a, home_a, rate="700.00", beds=1)
    block_contract_rate_record(
        contract=contract,
        actor=commissioner_a,
        effective_from=dt.date(2026, 4, 20),
        weekly_rate=D("770.00"),
        reason="Agreed at contract review",
    )
    result = utilisation(
        commissioner=council_a, at=dt.date(2026, 4, 6), date_from=dt.date(2026, 4, 6), date_to=dt.date(2026, 5, 3)
    )
    # 14 void days at 700.00 and 14 at 770.00: (9800 + 10780) / 7 = 2940.00.
    assert (result.overall.void_bed_days, result.overall.void_cost) == (28, D("2940.00"))


@pytest.mark.django_db
def test_placements_in_block_beds_follow_the_contract_rate_in_their_fee_history(
    council_a, broker_a, commissioner_a, home_a, as_user
):
    contract = _index_linked(council_a, home_a, rate="800.00")
    beds = list(contract.beds.order_by("pk"))
    before = block_bed_fill(
        bed=beds[0],
        request=BlockRequestFactory(commissioner=council_a, created_by=broker_a, lot=lot(1)),
        actor=broker_a,
        start_date=dt.date(2026, 1, 5),
    ).placement
    PlacementRequest.objects.filter(pk=before.request_id).update(status="placed")
    uplift = _apply(_uplift(commissioner_a, [{"lot": lot(1), "percentage": D("4")}]), commissioner_a)
    # 800.00 + 4% = 832.00 from 6 April, for the person already in the bed.
    before.refresh_from_db()
    assert before.weekly_fee == D("832.00") and before.council_weekly_amount == D("832.00")
    assert list(before.fee_periods.values_list("effective_from", "weekly_fee", "reason", "uplift")) == [
        (dt.date(2026, 1, 5), D("800.00"), "initial", None),
        (APRIL, D("832.00"), "uplift", uplift.pk),
    ]
    assert before.agreements.get(is_current=True).reason == "uplift"
    # A negotiated rate later on reaches it the same way; applying the uplift again does not.
    block_contract_rate_record(
        contract=contract,
        actor=commissioner_a,
        effective_from=dt.date(2026, 6, 1),
        weekly_rate=D("850.00"),
        reason="Agreed after the review of care needs.",
    )
    uplift_apply(uplift_id=uplift.pk)
    assert list(before.fee_periods.values_list("weekly_fee", flat=True)) == [D("800.00"), D("832.00"), D("850.00")]
    # Block beds stay paid by the bed, never also by the placement.
    schedule = payment_schedule_build(period=period_parse(PERIOD), commissioner_id=council_a.pk)
    lines = [line for remittance in schedule.remittances for line in remittance.lines]
    assert {line.kind for line in lines} == {"block_bed"}
    # Table 3 reads the history: March at 800, April and May at 832, June at 850.
    body = as_user(commissioner_a).get("/api/v1/dashboards/mean-weekly-cost/?from=2026-03&to=2026-06").json()
    older = [month["client_groups"][0]["mean_weekly_cost"] for month in body["months"]]
    assert older == ["800.00", "832.00", "832.00", "850.00"]


@pytest.mark.django_db
def test_a_council_system_records_a_negotiated_rate_over_the_api(
    council_a, commissioner_a, commissioner_b, provider_user_a, home_a, api_as, as_user
):
    contract = _contract(council_a, home_a, rate="750.00")
    url = f"/api/v1/block-contracts/{contract.pk}/rates/"
    body = {"effective_from": "2026-06-01", "weekly_rate": "790.00", "reason": "Agreed at the annual review."}
    system = api_as(council_a, scopes=["read", "contracts"], role="commissioner")

    response = system.post(url, body)

    assert response.status_code == 201, response.content
    assert response.json()["weekly_rate"] == "790.00" and response.json()["reason"] == "negotiated"
    assert _rates(contract)[-1] == (dt.date(2026, 6, 1), D("790.00"), "negotiated")
    assert AuditEvent.objects.filter(verb="blockbeds.contract.rate_changed", target_id=str(contract.pk)).exists()
    # Not after the latest rate: a field error, nothing written.
    again = system.post(url, {**body, "weekly_rate": "800.00"})
    assert again.status_code == 400 and "effective_from" in again.json()["errors"]
    assert len(_rates(contract)) == 2
    bad = system.post(url, {"effective_from": "someday", "weekly_rate": "-1"})
    assert bad.status_code == 400 and {"effective_from", "weekly_rate", "reason"} <= set(bad.json()["errors"])
    # Without the scope, as a provider, or as another council: refused.
    assert api_as(council_a, scopes=["read"], role="commissioner").post(url, body).status_code == 403
    assert as_user(provider_user_a).post(url, body, content_type="application/json").status_code == 403
    assert as_user(commissioner_b).post(url, body, content_type="application/json").status_code == 404
    assert len(_rates(contract)) == 2


@pytest.mark.django_db
def test_only_the_bodys_commissioners_and_their_systems_create_or_change_block_contracts_over_the_api(
    council_a, broker_a, commissioner_b, provider_user_a, home_a, api_as, as_user
):
    body = {
        "reference": "STAFFS-API-1",
        "care_home": home_a.pk,
        "contract_type": "long_term",
        "lots": [1],
        "number_of_beds": 2,
        "weekly_rate": "760.00",
        "start_date": "2026-04-01",
        "end_date": "2027-03-31",
    }
    assert (
        api_as(council_a, scopes=["read"], role="commissioner").post("/api/v1/block-contracts/", body).status_code
        == 403
    )
    for person in (broker_a, provider_user_a):
        refused = as_user(person).post("/api/v1/block-contracts/", body, content_type="application/json")
        assert refused.status_code == 403, refused.content
    assert not BlockContract.objects.exists()

    system = api_as(council_a, scopes=["read", "contracts"], role="commissioner")
    made = system.post("/api/v1/block-contracts/", body)
    assert made.status_code == 201, made.content
    contract = BlockContract.objects.get(reference="STAFFS-API-1")
    assert made["Location"].endswith(f"/api/v1/block-contracts/{contract.pk}/")
    assert (made.json()["uplift_basis"], contract.beds.count(), _rates(contract)) == (
        "negotiated",
        2,
        [(dt.date(2026, 4, 1), D("760.00"), "initial")],
    )
    assert AuditEvent.objects.filter(verb="blockbeds.contract.created", target_id=str(contract.pk)).exists()

    url = f"/api/v1/block-contracts/{contract.pk}/"
    change = {"end_date": "2026-12-31", "reason": "Ends with the winter"}
    assert as_user(commissioner_b).patch(url, change, content_type="application/json").status_code == 404
    assert as_user(provider_user_a).patch(url, change, content_type="application/json").status_code == 403
    no_reason = system.patch(url, {"end_date": "2026-12-31"})
    assert no_reason.status_code == 400 and set(no_reason.json()["errors"]) == {"reason"}
    before_start = system.patch(url, {"end_date": "2026-01-01", "reason": "Typo"})
    assert before_start.status_code == 400 and set(before_start.json()["errors"]) == {"end_date"}
    changed = system.patch(url, change)
    assert changed.status_code == 200 and changed.json()["end_date"] == "2026-12-31"
    contract.refresh_from_db()
    assert contract.end_date == dt.date(2026, 12, 31)
    updated = AuditEvent.objects.get(verb="blockbeds.contract.updated", target_id=str(contract.pk))
    assert updated.reason == change["reason"]
