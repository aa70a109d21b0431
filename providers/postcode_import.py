"""Loading the postcode directory from the ONS Postcode Directory (ONSPD) or Ordnance Survey
Code-Point Open, both open data.

ONSPD is one CSV with a header row (a single file, or inside its zip); the columns read are named
`pcds` (or `pcd`), `lat`, `long`, the local authority (`oslaua`, or `ladNNcd` in later releases)
and `doterm`. Code-Point Open is a folder or zip of CSV files with no header row, one per postcode
area; the column names come from its documentation file (Doc/Code-Point_Open_Column_Headers.csv)
when it is there, else from the documented order. Its points are British National Grid eastings and
northings, turned into WGS84 latitude and longitude here.

Rows are sent to PostgreSQL with COPY into a staging table and then merged into the directory, so
importing the same file again changes nothing. A malformed row is reported with its file and line
and left out; an error in the file's layout stops the import and nothing at all is written.
"""

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from django.db import connection, transaction
from pyproj import Transformer

from core.audit import audit_record
from core.errors import ApplicationError

from .models import Postcode
from .postcodes import postcode_compact, postcode_normalise

ONSPD = "onspd"
CODEPOINT = "codepoint"
FORMATS = (ONSPD, CODEPOINT)
CODEPOINT_COLUMNS = [
    "Postcode",
    "Positional_quality_indicator",
    "Eastings",
    "Northings",
    "Country_code",
    "NHS_regional_HA_code",
    "NHS_HA_code",
    "Admin_county_code",
    "Admin_district_code",
    "Admin_ward_code",
]
# ONSPD's mark for a postcode with no grid reference.
ONSPD_NO_LATITUDE = 99.999999
# Code-Point's positional quality for a postcode with no coordinates.
CODEPOINT_NO_COORDINATES = "90"
# The United Kingdom, the Channel Islands and the Isle of Man, with room to spare.
LATITUDES = (49.0, 61.5)
LONGITUDES = (-9.0, 2.5)
GRID_LIMITS = (0, 700000, 0, 1300000)
BATCH_SIZE = 20000
PROGRESS_EVERY = 100000
MAX_REPORTED_ERRORS = 1000
# Eastings and northings on the British National Grid (OSGB36) to WGS84 latitude and longitude.
GRID_TO_WGS84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


class PostcodeImportError(ApplicationError):
    """The file's layout is not one this import reads: nothing was written."""

    def __init__(self, message: str):
        super().__init__(f"{message} Nothing was imported.", code="postcode_file_format")


@dataclass(frozen=True)
class RowError:
    source: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.source} line {self.line}: {self.message}"


@dataclass
class ImportResult:
    format: str = ""
    files: int = 0
    rows: int = 0
    loaded: int = 0
    without_coordinates: int = 0
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    bad_rows: int = 0

    @property
    def unchanged(self) -> int:
        return self.loaded - self.created - self.updated


@dataclass(frozen=True)
class Entry:
    compact: str
    postcode: str
    latitude: float
    longitude: float
    local_authority_code: str
    terminated: bool


@dataclass(frozen=True)
class Source:
    name: str
    open: Callable[[], io.TextIOBase]


# Finding the files ----------------------------------------------------------------------------


def _text(binary) -> io.TextIOWrapper:
    return io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")


