"""Domain events that other apps may publish, without knowing who listens.

Apps low in the stack (providers, bidding) must not import the integrations app, yet their
writes are what council systems subscribe to. They send `domain_event` with the event's name
and the objects it is about; integrations receives it and records the webhook event. Sent
inside the writing service's transaction, so the record rolls back with the write.
"""

from django.dispatch import Signal

# Sent with `name` (for example "tender.closed") and the event's objects as keyword arguments.
domain_event = Signal()


def domain_event_send(name: str, **objects) -> None:
    """Publish `name` about `objects`; receivers' errors propagate to the caller's transaction."""
    domain_event.send(sender=None, name=name, **objects)
