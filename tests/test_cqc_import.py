"""The CQC import: location records from files and the API, and the care directory ratings."""

import io
import json
import threading
import zipfile
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from django.core.management import CommandError, call_command

from providers.models import Admission, CareHome
from quality.models import Rating, RatingValue

from .factories import AdmissionFactory, CareHomeFactory, OrganisationFactory

FIXTURE = Path(__file__).parent / "fixtures" / "cqc" / "locations.json"
RECORDS = json.loads(FIXTURE.read_text())
CARE_HOMES = [r for r in RECORDS if r["careHome"] == "Y"]

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_cqc", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_fixture_is_realistic_and_large_enough():
    assert len(RECORDS) >= 200
    assert len(CARE_HOMES) >= 200
    sample = CARE_HOMES[0]
    assert {"locationId", "providerId", "postalCode", "localAuthority", "numberOfBeds", "onspdLatitude"} <= set(sample)
    assert {q["name"] for q in sample["currentRatings"]["overall"]["keyQuestionRatings"]} == {
        "Safe",
        "Effective",
        "Caring",
        "Responsive",
        "Well-led",
    }


def test_import_creates_care_homes_with_ratings_and_only_care_homes():
    out, _ = run("--locations", str(FIXTURE))

    assert CareHome.objects.count() == len(CARE_HOMES)
    assert Rating.objects.count() == len(CARE_HOMES)
    assert f"{len(CARE_HOMES)} created" in out
    assert f"{len(RECORDS) - len(CARE_HOMES)} skipped" in out
    sample = CARE_HOMES[3]
    home = CareHome.objects.select_related("current_rating", "provider").get(cqc_location_id=sample["locationId"])
    assert home.postcode == sample["postalCode"]
    assert home.local_authority == sample["localAuthority"]
    assert home.registered_beds == sample["numberOfBeds"]
    assert home.latitude == pytest.approx(sample["onspdLatitude"])
    assert home.provider.cqc_provider_id == sample["providerId"]
    overall = sample["currentRatings"]["overall"]
    assert home.current_rating.overall == overall["rating"]
    assert home.current_rating.report_date.isoformat() == overall["reportDate"]
    well_led = next(q["rating"] for q in overall["keyQuestionRatings"] if q["name"] == "Well-led")
    assert home.current_rating.well_led == well_led
    nursing = any(s["description"] == "Care home service with nursing" for s in sample["gacServiceTypes"])
    assert home.provides_nursing == nursing
    assert sorted(home.specialisms.values_list("name", flat=True)) == sorted(s["name"] for s in sample["specialisms"])


def test_second_import_creates_and_changes_nothing():
    run("--locations", str(FIXTURE))
    stamps = dict(CareHome.objects.values_list("pk", "updated_at"))

    out, _ = run("--locations", str(FIXTURE))

    assert f"0 created, 0 updated, {len(CARE_HOMES)} unchanged" in out
    assert Rating.objects.count() == len(CARE_HOMES)
    assert dict(CareHome.objects.values_list("pk", "updated_at")) == stamps


def test_changed_rating_adds_history_and_keeps_the_old_row(tmp_path):
    run("--locations", str(FIXTURE))
    record = dict(CARE_HOMES[0])
    record["currentRatings"] = {
        "overall": {
            "rating": "Outstanding",
            "reportDate": "2026-10-01",
            "keyQuestionRatings": [{"name": "Safe", "rating": "Outstanding"}],
        }
    }
    path = tmp_path / "one.json"
    path.write_text(json.dumps([record]))

    run("--locations", str(path))

    home = CareHome.objects.get(cqc_location_id=record["locationId"])
    assert home.ratings.count() == 2
    assert home.current_rating.overall == RatingValue.OUTSTANDING
    assert home.current_rating.safe == RatingValue.OUTSTANDING


def test_broken_records_are_listed_and_the_rest_imported(tmp_path):
    good = CARE_HOMES[:5]
    no_id = {**CARE_HOMES[5], "locationId": ""}
    bad_rating = {**CARE_HOMES[6]}
    bad_rating["currentRatings"] = {"overall": {"rating": "Superb", "reportDate": "2024-01-01"}}
    bad_latitude = {**CARE_HOMES[7], "onspdLatitude": "north"}
    no_postcode = {**CARE_HOMES[8], "postalCode": ""}
    lines = [json.dumps(r) for r in [*good[:2], no_id, bad_rating, bad_latitude, no_postcode, *good[2:]]]
    lines.insert(3, "{not json")
    path = tmp_path / "locations.jsonl"
    path.write_text("\n".join(lines) + "\n")

    out, err = run("--locations", str(path))

    assert CareHome.objects.count() == 5
    assert "5 created" in out
    assert f"skipped {bad_rating['locationId']}: unknown overall rating 'Superb'" in err
    assert f"skipped {bad_latitude['locationId']}: onspdLatitude 'north' is not a number" in err
    assert f"skipped {no_postcode['locationId']}: postalCode is missing" in err
    assert "skipped (no id): locationId is missing" in err
    assert "skipped line 4: not valid JSON" in err
    assert not CareHome.objects.filter(cqc_location_id=bad_rating["locationId"]).exists()


