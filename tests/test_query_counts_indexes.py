"""Every dashboard and search filter on a large table is served by an index.

Each query the dashboards API and the care-home search run is EXPLAINed with sequential scans,
hash and merge joins priced out, so PostgreSQL picks an index wherever one can serve a filter or a
join; a large table still read without an index condition means no index covers that filter.
"""

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from loadgen.generator import LoadGenerator, Sizes
from organisations.models import Organisation, Role
from organisations.services import api_client_create
from placements.models import Placement
from providers.models import CareHome

from .test_query_counts import DASHBOARDS

pytestmark = pytest.mark.django_db

# The tables that grow with the country and are filtered directly. Small reference tables may be
# scanned; ratings are only ever reached through a home's current rating, by primary key or join.
LARGE_TABLES = {
    "placements_placement",
    "placements_placementrequest",
    "bidding_tender",
    "bidding_bid",
    "bidding_invitation",
    "providers_admission",
    "providers_vacancy",
}


@pytest.fixture
def council():
    LoadGenerator(Sizes(homes=60, placements=400, tenders=60, bids_per_tender=4), seed=21).run()
    # Fresh statistics, so the plans do not depend on what earlier tests left in them.
    with connection.cursor() as cursor:
        for table in sorted(LARGE_TABLES):
            cursor.execute(f"ANALYZE {table}")
    return Organisation.objects.filter(slug__startswith="load21-", kind="council").order_by("pk")[0]


def _client(council, role) -> Client:
    _, token = api_client_create(organisation=council, name="Explain", scopes=["read", "dashboards"], role=role)
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def _unindexed_reads(plan: dict) -> list[str]:
    """Large-table scans in a plan that no index condition narrows (sequential or whole-index)."""
    found = []
    table = plan.get("Relation Name")
    if table in LARGE_TABLES:
        kind = plan["Node Type"]
        if kind == "Seq Scan" or (kind in ("Index Scan", "Index Only Scan") and "Index Cond" not in plan):
            found.append(f"{kind} on {table}")
    for child in plan.get("Plans", []):
        found += _unindexed_reads(child)
    return found


def _sequential_scans(statements: list[str]) -> list[str]:
    found = []
    with connection.cursor() as cursor:
        # Joins as nested loops too, so each large table is either reached by an indexed filter or
        # looked up by an indexed key from the row joined to it; nothing else is left to choose.
        for setting in ("enable_seqscan", "enable_hashjoin", "enable_mergejoin"):
            cursor.execute(f"SET LOCAL {setting} = off")
        for sql in statements:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            found += [f"{scan}: {sql[:160]}" for scan in _unindexed_reads(plan[0]["Plan"])]
    return found


def _scanned_large_tables(url: str, client: Client) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return _sequential_scans([query["sql"] for query in queries.captured_queries])


def test_a_filter_no_index_serves_is_reported(council):
    unindexed = str(Placement.objects.filter(top_up_payer="Family member").values("id").query)
    assert _sequential_scans([unindexed.replace("= Family member", "= 'Family member'")]) != []


# The months each dashboard is read for. Over the whole generated period the market view's filter
# (closed tenders in the range) matches nearly every tender, and the planner may then rightly walk
# the whole tender table; over one quarter the range is selective, as it is at national size.
MONTHS = {"block-utilisation": "", "market": "?from=2026-07&to=2026-09"}


@pytest.mark.parametrize("name", DASHBOARDS)
def test_dashboard_filters_use_indexes(council, name):
    client = _client(council, Role.COMMISSIONER)
    query = MONTHS.get(name, "?from=2025-01&to=2026-06")
    assert _scanned_large_tables(f"/api/v1/dashboards/{name}/{query}", client) == []


def test_care_home_search_filters_use_indexes(council):
    home = CareHome.objects.filter(admissions__commissioner=council).first()
    url = f"/api/v1/care-homes/?lot=1&rating=Good&vacancy=true&near={home.latitude},{home.longitude}&within_km=25"
    assert _scanned_large_tables(url, _client(council, Role.BROKER)) == []
