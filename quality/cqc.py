"""Reading CQC data: location records from the public API (or files of them) and the
"care directory with ratings" workbook. Parsing only; quality.services writes."""

import csv
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from .models import RatingValue

logger = logging.getLogger(__name__)

SUBSCRIPTION_KEY_HEADER = "Ocp-Apim-Subscription-Key"

# CQC names of the key questions, to our field names.
KEY_QUESTION_FIELDS = {
    "safe": "safe",
    "effective": "effective",
    "caring": "caring",
    "responsive": "responsive",
    "well-led": "well_led",
    "well led": "well_led",
}
RATING_VALUES = {value.lower(): value for value in RatingValue.values}
# CQC writes "Not rated" and similar where a rating was not given.
NOT_RATED_SPELLINGS = {"", "not rated", "not yet rated", "no rating", "not applicable"}

NURSING_SERVICE = "care home service with nursing"
RESIDENTIAL_SERVICE = "care home service without nursing"


class CqcRecordError(Exception):
    """One record could not be used; `record_id` says which."""

    def __init__(self, record_id: str, reason: str):
        super().__init__(f"{record_id or 'record without an id'}: {reason}")
        self.record_id = record_id or "(no id)"
        self.reason = reason


class CqcSourceError(Exception):
    """The source as a whole could not be read."""


@dataclass(frozen=True)
class CqcRating:
    overall: str
    key_questions: dict[str, str]
    report_date: date | None


@dataclass(frozen=True)
class CqcLocation:
    location_id: str
    provider_id: str
    provider_name: str
    name: str
    address_line_1: str
    address_line_2: str
    town: str
    postcode: str
    local_authority: str
    region: str
    registered_beds: int
    is_care_home: bool
    registered: bool
    provides_nursing: bool
    provides_residential: bool
    specialisms: tuple[str, ...]
    latitude: float | None
    longitude: float | None
    rating: CqcRating | None = field(default=None)


def rating_value(raw, *, record_id: str, what: str) -> str:
    text = str(raw or "").strip()
    if text.lower() in NOT_RATED_SPELLINGS:
        return RatingValue.NOT_RATED
    value = RATING_VALUES.get(text.lower())
    if value is None:
        raise CqcRecordError(record_id, f"unknown {what} rating {text!r}")
    return value


def _date(raw, *, record_id: str) -> date | None:
    text = str(raw or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        pass
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text[:10], fmt).date()
        except ValueError:
            continue
    raise CqcRecordError(record_id, f"report date {text!r} is not a date")


def _coordinate(raw, *, record_id: str, name: str, limit: float) -> float | None:
    if raw in (None, ""):
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise CqcRecordError(record_id, f"{name} {raw!r} is not a number") from None
    if not -limit <= value <= limit:
        raise CqcRecordError(record_id, f"{name} {value} is out of range")
    return value


def location_from_api(record) -> CqcLocation:
    """One `/locations/{id}` record as the CQC API returns it."""
    if not isinstance(record, dict):
        raise CqcRecordError("", "a location record must be a JSON object")
    location_id = str(record.get("locationId") or "").strip()
    if not location_id:
        raise CqcRecordError("", "locationId is missing")
    name = str(record.get("name") or record.get("locationName") or "").strip()
    if not name:
        raise CqcRecordError(location_id, "name is missing")
    postcode = str(record.get("postalCode") or "").strip().upper()
    if not postcode:
        raise CqcRecordError(location_id, "postalCode is missing")
    try:
        beds = int(record.get("numberOfBeds") or 0)
    except (TypeError, ValueError):
        raise CqcRecordError(location_id, f"numberOfBeds {record.get('numberOfBeds')!r} is not a number") from None
    if beds < 0:
        raise CqcRecordError(location_id, "numberOfBeds is negative")
    services = {
        str(service.get("description") or "").strip().lower()
        for service in record.get("gacServiceTypes") or []
        if isinstance(service, dict)
    }
    specialisms = tuple(
        str(item.get("name")).strip()
        for item in record.get("specialisms") or []
        if isinstance(item, dict) and item.get("name")
    )
    return CqcLocation(
        location_id=location_id,
        provider_id=str(record.get("providerId") or "").strip(),
        provider_name=str(record.get("providerName") or "").strip(),
        name=name,
        address_line_1=str(record.get("postalAddressLine1") or "").strip(),
        address_line_2=str(record.get("postalAddressLine2") or "").strip(),
        town=str(record.get("postalAddressTownCity") or "").strip(),
        postcode=postcode,
        local_authority=str(record.get("localAuthority") or "").strip(),
        region=str(record.get("region") or "").strip(),
        registered_beds=beds,
        is_care_home=str(record.get("careHome") or "").strip().upper() == "Y",
        registered=str(record.get("registrationStatus") or "Registered").strip() == "Registered",
        provides_nursing=NURSING_SERVICE in services,
        provides_residential=RESIDENTIAL_SERVICE in services or NURSING_SERVICE not in services,
        specialisms=specialisms,
        latitude=_coordinate(record.get("onspdLatitude"), record_id=location_id, name="onspdLatitude", limit=90),
        longitude=_coordinate(record.get("onspdLongitude"), record_id=location_id, name="onspdLongitude", limit=180),
        rating=_api_rating(record.get("currentRatings"), location_id),
    )