def test_folder_of_location_files_is_imported(tmp_path):
    for record in CARE_HOMES[:3]:
        (tmp_path / f"{record['locationId']}.json").write_text(json.dumps(record))

    run("--locations", str(tmp_path))

    assert CareHome.objects.count() == 3


def test_unreadable_file_exits_non_zero_with_the_reason(tmp_path):
    path = tmp_path / "locations.json"
    path.write_text("[{ broken")
    with pytest.raises(CommandError, match="is not valid JSON"):
        run("--locations", str(path))
    with pytest.raises(CommandError, match="cannot read"):
        run("--locations", str(tmp_path / "missing.json"))


def test_file_where_every_record_is_broken_exits_non_zero(tmp_path):
    path = tmp_path / "locations.json"
    path.write_text(json.dumps([{"locationId": "1-1", "name": "X"}]))
    with pytest.raises(CommandError, match="Nothing could be read"):
        run("--locations", str(path))
    assert CareHome.objects.count() == 0


def test_home_is_never_half_written(tmp_path):
    """A record that fails while saving leaves neither the home nor its rating behind."""
    record = {**CARE_HOMES[0], "name": "x" * 250, "postalCode": "P" * 30}
    path = tmp_path / "locations.json"
    path.write_text(json.dumps([record, CARE_HOMES[1]]))

    _, err = run("--locations", str(path))

    assert f"skipped {record['locationId']}: could not be saved" in err
    assert list(CareHome.objects.values_list("cqc_location_id", flat=True)) == [CARE_HOMES[1]["locationId"]]
    assert Rating.objects.count() == 1


# The care directory with ratings: one row per location x population group x domain.
DIRECTORY_HEADER = [
    "Location ID",
    "Location Name",
    "Care Home?",
    "Location Post Code",
    "Location Local Authority",
    "Service / Population Group",
    "Domain",
    "Latest Rating",
    "Publication Date",
    "Report Type",
    "Provider ID",
    "Provider Name",
]


def directory_rows(location_id: str, overall: str, safe: str, published: str = "01/10/2026") -> list[list[str]]:
    base = [location_id, "Brook House", "Y", "ST16 2AB", "Staffordshire"]
    tail = ["Location", "1-101", "Trentside"]
    rows = [[*base, "Overall", "Overall", overall, published, *tail]]
    rows.append([*base, "Overall", "Safe", safe, published, *tail])
    rows.append([*base, "Overall", "Well-led", overall, published, *tail])
    # A population-group breakdown, which must not be read as the home's own rating.
    rows.append([*base, "Older people", "Overall", "Outstanding", published, *tail])
    return rows


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    import csv

    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Care directory with ratings"])
        writer.writerow(DIRECTORY_HEADER)
        writer.writerows(rows)
    return path


def write_ods(path: Path, rows: list[list[str]]) -> Path:
    """A minimal OpenDocument spreadsheet with a Locations sheet, as CQC publishes it."""

    def row_xml(cells):
        inner = "".join(
            f'<table:table-cell office:value-type="string"><text:p>{escape(c)}</text:p></table:table-cell>'
            for c in cells
        )
        return f"<table:table-row>{inner}</table:table-row>"

    def sheet(name, body):
        return f'<table:table table:name="{name}">{body}</table:table>'

    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        "<office:body><office:spreadsheet>"
        + sheet("Providers", row_xml(["Provider ID"]))
        + sheet("Locations", "".join(row_xml(r) for r in [DIRECTORY_HEADER, *rows]))
        + "</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED
        )
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
    return path


@pytest.mark.parametrize("writer", [write_csv, write_ods], ids=["csv", "ods"])
def test_directory_ratings_update_known_homes_from_the_overall_row(tmp_path, writer):
    home = CareHomeFactory(cqc_location_id="1-500", rating="Good")
    Rating.objects.filter(pk=home.current_rating_id).update(report_date=date(2025, 1, 1))
    rows = directory_rows("1-500", "Requires improvement", "Inadequate") + directory_rows("1-999", "Good", "Good")
    path = writer(tmp_path / f"directory.{writer.__name__[-3:]}", rows)

    out, _ = run("--ratings", str(path))

    home.refresh_from_db()
    assert home.current_rating.overall == RatingValue.REQUIRES_IMPROVEMENT
    assert home.current_rating.safe == RatingValue.INADEQUATE
    assert home.current_rating.source == Rating.Source.CQC_DIRECTORY
    assert home.current_rating.report_date.isoformat() == "2026-10-01"
    assert "1 updated" in out
    assert "1 skipped" in out
    out, _ = run("--ratings", str(path))
    assert "0 updated, 1 unchanged" in out
    assert home.ratings.count() == 2


