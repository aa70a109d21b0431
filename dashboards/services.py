"""Importing a commissioning body's placement history so its dashboards start with its past.

The whole file is checked before anything is written: one bad row and nothing is imported,
and every bad row is reported with its line number. Rows already imported (same case
reference and start date for the same body) are left as they are, so a re-run changes nothing.
"""

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction

from core.audit import audit_record
from core.errors import ApplicationError
from lots.models import Lot
from organisations.models import Organisation
from placements.models import Placement
from providers.models import CareHome

from .selectors import LONDON

COLUMNS = [
    "case_reference",
    "lot",
    "requested_at",
    "target_date",
    "sourced_at",
    "care_home_cqc_id",
    "weekly_fee",
    "start_date",
    "end_date",
    "in_county",
]
YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0"}
BATCH_SIZE = 5000
PROGRESS_EVERY = 10000


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class HistoryImportError(ApplicationError):
    def __init__(self, errors: list[RowError]):
        super().__init__(
            f"The file has {len(errors)} bad row{'s' if len(errors) != 1 else ''}; nothing was imported.",
            code="bad_rows",
            fields={"file": [str(error) for error in errors]},
        )
        self.errors = errors


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    already_imported: int = 0


@dataclass
class _Row:
    line: int
    case_reference: str
    lot: int
    requested_at: datetime
    target_date: date
    sourced_at: datetime
    care_home_cqc_id: str
    weekly_fee: Decimal
    start_date: date
    end_date: date | None
    in_county: bool | None


def _timestamp(value: str, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{name} '{value}' is not an ISO 8601 time such as 2023-10-31T14:30:00Z") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{name} '{value}' needs a time zone offset or Z")
    return parsed


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} '{value}' is not a date such as 2023-10-31") from None


def _parse(line: int, record: dict) -> _Row:
    """One row, or ValueError naming everything wrong with it."""
    problems = []

    def attempt(parse, *args):
        try:
            return parse(*args)
        except ValueError as error:
            problems.append(str(error))
            return None

    values = {name: (record.get(name) or "").strip() for name in COLUMNS}
    for name in ("case_reference", "lot", "requested_at", "target_date", "sourced_at", "start_date"):
        if not values[name]:
            problems.append(f"{name} is empty")
    if len(values["case_reference"]) > 64:
        problems.append("case_reference is longer than 64 characters")
    lot = None
    if values["lot"]:
        if values["lot"].isdigit() and 1 <= int(values["lot"]) <= 10:
            lot = int(values["lot"])
        else:
            problems.append(f"lot '{values['lot']}' is not a lot number from 1 to 10")
    requested_at = attempt(_timestamp, values["requested_at"], "requested_at") if values["requested_at"] else None
    sourced_at = attempt(_timestamp, values["sourced_at"], "sourced_at") if values["sourced_at"] else None
    target_date = attempt(_day, values["target_date"], "target_date") if values["target_date"] else None
    start_date = attempt(_day, values["start_date"], "start_date") if values["start_date"] else None
    end_date = attempt(_day, values["end_date"], "end_date") if values["end_date"] else None
    weekly_fee = Decimal("0.00")
    if values["weekly_fee"]:
        try:
            weekly_fee = Decimal(values["weekly_fee"].lstrip("£").replace(",", ""))
        except InvalidOperation:
            problems.append(f"weekly_fee '{values['weekly_fee']}' is not an amount in pounds")
        else:
            # Size before pence: quantizing a huge number is itself an error.
            if not weekly_fee.is_finite() or weekly_fee < 0:
                problems.append(f"weekly_fee '{values['weekly_fee']}' is not an amount in pounds and pence")
            elif weekly_fee >= Decimal("100000000"):
                problems.append(f"weekly_fee '{values['weekly_fee']}' is too large")
            elif weekly_fee != weekly_fee.quantize(Decimal("0.01")):
                problems.append(f"weekly_fee '{values['weekly_fee']}' is not an amount in pounds and pence")
    in_county = None
    if values["in_county"]:
        answer = values["in_county"].lower()
        if answer in YES:
            in_county = True
        elif answer in NO:
            in_county = False
        else:
            problems.append(f"in_county '{values['in_county']}' should be yes or no")
    if requested_at and target_date and target_date < requested_at.astimezone(LONDON).date():
        problems.append("target_date is before the request date")
    if requested_at and sourced_at and sourced_at < requested_at:
        problems.append("sourced_at is before requested_at")
    if start_date and end_date and end_date < start_date:
        problems.append("end_date is before start_date")
    if problems:
        raise ValueError("; ".join(problems))
    return _Row(
        line=line,
        case_reference=values["case_reference"],
        lot=lot,
        requested_at=requested_at,
        target_date=target_date,
        sourced_at=sourced_at,
        care_home_cqc_id=values["care_home_cqc_id"],
        weekly_fee=weekly_fee,
        start_date=start_date,
        end_date=end_date,
        in_county=in_county,
    )


