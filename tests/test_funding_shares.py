"""Who pays what: dated funding shares that add up to the fee on every day, whatever writes them.

The hand-worked example: a nursing placement shared by the council, the person's assessed
contribution, NHS-funded nursing care and a daughter's top-up, paid for the four weeks from Monday
30 March 2026, with a new national FNC rate from Wednesday 8 April and a new contribution from
Thursday 16 April. Each line is the share's weekly amount x days / 7, rounded half up once.
"""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from contracts.models import FeePeriod, FundingShare, PayerType, Route
from contracts.payments import (
    CSV_HEADER,
    SCHEDULE_TOTAL_LINE,
    TOTAL_LINE,
    csv_rows,
    payment_schedule_build,
    period_parse,
)
from contracts.selectors import Share, share_sets, shares_on
from contracts.services import (
    agreement_create_for_placement,
    fee_change_record,
    fnc_rate_apply,
    fnc_rate_record,
    funding_shares_change,
    funding_shares_check,
    top_up_stop,
    uplift_apply,
    uplift_queue,
)
from core.errors import ApplicationError, ConflictError
from organisations.models import Organisation

from .factories import OrganisationFactory, PaidPlacementFactory, backdated_uplift, lot

D = Decimal
PERIOD = "2026-W14/4"  # Monday 30 March to Sunday 26 April 2026, 28 days.
FNC_FROM = dt.date(2026, 4, 8)
CONTRIBUTION_FROM = dt.date(2026, 4, 16)


@pytest.fixture
def icb():
    return OrganisationFactory(kind=Organisation.Kind.NHS, name="Staffordshire ICB", slug="staffs-icb")


def _shares(council, contribution, fnc, top_up, *, icb, route=Route.GROSS):
    return [
        Share(PayerType.COUNCIL, D(council)),
        Share(PayerType.CONTRIBUTION, D(contribution), route, payer_name="Mrs Example (resident)"),
        Share(PayerType.FNC, D(fnc), Route.NET, payer_organisation_id=icb.pk),
        Share(PayerType.TOP_UP, D(top_up), Route.GROSS, payer_name="Her daughter"),
    ]


def _nursing_placement(council_a, broker_a, icb, route):
    placement = PaidPlacementFactory(
        commissioner=council_a,
        lot=lot(6),
        case_reference="NURSING-1",
        start_date=dt.date(2025, 6, 2),
        council_weekly_amount=D("1161.63"),
        top_up_weekly_amount=D("50.00"),
        top_up_payer="Her daughter",
    )
    agreement_create_for_placement(placement=placement, actor=broker_a)
    funding_shares_change(
        placement=placement,
        effective_from=placement.start_date,
        shares=_shares("745.50", "180.25", "235.88", "50.00", icb=icb, route=route),
        reason="Financial assessment and FNC determination",
        by=broker_a,
    )
    return placement


def _example(council_a, broker_a, commissioner_a, icb, route):
    placement = _nursing_placement(council_a, broker_a, icb, route)
    rate = fnc_rate_record(effective_from=FNC_FROM, weekly_rate=D("254.06"), by=commissioner_a)
    assert fnc_rate_apply(rate=rate) == 1
    # The council's share gives way to the new contribution: 745.50 - 15.35 = 730.15.
    funding_shares_change(
        placement=placement,
        effective_from=CONTRIBUTION_FROM,
        shares=_shares("730.15", "195.60", "254.06", "50.00", icb=icb, route=route),
        reason="Contribution reassessed",
        by=broker_a,
    )
    return placement, payment_schedule_build(period=period_parse(PERIOD), commissioner_id=council_a.pk)


# (payer type, from, to, days, weekly amount, amount): worked by hand.
HAND_WORKED = [
    ("council", "2026-03-30", "2026-04-07", 9, "745.50", "958.50"),  # 745.50 x 9 / 7 = 958.5000
    ("council", "2026-04-08", "2026-04-15", 8, "745.50", "852.00"),  # 745.50 x 8 / 7 = 852.0000
    ("council", "2026-04-16", "2026-04-26", 11, "730.15", "1147.38"),  # 730.15 x 11 / 7 = 1147.3786
    ("contribution", "2026-03-30", "2026-04-07", 9, "180.25", "231.75"),  # 231.7500
    ("contribution", "2026-04-08", "2026-04-15", 8, "180.25", "206.00"),  # 206.0000
    ("contribution", "2026-04-16", "2026-04-26", 11, "195.60", "307.37"),  # 307.3714
    ("fnc", "2026-03-30", "2026-04-07", 9, "235.88", "303.27"),  # 303.2743
    ("fnc", "2026-04-08", "2026-04-15", 8, "254.06", "290.35"),  # 290.3543
    ("fnc", "2026-04-16", "2026-04-26", 11, "254.06", "399.24"),  # 399.2371
    ("top_up", "2026-03-30", "2026-04-07", 9, "50.00", "64.29"),  # 64.2857
    ("top_up", "2026-04-08", "2026-04-15", 8, "50.00", "57.14"),  # 57.1429
    ("top_up", "2026-04-16", "2026-04-26", 11, "50.00", "78.57"),  # 78.5714
]