def _api_rating(current, location_id: str) -> CqcRating | None:
    if not current:
        return None
    if not isinstance(current, dict) or not isinstance(current.get("overall", {}), dict):
        raise CqcRecordError(location_id, "currentRatings is not an object")
    overall = current.get("overall") or {}
    if not overall.get("rating"):
        return None
    key_questions = {}
    for item in overall.get("keyQuestionRatings") or []:
        name = KEY_QUESTION_FIELDS.get(str(item.get("name", "")).strip().lower())
        if name:
            key_questions[name] = rating_value(item.get("rating"), record_id=location_id, what=item.get("name"))
    return CqcRating(
        overall=rating_value(overall.get("rating"), record_id=location_id, what="overall"),
        key_questions=key_questions,
        report_date=_date(overall.get("reportDate") or current.get("reportDate"), record_id=location_id),
    )


def read_location_records(path: Path) -> Iterator[dict | CqcRecordError]:
    """Records from a JSON array, a JSON Lines file or a folder of one-record .json files.

    A record that is not JSON comes out as a CqcRecordError so the others still import;
    a source that cannot be opened at all raises CqcSourceError.
    """
    if path.is_dir():
        files = sorted(path.glob("*.json"))
        if not files:
            raise CqcSourceError(f"{path} holds no .json files")
        for file in files:
            try:
                yield json.loads(file.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
                yield CqcRecordError(file.name, f"not readable JSON ({error})")
        return
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CqcSourceError(f"cannot read {path}: {error}") from error
    if text.lstrip().startswith("["):
        try:
            records = json.loads(text)
        except json.JSONDecodeError as error:
            raise CqcSourceError(f"{path} is not valid JSON: {error}") from error
        yield from records
        return
    readable = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            yield CqcRecordError(f"line {number}", f"not valid JSON ({error.msg})")
            continue
        readable += 1
        yield record
    if not readable:
        raise CqcSourceError(f"{path} holds no JSON location records")


# The care directory with ratings: one row per location, service/population group and domain.
LOCATION_ID = "Location ID"
GROUP_COLUMNS = ("Service / Population Group",)
DOMAIN_COLUMNS = ("Domain", "Key Question")


@dataclass(frozen=True)
class DirectoryRating:
    location_id: str
    rating: CqcRating


def read_directory_rows(path: Path) -> list[list[str]]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        try:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                return list(csv.reader(handle))
        except (OSError, UnicodeDecodeError, csv.Error) as error:
            raise CqcSourceError(f"cannot read {path}: {error}") from error
    if suffix == ".ods":
        from python_calamine import CalamineWorkbook

        try:
            workbook = CalamineWorkbook.from_path(str(path))
            sheet_name = next((name for name in workbook.sheet_names if name.strip().lower() == "locations"), None)
            if sheet_name is None:
                raise CqcSourceError(f"{path} has no Locations sheet")
            rows = workbook.get_sheet_by_name(sheet_name).to_python()
        except CqcSourceError:
            raise
        except Exception as error:  # calamine raises its own error types for damaged workbooks
            raise CqcSourceError(f"cannot read {path}: {error}") from error
        return [[_cell_text(cell) for cell in row] for row in rows]
    raise CqcSourceError(f"{path}: the ratings file must be .ods or .csv")


def _cell_text(cell) -> str:
    if isinstance(cell, datetime):
        return cell.date().isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return "" if cell is None else str(cell)


def directory_ratings(rows: list[list[str]]) -> tuple[list[DirectoryRating], list[CqcRecordError]]:
    """Overall and key-question ratings per location from the Locations sheet's rows.

    CQC puts a title above the header in some editions, so the header is the first row
    that names the location id column.
    """
    header_at = next((i for i, row in enumerate(rows) if LOCATION_ID in [c.strip() for c in row]), None)
    if header_at is None:
        raise CqcSourceError(f"no header row with a {LOCATION_ID!r} column")
    header = [c.strip() for c in rows[header_at]]
    column = {name: i for i, name in enumerate(header)}
    group_col = next((column[n] for n in GROUP_COLUMNS if n in column), None)
    domain_col = next((column[n] for n in DOMAIN_COLUMNS if n in column), None)
    if group_col is None or domain_col is None or "Latest Rating" not in column:
        raise CqcSourceError("the Locations sheet lacks the group, domain or latest rating column")
    id_col, rating_col = column[LOCATION_ID], column["Latest Rating"]
    date_col = column.get("Publication Date")

    found: dict[str, dict] = {}
    errors: list[CqcRecordError] = []
    broken: set[str] = set()
    for row in rows[header_at + 1 :]:
        cells = row + [""] * (len(header) - len(row))
        location_id = cells[id_col].strip()
        if not location_id or cells[group_col].strip().lower() != "overall":
            continue
        entry = found.setdefault(location_id, {"overall": None, "key_questions": {}, "date": None})
        domain = cells[domain_col].strip().lower()
        try:
            value = rating_value(cells[rating_col], record_id=location_id, what=domain or "domain")
            if domain == "overall":
                entry["overall"] = value
                entry["date"] = _date(cells[date_col] if date_col is not None else "", record_id=location_id)
            elif domain in KEY_QUESTION_FIELDS:
                entry["key_questions"][KEY_QUESTION_FIELDS[domain]] = value
        except CqcRecordError as error:
            if location_id not in broken:
                errors.append(error)
            broken.add(location_id)
    ratings = []
    for location_id, entry in found.items():
        if location_id in broken:
            continue
        if entry["overall"] is None:
            errors.append(CqcRecordError(location_id, "no row where both group and domain are Overall"))
            continue
        ratings.append(DirectoryRating(location_id, CqcRating(entry["overall"], entry["key_questions"], entry["date"])))
    return ratings, errors


class CqcApi:
    """The CQC public API: key in the subscription header, paging, patience with 429s."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        max_retries: int = 5,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 30,
    ):
        if not api_key:
            raise CqcSourceError("CQC_API_KEY is not set")
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self.sleep = sleep
        self.timeout = timeout

    def _get(self, path: str, params: dict | None = None) -> dict:
        url = f"{self.base_url}{path}"
        if params:
            url = f"{url}?{urllib.parse.urlencode(params)}"
        if not url.startswith(("https://", "http://")):
            raise CqcSourceError(f"refusing to fetch {url}")
        request = urllib.request.Request(  # noqa: S310 - scheme checked above
            url, headers={SUBSCRIPTION_KEY_HEADER: self.api_key, "Accept": "application/json"}
        )
        for attempt in range(self.max_retries + 1):
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                    return json.loads(response.read().decode("utf-8"))
            except urllib.error.HTTPError as error:
                if error.code == 429 and attempt < self.max_retries:
                    wait = _retry_after(error.headers.get("Retry-After"), attempt)
                    logger.info("CQC API rate limit; waiting %.1f s", wait)
                    self.sleep(wait)
                    continue
                if error.code == 404:
                    raise CqcRecordError(path.rsplit("/", 1)[-1], "not found at CQC") from error
                raise CqcSourceError(f"CQC API answered {error.code} for {path}") from error
            except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as error:
                raise CqcSourceError(f"CQC API unreachable for {path}: {error}") from error
        raise CqcSourceError(f"CQC API kept refusing {path} with 429")

    def location(self, location_id: str) -> dict:
        return self._get(f"/locations/{urllib.parse.quote(location_id)}")

    def care_home_location_ids(self, *, per_page: int = 1000) -> Iterator[str]:
        page = 1
        while True:
            body = self._get("/locations", {"careHome": "Y", "page": page, "perPage": per_page})
            for item in body.get("locations") or []:
                yield item["locationId"]
            if page >= int(body.get("totalPages") or 1):
                return
            page += 1


def _retry_after(header: str | None, attempt: int) -> float:
    try:
        return max(0.0, float(header))
    except (TypeError, ValueError):
        return float(2**attempt)
