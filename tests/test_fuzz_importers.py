"""Malformed and hostile files fed to the importers: the user only ever sees a CommandError or
reported rows, never a traceback; a refused placement file writes nothing."""

import contextlib
import json
import tempfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from placements.models import Placement
from providers.models import CareHome
from quality.models import Rating

pytestmark = pytest.mark.django_db

FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
HEADER = (
    "case_reference,lot,requested_at,target_date,sourced_at,care_home_cqc_id,weekly_fee,start_date,end_date,in_county"
)
GOOD_ROW = "CASE-1,1,2023-10-31T14:30:00Z,2023-11-07,2023-11-03T10:00:00Z,,812.50,2023-11-06,,yes"
HOSTILE = st.sampled_from(
    [
        "=cmd|'/c calc'!A1",
        "'; DROP TABLE placements_placement; --",
        "\x00",
        "9" * 400,
        "-1",
        "NaN",
        "Infinity",
        "1e309",
        "2023-02-30",
        "9999-99-99T99:99:99Z",
        "<script>alert(1)</script>",
        "\ufeff",
        "🏠" * 50,
        "",
        '"',
        "\r\n",
    ]
)
CELL = st.one_of(HOSTILE, st.text(max_size=40))


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def written(tmp: Path, name: str, content: bytes) -> Path:
    path = tmp / name
    path.write_bytes(content)
    return path


def placement_files():
    rows = st.lists(st.lists(CELL, min_size=0, max_size=12), min_size=0, max_size=5)

    def as_csv(header, good_first, body):
        lines = [header] + ([GOOD_ROW] if good_first else []) + [",".join(cells) for cells in body]
        return "\n".join(lines).encode("utf-8", "surrogatepass")

    text_files = st.builds(as_csv, st.sampled_from([HEADER, HEADER.upper(), "", "a,b,c"]), st.booleans(), rows)
    return st.one_of(text_files, st.binary(max_size=300))


@FUZZ
@given(content=placement_files())
def test_a_hostile_placement_file_is_refused_whole_or_imported_whole(council_a, content):
    before = Placement.objects.count()
    with tempfile.TemporaryDirectory() as tmp:
        path = written(Path(tmp), "history.csv", content)
        try:
            run("import_placements", str(path), "--commissioner", council_a.slug)
        except CommandError:
            assert Placement.objects.count() == before, "a refused file wrote some rows"
            return
    lines = [line for line in content.decode("utf-8", "replace").splitlines()[1:] if line.strip()]
    assert Placement.objects.count() - before <= len(lines)


JSON_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20), HOSTILE),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
LOCATION_KEYS = ["locationId", "name", "postalCode", "registrationStatus", "type", "currentRatings", "providerId"]


def location_files():
    record = st.fixed_dictionaries({}, optional=dict.fromkeys(LOCATION_KEYS, JSON_VALUE))
    as_json = st.lists(record, max_size=4).map(lambda records: json.dumps(records).encode())
    as_lines = st.lists(record, max_size=4).map(lambda records: "\n".join(map(json.dumps, records)).encode())
    return st.one_of(as_json, as_lines, st.binary(max_size=200), JSON_VALUE.map(lambda v: json.dumps(v).encode()))


@FUZZ
@given(content=location_files(), suffix=st.sampled_from([".json", ".jsonl", ".txt"]))
def test_hostile_cqc_location_files_give_reported_rows_or_a_command_error(content, suffix):
    with tempfile.TemporaryDirectory() as tmp:
        path = written(Path(tmp), f"locations{suffix}", content)
        with contextlib.suppress(CommandError):
            run("import_cqc", "--locations", str(path))
    for home in CareHome.objects.all():
        assert home.cqc_location_id and home.name, "a care home was half written"


RATING_HEADER = "Location ID,Location Name,Overall Rating,Publication Date,Location Type"


def rating_files():
    rows = st.lists(st.lists(CELL, min_size=0, max_size=6), max_size=5)
    as_csv = st.builds(
        lambda header, body: "\n".join([header] + [",".join(cells) for cells in body]).encode("utf-8", "surrogatepass"),
        st.sampled_from([RATING_HEADER, "", "x"]),
        rows,
    )
    return st.one_of(as_csv, st.binary(max_size=300))


@FUZZ
@given(content=rating_files(), suffix=st.sampled_from([".csv", ".ods"]))
def test_hostile_care_directory_files_give_reported_rows_or_a_command_error(content, suffix):
    ratings_before = Rating.objects.count()
    with tempfile.TemporaryDirectory() as tmp:
        path = written(Path(tmp), f"directory{suffix}", content)
        try:
            run("import_cqc", "--ratings", str(path))
        except CommandError:
            assert Rating.objects.count() == ratings_before