def _sources(path: Path) -> list[Source]:
    """The CSV files at `path`: the file itself, a folder's (at any depth) or a zip's, by name."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() == ".csv")
        return [Source(str(p.relative_to(path)), lambda p=p: _text(p.open("rb"))) for p in files]
    if zipfile.is_zipfile(path):
        archive = zipfile.ZipFile(path)
        names = sorted(n for n in archive.namelist() if n.lower().endswith(".csv") and not n.endswith("/"))
        return [Source(n, lambda n=n: _text(archive.open(n))) for n in names]
    if path.is_file():
        return [Source(path.name, lambda: _text(path.open("rb")))]
    raise PostcodeImportError(f"There is no file or folder at {path}.")


def _first_row(source: Source) -> list[str]:
    with source.open() as handle:
        return next(csv.reader(handle), [])


def _is_documentation(source: Source) -> bool:
    name = source.name.lower()
    return "column_headers" in name or name.startswith("doc/") or "/doc/" in name


def _onspd_header(row: list[str]) -> bool:
    names = {name.strip().lower() for name in row}
    return bool(names & {"pcds", "pcd"}) and {"lat", "long"} <= names


def _codepoint_names(sources: list[Source]) -> list[str]:
    """Code-Point's column names from its documentation file, else the documented order."""
    for source in sources:
        if "column_headers" not in source.name.lower():
            continue
        with source.open() as handle:
            for row in csv.reader(handle):
                if any(cell.strip().lower() == "postcode" for cell in row):
                    return [cell.strip() for cell in row]
        raise PostcodeImportError(f"{source.name} does not name a Postcode column.")
    return CODEPOINT_COLUMNS


def _choose(sources: list[Source], format: str) -> tuple[str, list[Source], list[str]]:
    """The format, the data files to read and, for Code-Point, its column names."""
    documentation = [s for s in sources if _is_documentation(s)]
    data = [s for s in sources if not _is_documentation(s)]
    try:
        firsts = {s.name: _first_row(s) for s in data}
    except UnicodeDecodeError as error:
        raise PostcodeImportError(f"A file is not UTF-8 text ({error.reason}).") from None
    onspd = [s for s in data if _onspd_header(firsts[s.name])]
    if format == "auto":
        format = ONSPD if onspd else CODEPOINT
    names = []
    if format == ONSPD:
        # The ONSPD zip also carries the same rows split by area: read the whole file only.
        whole = [s for s in onspd if "multi_csv" not in s.name.lower()]
        data = whole or onspd
    else:
        names = _codepoint_names(documentation + data)
        at = _codepoint_columns(names)["postcode"]

        def is_codepoint(row: list[str]) -> bool:
            # Other tables beside the data, with headers of their own, are not postcode rows.
            return len(row) == len(names) or (len(row) > at and postcode_normalise(row[at]) is not None)

        data = [s for s in data if is_codepoint(firsts[s.name])]
    if not data:
        what = "an ONSPD file (a header with pcds, lat and long)" if format == ONSPD else "Code-Point Open CSV files"
        raise PostcodeImportError(f"No {what} found.")
    return format, data, names


# Reading rows ---------------------------------------------------------------------------------


def _coordinate(value: str, name: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} '{value}' is not a number") from None


def _postcode(value: str) -> str:
    written = postcode_normalise(value or "")
    if written is None:
        raise ValueError(f"postcode '{value}' is not a postcode")
    return written


def _in_the_uk(latitude: float, longitude: float) -> None:
    if not (LATITUDES[0] <= latitude <= LATITUDES[1] and LONGITUDES[0] <= longitude <= LONGITUDES[1]):
        raise ValueError(f"the point {latitude},{longitude} lies outside the United Kingdom")


def _onspd_columns(header: list[str], source: str) -> dict[str, str | None]:
    names = {name.strip().lower(): name for name in header}
    postcode = names.get("pcds") or names.get("pcd")
    missing = [
        n for n, v in (("pcds or pcd", postcode), ("lat", names.get("lat")), ("long", names.get("long"))) if not v
    ]
    if missing:
        raise PostcodeImportError(f"{source} has no column {', '.join(missing)}.")
    district = names.get("oslaua") or next(
        (original for lower, original in names.items() if re.fullmatch(r"lad\d\dcd", lower)), None
    )
    return {
        "postcode": postcode,
        "lat": names["lat"],
        "long": names["long"],
        "district": district,
        "doterm": names.get("doterm"),
    }


