"""Ids for load data written by COPY (`core.bulk.copy_rows`), reserved from each table's sequence."""

from django.db import connection, models, transaction


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
