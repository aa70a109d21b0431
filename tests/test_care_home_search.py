"""The care-home search (page and API), one home, and vacancies through the API."""

import math
from datetime import timedelta

import pytest
from django.utils import timezone

from providers.models import Admission, Vacancy

from .factories import AdmissionFactory, CareHomeFactory, VacancyFactory, lot

pytestmark = pytest.mark.django_db

# The page, with each home's specialisms and admissions, in one query; the API client is cached.
# A council user's page also reads its body's risk rating of the page's homes in five more: their
# ratings, latest monitoring scores, open safeguarding concerns, overdue actions and embargoes.
QUERIES_PER_PAGE = 1 + 5

STAFFORD = (52.8065, -2.1166)
# Known places; their distances from Stafford town centre are worked out below, in Python.
PLACES = {
    "Stone": (52.9025, -2.1470),
    "Cannock": (52.6901, -2.0308),
    "Lichfield": (52.6835, -1.8262),
    "Derby": (52.9220, -1.4760),
}


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lng1, lat2, lng2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


@pytest.fixture
def homes(council_a, provider_a, provider_b):
    made = {}
    for name, (latitude, longitude) in PLACES.items():
        made[name] = CareHomeFactory(
            name=f"{name} House",
            provider=provider_a if name in ("Stone", "Lichfield") else provider_b,
            latitude=latitude,
            longitude=longitude,
            local_authority="Derby" if name == "Derby" else "Staffordshire",
            rating="Requires improvement" if name == "Cannock" else "Good",
            specialism_codes=["dementia"] if name in ("Stone", "Derby") else [],
        )
    for name in ("Stone", "Cannock", "Derby"):
        AdmissionFactory(commissioner=council_a, care_home=made[name], lot=lot(1))
    AdmissionFactory(commissioner=council_a, care_home=made["Lichfield"], lot=lot(2))
    VacancyFactory(care_home=made["Cannock"], beds_free=3)
    VacancyFactory(care_home=made["Derby"], beds_free=1, lot=None, setting=Vacancy.Setting.NURSING)
    return made


def names(response) -> list[str]:
    return [home["name"] for home in response.json()["results"]]


def test_api_sorts_by_distance_and_reports_it(homes, broker_a, api_as):
    response = api_as(broker_a.organisation).get("/api/v1/care-homes/?near=52.8065,-2.1166")
    assert response.status_code == 200
    assert names(response) == ["Stone House", "Cannock House", "Lichfield House", "Derby House"]
    distances = [home["distance_km"] for home in response.json()["results"]]
    assert distances == pytest.approx([haversine_km(STAFFORD, place) for place in PLACES.values()], abs=0.01)


def test_api_within_km_limits_the_radius(homes, broker_a, api_as):
    response = api_as(broker_a.organisation).get("/api/v1/care-homes/?near=52.8065,-2.1166&within_km=15")
    assert names(response) == ["Stone House", "Cannock House"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("lot=1", ["Cannock House", "Derby House", "Stone House"]),
        ("lot=2", ["Lichfield House"]),
        ("rating=Requires improvement", ["Cannock House"]),
        ("specialism=dementia", ["Derby House", "Stone House"]),
        ("vacancy=true", ["Cannock House", "Derby House"]),
        ("vacancy=false", ["Lichfield House", "Stone House"]),
        ("local_authority=derby", ["Derby House"]),
        ("lot=1&vacancy=true&near=52.8065,-2.1166", ["Cannock House", "Derby House"]),
    ],
)
def test_api_filters(homes, broker_a, api_as, query, expected):
    response = api_as(broker_a.organisation).get(f"/api/v1/care-homes/?{query}")
    assert response.status_code == 200, response.json()
    assert names(response) == expected