def _lines(schedule):
    return sorted(
        (
            line.payer_type,
            line.start.isoformat(),
            line.end.isoformat(),
            line.days,
            f"{line.weekly_amount:.2f}",
            f"{line.amount:.2f}",
        )
        for line in schedule.lines
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "route, council_pays, to_collect, paid_direct",
    [
        # Gross: the council pays its share, the contribution and the top-up, and collects both.
        (Route.GROSS, "3903.00", "945.12", "992.86"),
        # Net: the resident pays the contribution to the home; the council still pays the top-up gross.
        (Route.NET, "3157.88", "200.00", "1737.98"),
    ],
)
def test_hand_worked_four_weeks_with_fnc_rate_and_contribution_changes_to_the_penny(
    council_a, broker_a, commissioner_a, icb, route, council_pays, to_collect, paid_direct
):
    placement, schedule = _example(council_a, broker_a, commissioner_a, icb, route)

    assert _lines(schedule) == sorted((t, f, to, d, w, a) for t, f, to, d, w, a in HAND_WORKED)
    fees = {line.start: line.weekly_fee for line in schedule.lines}
    # The fee rose by the FNC difference (18.18) from 8 April; the contribution change left it alone.
    assert fees == {dt.date(2026, 3, 30): D("1211.63"), FNC_FROM: D("1229.81"), CONTRIBUTION_FROM: D("1229.81")}
    totals = schedule.totals
    by_payer = {t.payer_type: t.amount for t in totals.by_payer}
    assert by_payer == {"council": D("2957.88"), "contribution": D("745.12"), "fnc": D("992.86"), "top_up": D("200.00")}
    assert totals.gross == D("4895.86") == sum(line.amount for line in schedule.lines)
    assert (totals.council_pays, totals.to_collect, totals.paid_direct) == (
        D(council_pays),
        D(to_collect),
        D(paid_direct),
    )
    fnc_line = next(line for line in schedule.lines if line.payer_type == "fnc")
    assert (fnc_line.payer, fnc_line.paid_by) == ("Staffordshire ICB", "Staffordshire ICB")
    contribution = next(line for line in schedule.lines if line.payer_type == "contribution")
    assert contribution.paid_by == (council_a.name if route == Route.GROSS else "Mrs Example (resident)")
    # Every version of the agreement states the shares; the last one the latest shares.
    agreement = placement.agreements.get(is_current=True)
    assert {row["payer_type"]: row["weekly_amount"] for row in agreement.funding_shares} == {
        "council": "730.15",
        "contribution": "195.60",
        "fnc": "254.06",
        "top_up": "50.00",
    }


@pytest.mark.django_db
def test_finance_csv_totals_per_payer_reconcile_with_the_schedule(council_a, broker_a, commissioner_a, icb):
    _, schedule = _example(council_a, broker_a, commissioner_a, icb, Route.GROSS)
    rows = [dict(zip(CSV_HEADER, row, strict=True)) for row in csv_rows(schedule)]
    lines = [r for r in rows if r["line_type"] not in (TOTAL_LINE, SCHEDULE_TOTAL_LINE)]
    totals = [r for r in rows if r["line_type"] == TOTAL_LINE]
    (grand,) = [r for r in rows if r["line_type"] == SCHEDULE_TOTAL_LINE]

    assert {(r["payer_type"], r["payer"], r["route"]) for r in lines} == {
        ("council", council_a.name, "gross"),
        ("contribution", "Mrs Example (resident)", "gross"),
        ("fnc", "Staffordshire ICB", "net"),
        ("top_up", "Her daughter", "gross"),
    }
    for total in totals:
        summed = sum(
            D(str(r["amount"]))
            for r in lines
            if (r["payer_type"], r["payer"], r["route"]) == (total["payer_type"], total["payer"], total["route"])
        )
        assert summed == D(str(total["amount"]))
    schedule_by_payer = {(t.payer_type, t.payer, t.route): t.amount for t in schedule.totals.by_payer}
    assert {(t["payer_type"], t["payer"], t["route"]): t["amount"] for t in totals} == schedule_by_payer
    assert D(str(grand["amount"])) == schedule.totals.gross == sum(D(str(t["amount"])) for t in totals)


# The rule held on every write path -----------------------------------------------------------


@pytest.fixture
def shared(council_a, broker_a, icb):
    return _nursing_placement(council_a, broker_a, icb, Route.GROSS)


