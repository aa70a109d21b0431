"""Reference data: the ten lots of the brief."""

from django.db import migrations

from lots.reference import LOTS


def create_lots(apps, schema_editor):
    Lot = apps.get_model("lots", "Lot")
    for number, name, setting, client_group, dementia in LOTS:
        Lot.objects.update_or_create(
            number=number,
            defaults={"name": name, "setting": setting, "client_group": client_group, "dementia": dementia},
        )


class Migration(migrations.Migration):
    dependencies = [("lots", "0002_initial")]

    operations = [migrations.RunPython(create_lots, migrations.RunPython.noop)]