def test_directory_row_with_unknown_rating_is_reported(tmp_path):
    CareHomeFactory(cqc_location_id="1-500")
    CareHomeFactory(cqc_location_id="1-501")
    rows = directory_rows("1-500", "Brilliant", "Good") + directory_rows("1-501", "Good", "Good")
    _, err = run("--ratings", str(write_csv(tmp_path / "d.csv", rows)))
    assert "skipped 1-500: unknown overall rating 'Brilliant'" in err


def test_ratings_file_that_is_not_a_workbook_exits_non_zero(tmp_path):
    path = tmp_path / "directory.ods"
    path.write_bytes(b"not a zip")
    with pytest.raises(CommandError, match="cannot read"):
        run("--ratings", str(path))
    other = tmp_path / "directory.xlsx"
    other.write_text("x")
    with pytest.raises(CommandError, match=r"must be \.ods or \.csv"):
        run("--ratings", str(other))


class FakeCqcApi(BaseHTTPRequestHandler):
    """Pages of care home locations, one record per /locations/{id}, and a 429 now and then."""

    records: dict = {}
    keys_seen: list = []
    throttle_next: list = []
    pages_seen: list = []

    def do_GET(self):
        self.keys_seen.append(self.headers.get("Ocp-Apim-Subscription-Key"))
        if self.throttle_next:
            self.throttle_next.pop()
            self.send_response(429)
            self.send_header("Retry-After", "0")
            self.end_headers()
            return
        from urllib.parse import parse_qs, urlparse

        url = urlparse(self.path)
        if url.path == "/public/v1/locations":
            query = parse_qs(url.query)
            # Like the real service, the fake caps the page size, so seven locations take three pages.
            page, per_page = int(query["page"][0]), min(int(query["perPage"][0]), 3)
            self.pages_seen.append(page)
            ids = sorted(self.records)
            chunk = ids[(page - 1) * per_page : page * per_page]
            body = {
                "total": len(ids),
                "page": page,
                "perPage": per_page,
                "totalPages": -(-len(ids) // per_page),
                "locations": [{"locationId": i, "locationName": self.records[i]["name"]} for i in chunk],
            }
        elif url.path.startswith("/public/v1/locations/"):
            body = self.records.get(url.path.rsplit("/", 1)[-1])
            if body is None:
                self.send_response(404)
                self.end_headers()
                return
        else:
            self.send_response(404)
            self.end_headers()
            return
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def cqc_api(settings):
    FakeCqcApi.records = {r["locationId"]: r for r in CARE_HOMES[:7]}
    FakeCqcApi.keys_seen = []
    FakeCqcApi.throttle_next = [1, 1]
    FakeCqcApi.pages_seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeCqcApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.CQC_API_KEY = "test-subscription-key"
    settings.CQC_API_BASE_URL = f"http://127.0.0.1:{server.server_port}/public/v1"
    yield FakeCqcApi
    server.shutdown()
    server.server_close()


def test_api_import_pages_sends_the_key_and_waits_out_rate_limits(cqc_api):
    out, _ = run("--api")

    assert CareHome.objects.count() == 7
    assert "7 created" in out
    assert set(cqc_api.keys_seen) == {"test-subscription-key"}
    assert cqc_api.throttle_next == []
    assert sorted(cqc_api.pages_seen) == [1, 2, 3]


def test_api_import_without_a_key_exits_non_zero(settings):
    settings.CQC_API_KEY = ""
    with pytest.raises(CommandError, match="CQC_API_KEY is not set"):
        run("--api")


def test_nightly_refresh_updates_homes_on_the_dps_from_the_api(cqc_api):
    record = CARE_HOMES[0]
    home = CareHomeFactory(cqc_location_id=record["locationId"], name="Old name", rating="Good")
    AdmissionFactory(care_home=home, commissioner=OrganisationFactory(), status=Admission.Status.ADMITTED)
    CareHomeFactory(cqc_location_id="1-not-on-dps")
    from quality.services import cqc_refresh_dps_homes

    report = cqc_refresh_dps_homes()

    home.refresh_from_db()
    assert home.name == record["name"]
    assert report.counts["updated"] == 1
    assert not CareHome.objects.filter(cqc_location_id__in=[r["locationId"] for r in CARE_HOMES[1:7]]).exists()


def test_nightly_refresh_without_a_key_does_nothing(settings, caplog):
    settings.CQC_API_KEY = ""
    from quality.tasks import cqc_refresh_dps_homes

    with caplog.at_level("INFO"):
        cqc_refresh_dps_homes()
    assert "CQC_API_KEY is not set" in caplog.text


def test_nightly_refresh_is_on_the_beat_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["cqc-nightly-refresh"]
    assert entry["task"] == "quality.tasks.cqc_refresh_dps_homes"
    from config.celery import app

    app.loader.import_default_modules()
    assert entry["task"] in app.tasks


# The import works in batches: a few statements per batch, whatever its size.


def import_records(records, **options):
    from quality.services import cqc_locations_import

    return cqc_locations_import(records=iter(records), **options)


def renamed(records, suffix):
    return [{**record, "locationId": record["locationId"] + suffix} for record in records]


def test_a_batch_takes_the_same_number_of_queries_whatever_its_size(django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        import_records(CARE_HOMES[:10])
    with CaptureQueriesContext(connection) as large:
        import_records(renamed(CARE_HOMES[:150], "-b"))
    assert CareHome.objects.count() == 160
    assert len(large.captured_queries) == len(small.captured_queries)
    with CaptureQueriesContext(connection) as small_again:
        import_records(CARE_HOMES[:10])
    with django_assert_num_queries(len(small_again.captured_queries)):
        report = import_records(renamed(CARE_HOMES[:150], "-b"))
    assert report.counts["unchanged"] == 150


def test_one_audit_event_per_batch_lists_what_changed():
    from core.models import AuditEvent

    report = import_records(CARE_HOMES[:5], batch_size=2)

    assert report.counts["created"] == 5
    events = list(AuditEvent.objects.filter(verb="quality.cqc.batch_imported").order_by("pk"))
    assert [len(event.detail["created"]) for event in events] == [2, 2, 1]
    first = CARE_HOMES[0]
    assert events[0].detail["ratings"][first["locationId"]]["overall"] == first["currentRatings"]["overall"]["rating"]
    import_records(CARE_HOMES[:5], batch_size=2)
    assert AuditEvent.objects.filter(verb="quality.cqc.batch_imported").count() == 3


def test_the_same_home_twice_in_one_file_ends_as_the_later_record():
    later = {**CARE_HOMES[0], "name": "Renamed House", "numberOfBeds": 61}

    report = import_records([CARE_HOMES[0], CARE_HOMES[1], later])

    home = CareHome.objects.get(cqc_location_id=later["locationId"])
    assert (home.name, home.registered_beds) == ("Renamed House", 61)
    assert report.counts["created"] == 2 and report.counts["updated"] == 1
    assert home.ratings.count() == 1


def test_a_batch_the_database_refuses_is_imported_home_by_home():
    """A provider name too long for the table fails the whole batch; only its home is left out."""
    bad = {**CARE_HOMES[2], "providerId": "1-NEWPROVIDER", "providerName": "P" * 250}

    report = import_records([*CARE_HOMES[:2], bad, *CARE_HOMES[3:5]])

    assert report.counts["created"] == 4
    assert [error.record_id for error in report.errors] == [bad["locationId"]]
    assert "could not be saved" in report.errors[0].reason
    assert not CareHome.objects.filter(cqc_location_id=bad["locationId"]).exists()
    assert Rating.objects.count() == 4


def test_an_older_report_never_replaces_a_newer_rating_and_a_newer_one_adds_history():
    record = CARE_HOMES[0]
    import_records([record])
    home = CareHome.objects.get(cqc_location_id=record["locationId"])
    first = home.current_rating
    older = {**record, "currentRatings": {"overall": {"rating": "Inadequate", "reportDate": "2001-01-01"}}}
    newer = {**record, "currentRatings": {"overall": {"rating": "Requires improvement", "reportDate": "2030-01-01"}}}

    assert import_records([older]).counts["unchanged"] == 1
    home.refresh_from_db()
    assert home.current_rating == first
    assert import_records([newer]).counts["updated"] == 1
    home.refresh_from_db()
    assert home.current_rating.overall == RatingValue.REQUIRES_IMPROVEMENT
    assert list(home.ratings.order_by("pk")) == [first, home.current_rating]


def test_changed_specialisms_are_replaced_and_count_as_an_update():
    record = CARE_HOMES[0]
    import_records([record])
    changed = {**record, "specialisms": [{"name": "Dementia"}]}

    report = import_records([changed])

    home = CareHome.objects.get(cqc_location_id=record["locationId"])
    assert list(home.specialisms.values_list("name", flat=True)) == ["Dementia"]
    assert report.counts["updated"] == 1


def test_a_location_that_is_not_a_care_home_is_skipped_whatever_its_values():
    other = {**RECORDS[0], "careHome": "N", "postalCode": "P" * 30}

    report = import_records([other, CARE_HOMES[1]])

    assert (report.counts["skipped"], report.counts["created"], report.errors) == (1, 1, [])