def test_api_suspended_filter_uses_the_callers_own_admissions(homes, council_a, council_b, broker_a, api_as):
    Admission.objects.filter(care_home=homes["Stone"], commissioner=council_a).update(status="suspended")
    AdmissionFactory(commissioner=council_b, care_home=homes["Derby"], status=Admission.Status.SUSPENDED)
    response = api_as(broker_a.organisation).get("/api/v1/care-homes/?suspended=true")
    assert names(response) == ["Stone House"]
    lot_1 = api_as(broker_a.organisation).get("/api/v1/care-homes/?lot=1")
    assert names(lot_1) == ["Cannock House", "Derby House"]


def test_api_shows_only_the_callers_bodys_admissions(homes, council_b, broker_b, api_as):
    AdmissionFactory(commissioner=council_b, care_home=homes["Derby"], lot=lot(5))
    body = api_as(broker_b.organisation).get("/api/v1/care-homes/?local_authority=Derby").json()
    assert body["results"][0]["admissions"] == [{"commissioner": council_b.slug, "lot": 5, "status": "admitted"}]


@pytest.mark.parametrize(
    "query", ["near=north", "near=95,1", "within_km=5", "rating=Superb", "lot=x", "specialism=none-such"]
)
def test_api_bad_filters_are_refused_with_field_errors(homes, broker_a, api_as, query):
    response = api_as(broker_a.organisation).get(f"/api/v1/care-homes/?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"]


def test_api_list_queries_do_not_grow_with_page_size(homes, broker_a, api_as, django_assert_num_queries):
    for n in range(30):
        home = CareHomeFactory(latitude=52.7 + n / 100, specialism_codes=["dementia", "autism"], rating="Good")
        AdmissionFactory(commissioner=broker_a.organisation, care_home=home, lot=lot(1 + n % 3))
        VacancyFactory(care_home=home)
    caller = api_as(broker_a.organisation)
    caller.get("/api/v1/care-homes/?page_size=1")  # records the client's first use, which is written once
    # Cursor pages count nothing; the client read once above is served from the cache after.
    for size in (2, 30):
        with django_assert_num_queries(QUERIES_PER_PAGE):
            response = caller.get(f"/api/v1/care-homes/?near=52.8,-2.1&page_size={size}")
        assert len(response.json()["results"]) == size


def test_api_detail_and_not_found(homes, broker_a, provider_user_a, api_as):
    home = homes["Cannock"]
    body = api_as(broker_a.organisation).get(f"/api/v1/care-homes/{home.pk}/").json()
    assert body["name"] == "Cannock House"
    assert body["rating"]["overall"] == "Requires improvement"
    assert body["beds_free"] == 3
    assert body["vacancies_stale"] is False
    assert api_as(broker_a.organisation).get("/api/v1/care-homes/999999/").status_code == 404
    # A provider's caller sees its own homes only.
    provider = api_as(provider_user_a.organisation, role="provider")
    assert provider.get(f"/api/v1/care-homes/{home.pk}/").status_code == 404
    assert names(provider.get("/api/v1/care-homes/")) == ["Lichfield House", "Stone House"]


def test_provider_client_puts_vacancies_for_its_own_home(homes, provider_user_a, api_as):
    home = homes["Stone"]
    caller = api_as(provider_user_a.organisation, scopes=["read", "vacancies"], role="provider")
    payload = {
        "vacancies": [
            {"lot": 1, "beds_free": 2, "available_from": timezone.localdate().isoformat(), "notes": "En-suite"},
            {"setting": "nursing", "beds_free": 1, "available_from": timezone.localdate().isoformat()},
        ]
    }
    response = caller.put(f"/api/v1/care-homes/{home.pk}/vacancies/", payload)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert [v["beds_free"] for v in body["vacancies"]] == [2, 1]
    assert body["stale"] is False
    assert caller.get(f"/api/v1/care-homes/{home.pk}/vacancies/").json()["vacancies"][0]["notes"] == "En-suite"
    assert Vacancy.objects.filter(care_home=home).count() == 2


