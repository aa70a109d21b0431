"""Block-bed pages and API: who sees what, the commissioner's utilisation page, filling from an offer."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from blockbeds.models import BlockBed, BlockContract, BlockOfferDecline, Occupancy
from core.models import AuditEvent
from placements.models import PlacementRequest

from .factories import BlockContractFactory, BlockRequestFactory, CareHomeFactory, lot

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def date_fields(name: str, value: date) -> dict:
    return {f"{name}_0": value.day, f"{name}_1": value.month, f"{name}_2": value.year}


@pytest.fixture
def contract_a(council_a, provider_a):
    home = CareHomeFactory(provider=provider_a, name="Brook House")
    return BlockContractFactory(commissioner=council_a, care_home=home, reference="STAFFS-A", beds=3)


@pytest.fixture
def contract_b(council_a, provider_b):
    home = CareHomeFactory(provider=provider_b, name="Meadowbank")
    return BlockContractFactory(commissioner=council_a, care_home=home, reference="STAFFS-B", beds=2)


@pytest.fixture
def contract_other_council(council_b, provider_a):
    home = CareHomeFactory(provider=provider_a, name="Sefton View")
    return BlockContractFactory(commissioner=council_b, care_home=home, reference="SEFTON-1", beds=1)


class TestProvidersSeeOnlyTheirOwn:
    def test_provider_page_lists_only_its_contracts(
        self, as_user, provider_user_a, contract_a, contract_b, contract_other_council
    ):
        page = as_user(provider_user_a).get("/block-contracts/")
        assert page.status_code == 200
        text = page.content.decode()
        assert "STAFFS-A" in text and "SEFTON-1" in text
        assert "STAFFS-B" not in text

    def test_provider_cannot_open_another_providers_contract_or_bed(self, as_user, provider_user_a, contract_b):
        client = as_user(provider_user_a)
        assert client.get(f"/block-contracts/{contract_b.pk}/").status_code == 404
        assert client.get(f"/block-beds/{contract_b.beds.first().pk}/").status_code == 404

    def test_provider_api_lists_only_its_contracts(self, api_as, provider_a, contract_a, contract_b):
        response = api_as(provider_a, scopes=["read"]).get("/api/v1/block-contracts/")
        assert response.status_code == 200
        assert [row["reference"] for row in response.json()["results"]] == ["STAFFS-A"]

    def test_provider_api_gets_404_for_another_providers_contract(self, api_as, provider_a, contract_b):
        response = api_as(provider_a, scopes=["read"]).get(f"/api/v1/block-contracts/{contract_b.pk}/")
        assert response.status_code == 404

    def test_provider_sees_its_bed_states_and_occupancies(
        self, as_user, api_as, provider_a, provider_user_a, contract_a
    ):
        page = as_user(provider_user_a).get(f"/block-contracts/{contract_a.pk}/")
        assert page.status_code == 200
        assert "Void" in page.content.decode()
        detail = api_as(provider_a, scopes=["read"]).get(f"/api/v1/block-contracts/{contract_a.pk}/").json()
        assert [bed["state"] for bed in detail["beds"]] == ["void", "void", "void"]
        assert detail["counts"] == {
            "contracted": 3,
            "live": 3,
            "filled": 0,
            "void": 3,
            "out_of_service": 0,
            "not_yet_live": 0,
        }

    def test_another_council_cannot_see_the_contract(self, as_user, api_as, commissioner_b, council_b, contract_a):
        assert as_user(commissioner_b).get(f"/block-contracts/{contract_a.pk}/").status_code == 404
        assert api_as(council_b).get(f"/api/v1/block-contracts/{contract_a.pk}/").status_code == 404
        assert api_as(council_b).get("/api/v1/block-contracts/").json()["results"] == []

    def test_provider_cannot_reach_the_utilisation_page_or_api(self, as_user, api_as, provider_user_a, provider_a):
        assert as_user(provider_user_a).get("/block-contracts/utilisation/").status_code == 403
        assert api_as(provider_a).get("/api/v1/dashboards/block-utilisation/").status_code == 403


class TestProviderReportsAVoid:
    def test_provider_reports_the_bed_void_with_a_reason(
        self, as_user, provider_user_a, broker_a, council_a, contract_a
    ):
        from blockbeds.services import block_bed_fill

        bed = contract_a.beds.first()
        request = BlockRequestFactory(commissioner=council_a, created_by=broker_a)
        occupancy = block_bed_fill(bed=bed, request=request, actor=broker_a, start_date=TODAY() - timedelta(days=30))
        client = as_user(provider_user_a)

        refused = client.post(f"/block-stays/{occupancy.pk}/end/", {**date_fields("end_date", TODAY()), "reason": ""})
        assert refused.status_code == 200
        assert "govuk-error-summary" in refused.content.decode()

        done = client.post(
            f"/block-stays/{occupancy.pk}/end/", {**date_fields("end_date", TODAY()), "reason": "Passed away"}
        )
        assert done.status_code == 302
        occupancy.refresh_from_db()
        assert occupancy.end_date == TODAY()
        assert occupancy.end_reason == "Passed away"


class TestCommissionerPages:
    def test_commissioner_creates_a_contract_and_its_beds(self, as_user, commissioner_a, provider_a):
        home = CareHomeFactory(provider=provider_a)
        start = TODAY() - timedelta(days=10)
        response = as_user(commissioner_a).post(
            "/block-contracts/new/",
            {
                "reference": "WP-2026-01",
                "care_home": home.pk,
                "contract_type": "winter_pressure",
                "lots": [lot(1).pk, lot(2).pk],
                "number_of_beds": 4,
                "weekly_rate": "812.40",
                **date_fields("start_date", start),
                **date_fields("end_date", start + timedelta(days=180)),
                **date_fields("live_from", start + timedelta(days=3)),
                "uplift_basis": "fixed_annual",
                "uplift_percentage": "3.5",
                "uplift_rule": "Each April",
            },
        )
        assert response.status_code == 302, response.content.decode()
        contract = BlockContract.objects.get(reference="WP-2026-01")
        assert contract.provider_id == provider_a.pk
        assert contract.uplift_basis == "fixed_annual" and contract.uplift_percentage == Decimal("3.50")
        assert list(contract.rates.values_list("effective_from", "weekly_rate", "reason")) == [
            (start, Decimal("812.40"), "initial")
        ]
        assert contract.beds.count() == 4
        assert set(contract.beds.values_list("live_from", flat=True)) == {start + timedelta(days=3)}
        assert AuditEvent.objects.filter(verb="blockbeds.contract.created", target_id=str(contract.pk)).exists()

    def test_a_broker_cannot_create_contracts(self, as_user, broker_a):
        assert as_user(broker_a).get("/block-contracts/new/").status_code == 403

    def test_changing_the_uplift_terms_needs_a_reason_and_is_audited(self, as_user, commissioner_a, contract_a):
        client = as_user(commissioner_a)
        form = {
            **date_fields("end_date", contract_a.end_date),
            "uplift_basis": "index_linked",
            "uplift_percentage": "",
            "uplift_index": "CPI, 12 months to January",
            "uplift_rule": "",
        }
        assert client.post(f"/block-contracts/{contract_a.pk}/edit/", {**form, "reason": ""}).status_code == 200
        missing_index = client.post(
            f"/block-contracts/{contract_a.pk}/edit/", {**form, "uplift_index": "", "reason": "Renegotiated"}
        )
        assert missing_index.status_code == 200
        assert "Name the index the rate follows." in missing_index.content.decode()
        response = client.post(f"/block-contracts/{contract_a.pk}/edit/", {**form, "reason": "Renegotiated"})
        assert response.status_code == 302
        contract_a.refresh_from_db()
        assert contract_a.uplift_basis == "index_linked"
        assert contract_a.weekly_rate == Decimal("700.00")
        event = AuditEvent.objects.get(verb="blockbeds.contract.updated")
        assert event.detail == {
            "before": {"uplift_basis": "negotiated", "uplift_index": ""},
            "after": {"uplift_basis": "index_linked", "uplift_index": "CPI, 12 months to January"},
        }

    def test_a_new_rate_is_a_dated_row_that_needs_a_reason(self, as_user, commissioner_a, contract_a):
        client = as_user(commissioner_a)
        url = f"/block-contracts/{contract_a.pk}/rates/new/"
        form = {**date_fields("effective_from", TODAY() + timedelta(days=7)), "weekly_rate": "745.10"}
        refused = client.post(url, {**form, "reason": ""})
        assert refused.status_code == 200 and "govuk-error-summary" in refused.content.decode()
        assert client.post(url, {**form, "reason": "Agreed at contract review"}).status_code == 302
        assert list(contract_a.rates.values_list("effective_from", "weekly_rate", "reason")) == [
            (contract_a.start_date, Decimal("700.00"), "initial"),
            (TODAY() + timedelta(days=7), Decimal("745.10"), "negotiated"),
        ]
        page = client.get(f"/block-contracts/{contract_a.pk}/").content.decode()
        assert "£745.10" in page and "Agreed at contract review" in page
        rates_csv = b"".join(client.get(f"/block-contracts/{contract_a.pk}/?format=csv&table=rates")).decode()
        assert "745.10" in rates_csv and rates_csv.startswith("effective_from,weekly_rate")

    def test_the_provider_sees_its_own_contract_rates_only(self, as_user, api_as, provider_a, provider_user_a):
        own = BlockContractFactory(care_home=CareHomeFactory(provider=provider_user_a.organisation), beds=1)
        other = BlockContractFactory(weekly_rate=Decimal("999.99"), beds=1)
        client = as_user(provider_user_a)
        assert "£700.00" in client.get(f"/block-contracts/{own.pk}/").content.decode()
        assert client.get(f"/block-contracts/{other.pk}/").status_code == 404
        assert client.get(f"/block-contracts/{other.pk}/?format=csv&table=rates").status_code == 404
        assert client.get(f"/block-contracts/{own.pk}/rates/new/").status_code == 403
        listed = api_as(provider_a, scopes=["read"]).get("/api/v1/block-contracts/").json()
        results = listed["results"] if isinstance(listed, dict) else listed
        assert [c["id"] for c in results] == [own.pk]
        assert results[0]["rates"][0]["weekly_rate"] == "700.00"
        assert "999.99" not in str(listed)

    def test_utilisation_page_shows_figures_an_accessible_chart_and_csv(self, as_user, commissioner_a, contract_a):
        client = as_user(commissioner_a)
        start = (TODAY() - timedelta(days=40)).isoformat()
        page = client.get(f"/block-contracts/utilisation/?date_from={start}&date_to={TODAY().isoformat()}")
        assert page.status_code == 200
        html = page.content.decode()
        assert 'data-figure="contracted">3<' in html
        assert 'role="img"' in html and '<title id="occupancy-chart-title">' in html
        assert "<desc" in html
        csv = b"".join(
            client.get(f"/block-contracts/utilisation/?date_from={start}&date_to={TODAY().isoformat()}&format=csv")
        ).decode()
        lines = csv.strip().splitlines()
        assert lines[0].startswith("scope,name,contracted,live,filled,void")
        # Three void beds for 41 days at £100 a day.
        assert lines[-1] == "overall,All block contracts,3,3,0,3,0,0,123,12300.00,0.0"

    def test_utilisation_page_refuses_a_backwards_range(self, as_user, commissioner_a):
        page = as_user(commissioner_a).get("/block-contracts/utilisation/?date_from=2026-05-01&date_to=2026-04-01")
        assert page.status_code == 400
        assert "The end of the range must be on or after its start." in page.content.decode()

    def test_contract_list_has_csv(self, as_user, broker_a, contract_a):
        csv = b"".join(as_user(broker_a).get("/block-contracts/?format=csv")).decode().splitlines()
        assert csv[1].startswith("STAFFS-A,Brook House")
        assert csv[1].endswith(",3,3,0,3,0,0")


class TestApi:
    def test_contract_list_reads_a_fixed_number_of_queries(
        self, api_as, council_a, provider_a, django_assert_max_num_queries
    ):
        caller = api_as(council_a, scopes=["read"])
        for _ in range(6):
            BlockContractFactory(commissioner=council_a, care_home=CareHomeFactory(provider=provider_a), beds=3)
        with django_assert_max_num_queries(12):
            response = caller.get("/api/v1/block-contracts/")
        assert len(response.json()["results"]) == 6
        assert all(row["counts"]["contracted"] == 3 for row in response.json()["results"])

    def test_contract_list_filters_by_lot(self, api_as, council_a, contract_a):
        BlockContractFactory(commissioner=council_a, lot_numbers=[7], reference="NURSING-7", beds=1)
        rows = api_as(council_a).get("/api/v1/block-contracts/?lot=7").json()["results"]
        assert [row["reference"] for row in rows] == ["NURSING-7"]

    def test_utilisation_api_reports_counts_void_days_and_cost(self, api_as, council_a, contract_a):
        start = TODAY() - timedelta(days=6)
        response = api_as(council_a, scopes=["read", "dashboards"]).get(
            f"/api/v1/dashboards/block-utilisation/?from={start.isoformat()}&to={TODAY().isoformat()}"
        )
        assert response.status_code == 200
        body = response.json()
        assert body["overall"]["contracted"] == 3
        assert body["overall"]["void_bed_days"] == 21
        assert body["overall"]["void_cost"] == "2100.00"
        assert body["contracts"][0]["reference"] == "STAFFS-A"
        assert body["lots"][0]["number"] == 1

    def test_utilisation_api_refuses_a_backwards_range(self, api_as, council_a):
        response = api_as(council_a).get("/api/v1/dashboards/block-utilisation/?from=2026-05-01&to=2026-04-01")
        assert response.status_code == 400
        assert "to" in response.json()["errors"]

    def test_utilisation_api_needs_the_dashboards_scope(self, api_as, council_a):
        response = api_as(council_a, scopes=["read"]).get("/api/v1/dashboards/block-utilisation/")
        assert response.status_code == 403


class TestBlockOfferPages:
    @pytest.fixture
    def placement_request(self, council_a, broker_a):
        return BlockRequestFactory(commissioner=council_a, created_by=broker_a)

    def test_broker_places_the_person_from_the_offer(self, as_user, broker_a, contract_a, placement_request):
        bed = contract_a.beds.order_by("label").first()
        client = as_user(broker_a)
        assert client.get(f"/block-offers/{placement_request.pk}/beds/{bed.pk}/").status_code == 200
        response = client.post(
            f"/block-offers/{placement_request.pk}/beds/{bed.pk}/", date_fields("start_date", TODAY())
        )
        assert response.status_code == 302
        placement_request.refresh_from_db()
        assert placement_request.status == PlacementRequest.Status.PLACED
        assert placement_request.sourced_at is not None
        assert Occupancy.objects.get(bed=bed).placement.request_id == placement_request.pk

    def test_declining_from_the_page_needs_a_reason(self, as_user, broker_a, contract_a, placement_request):
        client = as_user(broker_a)
        refused = client.post(f"/block-offers/{placement_request.pk}/decline/", {"reason": ""})
        assert refused.status_code == 200
        assert not BlockOfferDecline.objects.exists()
        done = client.post(
            f"/block-offers/{placement_request.pk}/decline/", {"reason": "Needs to be near family in Leek"}
        )
        assert done.status_code == 302
        assert BlockOfferDecline.objects.get().reason == "Needs to be near family in Leek"

    def test_another_councils_broker_cannot_use_the_offer(self, as_user, broker_b, contract_a, placement_request):
        bed = BlockBed.objects.filter(contract=contract_a).first()
        client = as_user(broker_b)
        assert client.get(f"/block-offers/{placement_request.pk}/beds/{bed.pk}/").status_code == 404
        assert client.post(f"/block-offers/{placement_request.pk}/decline/", {"reason": "x"}).status_code == 404
