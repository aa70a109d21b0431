"""OCDS with history: one release per event of a placement's contracting process, ids that never
change, one compiled record per ocid, valid against the standard and its declared extensions."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bidding.models import Tender
from bidding.services import bid_submit, tender_award, tender_close_and_evaluate, tender_publish
from contracts.models import ServiceAgreement
from contracts.services import agreement_accept, fee_change_record, placement_end_record
from integrations.ocds import EXTENSIONS
from quality.models import RatingValue

from .factories import PlacementRequestFactory, admitted_home
from .ocds_offline import compile_records, undeclared_fields, validate

pytestmark = pytest.mark.django_db

RELEASES = "/api/v1/ocds/releases/"


def _releases(client) -> list[dict]:
    response = client.get(RELEASES)
    assert response.status_code == 200
    return response.json()["releases"]


def _by_id(releases: list[dict]) -> dict[str, dict]:
    return {release["id"]: release for release in releases}


@pytest.fixture
def awarded(council_a, broker_a, provider_a, provider_b, provider_user_a, provider_user_b):
    """A tender published, bid on by two homes, closed, evaluated and awarded to provider A's home."""
    provider_a.cqc_provider_id = "1-101641459"
    provider_a.save(update_fields=["cqc_provider_id"])
    home_a = admitted_home(council_a, provider=provider_a, rating=RatingValue.GOOD, name="Good A")
    home_b = admitted_home(council_a, provider=provider_b, rating=RatingValue.GOOD, name="Good B")
    request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a, max_weekly_rate=Decimal("900.00"))
    tender = tender_publish(actor=broker_a, request=request)
    bids = {}
    for user, home, fee in ((provider_user_a, home_a, "850.00"), (provider_user_b, home_b, "880.00")):
        bids[home.pk] = bid_submit(
            actor=user,
            tender=tender,
            care_home=home,
            weekly_fee=Decimal(fee),
            earliest_start=timezone.localdate() + timedelta(days=2),
            needs_confirmed=True,
        )
    Tender.objects.filter(pk=tender.pk).update(
        opened_at=timezone.now() - timedelta(hours=3), closes_at=timezone.now() - timedelta(seconds=1)
    )
    tender_close_and_evaluate(tender_id=tender.pk)
    award = tender_award(actor=broker_a, tender=Tender.objects.get(pk=tender.pk), bid=bids[home_a.pk])
    return award


def test_a_placement_s_history_is_one_release_per_event_with_ids_that_never_change(
    client, awarded, broker_a, provider_user_a, tmp_path
):
    placement = awarded.tender.request.placement
    at_award = _releases(client)
    assert [release["tag"] for release in at_award] == [["tender"], ["tenderUpdate"], ["award", "contract"]]
    assert "dateSigned" not in json.dumps(at_award), "an award is not a signed contract"

    agreement = ServiceAgreement.objects.get(placement=placement, is_current=True)
    agreement_accept(agreement=agreement, actor=provider_user_a)
    at_signature = _releases(client)
    assert _releases(client) == at_signature, "the same releases when fetched twice"

    fee_change_record(
        placement=placement,
        actor=broker_a,
        effective_from=placement.start_date + timedelta(days=14),
        council_weekly_amount=Decimal("875.00"),
        note="Agreed after a review of Mrs Example's needs",
    )
    placement_end_record(placement=placement, actor=broker_a, end_date=placement.start_date + timedelta(days=60))
    releases = _releases(client)

    assert len(releases) >= 5
    assert [release["tag"] for release in releases] == [
        ["tender"],
        ["tenderUpdate"],
        ["award", "contract"],
        ["contractUpdate"],
        ["contractAmendment"],
        ["contractTermination"],
    ]
    ocid = releases[0]["ocid"]
    assert {release["ocid"] for release in releases} == {ocid}
    assert all(release["id"].startswith(f"{ocid}-") for release in releases)
    assert len({release["id"] for release in releases}) == len(releases)
    # A later event adds a release; every earlier one keeps its id and its content.
    for earlier in (at_award, at_signature):
        later = _by_id(releases)
        for release in earlier:
            assert later[release["id"]] == release

    signed = releases[3]["contracts"][0]
    assert signed["dateSigned"] == releases[3]["date"]
    assert signed["items"][0]["unit"] == {"name": "week", "value": {"amount": 850.0, "currency": "GBP"}}
    amended = releases[4]["contracts"][0]
    assert amended["items"][0]["unit"]["value"]["amount"] == 875.0
    assert "Mrs Example" not in json.dumps(releases), "a fee change's note stays private"
    supplier = next(party for party in releases[2]["parties"] if "supplier" in party["roles"])
    assert supplier["identifier"] == {"scheme": "GB-CQC", "id": "1-101641459", "legalName": supplier["name"]}
    assert releases[1]["bids"]["statistics"][0]["value"] == 2
    assert "CASE" not in json.dumps(releases)

    package = client.get(RELEASES).json()
    assert package["extensions"] == EXTENSIONS
    package_path = tmp_path / "releases.json"
    package_path.write_text(json.dumps(package))
    result = validate(package_path, tmp_path / "cove-releases")
    assert result["validation_errors"] == []
    assert undeclared_fields(result) == []
    assert result["extensions"]["invalid_extension"] == {}
    assert not result["additional_closed_codelist_values"]

    record_package = compile_records(package)
    (record,) = record_package["records"]
    assert record["ocid"] == ocid
    assert [release["id"] for release in record["releases"]] == [release["id"] for release in releases]
    compiled = record["compiledRelease"]
    (contract,) = compiled["contracts"]
    assert contract["status"] == "terminated"
    assert contract["dateSigned"] == signed["dateSigned"]
    assert contract["items"][0]["unit"]["value"]["amount"] == 875.0
    assert [amendment["id"] for amendment in contract["amendments"]] == [amended["amendments"][0]["id"]]
    assert compiled["tender"]["status"] == "complete"
    assert compiled["tender"]["techniques"]["hasDynamicPurchasingSystem"] is True

    # The record's compiled release is itself a valid release of the standard and its extensions.
    # (A record package's schema refers to the standard online; this one is checked offline.)
    compiled_path = tmp_path / "compiled.json"
    compiled_path.write_text(json.dumps({**package, "releases": [compiled]}))
    compiled_result = validate(compiled_path, tmp_path / "cove-compiled")
    assert compiled_result["validation_errors"] == []
    assert undeclared_fields(compiled_result) == []


def test_without_its_extensions_declared_the_same_package_has_undeclared_fields(client, awarded, tmp_path):
    package = client.get(RELEASES).json()
    del package["extensions"]
    package_path = tmp_path / "undeclared.json"
    package_path.write_text(json.dumps(package))

    fields = {path.rsplit("/", 1)[-1] for path in undeclared_fields(validate(package_path, tmp_path / "cove"))}

    assert {"lots", "techniques", "bids", "relatedLot", "relatedLots"} <= fields
