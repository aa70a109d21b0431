"""The timeliness summary kept once per statement instead of once per placement row.

A row-level trigger upserted the (body, month, lot) summary row for every placement written, so a
million-row import made a million upserts into a few hundred rows. These statement-level triggers
read the statement's rows from its transition tables, net them per body, month and lot, and upsert
each group once. The counting rule is unchanged: a placement counts once in its body, month
(Europe/London) and lot while it is not cancelled, and within target when its London sourcing date
is on or before its target date.
"""

from importlib import import_module

from django.db import migrations

# Each branch lists the statement's changes as (body, sourced_at, target_date, lot, sign): +1 for
# a row as it is now, -1 for a row as it was. Unchanged groups net to nothing and are not touched,
# so an update of fees or addresses takes no lock on the summary. Groups are written in key order,
# so two statements that touch the same groups wait for each other instead of deadlocking.
UPSERT = """
        INSERT INTO dashboards_timelinessmonth (commissioner_id, month, lot_id, sourced, within_target)
        SELECT commissioner_id,
               date_trunc('month', sourced_at AT TIME ZONE 'Europe/London')::date,
               lot_id,
               sum(sign),
               coalesce(sum(sign) FILTER (WHERE (sourced_at AT TIME ZONE 'Europe/London')::date <= target_date), 0)
        FROM ({changes}) AS changes
        GROUP BY 1, 2, 3
        HAVING sum(sign) <> 0
            OR sum(sign) FILTER (WHERE (sourced_at AT TIME ZONE 'Europe/London')::date <= target_date) <> 0
        ORDER BY 1, 2, 3
        ON CONFLICT (commissioner_id, month, lot_id) DO UPDATE
        SET sourced = dashboards_timelinessmonth.sourced + EXCLUDED.sourced,
            within_target = dashboards_timelinessmonth.within_target + EXCLUDED.within_target;"""

NEW = "SELECT commissioner_id, sourced_at, target_date, lot_id, 1 AS sign FROM new_rows WHERE cancelled_at IS NULL"
OLD = "SELECT commissioner_id, sourced_at, target_date, lot_id, -1 AS sign FROM old_rows WHERE cancelled_at IS NULL"

CREATE = f"""
DROP TRIGGER IF EXISTS dashboards_timeliness_count ON placements_placement;
CREATE OR REPLACE FUNCTION dashboards_timeliness_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN{UPSERT.format(changes=NEW)}
    ELSIF TG_OP = 'DELETE' THEN{UPSERT.format(changes=OLD)}
    ELSE{UPSERT.format(changes=f"{OLD} UNION ALL {NEW}")}
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER dashboards_timeliness_count_insert
AFTER INSERT ON placements_placement REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION dashboards_timeliness_count();
CREATE TRIGGER dashboards_timeliness_count_update
AFTER UPDATE ON placements_placement REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION dashboards_timeliness_count();
CREATE TRIGGER dashboards_timeliness_count_delete
AFTER DELETE ON placements_placement REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION dashboards_timeliness_count();
"""

DROP = """
DROP TRIGGER IF EXISTS dashboards_timeliness_count_insert ON placements_placement;
DROP TRIGGER IF EXISTS dashboards_timeliness_count_update ON placements_placement;
DROP TRIGGER IF EXISTS dashboards_timeliness_count_delete ON placements_placement;
"""


def per_statement(apps, schema_editor):
    schema_editor.execute(CREATE)


def per_row(apps, schema_editor):
    """Back to the row-level trigger, with the summary counted again from the placements."""
    row_level = import_module("dashboards.migrations.0002_timeliness_month_trigger")
    schema_editor.execute(DROP)
    schema_editor.execute(row_level.DROP)
    schema_editor.execute(row_level.CREATE)


class Migration(migrations.Migration):
    dependencies = [
        ("dashboards", "0002_timeliness_month_trigger"),
    ]

    operations = [migrations.RunPython(per_statement, per_row)]