def _read_onspd(source: Source, result: ImportResult, report) -> Iterator[Entry]:
    with source.open() as handle:
        reader = csv.DictReader(handle)
        columns = _onspd_columns(reader.fieldnames or [], source.name)
        for row in reader:
            line = reader.line_num
            result.rows += 1
            try:
                if None in row or any(row[c] is None for c in columns.values() if c):
                    raise ValueError("the row does not have as many columns as the header")
                postcode = _postcode(row[columns["postcode"]])
                latitude = _coordinate(row[columns["lat"]], "lat")
                longitude = _coordinate(row[columns["long"]], "long")
                if abs(latitude - ONSPD_NO_LATITUDE) < 1e-6:
                    result.without_coordinates += 1
                    continue
                _in_the_uk(latitude, longitude)
            except ValueError as error:
                report(RowError(source.name, line, str(error)))
                continue
            yield Entry(
                compact=postcode_compact(postcode),
                postcode=postcode,
                latitude=round(latitude, 6),
                longitude=round(longitude, 6),
                local_authority_code=(row[columns["district"]] or "").strip()[:9] if columns["district"] else "",
                terminated=bool((row[columns["doterm"]] or "").strip()) if columns["doterm"] else False,
            )


def _codepoint_columns(names: list[str]) -> dict[str, int]:
    index = {name.strip().lower(): position for position, name in enumerate(names)}
    wanted = {
        "postcode": ["postcode", "pc"],
        "quality": ["positional_quality_indicator", "pq"],
        "eastings": ["eastings", "ea"],
        "northings": ["northings", "no"],
        "district": ["admin_district_code", "dc"],
    }
    found = {key: next((index[n] for n in options if n in index), None) for key, options in wanted.items()}
    missing = [wanted[key][0] for key in ("postcode", "eastings", "northings") if found[key] is None]
    if missing:
        raise PostcodeImportError(f"Code-Point's column names lack {', '.join(missing)}.")
    return found


def _grid_value(value: str, name: str, low: int, high: int) -> float:
    number = _coordinate(value, name)
    if not low <= number <= high:
        raise ValueError(f"{name} '{value}' is not on the British National Grid")
    return number


def _read_codepoint(source: Source, names: list[str], result: ImportResult, report) -> Iterator[Entry]:
    columns = _codepoint_columns(names)
    width = len(names)
    with source.open() as handle:
        reader = csv.reader(handle)
        while True:
            batch = []
            for row in islice(reader, BATCH_SIZE):
                line = reader.line_num
                if line == 1 and row and row[columns["postcode"]].strip().lower() in ("postcode", "pc"):
                    continue
                result.rows += 1
                try:
                    if len(row) != width:
                        raise ValueError(f"the row has {len(row)} columns, not {width}")
                    postcode = _postcode(row[columns["postcode"]])
                    quality = row[columns["quality"]].strip() if columns["quality"] is not None else ""
                    easting = _grid_value(row[columns["eastings"]], "Eastings", *GRID_LIMITS[:2])
                    northing = _grid_value(row[columns["northings"]], "Northings", *GRID_LIMITS[2:])
                except ValueError as error:
                    report(RowError(source.name, line, str(error)))
                    continue
                if quality == CODEPOINT_NO_COORDINATES or (easting == 0 and northing == 0):
                    result.without_coordinates += 1
                    continue
                district = row[columns["district"]].strip()[:9] if columns["district"] is not None else ""
                batch.append((line, postcode, easting, northing, district))
            if not batch:
                return
            longitudes, latitudes = GRID_TO_WGS84.transform([b[2] for b in batch], [b[3] for b in batch])
            for (line, postcode, _, _, district), latitude, longitude in zip(batch, latitudes, longitudes, strict=True):
                try:
                    _in_the_uk(latitude, longitude)
                except ValueError as error:
                    report(RowError(source.name, line, str(error)))
                    continue
                yield Entry(
                    compact=postcode_compact(postcode),
                    postcode=postcode,
                    latitude=round(latitude, 6),
                    longitude=round(longitude, 6),
                    local_authority_code=district,
                    terminated=False,
                )


# Writing --------------------------------------------------------------------------------------

