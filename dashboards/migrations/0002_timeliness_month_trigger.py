"""The trigger that keeps `TimelinessMonth` in step with placements, and the figures of the
placements already there."""

from django.db import migrations

# Each placement row counts once in its body, month (Europe/London) and lot while it is not
# cancelled: a change takes the old row's count away and adds the new one's.
CREATE = """
CREATE FUNCTION dashboards_timeliness_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.cancelled_at IS NULL THEN
        INSERT INTO dashboards_timelinessmonth (commissioner_id, month, lot_id, sourced, within_target)
        VALUES (
            OLD.commissioner_id,
            date_trunc('month', OLD.sourced_at AT TIME ZONE 'Europe/London')::date,
            OLD.lot_id,
            -1,
            CASE WHEN (OLD.sourced_at AT TIME ZONE 'Europe/London')::date <= OLD.target_date
                 THEN -1 ELSE 0 END
        )
        ON CONFLICT (commissioner_id, month, lot_id) DO UPDATE
        SET sourced = dashboards_timelinessmonth.sourced + EXCLUDED.sourced,
            within_target = dashboards_timelinessmonth.within_target + EXCLUDED.within_target;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.cancelled_at IS NULL THEN
        INSERT INTO dashboards_timelinessmonth (commissioner_id, month, lot_id, sourced, within_target)
        VALUES (
            NEW.commissioner_id,
            date_trunc('month', NEW.sourced_at AT TIME ZONE 'Europe/London')::date,
            NEW.lot_id,
            1,
            CASE WHEN (NEW.sourced_at AT TIME ZONE 'Europe/London')::date <= NEW.target_date
                 THEN 1 ELSE 0 END
        )
        ON CONFLICT (commissioner_id, month, lot_id) DO UPDATE
        SET sourced = dashboards_timelinessmonth.sourced + EXCLUDED.sourced,
            within_target = dashboards_timelinessmonth.within_target + EXCLUDED.within_target;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER dashboards_timeliness_count
AFTER INSERT OR DELETE OR UPDATE OF commissioner_id, lot_id, sourced_at, target_date, cancelled_at
ON placements_placement FOR EACH ROW EXECUTE FUNCTION dashboards_timeliness_count();
INSERT INTO dashboards_timelinessmonth (commissioner_id, month, lot_id, sourced, within_target)
SELECT commissioner_id,
       date_trunc('month', sourced_at AT TIME ZONE 'Europe/London')::date,
       lot_id,
       count(*),
       count(*) FILTER (WHERE (sourced_at AT TIME ZONE 'Europe/London')::date <= target_date)
FROM placements_placement
WHERE cancelled_at IS NULL
GROUP BY 1, 2, 3;
"""

DROP = """
DROP TRIGGER IF EXISTS dashboards_timeliness_count ON placements_placement;
DROP FUNCTION IF EXISTS dashboards_timeliness_count();
DELETE FROM dashboards_timelinessmonth;
"""


def create(apps, schema_editor):
    schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("dashboards", "0001_timeliness_month"),
        ("placements", "0003_placement_cancelled_when_award_lapses"),
    ]

    operations = [migrations.RunPython(create, drop)]
