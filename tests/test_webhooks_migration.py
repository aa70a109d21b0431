"""Subscriptions made before Standard Webhooks keep their signature through the upgrade."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from integrations.models import WebhookSubscription
from integrations.services import webhook_subscription_create

BEFORE = [("integrations", "0001_initial")]
AFTER = [("integrations", "0002_webhook_signature_versions")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_existing_subscriptions_stay_legacy_and_new_ones_are_standard(council_a, commissioner_a):
    try:
        old_apps = _migrate(BEFORE)
        OldSubscription = old_apps.get_model("integrations", "WebhookSubscription")
        old = OldSubscription.objects.create(
            organisation_id=council_a.pk,
            url="https://a.example/h",
            events=["tender.closed"],
            secret="whsec_made-before-the-upgrade",
        )

        _migrate(AFTER)

        assert WebhookSubscription.objects.get(pk=old.pk).signature_version == "legacy"
        new, _ = webhook_subscription_create(actor=commissioner_a, url="https://a.example/i", events=["tender.closed"])
        assert WebhookSubscription.objects.get(pk=new.pk).signature_version == "standard"
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
