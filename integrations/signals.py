"""Turning other apps' domain events into webhook events, exactly as the services once called them."""

from django.dispatch import receiver

from core.events import domain_event

from . import events

HANDLERS = {
    "placement_request.published": events.placement_request_published,
    "tender.closed": events.tender_closed,
    "tender.evaluated": events.tender_evaluated,
    "tender.awarded": events.tender_awarded,
    "care_home.suspended": events.care_home_suspended,
    "care_home.reinstated": events.care_home_reinstated,
}


@receiver(domain_event, dispatch_uid="integrations.webhook_event_for_domain_event")
def webhook_event_for_domain_event(sender, *, signal, name: str, **objects) -> None:
    handler = HANDLERS.get(name)
    if handler is not None:
        handler(**objects)
