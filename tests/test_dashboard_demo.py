"""The demo council's placement history gives the dashboards something realistic to show."""

import pytest

from dashboards.reports.common import default_month_range
from dashboards.reports.timeliness import timeliness
from demo.dashboards import seed_placement_history
from demo.organisations import seed_organisations
from organisations.models import Organisation
from placements.models import Placement


@pytest.mark.django_db
def test_demo_history_has_most_lots_on_target_and_is_created_once():
    seed_organisations()
    council = Organisation.objects.get(slug="staffordshire")

    created = seed_placement_history()

    assert created > 1000
    assert seed_placement_history() == 0
    assert Placement.objects.filter(commissioner=council).count() == created
    month_from, month_to = default_month_range()
    report = timeliness(commissioner=council, month_from=month_from, month_to=month_to)
    on_target = [cell for cell in report.lot_totals if cell.percent is not None and cell.percent >= 75]
    below = [cell for cell in report.lot_totals if cell.percent is not None and cell.percent < 75]
    assert len(on_target) >= 6 and below
    assert report.total.percent >= 75
