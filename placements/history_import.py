"""Importing a commissioning body's placement history so its dashboards start with its past.

The whole file is checked before anything is written: one bad row and nothing is imported,
and every bad row is reported with its line number. Rows already imported (same case
reference and start date for the same body) are left as they are, so a re-run changes nothing.
The new rows are then written with COPY in batches, in one transaction, with progress after each.
"""

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from core.audit import audit_record
from core.bulk import copy_rows
from core.errors import ApplicationError
from core.metrics import import_rows_count
from lots.models import Lot
from organisations.models import Organisation
from providers.models import CareHome

from .models import Placement

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
REQUIRED = ["case_reference", "lot", "requested_at", "target_date", "sourced_at", "start_date"]
# Optional: who pays what from the start. The council's share is the fee less these; the routes are
# gross (the council pays the home and collects) or net (the payer pays the home), gross when empty.
SHARE_AMOUNTS = {
    "contribution_weekly": "contribution",
    "top_up_weekly": "top_up",
    "fnc_weekly": "fnc",
    "nhs_joint_weekly": "nhs_joint",
    "chc_weekly": "chc",
}
SHARE_COLUMNS = [
    "contribution_weekly",
    "contribution_payer",
    "contribution_route",
    "top_up_weekly",
    "top_up_payer",
    "top_up_route",
    "fnc_weekly",
    "nhs_joint_weekly",
    "chc_weekly",
    "nhs_payer",
]
ROUTES = ("gross", "net")
YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0"}
MAX_WEEKLY_FEE = Decimal("100000000")
BATCH_SIZE = 10000
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


@dataclass(frozen=True)
class ImportedShare:
    """A payer's weekly share of an imported placement's fee, from its start."""

    payer_type: str
    weekly_amount: Decimal
    payer_name: str
    route: str


# Writers of imported funding shares, registered by the app that keeps them (contracts); each is
# called with (placement id, start date, shares) pairs inside the import's transaction.
_shares_writers: list[Callable] = []


def imported_shares_writer_register(writer: Callable) -> Callable:
    if writer not in _shares_writers:
        _shares_writers.append(writer)
    return writer


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
    shares: list[ImportedShare] = field(default_factory=list)

    @property
    def top_up(self) -> Decimal:
        return sum((share.weekly_amount for share in self.shares if share.payer_type == "top_up"), Decimal("0.00"))

    @property
    def top_up_payer(self) -> str:
        return next((share.payer_name for share in self.shares if share.payer_type == "top_up"), "")


# Reading one row -----------------------------------------------------------------------------


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


def _lot(value: str) -> int:
    if value.isdigit() and 1 <= int(value) <= 10:
        return int(value)
    raise ValueError(f"lot '{value}' is not a lot number from 1 to 10")


def _weekly_fee(value: str) -> Decimal:
    try:
        fee = Decimal(value.lstrip("£").replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"weekly_fee '{value}' is not an amount in pounds") from None
    # Size before pence: quantizing a huge number is itself an error.
    if not fee.is_finite() or fee < 0:
        raise ValueError(f"weekly_fee '{value}' is not an amount in pounds and pence")
    if fee >= MAX_WEEKLY_FEE:
        raise ValueError(f"weekly_fee '{value}' is too large")
    if fee != fee.quantize(Decimal("0.01")):
        raise ValueError(f"weekly_fee '{value}' is not an amount in pounds and pence")
    return fee


def _yes_or_no(value: str) -> bool:
    answer = value.lower()
    if answer in YES:
        return True
    if answer in NO:
        return False
    raise ValueError(f"in_county '{value}' should be yes or no")


class _Problems:
    """Collects everything wrong with a row, so one message names it all."""

    def __init__(self):
        self.found: list[str] = []

    def add(self, message: str) -> None:
        self.found.append(message)

    def parse(self, parse, value: str, *args, default=None):
        """`parse(value, *args)` when a value is given, noting its refusal; else `default`."""
        if not value:
            return default
        try:
            return parse(value, *args)
        except ValueError as error:
            self.add(str(error))
            return default


def _order_problems(parsed: dict, zone: tzinfo) -> list[str]:
    """Dates that are each fine but not in the order a placement has them; `zone` dates the request."""
    requested_at, sourced_at = parsed["requested_at"], parsed["sourced_at"]
    target_date, start_date, end_date = parsed["target_date"], parsed["start_date"], parsed["end_date"]
    problems = []
    if requested_at and target_date and target_date < requested_at.astimezone(zone).date():
        problems.append("target_date is before the request date")
    if requested_at and sourced_at and sourced_at < requested_at:
        problems.append("sourced_at is before requested_at")
    if start_date and end_date and end_date < start_date:
        problems.append("end_date is before start_date")
    return problems