def _read(lines: Iterable[str], errors: list[RowError], progress) -> list[_Row]:
    reader = csv.DictReader(lines)
    header = [name.strip() for name in (reader.fieldnames or [])]
    unknown = [name for name in header if name not in COLUMNS]
    missing = [name for name in COLUMNS if name not in header]
    if not header:
        errors.append(RowError(1, "the file is empty; it needs a header row"))
        return []
    if unknown or missing:
        parts = []
        if unknown:
            parts.append(f"unknown columns: {', '.join(unknown)}")
        if missing:
            parts.append(f"missing columns: {', '.join(missing)}")
        errors.append(RowError(1, "; ".join(parts) + f" (expected {','.join(COLUMNS)})"))
        return []
    reader.fieldnames = header
    rows = []
    seen: dict[tuple[str, date], int] = {}
    for record in reader:
        line = reader.line_num
        if None in record:
            errors.append(RowError(line, "the row has more values than the header has columns"))
            continue
        try:
            row = _parse(line, record)
        except ValueError as error:
            errors.append(RowError(line, str(error)))
            continue
        key = (row.case_reference, row.start_date)
        if key in seen:
            errors.append(RowError(line, f"repeats the case reference and start date of line {seen[key]}"))
            continue
        seen[key] = line
        rows.append(row)
        if len(rows) % PROGRESS_EVERY == 0:
            progress(f"Checked {len(rows)} rows")
    return rows


def placement_history_import(
    *,
    commissioner: Organisation,
    lines: Iterable[str],
    actor=None,
    progress: Callable[[str], None] = lambda message: None,
) -> ImportResult:
    """Import past placements as `imported` placements of `commissioner`; all or nothing."""
    if not commissioner.is_commissioning_body:
        raise ApplicationError(f"{commissioner} is not a commissioning body.", code="not_commissioner")
    errors: list[RowError] = []
    rows = _read(lines, errors, progress)
    if errors:
        raise HistoryImportError(errors)
    result = ImportResult(rows=len(rows))
    lots = {lot.number: lot.pk for lot in Lot.objects.all()}
    cqc_ids = {row.care_home_cqc_id for row in rows if row.care_home_cqc_id}
    homes = {
        cqc_id: (pk, local_authority)
        for cqc_id, pk, local_authority in CareHome.objects.filter(cqc_location_id__in=cqc_ids).values_list(
            "cqc_location_id", "pk", "local_authority"
        )
    }
    county = commissioner.local_authority.strip().lower()
    for row in rows:
        if row.in_county is None:
            home = homes.get(row.care_home_cqc_id)
            if home is None:
                errors.append(
                    RowError(
                        row.line, "in_county is empty and the care home is not known here, so it cannot be derived"
                    )
                )
            else:
                row.in_county = bool(county) and home[1].strip().lower() == county
    if errors:
        raise HistoryImportError(errors)

    with transaction.atomic():
        # Serialises imports for one body, so two runs of the same file cannot both insert.
        Organisation.objects.select_for_update().get(pk=commissioner.pk)
        existing = set(
            Placement.objects.filter(commissioner=commissioner, source=Placement.Source.IMPORTED).values_list(
                "case_reference", "start_date"
            )
        )
        new = [row for row in rows if (row.case_reference, row.start_date) not in existing]
        result.already_imported = len(rows) - len(new)
        for start in range(0, len(new), BATCH_SIZE):
            batch = new[start : start + BATCH_SIZE]
            Placement.objects.bulk_create(
                [
                    Placement(
                        commissioner=commissioner,
                        case_reference=row.case_reference,
                        care_home_id=homes.get(row.care_home_cqc_id, (None, ""))[0],
                        lot_id=lots[row.lot],
                        source=Placement.Source.IMPORTED,
                        weekly_fee=row.weekly_fee,
                        council_weekly_amount=row.weekly_fee,
                        top_up_weekly_amount=Decimal("0.00"),
                        start_date=row.start_date,
                        end_date=row.end_date,
                        in_county=row.in_county,
                        requested_at=row.requested_at,
                        target_date=row.target_date,
                        sourced_at=row.sourced_at,
                        created_by=actor if getattr(actor, "is_authenticated", False) else None,
                    )
                    for row in batch
                ]
            )
            result.created += len(batch)
            progress(f"Imported {result.created} of {len(new)} new placements")
        audit_record(
            actor=actor,
            verb="dashboards.placement_history.imported",
            target=commissioner,
            organisation=commissioner,
            detail={"rows": result.rows, "created": result.created, "already_imported": result.already_imported},
        )
    return result
