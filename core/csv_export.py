"""CSV downloads that sit next to every table, and the one writer every CSV export goes through.

Spreadsheets read a cell that begins with `=`, `+`, `-` or `@` as a formula, and some treat a
leading tab or carriage return the same way once they strip it. A case reference, a home's name
or a suspension reason is typed by a person, so a cell like `=HYPERLINK("http://x","y")` must
open as text. Following OWASP's advice on CSV injection, such a cell is written with a single
quote in front, which spreadsheets show as text and do not evaluate.

Only text is neutralised. Numbers (int, float, Decimal) are written as they are, so a negative
amount such as -12.50 stays a number that finance can add up: a number cannot carry a formula.
Anything else (dates, model instances, choice labels) is written as its text and checked like
any other text, because its text may come from what a person typed.
"""

import csv
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A file name may carry a reference someone typed; a line break in it would break the header.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def csv_cell(value: Any) -> Any:
    """The value as it is safe to write into a CSV cell."""
    if value is None or isinstance(value, int | float | Decimal):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


class SafeCsvWriter:
    """A csv.writer whose every cell goes through csv_cell."""

    def __init__(self, output, **options):
        self._writer = csv.writer(output, **options)

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(output, **options) -> SafeCsvWriter:
    """The only way this project writes CSV: pages, API downloads and management commands alike."""
    return SafeCsvWriter(output, **options)


class _Echo:
    def write(self, value):
        return value


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> StreamingHttpResponse:
    writer = csv_writer(_Echo())

    def stream():
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, CONTROL_CHARACTERS.sub("", filename))
    return response