def _parse(line: int, values: dict[str, str], zone: tzinfo) -> _Row:
    """One row (its values stripped, by column), or ValueError naming everything wrong with it."""
    problems = _Problems()
    for name in REQUIRED:
        if not values[name]:
            problems.add(f"{name} is empty")
    if len(values["case_reference"]) > 64:
        problems.add("case_reference is longer than 64 characters")
    for name in ("case_reference", "care_home_cqc_id"):
        # The other columns' parsers refuse it; these two are kept as text, which cannot hold it.
        if "\x00" in values[name]:
            problems.add(f"{name} contains a NUL character")
    parsed = {
        "lot": problems.parse(_lot, values["lot"]),
        "requested_at": problems.parse(_timestamp, values["requested_at"], "requested_at"),
        "sourced_at": problems.parse(_timestamp, values["sourced_at"], "sourced_at"),
        "target_date": problems.parse(_day, values["target_date"], "target_date"),
        "start_date": problems.parse(_day, values["start_date"], "start_date"),
        "end_date": problems.parse(_day, values["end_date"], "end_date"),
        "weekly_fee": problems.parse(_weekly_fee, values["weekly_fee"], default=Decimal("0.00")),
        "in_county": problems.parse(_yes_or_no, values["in_county"]),
    }
    for problem in _order_problems(parsed, zone):
        problems.add(problem)
    shares = _shares(values, parsed["weekly_fee"], problems)
    if problems.found:
        raise ValueError("; ".join(problems.found))
    return _Row(
        line=line,
        case_reference=values["case_reference"],
        care_home_cqc_id=values["care_home_cqc_id"],
        shares=shares,
        **parsed,
    )


def _shares(values: dict[str, str], fee: Decimal, problems: "_Problems") -> list[ImportedShare]:
    """The optional share columns as shares; the council's share is what is left of the fee."""
    shares = []
    for column, payer_type in SHARE_AMOUNTS.items():
        amount = problems.parse(_amount, values.get(column, ""), column)
        if not amount:
            continue
        prefix = column.removesuffix("_weekly")
        if payer_type in ("contribution", "top_up"):
            payer, route = values.get(f"{prefix}_payer", ""), values.get(f"{prefix}_route", "") or "gross"
            if not payer:
                problems.add(f"{prefix}_payer is empty: name who pays the {column}")
            if route not in ROUTES:
                problems.add(f"{prefix}_route '{route}' should be gross or net")
        else:
            payer, route = values.get("nhs_payer", ""), "net"
            if not payer:
                problems.add(f"nhs_payer is empty: name the NHS body that pays the {column}")
        shares.append(ImportedShare(payer_type, amount, payer, route))
    if sum((share.weekly_amount for share in shares), Decimal("0.00")) > fee:
        problems.add("the share columns add up to more than weekly_fee")
    return shares


def _amount(value: str, name: str) -> Decimal:
    try:
        return _weekly_fee(value)
    except ValueError as error:
        raise ValueError(str(error).replace("weekly_fee", name, 1)) from None


# Reading the file ----------------------------------------------------------------------------


def _header_error(header: list[str]) -> RowError | None:
    if not header:
        return RowError(1, "the file is empty; it needs a header row")
    unknown = [name for name in header if name not in COLUMNS and name not in SHARE_COLUMNS]
    missing = [name for name in COLUMNS if name not in header]
    if not unknown and not missing:
        return None
    parts = []
    if unknown:
        parts.append(f"unknown columns: {', '.join(unknown)}")
    if missing:
        parts.append(f"missing columns: {', '.join(missing)}")
    return RowError(1, "; ".join(parts) + f" (expected {','.join(COLUMNS)})")


def _read(lines: Iterable[str], errors: list[RowError], progress) -> list[_Row]:
    reader = csv.reader(lines)
    header = [name.strip() for name in next(reader, [])]
    header_error = _header_error(header)
    if header_error:
        errors.append(header_error)
        return []
    # Each column's place in the file; a short row leaves its last columns empty.
    places = [(name, header.index(name)) for name in COLUMNS + SHARE_COLUMNS if name in header]
    width = len(header)
    # Requests are dated in the time zone of the people importing (Europe/London), looked up once.
    zone = timezone.get_current_timezone()
    rows = []
    seen: dict[tuple[str, date], int] = {}
    for cells in reader:
        if not cells:
            continue
        line = reader.line_num
        if len(cells) > width:
            errors.append(RowError(line, "the row has more values than the header has columns"))
            continue
        if len(cells) < width:
            cells += [""] * (width - len(cells))
        values = {name: cells[place].strip() for name, place in places}
        try:
            row = _parse(line, values, zone)
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


