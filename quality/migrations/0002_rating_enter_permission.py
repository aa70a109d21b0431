"""Only people given `quality.enter_rating` may enter a CQC rating by hand.

The permission row is made here, not only by the post-migrate signal, so that a data migration
or a deployment step can grant it right after this one runs.
"""

from django.db import migrations

CODENAME = "enter_rating"
NAME = "Can enter a CQC rating by hand, as the CQC published it"


def create_permission(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    content_type, _ = ContentType.objects.get_or_create(app_label="quality", model="rating")
    Permission.objects.update_or_create(content_type=content_type, codename=CODENAME, defaults={"name": NAME})


def remove_permission(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(content_type__app_label="quality", codename=CODENAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("quality", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="rating",
            options={
                "ordering": ["-report_date", "-recorded_at"],
                "permissions": [("enter_rating", NAME)],
            },
        ),
        migrations.RunPython(create_permission, remove_permission),
    ]
