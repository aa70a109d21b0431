"""Organisation events that higher apps react to (lots gives a commissioning body its lot rules)."""

from django.dispatch import Signal

# Sent inside `organisation_create`'s transaction with `organisation`, before the audit entry.
organisation_created = Signal()