# Writing -------------------------------------------------------------------------------------


def _homes_by_cqc_id(rows: list[_Row]) -> dict[str, tuple[int, str]]:
    """The known care homes the rows name: primary key and local authority by CQC location id."""
    cqc_ids = {row.care_home_cqc_id for row in rows if row.care_home_cqc_id}
    return {
        cqc_id: (pk, local_authority)
        for cqc_id, pk, local_authority in CareHome.objects.filter(cqc_location_id__in=cqc_ids).values_list(
            "cqc_location_id", "pk", "local_authority"
        )
    }


def _derive_in_county(rows: list[_Row], homes: dict, commissioner: Organisation) -> list[RowError]:
    """Fill in `in_county` where it is empty from the home's local authority, or say why it cannot be."""
    errors = []
    county = commissioner.local_authority.strip().lower()
    for row in rows:
        if row.in_county is not None:
            continue
        home = homes.get(row.care_home_cqc_id)
        if home is None:
            errors.append(
                RowError(row.line, "in_county is empty and the care home is not known here, so it cannot be derived")
            )
        else:
            row.in_county = bool(county) and home[1].strip().lower() == county
    return errors


# Every column an imported placement has a value for; the others take their defaults.
PLACEMENT_FIELDS = [
    "commissioner_id",
    "case_reference",
    "care_home_id",
    "lot_id",
    "source",
    "weekly_fee",
    "council_weekly_amount",
    "top_up_weekly_amount",
    "top_up_payer",
    "start_date",
    "end_date",
    "in_county",
    "requested_at",
    "target_date",
    "sourced_at",
    "created_by_id",
]


def _placement_rows(rows: list[_Row], *, commissioner: Organisation, lots: dict, homes: dict, actor):
    """The rows as values in the order of `PLACEMENT_FIELDS`; the fee less any top-up is the council's."""
    created_by = actor.pk if getattr(actor, "is_authenticated", False) else None
    for row in rows:
        yield (
            commissioner.pk,
            row.case_reference,
            homes.get(row.care_home_cqc_id, (None, ""))[0],
            lots[row.lot],
            Placement.Source.IMPORTED,
            row.weekly_fee,
            row.weekly_fee - row.top_up,
            row.top_up,
            row.top_up_payer,
            row.start_date,
            row.end_date,
            row.in_county,
            row.requested_at,
            row.target_date,
            row.sourced_at,
            created_by,
        )


def _insert_new(rows: list[_Row], *, commissioner: Organisation, homes: dict, actor, progress) -> ImportResult:
    """COPY the rows not imported before, in batches; the caller holds the transaction."""
    result = ImportResult(rows=len(rows))
    lots = {lot.number: lot.pk for lot in Lot.objects.all()}
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
        result.created += copy_rows(
            Placement,
            PLACEMENT_FIELDS,
            _placement_rows(batch, commissioner=commissioner, lots=lots, homes=homes, actor=actor),
        )
        _shares_write(batch, commissioner)
        progress(f"Imported {result.created} of {len(new)} new placements")
    return result


def _shares_write(batch: list[_Row], commissioner: Organisation) -> None:
    """Hand the batch's share columns to the registered writers, with the new placements' ids."""
    with_shares = {(row.case_reference, row.start_date): row for row in batch if row.shares}
    if not with_shares or not _shares_writers:
        return
    ids = Placement.objects.filter(
        commissioner=commissioner,
        source=Placement.Source.IMPORTED,
        case_reference__in={key[0] for key in with_shares},
    ).values_list("pk", "case_reference", "start_date")
    found = [(pk, with_shares[(ref, start)]) for pk, ref, start in ids if (ref, start) in with_shares]
    for writer in _shares_writers:
        writer([(pk, row.start_date, row.shares) for pk, row in found])


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
        import_rows_count("placement_history", {"refused": len(errors)})
        raise HistoryImportError(errors)
    homes = _homes_by_cqc_id(rows)
    errors = _derive_in_county(rows, homes, commissioner)
    if errors:
        import_rows_count("placement_history", {"refused": len(errors)})
        raise HistoryImportError(errors)
    with transaction.atomic():
        result = _insert_new(rows, commissioner=commissioner, homes=homes, actor=actor, progress=progress)
        audit_record(
            actor=actor,
            # The verb is the one audit trails already hold for these imports.
            verb="dashboards.placement_history.imported",
            target=commissioner,
            organisation=commissioner,
            detail={"rows": result.rows, "created": result.created, "already_imported": result.already_imported},
        )
    import_rows_count("placement_history", {"created": result.created, "already_imported": result.already_imported})
    return result
