"""A provider's system keeps bed vacancies and closes its home to admissions, a council's system
searches live vacancies near a postcode and embargoes a home: every call through a client generated
from the published OpenAPI schema, against a live server."""

from datetime import timedelta

import pytest
from django.utils import timezone

from organisations.services import api_client_create
from providers.models import AdmissionClosure, BedVacancy, Postcode

from .factories import BedVacancyFactory, admitted_home
from .test_generated_client_journey import generated, ok  # noqa: F401 (the module-scoped fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def test_vacancies_closures_and_the_search_through_a_generated_client(
    generated,  # noqa: F811
    live_server,
    council_a,
    provider_a,
    provider_b,
):
    Postcode.objects.create(compact="ST162LL", postcode="ST16 2LL", latitude=52.8065, longitude=-2.1166)
    home = admitted_home(council_a, provider=provider_a, name="Meadow View", latitude=52.81, longitude=-2.12)
    far = admitted_home(council_a, provider=provider_b, name="Far Away", latitude=53.9, longitude=-1.0)
    _, provider_token = api_client_create(organisation=provider_a, name="Care system", scopes=["read", "vacancies"])
    _, other_token = api_client_create(organisation=provider_b, name="Other system", scopes=["read", "vacancies"])
    _, council_token = api_client_create(
        organisation=council_a, name="Brokerage system", scopes=["read", "vacancies"], role="commissioner"
    )
    provider = generated.client(live_server.url, provider_token)
    other = generated.client(live_server.url, other_token)
    council = generated.client(live_server.url, council_token)
    models = generated.models

    # The provider reports two kinds of free bed; saving confirms them.
    body = models.BedVacanciesInputRequest.from_dict(
        {
            "vacancies": [
                {"lot": 1, "room_type": "single", "en_suite": True, "ground_floor": True, "beds": 2},
                {"setting": "nursing", "room_type": "shared", "gender": "female", "bariatric": True, "beds": 1},
            ]
        }
    )
    listed = ok(
        generated.op("care_homes_bed_vacancies_update").sync_detailed(id=home.pk, client=provider, body=body),
        models.BedVacanciesOutput,
    )
    assert sorted(v.beds for v in listed.vacancies) == [1, 2]
    assert all(v.fresh for v in listed.vacancies) and listed.fresh_hours == 24
    # A bad row is refused field by field, and nothing changes.
    bad = models.BedVacanciesInputRequest.from_dict({"vacancies": [{"room_type": "single", "beds": 0}]})
    refused = generated.op("care_homes_bed_vacancies_update").sync_detailed(id=home.pk, client=provider, body=bad)
    assert refused.status_code == 400 and b"vacancies" in refused.content
    assert BedVacancy.objects.filter(care_home=home).count() == 2
    # Another provider's system cannot touch the home.
    foreign = generated.op("care_homes_bed_vacancies_confirm_create").sync_detailed(id=home.pk, client=other)
    assert foreign.status_code == 404

    # A day later the vacancies are stale; "no change" makes them fresh again in one call.
    BedVacancy.objects.filter(care_home=home).update(confirmed_at=timezone.now() - timedelta(hours=25))
    stale = ok(
        generated.op("care_homes_bed_vacancies_retrieve").sync_detailed(id=home.pk, client=council),
        models.BedVacanciesOutput,
    )
    assert not any(v.fresh for v in stale.vacancies)
    search = generated.op("bed_vacancies_list")
    found = ok(
        search.sync_detailed(client=council, postcode="ST16 2LL", within_km=20, fresh_only=True),
        models.PaginatedBedVacancySearchOutputList,
    )
    assert found.results == []
    confirmed = ok(
        generated.op("care_homes_bed_vacancies_confirm_create").sync_detailed(id=home.pk, client=provider),
        models.BedVacanciesOutput,
    )
    assert all(v.fresh for v in confirmed.vacancies)

    # The search near the person's postcode: nearest first, with the bed's attributes and freshness.
    found = ok(
        search.sync_detailed(client=council, postcode="ST16 2LL", within_km=20, fresh_only=True, bariatric=True),
        models.PaginatedBedVacancySearchOutputList,
    )
    assert [(r.care_home.name, r.beds, r.room_type.value, r.fresh) for r in found.results] == [
        ("Meadow View", 1, "shared", True)
    ]
    assert found.results[0].distance_km < 2
    BedVacancyFactory(care_home=far, beds=3)
    page = models.PaginatedBedVacancySearchOutputList
    everything = ok(search.sync_detailed(client=council, postcode="ST16 2LL"), page)
    assert [r.care_home.name for r in everything.results] == ["Meadow View", "Meadow View", "Far Away"]
    nearby = ok(search.sync_detailed(client=council, postcode="ST16 2LL", within_km=20), page)
    assert far.pk not in {r.care_home.id for r in nearby.results}
    assert b"weekly" not in search.sync_detailed(client=council, postcode="ST16 2LL").content
    malformed = search.sync_detailed(client=council, postcode="NOT A POSTCODE")
    assert malformed.status_code == 400 and b"postcode" in malformed.content

    # The provider closes the home for every body: it leaves the search.
    closure_body = models.AdmissionClosureInputRequest.from_dict({"reason": "outbreak", "details": "Norovirus"})
    closure = generated.op("care_homes_admission_closures_create").sync_detailed(
        id=home.pk, client=provider, body=closure_body
    )
    assert closure.status_code == 201, closure.content
    assert closure.parsed.commissioner is None and closure.parsed.state == "Closed"
    gone = ok(search.sync_detailed(client=council, postcode="ST16 2LL"), page)
    assert [r.care_home.name for r in gone.results] == ["Far Away"]
    seen = generated.op("care_homes_admission_closures_list").sync_detailed(id=home.pk, client=council)
    assert seen.status_code == 200 and [c.reason.value for c in seen.parsed] == ["outbreak"]

    # Lifting needs a reason; then the home is found again.
    lift = generated.op("admission_closures_lift_create")
    empty = lift.sync_detailed(
        id=closure.parsed.id, client=provider, body=models.LiftInputRequest.from_dict({"reason": ""})
    )
    assert empty.status_code == 400
    lifted = ok(
        lift.sync_detailed(
            id=closure.parsed.id, client=provider, body=models.LiftInputRequest.from_dict({"reason": "All clear"})
        ),
        models.AdmissionClosureOutput,
    )
    assert lifted.state == "Lifted"
    back = ok(search.sync_detailed(client=council, postcode="ST16 2LL", within_km=20), page)
    assert {r.care_home.name for r in back.results} == {"Meadow View"}

    # The council's system embargoes the home for its own body only.
    embargo = generated.op("care_homes_admission_closures_create").sync_detailed(
        id=home.pk,
        client=council,
        body=models.AdmissionClosureInputRequest.from_dict(
            {"reason": "safeguarding_embargo", "details": "Section 42 enquiry"}
        ),
    )
    assert embargo.status_code == 201, embargo.content
    assert embargo.parsed.commissioner == council_a.slug
    assert AdmissionClosure.objects.get(pk=embargo.parsed.id).commissioner == council_a
    # The provider cannot lift a body's embargo.
    refused = lift.sync_detailed(
        id=embargo.parsed.id, client=provider, body=models.LiftInputRequest.from_dict({"reason": "Mine now"})
    )
    assert refused.status_code == 404


