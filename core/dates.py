"""How far a date filter may reach: one rule for every page, API query string, filter and command.

A report over centuries (a mistyped year such as 0587) costs minutes of database time and holds a
web worker meanwhile. Every date that people or systems filter by is therefore checked here: its
year lies from 2000 to 2100, and a range runs forwards and spans at most ten years. Pages show the
refusal as a field error, the API as a 400 problem response with errors by field.

Dates that plan what happens next (a placement needed from, a bid's earliest start, an uplift's
first day, a vacancy) cannot lie in the past: `not_in_past` is that rule, for every service.
"""

from collections.abc import Mapping
from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone

from .errors import ApplicationError

EARLIEST_YEAR = 2000
LATEST_YEAR = 2100
MAX_RANGE_YEARS = 10

OUT_OF_BOUNDS = f"Choose a date from {EARLIEST_YEAR} to {LATEST_YEAR}."
BACKWARDS = "The end of the range must be on or after its start."
TOO_LONG = f"Choose a range of at most {MAX_RANGE_YEARS} years."


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, month=3, day=1)


def date_filter_errors(dates: Mapping[str, date | None], *, range_of: tuple[str, str] | None = None) -> dict[str, str]:
    """The rule: a message for each field whose date may not be filtered by.

    ``dates`` maps field names, as the caller shows them, to dates (or date-times; None when not
    given). ``range_of`` names the first and last field of a range, both ends included.
    """
    errors = {
        name: OUT_OF_BOUNDS
        for name, day in dates.items()
        if day is not None and not EARLIEST_YEAR <= day.year <= LATEST_YEAR
    }
    if range_of and not errors:
        first, last = dates.get(range_of[0]), dates.get(range_of[1])
        if first is not None and last is not None:
            if last < first:
                errors[range_of[1]] = BACKWARDS
            elif last >= _years_later(first, MAX_RANGE_YEARS):
                errors[range_of[1]] = TOO_LONG
    return errors


def date_filter_check(dates: Mapping[str, date | None], *, range_of: tuple[str, str] | None = None) -> None:
    """Refuse the dates with an ApplicationError by field (a 400 in the API; `apply_to_form` on pages)."""
    errors = date_filter_errors(dates, range_of=range_of)
    if errors:
        raise ApplicationError("A date is outside what can be filtered by.", code="invalid_date_filter", fields=errors)


def validate_filter_date(value: date | None) -> None:
    """The rule for one date, as a validator for form fields, django-filter filters and serializer fields."""
    message = date_filter_errors({"date": value}).get("date")
    if message:
        raise ValidationError(message, code="date_out_of_range")


def not_in_past(value: date | None, *, field: str, label: str) -> dict[str, str]:
    """The rule for a date that cannot lie before today (a placement needed from, a bid's earliest
    start, an uplift's first day): a message by field, empty when the date is allowed.

    Today is allowed, in the council's time zone. ``label`` names the date as people know it, so the
    message says what is allowed: "The date the placement is needed from must be today or in the future".
    """
    if value is None or value >= timezone.localdate():
        return {}
    return {field: f"{label[:1].upper()}{label[1:]} must be today or in the future"}


def not_in_past_check(value: date | None, *, field: str, label: str) -> None:
    """Refuse a past date with an ApplicationError by field: a 400 in the API, a field error on pages."""
    errors = not_in_past(value, field=field, label=label)
    if errors:
        raise ApplicationError(errors[field], code="date_in_past", fields=errors)
