"""OCDS publication: valid OCDS 1.1 release packages of tenders, awards and contracts, no personal data."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from demo.organisations import COUNCIL_SLUG
from organisations.models import Organisation, Role, User
from providers.models import CareHome

from .factories import CareHomeFactory
from .integration_data import awarded_tender, bid, open_tender, placement_request
from .ocds_offline import undeclared_fields, validate

RELEASES = "/api/v1/ocds/releases/"


def validation_errors(package_path: Path, output_dir: Path) -> list:
    """Validate offline against the OCDS 1.1.5 schema and codelists shipped with the tests, and the
    extensions the package declares; a field no schema declares counts as an error too."""
    result = validate(package_path, output_dir)
    return result["validation_errors"] + [{"path": path, "undeclared": True} for path in undeclared_fields(result)]


@pytest.mark.django_db
def test_ocds_export_of_the_demo_data_validates_with_no_errors(tmp_path):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    council = Organisation.objects.get(slug=COUNCIL_SLUG)
    broker = User.objects.filter(organisation=council, role=Role.BROKER).first()
    for home in CareHome.objects.order_by("id")[:3]:
        provider_user = User.objects.filter(organisation=home.provider, role=Role.PROVIDER).first()
        awarded_tender(commissioner=council, broker=broker, home=home, provider_user=provider_user)
    home = CareHome.objects.order_by("id")[3]
    provider_user = User.objects.filter(organisation=home.provider, role=Role.PROVIDER).first()
    tender = open_tender(
        request=placement_request(commissioner=council, created_by=broker, case_reference="CASE-OPEN"),
        created_by=broker,
        homes=[home],
    )
    bid(tender=tender, home=home, submitted_by=provider_user)
    output = tmp_path / "releases.json"

    call_command("export_ocds", output=str(output), stdout=open("/dev/null", "w"))  # noqa: SIM115

    package = json.loads(output.read_text())
    assert len(package["releases"]) >= 10
    assert validation_errors(output, tmp_path / "cove") == []


@pytest.mark.django_db
def test_release_package_publishes_tender_award_and_contract_without_personal_data(
    client, council_a, broker_a, provider_user_a
):
    home = CareHomeFactory(provider=provider_user_a.organisation)
    tender = awarded_tender(commissioner=council_a, broker=broker_a, home=home, provider_user=provider_user_a)

    response = client.get(RELEASES)

    assert response.status_code == 200
    text = response.content.decode()
    for private in ("CASE-000123", "mobility", "Room 4", broker_a.email):
        assert private not in text
    published, closed, release = response.json()["releases"]
    assert published["tag"] == ["tender"]
    assert published["tender"]["lots"] == [{"id": "lot-1", "title": tender.request.lot.name, "status": "active"}]
    assert published["tender"]["items"][0]["relatedLot"] == "lot-1"
    assert published["tender"]["techniques"]["hasDynamicPurchasingSystem"] is True
    assert closed["tender"]["numberOfTenderers"] == 1
    assert release["tag"] == ["award", "contract"]
    assert release["tender"]["lots"] == [{"id": "lot-1", "status": "complete"}]
    assert "value" not in release["awards"][0], "a weekly fee is no total value"
    assert release["awards"][0]["items"][0]["unit"] == {
        "name": "week",
        "value": {"amount": 850.0, "currency": "GBP"},
    }
    assert release["awards"][0]["suppliers"][0]["name"] == provider_user_a.organisation.name
    assert release["contracts"][0]["awardID"] == release["awards"][0]["id"]
    assert release["contracts"][0]["status"] == "pending"
    assert "dateSigned" not in release["contracts"][0]
    assert {party["name"] for party in release["parties"]} == {council_a.name, provider_user_a.organisation.name}


@pytest.mark.django_db
def test_an_open_tender_is_published_without_its_sealed_bids(client, council_a, broker_a, provider_user_a):
    home = CareHomeFactory(provider=provider_user_a.organisation)
    tender = open_tender(
        request=placement_request(commissioner=council_a, created_by=broker_a), created_by=broker_a, homes=[home]
    )
    bid(tender=tender, home=home, weekly_fee="1234.56", submitted_by=provider_user_a)

    (release,) = client.get(RELEASES).json()["releases"]

    assert release["tag"] == ["tender"]
    assert "1234.56" not in json.dumps(release)
    assert "numberOfTenderers" not in release["tender"]
    assert "awards" not in release


@pytest.mark.django_db
def test_releases_are_selected_by_the_date_of_their_latest_change(client, council_a, broker_a, provider_user_a):
    home = CareHomeFactory(provider=provider_user_a.organisation)
    awarded_tender(commissioner=council_a, broker=broker_a, home=home, provider_user=provider_user_a)
    today = timezone.localdate()

    assert len(client.get(RELEASES, {"from": str(today)}).json()["releases"]) == 3
    assert client.get(RELEASES, {"from": str(today + timedelta(days=1))}).json()["releases"] == []
    assert client.get(RELEASES, {"to": str(today - timedelta(days=1))}).json()["releases"] == []
    assert client.get(RELEASES, {"from": "not-a-date"}).status_code == 400


@pytest.mark.django_db
def test_release_package_reads_a_fixed_number_of_queries(
    client, council_a, broker_a, provider_user_a, django_assert_max_num_queries
):
    for _ in range(5):
        home = CareHomeFactory(provider=provider_user_a.organisation)
        awarded_tender(commissioner=council_a, broker=broker_a, home=home, provider_user=provider_user_a)

    # The tenders, the agreements and fee changes of their placements, and the bodies' DPS agreements.
    with django_assert_max_num_queries(4):
        response = client.get(RELEASES)

    assert len(response.json()["releases"]) == 5 * 3


def test_the_offline_validator_reports_an_invalid_release(tmp_path):
    package = tmp_path / "broken.json"
    release = {"ocid": "ocds-cplace-1", "id": "1", "date": "yesterday", "tag": ["tender"], "initiationType": "tender"}
    package.write_text(
        json.dumps(
            {
                "uri": "https://example.org",
                "version": "1.1",
                "publishedDate": "2026-01-01T00:00:00Z",
                "publisher": {"name": "Test"},
                "releases": [release],
            }
        )
    )

    errors = validation_errors(package, tmp_path / "cove")
    assert [error["path"] for error in errors] == ["releases/0/date"]


@pytest.mark.django_db
def test_release_packages_page_by_tender_with_the_api_cursor_and_links(client, council_a, broker_a, provider_user_a):
    for _ in range(3):
        home = CareHomeFactory(provider=provider_user_a.organisation)
        request = placement_request(commissioner=council_a, created_by=broker_a)
        open_tender(request=request, created_by=broker_a, homes=[home])

    first = client.get(RELEASES, {"page_size": 2}).json()
    second = client.get(first["links"]["next"]).json()

    ocids = [release["ocid"] for release in first["releases"] + second["releases"]]
    assert len(first["releases"]) == 2
    assert len(set(ocids)) == 3
    assert "next" not in second.get("links", {})
    assert client.get(second["links"]["prev"]).json()["releases"] == first["releases"]
    assert "after" not in first["links"]["next"]
