"""Postcodes instead of coordinates: loading the ONS Postcode Directory and OS Code-Point Open, and
a postcode wherever a place is asked (the request's area on the page and the API, the care-home
search, homes without coordinates), with field errors for a malformed or an unknown one."""

import csv
import io
import shutil
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from playwright.sync_api import expect

from core.models import AuditEvent
from placements.models import PlacementRequest
from providers.models import CareHome, Postcode
from providers.postcodes import care_homes_locate
from providers.services import care_home_add

from .browser import share_session
from .factories import AdmissionFactory, CareHomeFactory, lot

FIXTURES = Path(__file__).parent / "fixtures" / "postcodes"
ONSPD = FIXTURES / "onspd_sample.csv"
CODEPOINT = FIXTURES / "codepoint"
MALFORMED = "Enter a real postcode, like ST16 2LL"
UNKNOWN = "We could not find ST99 9ZZ: check it or enter the nearest postcode"
# Town centres, as published; the fixtures' grid references were placed on them.
STAFFORD = (52.8065, -2.1166)
LIVERPOOL = (53.4084, -2.9916)
SOUTHPORT = (53.6460, -3.0060)
DEGREES = 0.0001


def run_import(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_postcodes", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def point(postcode: str) -> tuple[float, float]:
    row = Postcode.objects.get(postcode=postcode)
    return row.latitude, row.longitude


def assert_near(actual: tuple[float, float], expected: tuple[float, float]) -> None:
    assert abs(actual[0] - expected[0]) < DEGREES and abs(actual[1] - expected[1]) < DEGREES, (actual, expected)


def onspd_rows() -> tuple[list[str], list[dict]]:
    with ONSPD.open(newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames), list(reader)


def write_onspd(path: Path, columns: list[str], rows: list[dict]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def needed_from() -> dict:
    """The date in both the one-box and the day, month and year layouts the form may use."""
    day = timezone.localdate() + timedelta(days=5)
    return {
        "needed_from": day.isoformat(),
        "needed_from_0": day.day,
        "needed_from_1": day.month,
        "needed_from_2": day.year,
    }


# Importing -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_onspd_import_loads_each_postcode_with_its_point_district_and_whether_it_is_terminated():
    out, err = run_import(ONSPD)

    assert Postcode.objects.count() == 16
    assert_near(point("ST16 2LL"), STAFFORD)
    assert_near(point("PR8 1AA"), SOUTHPORT)
    stafford = Postcode.objects.get(compact="ST162LL")
    assert (stafford.local_authority_code, stafford.terminated) == ("E07000197", False)
    assert Postcode.objects.get(postcode="L20 3AA").local_authority_code == "E08000014"
    assert Postcode.objects.get(postcode="ST16 9ZA").terminated is True
    # ONSPD's 99.999999 marks a postcode without a grid reference: it is left out, not an error.
    assert not Postcode.objects.filter(compact="ST169ZB").exists()
    assert "17 rows in 1 file: 16 postcodes added, 0 updated, 0 unchanged; 1 without coordinates" in out
    assert "Reading onspd_sample.csv" in out
    assert err == ""
    assert AuditEvent.objects.filter(verb="providers.postcodes.imported").count() == 1


@pytest.mark.django_db
def test_onspd_columns_are_read_by_name_in_any_order(tmp_path):
    columns, rows = onspd_rows()
    shuffled = write_onspd(tmp_path / "ONSPD_NOV_2026_UK.csv", list(reversed(columns)), rows)

    run_import(shuffled)

    assert Postcode.objects.count() == 16
    assert_near(point("L3 1AA"), LIVERPOOL)
    assert Postcode.objects.get(postcode="ST16 9ZA").terminated is True


@pytest.mark.django_db
def test_codepoint_folder_is_converted_from_the_national_grid():
    out, _ = run_import(CODEPOINT)

    assert Postcode.objects.count() == 15
    assert_near(point("ST16 2LL"), STAFFORD)
    assert_near(point("L3 1AA"), LIVERPOOL)
    assert_near(point("PR8 1AA"), SOUTHPORT)
    assert Postcode.objects.get(postcode="ST4 1HH").local_authority_code == "E06000021"
    assert "codepoint: 16 rows in 6 files: 15 postcodes added" in out
    assert "1 without coordinates" in out


@pytest.mark.django_db
def test_codepoint_zip_gives_the_same_points_as_the_onspd(tmp_path):
    archive = tmp_path / "codepo_gb.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for file in CODEPOINT.rglob("*.csv"):
            bundle.write(file, f"codepo_gb/{file.relative_to(CODEPOINT)}")
    run_import(ONSPD)
    from_onspd = {row.compact: (row.latitude, row.longitude) for row in Postcode.objects.all()}

    out, _ = run_import(archive)

    assert "0 postcodes added, 0 updated, 15 unchanged" in out
    for compact, latitude, longitude in Postcode.objects.values_list("compact", "latitude", "longitude"):
        assert_near((latitude, longitude), from_onspd[compact])


@pytest.mark.django_db
def test_codepoint_columns_follow_its_header_documentation(tmp_path):
    folder = tmp_path / "codepo"
    (folder / "Doc").mkdir(parents=True)
    (folder / "Data" / "CSV").mkdir(parents=True)
    order = ["Northings", "Eastings", "Admin_district_code", "Postcode", "Positional_quality_indicator"]
    (folder / "Doc" / "Code-Point_Open_Column_Headers.csv").write_text("NO,EA,DC,PC,PQ\r\n" + ",".join(order) + "\r\n")
    (folder / "Data" / "CSV" / "st.csv").write_text('323223,392237,"E07000197","ST16 2LL",10\r\n')

    run_import(folder)

    assert_near(point("ST16 2LL"), STAFFORD)
    assert Postcode.objects.get().local_authority_code == "E07000197"


@pytest.mark.django_db
def test_importing_again_changes_nothing_and_a_changed_point_is_updated(tmp_path):
    run_import(ONSPD)
    written = dict(Postcode.objects.values_list("compact", "updated_at"))

    out, _ = run_import(ONSPD)

    assert "0 postcodes added, 0 updated, 16 unchanged" in out
    assert dict(Postcode.objects.values_list("compact", "updated_at")) == written

    columns, rows = onspd_rows()
    rows[0]["lat"] = "52.900000"
    out, _ = run_import(write_onspd(tmp_path / "moved.csv", columns, rows))
    assert "0 postcodes added, 1 updated, 15 unchanged" in out
    assert point("ST16 2LL")[0] == 52.9
    assert Postcode.objects.count() == 16


@pytest.mark.django_db
def test_bad_rows_are_reported_by_line_and_left_out(tmp_path):
    columns, rows = onspd_rows()
    rows[1] = {**rows[1], "pcds": "NOT A POSTCODE", "pcd": "NOTAPC"}
    rows[3] = {**rows[3], "lat": "north"}
    rows[4] = {**rows[4], "lat": "40.000000"}

    out, err = run_import(write_onspd(tmp_path / "bad.csv", columns, rows))

    assert "bad.csv line 3: postcode 'NOT A POSTCODE' is not a postcode" in err
    assert "bad.csv line 5: lat 'north' is not a number" in err
    assert "bad.csv line 6: the point 40.0" in err and "outside the United Kingdom" in err
    assert "3 bad rows left out" in out
    assert Postcode.objects.count() == 13
    assert not Postcode.objects.filter(compact__in=[rows[3]["pcd"], rows[4]["pcd"]]).exists()
    # Every row written is whole.
    assert not Postcode.objects.filter(local_authority_code="").exists()


@pytest.mark.django_db
def test_a_file_without_the_named_columns_writes_nothing(tmp_path):
    columns, rows = onspd_rows()
    broken = write_onspd(tmp_path / "no-latitude.csv", [c for c in columns if c != "lat"] + ["latitude"], rows)

    with pytest.raises(CommandError, match="Nothing was imported"):
        run_import(broken, "--format", "onspd")

    assert not Postcode.objects.exists()


@pytest.mark.django_db
def test_a_format_error_in_a_later_file_writes_nothing_of_the_earlier_ones(tmp_path):
    run_import(ONSPD)
    before = dict(Postcode.objects.values_list("compact", "latitude"))
    folder = tmp_path / "codepo"
    shutil.copytree(CODEPOINT, folder)
    # The first file moves Stafford; the last one breaks part way, after more than a buffer of good rows.
    (folder / "Data" / "CSV" / "aa.csv").write_text(
        '"ST162LL",10,392000,330000,"E92000001","","","","E07000197",""\r\n'
    )
    good = "".join(f'"ST17{n % 10}A{chr(65 + n % 26)}",10,392000,323000,"","","","","",""\r\n' for n in range(400))
    (folder / "Data" / "CSV" / "zz.csv").write_bytes(good.encode() + b'"ST18 1AA",10,\xff\xfe,323000\r\n')

    with pytest.raises(CommandError, match="not UTF-8"):
        run_import(folder)

    assert dict(Postcode.objects.values_list("compact", "latitude")) == before


@pytest.mark.django_db
def test_no_directory_found_is_a_format_error(tmp_path):
    (tmp_path / "notes.csv").write_text("name,age\r\nAda,36\r\n")
    with pytest.raises(CommandError, match="No Code-Point Open CSV files found"):
        run_import(tmp_path)
    with pytest.raises(CommandError, match="no file or folder"):
        run_import(tmp_path / "missing.zip")


# Homes without coordinates ---------------------------------------------------------------------


@pytest.mark.django_db
def test_import_fills_care_homes_without_coordinates_from_their_postcode():
    placed = CareHomeFactory(postcode="st16 2ll", latitude=None, longitude=None)
    unknown = CareHomeFactory(postcode="ST99 9ZZ", latitude=None, longitude=None)
    elsewhere = CareHomeFactory(postcode="L3 1AA", latitude=52.0, longitude=-2.0)

    out, _ = run_import(ONSPD, "--fill-care-homes")

    assert "1 care homes without coordinates placed by their postcode" in out
    placed.refresh_from_db()
    unknown.refresh_from_db()
    elsewhere.refresh_from_db()
    assert_near((placed.latitude, placed.longitude), STAFFORD)
    assert (unknown.latitude, unknown.longitude) == (None, None)
    # A home's own coordinates are kept.
    assert (elsewhere.latitude, elsewhere.longitude) == (52.0, -2.0)
    assert care_homes_locate() == 0


@pytest.mark.django_db
def test_a_home_added_by_its_provider_takes_the_point_of_its_postcode(provider_user_a):
    run_import(ONSPD)
    home = care_home_add(
        actor=provider_user_a,
        cqc_location_id="1-999000111",
        name="Rowan House",
        address_line_1="1 Lichfield Road",
        postcode="ST16 2LL",
    )
    assert_near((home.latitude, home.longitude), STAFFORD)
    assert CareHome.objects.get(pk=home.pk).latitude == home.latitude


# The request's area -----------------------------------------------------------------------------


def request_form(**overrides) -> dict:
    return {
        "case_reference": "LAS-PC-1",
        "lot": lot(1).pk,
        "needs_summary": "Needs help with mobility.",
        "postcode": "st16 2ll",
        "max_distance_km": "25",
        "max_weekly_rate": "850.00",
        **needed_from(),
        **overrides,
    }


@pytest.mark.django_db
def test_broker_requests_a_placement_by_postcode_on_the_page(broker_a, as_user):
    run_import(ONSPD)

    response = as_user(broker_a).post("/broker/requests/new/", request_form())

    created = PlacementRequest.objects.get()
    assert response.status_code == 302, response.content.decode()
    assert created.postcode == "ST16 2LL"
    assert_near((created.latitude, created.longitude), STAFFORD)
    page = as_user(broker_a).get(f"/broker/requests/{created.pk}/").content.decode()
    assert "within 25.0 km of ST16 2LL" in page


@pytest.mark.django_db
@pytest.mark.parametrize(("postcode", "message"), [("ST16", MALFORMED), ("12345", MALFORMED), ("ST99 9ZZ", UNKNOWN)])
def test_request_page_refuses_a_malformed_or_unknown_postcode_on_its_field(broker_a, as_user, postcode, message):
    run_import(ONSPD)

    response = as_user(broker_a).post("/broker/requests/new/", request_form(postcode=postcode))

    assert response.status_code in (200, 400)
    form = response.context["form"]
    assert form.errors["postcode"] == [message]
    assert message in response.content.decode()
    assert not PlacementRequest.objects.exists()


@pytest.mark.django_db
def test_api_creates_a_request_by_postcode_and_still_takes_coordinates(council_a, api_as):
    run_import(ONSPD)
    council = api_as(council_a, scopes=["read", "placement-requests"])
    payload = {
        "case_reference": "LAS-PC-2",
        "lot": 1,
        "needs_summary": "Needs nursing care.",
        "needed_from": (timezone.localdate() + timedelta(days=5)).isoformat(),
        "max_distance_km": "20.0",
    }

    by_postcode = council.post("/api/v1/placement-requests/", {**payload, "postcode": "PR81AA"})
    by_point = council.post(
        "/api/v1/placement-requests/", {**payload, "case_reference": "LAS-PC-3", "latitude": 52.8, "longitude": -2.1}
    )

    assert by_postcode.status_code == 201, by_postcode.content
    body = by_postcode.json()
    assert body["postcode"] == "PR8 1AA"
    assert_near((body["latitude"], body["longitude"]), SOUTHPORT)
    assert by_point.status_code == 201, by_point.content
    assert (by_point.json()["postcode"], by_point.json()["latitude"]) == ("", 52.8)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"postcode": "not a postcode"}, MALFORMED),
        ({"postcode": "ST99 9ZZ"}, UNKNOWN),
        ({"postcode": "ST16 2LL", "latitude": 52.8, "longitude": -2.1}, None),
    ],
)
def test_api_refuses_a_bad_postcode_with_a_field_error(council_a, api_as, extra, message):
    run_import(ONSPD)
    council = api_as(council_a, scopes=["read", "placement-requests"])
    payload = {
        "case_reference": "LAS-PC-4",
        "lot": 1,
        "needs_summary": "Needs nursing care.",
        "needed_from": (timezone.localdate() + timedelta(days=5)).isoformat(),
        "max_distance_km": "20.0",
        **extra,
    }

    response = council.post("/api/v1/placement-requests/", payload)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    errors = response.json()["errors"]["postcode"]
    assert errors == [message or "Enter a postcode, or the latitude and longitude, not both."]
    assert not PlacementRequest.objects.exists()


