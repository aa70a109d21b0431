"""Reference data: the specialisms CQC records for care homes."""

from django.db import migrations

from providers.reference import SPECIALISMS


def create_specialisms(apps, schema_editor):
    Specialism = apps.get_model("providers", "Specialism")
    for code, name in SPECIALISMS:
        Specialism.objects.update_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("providers", "0002_initial")]

    operations = [migrations.RunPython(create_specialisms, migrations.RunPython.noop)]