def _assert_adds_up(placement):
    funding_shares_check(placement=placement)
    for share_set in share_sets(placement=placement):
        assert share_set.total >= 0


@pytest.mark.django_db
def test_a_funding_change_that_does_not_add_up_is_refused_and_writes_nothing(shared, broker_a, icb):
    rows = FundingShare.objects.count()
    with pytest.raises(ApplicationError) as refused:
        funding_shares_change(
            placement=shared,
            effective_from=dt.date(2026, 1, 5),
            shares=_shares("745.50", "200.00", "235.88", "50.00", icb=icb),
            reason="Contribution reassessed",
            by=broker_a,
        )
    assert refused.value.code == "shares_do_not_add_up"
    assert "£1,231.38" in refused.value.message and "£1,211.63" in refused.value.message
    assert FundingShare.objects.count() == rows


@pytest.mark.django_db
def test_a_fee_change_moves_the_council_share_and_refuses_one_below_the_other_shares(shared, broker_a):
    fee_change_record(
        placement=shared,
        actor=broker_a,
        effective_from=dt.date(2026, 2, 2),
        council_weekly_amount=D("1200.00"),
        top_up_weekly_amount=D("60.00"),
    )
    shares = {s.payer_type: s.weekly_amount for s in shares_on(shared, dt.date(2026, 2, 2))}
    # Fee 1260.00: contribution and FNC unchanged, the top-up as given, the council the rest.
    assert shares == {"council": D("783.87"), "contribution": D("180.25"), "fnc": D("235.88"), "top_up": D("60.00")}
    before = {s.payer_type: s.weekly_amount for s in shares_on(shared, dt.date(2026, 2, 1))}
    assert before["council"] == D("745.50")
    with pytest.raises(ApplicationError) as refused:
        fee_change_record(
            placement=shared,
            actor=broker_a,
            effective_from=dt.date(2026, 3, 2),
            council_weekly_amount=D("300.00"),
        )
    assert refused.value.code == "council_share_negative"
    _assert_adds_up(shared)


@pytest.mark.django_db
def test_an_uplift_raises_the_council_share_only(shared, commissioner_a):
    uplift = backdated_uplift(
        actor=commissioner_a,
        name="April",
        basis="index_linked",
        effective_from=dt.date(2026, 1, 5),
        rules=[{"lot": lot(6), "percentage": D("2.0")}],
    )
    uplift_queue(uplift=uplift, actor=commissioner_a)
    uplift_apply(uplift_id=uplift.pk)
    # 2% of 1211.63 = 24.2326 -> 24.23, all on the council's share.
    shares = {s.payer_type: s.weekly_amount for s in shares_on(shared, dt.date(2026, 1, 5))}
    assert shares == {"council": D("769.73"), "contribution": D("180.25"), "fnc": D("235.88"), "top_up": D("50.00")}
    _assert_adds_up(shared)


@pytest.mark.django_db
def test_a_new_fnc_rate_moves_every_nursing_fnc_share_and_the_fee(shared, commissioner_a, council_a, broker_a):
    residential = PaidPlacementFactory(commissioner=council_a, lot=lot(1))
    agreement_create_for_placement(placement=residential, actor=broker_a)
    rate = fnc_rate_record(effective_from=dt.date(2026, 4, 1), weekly_rate=D("250.00"), by=commissioner_a)
    assert fnc_rate_apply(rate=rate) == 1
    # Applying it again changes nothing.
    assert fnc_rate_apply(rate=rate) == 0
    shares = {s.payer_type: s.weekly_amount for s in shares_on(shared, dt.date(2026, 4, 1))}
    assert shares["fnc"] == D("250.00") and shares["council"] == D("745.50")
    assert FeePeriod.objects.get(placement=shared, effective_from=dt.date(2026, 4, 1)).weekly_fee == D("1225.75")
    assert not residential.funding_shares.filter(payer_type=PayerType.FNC).exists()
    _assert_adds_up(shared)
    with pytest.raises(ConflictError):
        fnc_rate_record(effective_from=dt.date(2026, 4, 1), weekly_rate=D("251.00"), by=commissioner_a)


@pytest.mark.django_db
def test_top_up_stop_moves_the_amount_to_the_council_from_the_date(shared, broker_a):
    top_up_stop(placement=shared, on=dt.date(2026, 3, 1), by=broker_a, reason="The daughter can no longer pay")
    assert {s.payer_type: s.weekly_amount for s in shares_on(shared, dt.date(2026, 3, 1))} == {
        "council": D("795.50"),
        "contribution": D("180.25"),
        "fnc": D("235.88"),
    }
    assert "top_up" in {s.payer_type for s in shares_on(shared, dt.date(2026, 2, 28))}
    assert shared.agreements.get(is_current=True).reason == "funding_change"
    _assert_adds_up(shared)
    with pytest.raises(ApplicationError):
        top_up_stop(placement=shared, on=dt.date(2026, 3, 2), by=broker_a, reason="Again")