# The care-home search ---------------------------------------------------------------------------

HOMES = {"Stone": (52.9025, -2.1470), "Cannock": (52.6901, -2.0308), "Bootle": (53.4460, -2.9950)}


@pytest.fixture
def homes(council_a, provider_a):
    run_import(ONSPD)
    made = {}
    for name, (latitude, longitude) in HOMES.items():
        made[name] = CareHomeFactory(name=f"{name} House", provider=provider_a, latitude=latitude, longitude=longitude)
        AdmissionFactory(commissioner=council_a, care_home=made[name], lot=lot(1))
    return made


@pytest.mark.django_db
def test_api_search_by_postcode_returns_homes_nearest_first(homes, broker_a, api_as):
    caller = api_as(broker_a.organisation)

    from_liverpool = caller.get("/api/v1/care-homes/", data={"postcode": "L3 1AA"})
    from_stafford = caller.get("/api/v1/care-homes/", data={"postcode": "st162ll", "within_km": "20"})

    assert from_liverpool.status_code == 200
    assert [h["name"] for h in from_liverpool.json()["results"]] == ["Bootle House", "Stone House", "Cannock House"]
    assert from_liverpool.json()["results"][0]["distance_km"] < 5
    assert [h["name"] for h in from_stafford.json()["results"]] == ["Stone House", "Cannock House"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"postcode": "ST1"}, "postcode", MALFORMED),
        ({"postcode": "ST99 9ZZ"}, "postcode", UNKNOWN),
        ({"postcode": "ST16 2LL", "near": "52.8,-2.1"}, "postcode", "Give `near` or `postcode`, not both."),
    ],
)
def test_api_search_refuses_a_bad_postcode(homes, broker_a, api_as, query, field, message):
    response = api_as(broker_a.organisation).get("/api/v1/care-homes/", data=query)

    assert response.status_code == 400
    assert response.json()["errors"][field] == [message]


