"""Who may read which dashboard, that each body sees only its own figures, and constant query counts."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bidding.models import Tender
from placements.models import Placement, PlacementRequest

from .factories import (
    AdmissionFactory,
    BidFactory,
    CareHomeFactory,
    InvitationFactory,
    PlacementRequestFactory,
    TenderFactory,
    lot,
)

LONDON = ZoneInfo("Europe/London")
RANGED = ["timeliness", "mean-weekly-cost", "bids-per-tender", "market", "block-bed-utilisation", "discharge"]
ALL = [*RANGED, "placements-by-client-group", "rating-mix", "at-risk", "who-pays"]


def figures_for(commissioner):
    """Some of everything for one body, spread over two years."""
    placements = []
    for month in range(24):
        start = date(2022 + month // 12, 1 + month % 12, 5)
        for lot_number in (1, 3, 6):
            placements.append(
                Placement(
                    commissioner=commissioner,
                    case_reference=f"A-{month}-{lot_number}",
                    lot=lot(lot_number),
                    source=Placement.Source.IMPORTED,
                    weekly_fee=Decimal("812.34"),
                    council_weekly_amount=Decimal("812.34"),
                    start_date=start,
                    in_county=True,
                    target_date=start,
                    sourced_at=datetime(start.year, start.month, start.day, 9, tzinfo=LONDON),
                )
            )
    Placement.objects.bulk_create(placements)
    for month in range(1, 13, 3):
        closes = datetime(2023, month, 10, 12, tzinfo=LONDON)
        request = PlacementRequestFactory(commissioner=commissioner, status=PlacementRequest.Status.TENDERING)
        tender = TenderFactory(
            request=request,
            opened_at=closes - timedelta(days=2),
            closes_at=closes,
            closed_at=closes,
            status=Tender.Status.EVALUATED,
        )
        BidFactory(invitation=InvitationFactory(tender=tender), weekly_fee=Decimal("876.54"))
    PlacementRequestFactory(
        commissioner=commissioner, case_reference="A-AT-RISK", target_date=timezone.localdate() - timedelta(days=1)
    )
    AdmissionFactory(commissioner=commissioner, care_home=CareHomeFactory(rating="Good"), lot=lot(1))


def query_count(client, path) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(path)
    assert response.status_code == 200, response.content
    return len(context)


@pytest.mark.django_db
def test_dashboard_endpoints_use_the_same_number_of_queries_whatever_the_range(council_a, commissioner_a, as_user):
    figures_for(council_a)
    client = as_user(commissioner_a)

    for name in RANGED:
        one_month = query_count(client, f"/api/v1/dashboards/{name}/?from=2023-01&to=2023-01")
        two_years = query_count(client, f"/api/v1/dashboards/{name}/?from=2022-01&to=2023-12")
        ten_years = query_count(client, f"/api/v1/dashboards/{name}/?from=2015-01&to=2024-12")
        assert one_month == two_years == ten_years, name


@pytest.mark.django_db
def test_timeliness_and_client_group_endpoints_make_a_fixed_number_of_queries(
    council_a, commissioner_a, as_user, django_assert_num_queries
):
    figures_for(council_a)
    client = as_user(commissioner_a)
    client.get("/api/v1/dashboards/timeliness/")

    # Session, user, organisation, lots, the grouped aggregate.
    with django_assert_num_queries(5):
        client.get("/api/v1/dashboards/timeliness/?from=2022-01&to=2023-12")
    # Session, user, organisation, the grouped count.
    with django_assert_num_queries(4):
        client.get("/api/v1/dashboards/placements-by-client-group/?at=2023-06-30")


@pytest.mark.django_db
def test_at_risk_query_count_does_not_grow_with_the_number_of_requests(council_a, broker_a, as_user):
    client = as_user(broker_a)
    PlacementRequestFactory(commissioner=council_a, target_date=timezone.localdate())
    few = query_count(client, "/api/v1/dashboards/at-risk/")
    for _ in range(6):
        request = PlacementRequestFactory(
            commissioner=council_a, target_date=timezone.localdate(), status=PlacementRequest.Status.TENDERING
        )
        BidFactory(invitation=InvitationFactory(tender=TenderFactory(request=request)))

    assert query_count(client, "/api/v1/dashboards/at-risk/") == few


@pytest.mark.django_db
def test_a_commissioner_of_council_b_sees_none_of_council_as_figures(
    council_a, commissioner_a, commissioner_b, as_user
):
    figures_for(council_a)
    mine, theirs = as_user(commissioner_a), as_user(commissioner_b)
    ranged = "?from=2022-01&to=2023-12"

    a_time = mine.get(f"/api/v1/dashboards/timeliness/{ranged}").json()
    b_time = theirs.get(f"/api/v1/dashboards/timeliness/{ranged}").json()
    assert a_time["total"]["sourced"] == 72
    assert b_time["total"] == {"sourced": 0, "within_target": 0, "percent": None}
    b_clients = theirs.get("/api/v1/dashboards/placements-by-client-group/?at=2023-12-31").json()
    assert b_clients["total"]["total"] == 0
    b_cost = theirs.get(f"/api/v1/dashboards/mean-weekly-cost/{ranged}").json()
    assert all(month["total"]["placements"] == 0 for month in b_cost["months"])
    assert theirs.get(f"/api/v1/dashboards/bids-per-tender/{ranged}").json()["total"]["tenders"] == 0
    assert theirs.get(f"/api/v1/dashboards/market/{ranged}").json()["rows"] == []
    assert theirs.get("/api/v1/dashboards/at-risk/").json()["requests"] == []
    assert all(row["homes"] == 0 for row in theirs.get("/api/v1/dashboards/rating-mix/").json()["settings"])
    for name in ALL:
        for suffix in (ranged if name in RANGED else "", "?format=csv"):
            response = theirs.get(f"/dashboards/{name}/{suffix}")
            assert response.status_code == 200
            content = (b"".join(response.streaming_content) if response.streaming else response.content).decode()
            for figure in ("812.34", "876.54", "A-AT-RISK"):
                assert figure not in content, (name, figure)


@pytest.mark.django_db
def test_api_clients_need_the_dashboards_scope_and_see_their_own_body(council_a, council_b, api_as):
    figures_for(council_a)

    with_scope = api_as(council_b, scopes=["dashboards"])
    read_only = api_as(council_a, scopes=["read"])
    own = api_as(council_a, scopes=["dashboards"])

    for name in ALL:
        assert read_only.get(f"/api/v1/dashboards/{name}/").status_code == 403, name
        assert with_scope.get(f"/api/v1/dashboards/{name}/").status_code == 200, name
    body = with_scope.get("/api/v1/dashboards/timeliness/?from=2022-01&to=2023-12").json()
    assert body["total"]["sourced"] == 0
    body = own.get("/api/v1/dashboards/timeliness/?from=2022-01&to=2023-12").json()
    assert body["total"]["sourced"] == 72


@pytest.mark.django_db
def test_providers_are_refused_and_brokers_see_only_at_risk_requests(
    provider_a, provider_user_a, broker_a, as_user, api_as, client
):
    provider, broker = as_user(provider_user_a), as_user(broker_a)
    provider_system = api_as(provider_a, scopes=["dashboards"])

    for name in ALL:
        assert provider.get(f"/api/v1/dashboards/{name}/").status_code == 403, name
        assert provider.get(f"/dashboards/{name}/").status_code == 403, name
        assert provider_system.get(f"/api/v1/dashboards/{name}/").status_code == 403, name
        assert client.get(f"/api/v1/dashboards/{name}/").status_code in (401, 403), name
        assert client.get(f"/dashboards/{name}/").status_code == 302, name
        expected = 200 if name == "at-risk" else 403
        assert broker.get(f"/api/v1/dashboards/{name}/").status_code == expected, name
        assert broker.get(f"/dashboards/{name}/").status_code == expected, name
    assert broker.get("/dashboards/nonsense/").status_code == 404


@pytest.mark.django_db
def test_dashboard_index_lists_what_the_role_may_see(commissioner_a, broker_a, as_user):
    commissioner_page = as_user(commissioner_a).get("/dashboards/").content.decode()
    broker_page = as_user(broker_a).get("/dashboards/").content.decode()

    assert "Timeliness of sourcing" in commissioner_page and "Market view" in commissioner_page
    assert "Requests at risk" in broker_page and "Timeliness of sourcing" not in broker_page


@pytest.mark.django_db
def test_every_dashboard_page_renders_with_a_csv_link(council_a, commissioner_a, as_user):
    figures_for(council_a)
    client = as_user(commissioner_a)

    for name in ALL:
        response = client.get(f"/dashboards/{name}/")
        assert response.status_code == 200, name
        assert "Download as CSV" in response.content.decode(), name
        csv_response = client.get(f"/dashboards/{name}/?format=csv")
        assert csv_response["Content-Type"].startswith("text/csv"), name