def test_provider_client_cannot_read_or_change_another_providers_vacancies(homes, provider_user_a, api_as):
    other = homes["Cannock"]
    caller = api_as(provider_user_a.organisation, scopes=["read", "vacancies"], role="provider")
    payload = {"vacancies": [{"lot": 1, "beds_free": 9, "available_from": timezone.localdate().isoformat()}]}
    assert caller.put(f"/api/v1/care-homes/{other.pk}/vacancies/", payload).status_code == 404
    assert caller.get(f"/api/v1/care-homes/{other.pk}/vacancies/").status_code == 404
    assert list(Vacancy.objects.filter(care_home=other).values_list("beds_free", flat=True)) == [3]


def test_vacancy_writes_need_the_vacancies_scope_and_a_provider(homes, provider_user_a, broker_a, api_as):
    home = homes["Stone"]
    payload = {"vacancies": [{"lot": 1, "beds_free": 9, "available_from": timezone.localdate().isoformat()}]}
    read_only = api_as(provider_user_a.organisation, scopes=["read"], role="provider")
    assert read_only.put(f"/api/v1/care-homes/{home.pk}/vacancies/", payload).status_code == 403
    council = api_as(broker_a.organisation, scopes=["read", "vacancies"], role="broker")
    assert council.put(f"/api/v1/care-homes/{home.pk}/vacancies/", payload).status_code == 403
    assert council.get(f"/api/v1/care-homes/{home.pk}/vacancies/").status_code == 200
    assert not Vacancy.objects.filter(care_home=home).exists()


def test_vacancy_needs_a_lot_or_a_setting(homes, provider_user_a, api_as):
    caller = api_as(provider_user_a.organisation, scopes=["read", "vacancies"], role="provider")
    payload = {"vacancies": [{"beds_free": 1, "available_from": timezone.localdate().isoformat()}]}
    response = caller.put(f"/api/v1/care-homes/{homes['Stone'].pk}/vacancies/", payload)
    assert response.status_code == 400
    assert "vacancies" in response.json()["errors"]


def test_stale_vacancies_are_flagged(homes, broker_a, api_as, settings):
    settings.VACANCY_STALE_DAYS = 3
    Vacancy.objects.filter(care_home=homes["Cannock"]).update(confirmed_at=timezone.now() - timedelta(days=4))
    body = api_as(broker_a.organisation).get(f"/api/v1/care-homes/{homes['Cannock'].pk}/").json()
    assert body["vacancies_stale"] is True


def test_search_page_sorts_by_distance_from_a_chosen_home(homes, broker_a, as_user):
    client = as_user(broker_a)
    page = client.get("/care-homes/search/", {"from_home": homes["Derby"].pk})
    assert page.status_code == 200
    text = page.content.decode().split("<table", 1)[1]
    expected = sorted(PLACES, key=lambda name: haversine_km(PLACES["Derby"], PLACES[name]))
    positions = {name: text.index(f"{name} House") for name in PLACES}
    assert sorted(PLACES, key=positions.get) == expected


def test_search_page_filters_and_exports_csv(homes, broker_a, as_user):
    client = as_user(broker_a)
    query = {"lot": lot(1).pk, "vacancy": "yes", "near": "52.8065,-2.1166"}
    text = client.get("/care-homes/search/", query).content.decode().split("<table", 1)[1]
    assert "Cannock House" in text and "Stone House" not in text and "Lichfield House" not in text
    csv_text = b"".join(client.get("/care-homes/search/", {**query, "format": "csv"}).streaming_content).decode()
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("name,cqc_location_id")
    assert [line.split(",")[0] for line in lines[1:]] == ["Cannock House", "Derby House"]
    # The distance, then the home's risk rating for the body (Requires improvement: amber).
    assert lines[0].endswith(",km,risk")
    assert lines[1].endswith(f",{haversine_km(STAFFORD, PLACES['Cannock']):.1f},amber")