@pytest.mark.django_db
def test_search_page_by_postcode_lists_homes_nearest_first(homes, broker_a, as_user):
    page = as_user(broker_a).get("/care-homes/search/", {"postcode": "L20 3AA"}).content.decode()

    table = page.split("<table", 1)[1]
    assert table.index("Bootle House") < table.index("Stone House") < table.index("Cannock House")
    assert "nearest first" in table


@pytest.mark.django_db
def test_search_page_shows_an_unknown_postcode_on_its_field(homes, broker_a, as_user):
    response = as_user(broker_a).get("/care-homes/search/", {"postcode": "ST99 9ZZ"})

    assert response.context["form"].errors["postcode"] == [UNKNOWN]
    assert UNKNOWN in response.content.decode()
    assert response.context["homes"] is None


# In a browser -----------------------------------------------------------------------------------


def fill_needed_from(page) -> None:
    day = timezone.localdate() + timedelta(days=5)
    if page.locator("#id_needed_from_0").count():
        page.fill("#id_needed_from_0", str(day.day))
        page.fill("#id_needed_from_1", str(day.month))
        page.fill("#id_needed_from_2", str(day.year))
    else:
        page.fill("#id_needed_from", day.isoformat())


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_broker_types_a_postcode_to_request_and_to_search_in_a_browser(
    live_server, browser_page, council_a, provider_a, broker_a
):
    run_import(ONSPD)
    home = CareHomeFactory(name="Stone House", provider=provider_a, latitude=52.9025, longitude=-2.1470)
    AdmissionFactory(commissioner=council_a, care_home=home, lot=lot(1))
    page = browser_page
    share_session(page.context, live_server, broker_a)

    page.goto(f"{live_server.url}/broker/requests/new/")
    page.fill("#id_case_reference", "LAS-PC-9")
    page.select_option("#id_lot", str(lot(1).pk))
    page.fill("#id_needs_summary", "Needs support with mobility and medication.")
    page.fill("#id_postcode", "ST99 9ZZ")
    page.fill("#id_max_distance_km", "30")
    fill_needed_from(page)
    page.fill("#id_max_weekly_rate", "850.00")
    page.get_by_role("button", name="Save request").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(UNKNOWN)
    expect(page.locator(".govuk-error-message").first).to_contain_text(UNKNOWN)

    page.fill("#id_postcode", "st16 2ll")
    fill_needed_from(page)
    page.get_by_role("button", name="Save request").click()
    expect(page.get_by_role("heading", name="Request LAS-PC-9")).to_be_visible()
    expect(page.get_by_text("within 30.0 km of ST16 2LL")).to_be_visible()
    created = PlacementRequest.objects.get()
    assert_near((created.latitude, created.longitude), STAFFORD)

    page.goto(f"{live_server.url}/care-homes/search/")
    page.fill("#id_postcode", "ST15 8AA")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("table")).to_contain_text("Stone House")
    expect(page.locator("table")).to_contain_text("0.0 km")
