"""Bulk writes for load data: ids reserved from each table's sequence, rows streamed with COPY."""

import json
from collections.abc import Iterable, Sequence

from django.db import connection, models, transaction
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone


def reserve_ids(model: type[models.Model], count: int) -> int:
    """Take `count` consecutive ids from the model's sequence; returns the first."""
    table = model._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        sequence = cursor.fetchone()[0]
        cursor.execute(f"LOCK TABLE {connection.ops.quote_name(table)} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")  # noqa: S608
        highest = cursor.fetchone()[0]
        cursor.execute("SELECT last_value, is_called FROM " + sequence)  # noqa: S608
        last_value, is_called = cursor.fetchone()
        first = max(highest, last_value if is_called else last_value - 1) + 1
        cursor.execute("SELECT setval(%s, %s)", [sequence, first + max(count, 1) - 1])
    return first


def _filler(field: models.Field, now):
    """The value a column not given explicitly gets: the model default, or now for timestamps."""
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    value = field.get_default()
    if isinstance(field, models.JSONField):
        return json.dumps(value)
    return value


def copy_rows(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence]) -> int:
    """COPY rows (tuples in the order of `fields`, Django attnames) into the model's table.

    Columns not named get the model's default, so every NOT NULL column is written; check
    constraints, unique indexes and foreign keys are enforced by the database as usual.
    """
    now = timezone.now()
    by_attname = {field.attname: field for field in model._meta.concrete_fields}
    # An id not given comes from the table's own sequence.
    rest = [
        field
        for attname, field in by_attname.items()
        if attname not in fields and not isinstance(field, AutoFieldMixin)
    ]
    fill = tuple(_filler(field, now) for field in rest)
    columns = [by_attname[name].column for name in fields] + [field.column for field in rest]
    quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
    statement = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({quoted}) FROM STDIN"
    written = 0
    connection.ensure_connection()
    with connection.connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row((*row, *fill))
            written += 1
    return written
