"""Writing many rows at once: new ones by PostgreSQL's COPY, the fastest way it takes them, or once
per key; changed ones in one UPDATE."""

import json
from collections.abc import Iterable, Sequence
from itertools import chain

from django.db import IntegrityError, connection, models, transaction
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone


def _filler(field: models.Field, now):
    """The value a column not given explicitly gets: the model default, or now for timestamps."""
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    value = field.get_default()
    if isinstance(field, models.JSONField) and value is not None:
        return json.dumps(value)
    return value


def copy_rows(
    model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence], *, table: str | None = None
) -> int:
    """COPY rows (tuples in the order of `fields`, field names or attnames) into the model's table.

    Columns not named get the model's default, so every NOT NULL column is written; an id not
    named comes from the table's sequence. Check constraints, unique indexes and foreign keys are
    enforced by the database as usual, and their errors are Django's. No rows, no statement.
    `table` names another table with the model's columns instead (a benchmark's copy of it).
    """
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return 0
    named = [model._meta.get_field(name) for name in fields]
    rest = [
        field for field in model._meta.concrete_fields if field not in named and not isinstance(field, AutoFieldMixin)
    ]
    now = timezone.now()
    fill = tuple(_filler(field, now) for field in rest)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in [*named, *rest])
    statement = f"COPY {quote(table or model._meta.db_table)} ({columns}) FROM STDIN"
    written = 0
    with connection.wrap_database_errors, connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in chain([first], rows):
            copy.write_row((*row, *fill))
            written += 1
    return written


def update_rows(objects: Sequence[models.Model], fields: Sequence[str]) -> int:
    """Write `fields` of `objects` (saved rows of one model) in one `UPDATE ... FROM (VALUES ...)`.

    Django's `bulk_update` builds a `CASE WHEN id = ... THEN ...` expression per field and row,
    which for a few hundred rows costs far more to build than to run. Here each row is one tuple
    of parameters, cast to its column's type. Values go through each field's own conversion, so
    JSON, decimals and dates are written as `save()` writes them. Returns the rows updated.
    """
    if not objects:
        return 0
    model = type(objects[0])
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    casts = [field.db_type(connection) for field in columns]
    quote = connection.ops.quote_name
    row = "(" + ", ".join(f"%s::{cast}" for cast in casts) + ")"
    values = ", ".join([row] * len(objects))
    assignments = ", ".join(f"{quote(field.column)} = v.{quote(field.column)}" for field in columns[1:])
    names = ", ".join(quote(field.column) for field in columns)
    sql = (
        f"UPDATE {quote(meta.db_table)} AS t SET {assignments} FROM (VALUES {values}) AS v ({names}) "  # noqa: S608
        f"WHERE t.{quote(meta.pk.column)} = v.{quote(meta.pk.column)}"
    )
    params = [field.get_db_prep_save(getattr(obj, field.attname), connection) for obj in objects for field in columns]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def insert_once(objects: Sequence[models.Model], key: Sequence[str]) -> list[models.Model]:
    """Insert new rows of one model whose `key` fields (attnames, unique together) matched no row
    when the caller last read, in one statement. If another transaction inserted one of them since,
    each is inserted on its own instead, leaving the row already there. Returns the rows inserted here.
    """
    if not objects:
        return []
    model = type(objects[0])
    try:
        with transaction.atomic():
            return model.objects.bulk_create(objects)
    except IntegrityError:
        pass
    fields = [field for field in model._meta.concrete_fields if not field.primary_key and field.attname not in key]
    inserted = []
    for obj in objects:
        with transaction.atomic():
            row, created = model.objects.get_or_create(
                **{name: getattr(obj, name) for name in key},
                defaults={field.attname: getattr(obj, field.attname) for field in fields},
            )
        if created:
            inserted.append(row)
    return inserted
