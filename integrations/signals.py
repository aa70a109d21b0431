"""Turning other apps' domain events into webhook events, exactly as the services once called them;
and rewriting the payloads that mention a person when placements' retention period passes."""

from django.db.models import Q
from django.dispatch import receiver

from core.events import domain_event
from placements.retention import PersonalDataHolder, RetentionScope, personal_data_holder_register, text_rewrite

from . import events
from .models import WebhookEvent

HANDLERS = {
    "placement_request.published": events.placement_request_published,
    "tender.closed": events.tender_closed,
    "tender.evaluated": events.tender_evaluated,
    "tender.awarded": events.tender_awarded,
    "tender.cancelled": events.tender_cancelled,
    "invitation.withdrawn": events.care_home_invitation_withdrawn,
    "care_home.suspended": events.care_home_suspended,
    "care_home.reinstated": events.care_home_reinstated,
    "placement.funding_changed": events.placement_funding_changed,
}


@receiver(domain_event, dispatch_uid="integrations.webhook_event_for_domain_event")
def webhook_event_for_domain_event(sender, *, signal, name: str, **objects) -> None:
    handler = HANDLERS.get(name)
    if handler is not None:
        handler(**objects)


def _payloads_rewrite(scope: RetentionScope, replacements: dict[str, str]) -> None:
    ids = scope.request_ids
    events_about = WebhookEvent.objects.filter(
        Q(payload__placement_request__id__in=ids)
        | Q(payload__tender__placement_request_id__in=ids)
        | Q(payload__placement__placement_request_id__in=ids)
    )
    text_rewrite(events_about, ["payload"], replacements)


personal_data_holder_register("integrations", PersonalDataHolder(rewrite=_payloads_rewrite))