@pytest.mark.django_db
def test_the_database_refuses_shares_written_around_the_service(shared):
    row = FundingShare.objects.filter(placement=shared, payer_type="contribution", superseded_at__isnull=True).get()
    with pytest.raises(IntegrityError, match="add up to"), transaction.atomic():
        FundingShare.objects.filter(pk=row.pk).update(weekly_amount=D("1.00"))
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with pytest.raises(IntegrityError, match="add up to"), transaction.atomic():
        FeePeriod.objects.create(
            placement=shared,
            effective_from=dt.date(2026, 1, 1),
            weekly_fee=D("2000.00"),
            council_weekly_amount=D("2000.00"),
            reason="fee_change",
        )
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.mark.django_db(transaction=True)
def test_concurrent_fee_and_funding_changes_leave_shares_adding_up(council_a, broker_a, icb):
    placement = _nursing_placement(council_a, broker_a, icb, Route.GROSS)
    start = threading.Barrier(2)
    outcomes = {}

    def fee_change():
        try:
            start.wait()
            fee_change_record(
                placement=placement,
                actor=broker_a,
                effective_from=dt.date(2026, 2, 2),
                council_weekly_amount=D("1261.63"),
                top_up_weekly_amount=D("50.00"),
            )
            outcomes["fee"] = "done"
        except ApplicationError as error:
            outcomes["fee"] = error.code
        finally:
            connection.close()

    def funding_change():
        try:
            start.wait()
            # Written for the fee of 1211.63: right only if it lands before the fee change.
            funding_shares_change(
                placement=placement,
                effective_from=dt.date(2026, 3, 2),
                shares=_shares("725.50", "200.25", "235.88", "50.00", icb=icb),
                reason="Contribution reassessed",
                by=broker_a,
            )
            outcomes["funding"] = "done"
        except ApplicationError as error:
            outcomes["funding"] = error.code
        finally:
            connection.close()

    threads = [threading.Thread(target=fee_change), threading.Thread(target=funding_change)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes["fee"] == "done"
    assert outcomes["funding"] in ("done", "shares_do_not_add_up")
    funding_shares_check(placement=placement)
    fee_from_march = FeePeriod.objects.filter(placement=placement).order_by("-effective_from").first().weekly_fee
    assert sum(s.weekly_amount for s in shares_on(placement, dt.date(2026, 3, 2))) == fee_from_march == D("1311.63")


@pytest.mark.django_db
def test_a_funding_change_is_a_webhook_event_for_the_council_and_the_provider_without_names(shared, broker_a, icb):
    from integrations.models import WebhookEvent

    funding_shares_change(
        placement=shared,
        effective_from=dt.date(2026, 2, 2),
        shares=_shares("725.50", "200.25", "235.88", "50.00", icb=icb),
        reason="Contribution reassessed",
        by=broker_a,
    )
    events = WebhookEvent.objects.filter(
        type="placement.funding_changed", payload__funding__effective_from="2026-02-02"
    )
    assert {event.organisation_id for event in events} == {shared.commissioner_id, shared.care_home.provider_id}
    payload = events.first().payload
    assert {(s["payer_type"], s["weekly_amount"]) for s in payload["funding"]["shares"]} == {
        ("council", "725.50"),
        ("contribution", "200.25"),
        ("fnc", "235.88"),
        ("top_up", "50.00"),
    }
    assert "Mrs Example" not in str(payload) and "Her daughter" not in str(payload)


@pytest.mark.django_db
def test_funding_share_and_fnc_rate_lists_run_the_same_queries_whatever_their_length(
    shared, broker_a, commissioner_a, icb, as_user
):
    from django.test.utils import CaptureQueriesContext

    client = as_user(broker_a)
    urls = [f"/api/v1/placements/{shared.pk}/funding-shares/", "/api/v1/fnc-rates/"]

    def counts():
        found = []
        for url in urls:
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            assert response.status_code == 200, response.content
            found.append(len(queries))
        return found

    before = counts()
    for month in range(1, 6):
        funding_shares_change(
            placement=shared,
            effective_from=dt.date(2026, month, 1),
            shares=_shares(f"{745 - month}.50", f"{180 + month}.25", "235.88", "50.00", icb=icb),
            reason="Contribution reassessed",
            by=broker_a,
        )
        fnc_rate_record(effective_from=dt.date(2020 + month, 4, 1), weekly_rate=D("200.00") + month, by=commissioner_a)
    assert len(client.get(urls[0]).json()) == 6 and len(client.get(urls[1]).json()) == 5
    assert counts() == before
