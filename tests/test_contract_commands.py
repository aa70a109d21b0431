"""Management commands: generating missing agreements and exporting the finance CSV."""

import csv
import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from contracts.models import ServiceAgreement

from .factories import PaidPlacementFactory

pytestmark = pytest.mark.django_db


def test_agreements_generate_covers_live_placements_without_one(council_a, council_b):
    live = PaidPlacementFactory(commissioner=council_a)
    PaidPlacementFactory(commissioner=council_a, start_date=dt.date(2024, 1, 1), end_date=dt.date(2024, 6, 1))
    PaidPlacementFactory(commissioner=council_b)

    call_command("agreements_generate", "--commissioner", council_a.slug)
    call_command("agreements_generate", "--commissioner", council_a.slug)

    assert list(ServiceAgreement.objects.values_list("placement_id", flat=True)) == [live.pk]


def test_agreements_generate_refuses_an_unknown_body(provider_a):
    with pytest.raises(CommandError):
        call_command("agreements_generate", "--commissioner", provider_a.slug)


def test_payment_schedule_export_writes_the_finance_csv(council_a, tmp_path):
    PaidPlacementFactory(commissioner=council_a, start_date=dt.date(2026, 4, 8), council_weekly_amount=Decimal("700"))
    target = tmp_path / "schedule.csv"

    call_command("payment_schedule_export", council_a.slug, "2026-W15", "--output", str(target))

    with target.open() as handle:
        row, payer_total, schedule_total = list(csv.DictReader(handle))
    assert (row["from_date"], row["to_date"], row["days"], row["council_amount"]) == (
        "2026-04-08",
        "2026-04-12",
        "5",
        "500.00",
    )
    assert (row["payer_type"], row["payer"], row["route"], row["amount"]) == (
        "council",
        council_a.name,
        "gross",
        "500.00",
    )
    # The totals check: one row per payer, then the schedule's.
    assert (payer_total["line_type"], payer_total["payer"], payer_total["amount"]) == (
        "payer_total",
        council_a.name,
        "500.00",
    )
    assert (schedule_total["line_type"], schedule_total["amount"]) == ("schedule_total", "500.00")


def test_payment_schedule_export_refuses_a_bad_period(council_a):
    with pytest.raises(CommandError, match="ISO week"):
        call_command("payment_schedule_export", council_a.slug, "April")
