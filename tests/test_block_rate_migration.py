"""The migration that gives block contract rates a history keeps every contract's rate."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from blockbeds.models import BlockContract

from .factories import CareHomeFactory, ensure_reference_data

BEFORE = [("blockbeds", "0002_occupancy_no_overlap")]
AFTER = [("blockbeds", "0003_contract_rate_history")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_each_contract_gets_its_rate_as_the_first_row_from_its_start_date(council_a, provider_a):
    ensure_reference_data()
    home = CareHomeFactory(provider=provider_a)
    try:
        old_apps = _migrate(BEFORE)
        OldContract = old_apps.get_model("blockbeds", "BlockContract")
        common = {"commissioner_id": council_a.pk, "provider_id": provider_a.pk, "care_home_id": home.pk}
        fixed = OldContract.objects.create(
            reference="OLD-1",
            number_of_beds=2,
            weekly_rate=Decimal("812.40"),
            start_date=dt.date(2024, 4, 1),
            end_date=dt.date(2027, 3, 31),
            uplift_percentage=Decimal("3.50"),
            **common,
        )
        plain = OldContract.objects.create(
            reference="OLD-2",
            number_of_beds=1,
            weekly_rate=Decimal("699.99"),
            start_date=dt.date(2025, 1, 6),
            end_date=dt.date(2025, 12, 31),
            **common,
        )

        _migrate(AFTER)

        contracts = {c.reference: c for c in BlockContract.objects.prefetch_related("rates")}
        assert [(r.effective_from, r.weekly_rate, r.reason) for r in contracts["OLD-1"].rate_history()] == [
            (dt.date(2024, 4, 1), Decimal("812.40"), "initial")
        ]
        assert contracts["OLD-1"].uplift_basis == "fixed_annual"
        assert [(r.effective_from, r.weekly_rate) for r in contracts["OLD-2"].rate_history()] == [
            (dt.date(2025, 1, 6), Decimal("699.99"))
        ]
        assert contracts["OLD-2"].uplift_basis == "negotiated"
        assert {fixed.pk, plain.pk} == {c.pk for c in contracts.values()}
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
