"""Standard Webhooks signatures for new subscriptions; existing ones keep the legacy signature
until their secret is rotated, so no receiver stops verifying deliveries on upgrade."""

from django.db import migrations, models


def existing_subscriptions_sign_as_before(apps, schema_editor):
    apps.get_model("integrations", "WebhookSubscription").objects.update(signature_version="legacy")


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="webhooksubscription",
            name="previous_secret",
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.AddField(
            model_name="webhooksubscription",
            name="previous_secret_expires_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="webhooksubscription",
            name="signature_version",
            field=models.CharField(
                choices=[("legacy", "Legacy (v1=hex of timestamp.body)"), ("standard", "Standard Webhooks")],
                default="standard",
                max_length=20,
            ),
        ),
        migrations.RunPython(existing_subscriptions_sign_as_before, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="webhookevent",
            name="type",
            field=models.CharField(
                choices=[
                    ("placement_request.published", "Placement request published"),
                    ("tender.closed", "Tender closed"),
                    ("tender.evaluated", "Tender evaluated"),
                    ("tender.awarded", "Tender awarded"),
                    ("bid.unsuccessful", "Bid unsuccessful"),
                    ("invitation.withdrawn", "Invitation withdrawn"),
                    ("placement.started", "Placement started"),
                    ("care_home.suspended", "Care home suspended"),
                    ("care_home.reinstated", "Care home reinstated"),
                ],
                db_index=True,
                max_length=60,
            ),
        ),
    ]