STAGING = "postcode_import_staging"
# Built from the two table names, constants of this module and the model: no input reaches the SQL.
MERGE = f"""
WITH incoming AS (
    SELECT DISTINCT ON (compact) compact, postcode, latitude, longitude, local_authority_code, terminated
    FROM {STAGING} ORDER BY compact, seq DESC
), written AS (
    INSERT INTO {Postcode._meta.db_table} AS directory
        (compact, postcode, latitude, longitude, local_authority_code, terminated, updated_at)
    SELECT compact, postcode, latitude, longitude, local_authority_code, terminated, NOW() FROM incoming
    ON CONFLICT (compact) DO UPDATE SET
        postcode = EXCLUDED.postcode,
        latitude = EXCLUDED.latitude,
        longitude = EXCLUDED.longitude,
        local_authority_code = EXCLUDED.local_authority_code,
        terminated = EXCLUDED.terminated,
        updated_at = EXCLUDED.updated_at
    WHERE (directory.postcode, directory.latitude, directory.longitude, directory.local_authority_code,
           directory.terminated)
        IS DISTINCT FROM (EXCLUDED.postcode, EXCLUDED.latitude, EXCLUDED.longitude, EXCLUDED.local_authority_code,
                          EXCLUDED.terminated)
    RETURNING (xmax = 0) AS created
)
SELECT COUNT(*) FILTER (WHERE created), COUNT(*) FILTER (WHERE NOT created) FROM written
"""  # noqa: S608


def _stage(cursor, entries: Iterable[Entry], result: ImportResult, progress) -> None:
    """COPY the entries into the staging table, a batch per statement so none runs long."""
    entries = iter(entries)
    columns = "compact, postcode, latitude, longitude, local_authority_code, terminated"
    while batch := list(islice(entries, BATCH_SIZE)):
        with cursor.copy(f"COPY {STAGING} ({columns}) FROM STDIN") as copy:
            for entry in batch:
                copy.write_row(
                    (
                        entry.compact,
                        entry.postcode,
                        entry.latitude,
                        entry.longitude,
                        entry.local_authority_code,
                        entry.terminated,
                    )
                )
        before = result.loaded
        result.loaded += len(batch)
        if progress and result.loaded // PROGRESS_EVERY > before // PROGRESS_EVERY:
            progress(f"  {result.loaded} postcodes read")


def postcode_directory_import(
    *, path: Path | str, format: str = "auto", progress: Callable[[str], None] | None = None, actor=None
) -> ImportResult:
    """Load the directory at `path` (a CSV file, a folder or a zip) and merge it into the postcodes.

    All or nothing: a layout error anywhere rolls back every file. Bad rows are left out and listed
    in the result (the first MAX_REPORTED_ERRORS of them; `bad_rows` counts all)."""
    if format not in ("auto", *FORMATS):
        raise PostcodeImportError(f"The format must be one of auto, {', '.join(FORMATS)}.")
    path = Path(path)
    format, data, names = _choose(_sources(path), format)
    result = ImportResult(format=format, files=len(data))

    def report(error: RowError) -> None:
        result.bad_rows += 1
        if len(result.errors) < MAX_REPORTED_ERRORS:
            result.errors.append(error)

    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # Dropped first as well: inside an outer transaction the commit that drops it comes later.
            cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {STAGING} (seq bigserial, compact text, postcode text, latitude float8,"
                " longitude float8, local_authority_code text, terminated boolean) ON COMMIT DROP"
            )
            for source in data:
                if progress:
                    progress(f"Reading {source.name}...")
                entries = (
                    _read_onspd(source, result, report)
                    if format == ONSPD
                    else _read_codepoint(source, names, result, report)
                )
                _stage(cursor, entries, result, progress)
            cursor.execute(MERGE)
            result.created, result.updated = cursor.fetchone()
            audit_record(
                actor=actor,
                verb="providers.postcodes.imported",
                target=("providers.postcode", "directory"),
                detail={
                    "format": format,
                    "source": path.name,
                    "rows": result.rows,
                    "created": result.created,
                    "updated": result.updated,
                    "bad_rows": result.bad_rows,
                },
            )
    except UnicodeDecodeError as error:
        raise PostcodeImportError(f"A file is not UTF-8 text ({error.reason}).") from None
    except csv.Error as error:
        raise PostcodeImportError(f"A file is not readable CSV ({error}).") from None
    except (OSError, zipfile.BadZipFile) as error:
        raise PostcodeImportError(f"A file could not be read ({error}).") from None
    return result
