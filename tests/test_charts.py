"""Dashboards that run over months show charts: one small chart per series on the same scales,
the target line on each where there is a target, and a text alternative for every chart."""

import re
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from dashboards.registry import DASHBOARDS
from lots.models import Lot
from placements.models import Placement

from .factories import BlockContractFactory

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
MONTHS = "?from=2023-01&to=2023-03"
# Dashboards whose figures run month by month.
TIME_SERIES = {"timeliness", "mean-weekly-cost", "block-bed-utilisation"}


def _placements(council, rows):
    """rows: (lot number, month, on time?)"""
    Placement.objects.bulk_create(
        Placement(
            commissioner=council,
            case_reference=f"C-{index}",
            lot=Lot.objects.get(number=lot_number),
            source=Placement.Source.IMPORTED,
            weekly_fee=Decimal("800.00") + lot_number,
            council_weekly_amount=Decimal("800.00") + lot_number,
            start_date=date(2023, month, 10),
            in_county=True,
            target_date=date(2023, month, 10 if on_time else 8),
            sourced_at=datetime(2023, month, 10, 11, tzinfo=LONDON),
        )
        for index, (lot_number, month, on_time) in enumerate(rows)
    )


def _charts(html: str) -> dict[str, str]:
    """Each chart's SVG by its data-chart key."""
    return dict(re.findall(r'<svg[^>]*data-chart="([^"]+)"[^>]*>(.*?)</svg>', html, re.S))


def test_every_time_series_dashboard_has_a_chart_with_a_text_alternative(as_user, commissioner_a, council_a):
    _placements(council_a, [(1, 1, True), (1, 2, False), (2, 3, True)])
    BlockContractFactory(commissioner=council_a, start_date=date(2022, 6, 1), end_date=date(2024, 6, 1))
    assert set(DASHBOARDS) >= TIME_SERIES
    for name in sorted(DASHBOARDS):
        html = as_user(commissioner_a).get(f"/dashboards/{name}/{MONTHS}").content.decode()
        charts = _charts(html)
        if name not in TIME_SERIES:
            assert not charts, name
            continue
        assert charts, f"{name} has no chart"
        for key, svg in charts.items():
            assert 'role="img"' in html and f'aria-labelledby="chart-{key}-title chart-{key}-desc"' in html
            description = re.search(r"<desc[^>]*>(.*?)</desc>", svg, re.S).group(1)
            assert len(description) > 40, (name, key, description)
        # The table with every figure stays beside the charts.
        assert "<table" in html
        # No inline styles or scripts: the Content-Security-Policy forbids both.
        assert " style=" not in html.split('id="charts"')[1].split("</figure>")[0]


def test_timeliness_shows_one_small_chart_per_lot_each_with_the_target_line(as_user, commissioner_a, council_a):
    _placements(council_a, [(1, 1, True), (1, 2, False), (1, 3, False), (3, 2, True)])
    html = as_user(commissioner_a).get(f"/dashboards/timeliness/{MONTHS}").content.decode()
    charts = _charts(html)
    lots = list(Lot.objects.order_by("number").values_list("number", flat=True))
    assert list(charts) == [f"lot-{number}" for number in lots] + ["all"]
    for svg in charts.values():
        assert svg.count('class="app-chart__target"') == 1
        assert "<title>Target 75%</title>" in svg
    # Every small chart is drawn on the same scale, so the target line sits at the same height in each.
    heights = {re.search(r'app-chart__target"[^>]*y1="([\d.]+)"', svg).group(1) for svg in charts.values()}
    assert len(heights) == 1
    # Lot 1 was on time in January only: two of three months below target, said in words.
    lot_one = charts["lot-1"]
    assert "Lot 1: Older people residential" in lot_one
    assert "2 of 3 months with placements below the 75% target; latest 2023-03: 0%." in lot_one
    assert lot_one.count("<circle") == 3
    # A lot with nothing sourced draws no line, and says so.
    assert "<circle" not in charts["lot-2"] and "0 of 0 months" in charts["lot-2"]


def test_cost_charts_share_one_scale_rounded_up_from_the_highest_mean(as_user, commissioner_a, council_a):
    _placements(council_a, [(1, 1, True), (3, 2, True)])
    html = as_user(commissioner_a).get(f"/dashboards/mean-weekly-cost/{MONTHS}").content.decode()
    charts = _charts(html)
    assert "all" in charts and len(charts) > 2
    # The highest mean is £803 a week, so every chart runs from £0 to £1,000.
    for svg in charts.values():
        assert ">£1,000</text>" in svg and ">£0</text>" in svg
        assert "app-chart__target" not in svg
