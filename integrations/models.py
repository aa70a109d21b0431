"""Integration with other systems: webhooks, idempotency, open data."""