def test_a_providers_system_bid_is_awarded_at_once_under_the_first_acceptable_rule(
    generated,  # noqa: F811
    live_server,
    council_a,
    broker_a,
    provider_a,
):
    from bidding.models import Award
    from bidding.services import tender_publish

    from .factories import DischargeRequestFactory, UrgencyRulesFactory, lot

    UrgencyRulesFactory(lot_rules=council_a.lot_rules.get(lot=lot(1)), award_rule="first_acceptable")
    home = admitted_home(council_a, provider=provider_a, name="Meadow View")
    BedVacancy.objects.create(care_home=home, lot=lot(1), beds=1, confirmed_at=timezone.now())
    request = DischargeRequestFactory(commissioner=council_a, created_by=broker_a)
    tender = tender_publish(actor=broker_a, request=request)
    _, token = api_client_create(organisation=provider_a, name="Care system", scopes=["read", "bids"])
    provider = generated.client(live_server.url, token)
    body = generated.models.BidInputRequest.from_dict(
        {
            "care_home": home.pk,
            "weekly_fee": "850.00",
            "earliest_start": timezone.localdate().isoformat(),
            "needs_confirmed": True,
        }
    )
    made = generated.op("tenders_bids_create").sync_detailed(id=tender.pk, client=provider, body=body)
    assert made.status_code == 201, made.content
    award = Award.objects.get(tender=tender)
    assert award.bid_id == made.parsed.id
    read = ok(
        generated.op("tenders_retrieve").sync_detailed(id=tender.pk, client=provider), generated.models.TenderOutput
    )
    assert read.status == "awarded" and read.award_rule.value == "first_acceptable"
    assert read.sourcing.value == "fresh_vacancies"