def test_search_page_refuses_a_bad_point(homes, broker_a, as_user):
    page = as_user(broker_a).get("/care-homes/search/", {"near": "somewhere"})
    assert "latitude,longitude" in page.content.decode()


def test_search_page_is_for_council_users(homes, provider_user_a, as_user):
    assert as_user(provider_user_a).get("/care-homes/search/").status_code == 403


def test_search_page_queries_do_not_grow_with_results(homes, broker_a, as_user, django_assert_max_num_queries):
    for _ in range(20):
        home = CareHomeFactory(specialism_codes=["dementia"], rating="Good")
        AdmissionFactory(commissioner=broker_a.organisation, care_home=home, lot=lot(1))
    client = as_user(broker_a)
    # The risk ratings of the page's homes are read together, whatever their number.
    with django_assert_max_num_queries(15):
        client.get("/care-homes/search/", {"near": "52.8065,-2.1166"})


def test_the_search_comes_in_cursor_pages_in_distance_order_without_a_count_query(homes, broker_a, api_as):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    caller = api_as(broker_a.organisation)
    caller.get("/api/v1/care-homes/?page_size=1")
    with CaptureQueriesContext(connection) as short:
        body = caller.get("/api/v1/care-homes/?near=52.8065,-2.1166&within_km=15").json()
    assert (len(body["results"]), body["next"], body["previous"]) == (2, None, None)
    assert not [q for q in short.captured_queries if "COUNT(*)" in q["sql"]]
    # The next page carries on where the first stopped, and the previous link leads back.
    body = caller.get("/api/v1/care-homes/?near=52.8065,-2.1166&page_size=3").json()
    assert body["next"] and len(body["results"]) == 3
    second = caller.get(body["next"]).json()
    assert [home["name"] for home in second["results"]] == ["Derby House"]
    back = caller.get(second["previous"]).json()
    assert [home["name"] for home in back["results"]] == [home["name"] for home in body["results"]]


@pytest.mark.parametrize("latitude", [0.0, 52.8, 70.0])
def test_homes_just_inside_the_radius_are_found_in_every_direction(broker_a, api_as, latitude):
    """The coordinate box in front of the distance never cuts off a home inside the circle."""
    radius = 25.0
    angle = math.degrees(radius * 0.999 / 6371.0088)
    longitude = -2.0
    # Due east and west, the circle's widest longitude lies a little nearer the pole than the centre.
    widest = math.degrees(math.asin(math.sin(math.radians(angle)) / math.cos(math.radians(latitude))))
    points = {
        "north": (latitude + angle, longitude),
        "south": (latitude - angle, longitude),
        "east": (latitude, longitude + angle / math.cos(math.radians(latitude))),
        "widest": (
            math.degrees(math.asin(math.sin(math.radians(latitude)) / math.cos(math.radians(angle)))),
            longitude + widest,
        ),
        "outside": (latitude + angle * 1.05, longitude),
    }
    for name, (lat, lng) in points.items():
        CareHomeFactory(name=name, latitude=lat, longitude=lng)
    expected = {name for name, point in points.items() if haversine_km((latitude, longitude), point) <= radius}

    response = api_as(broker_a.organisation).get(f"/api/v1/care-homes/?near={latitude},{longitude}&within_km={radius}")

    assert set(names(response)) == expected
    assert {"north", "south", "widest"} <= expected and "outside" not in expected


def test_list_and_detail_show_specialism_codes_and_own_admissions(homes, broker_a, api_as):
    caller = api_as(broker_a.organisation)
    derby = caller.get("/api/v1/care-homes/?local_authority=derby").json()["results"][0]
    assert derby["specialisms"] == ["dementia"]
    assert [(a["lot"], a["status"]) for a in derby["admissions"]] == [(1, "admitted")]
    detail = caller.get(f"/api/v1/care-homes/{homes['Derby'].pk}/").json()
    assert (detail["specialisms"], detail["admissions"]) == (derby["specialisms"], derby["admissions"])
