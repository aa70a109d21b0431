"""A bed cannot hold two overlapping occupancies: a PostgreSQL exclusion constraint.

The constraint is added in SQL, outside the model state, so the model stays as it was when the
migration was written; the services check for overlaps as well and give the friendlier message.
"""

from django.db import migrations

CONSTRAINT_NAME = "occupancy_bed_no_overlap"


def add_exclusion(apps, schema_editor):
    # btree_gist lets one GiST index compare the bed id (=) alongside the date range (&&).
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    table = apps.get_model("blockbeds", "Occupancy")._meta.db_table
    schema_editor.execute(
        f"ALTER TABLE {schema_editor.quote_name(table)} ADD CONSTRAINT {schema_editor.quote_name(CONSTRAINT_NAME)} "
        "EXCLUDE USING gist (bed_id WITH =, daterange(start_date, end_date, '[)') WITH &&)"
    )


def remove_exclusion(apps, schema_editor):
    table = apps.get_model("blockbeds", "Occupancy")._meta.db_table
    schema_editor.execute(
        f"ALTER TABLE {schema_editor.quote_name(table)} DROP CONSTRAINT {schema_editor.quote_name(CONSTRAINT_NAME)}"
    )


class Migration(migrations.Migration):
    dependencies = [("blockbeds", "0001_initial")]

    operations = [
        migrations.RunPython(add_exclusion, remove_exclusion),
    ]
