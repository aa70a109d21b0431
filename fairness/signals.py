"""Fairness takes part in bidding's award (the pre-award check, and the bed hold and standstill after
it) and in placements' retention (the shortlist links' names)."""

from django.dispatch import receiver

from bidding.hooks import register_award_check
from bidding.signals import award_made
from placements.retention import (
    REMOVED,
    PersonalDataHolder,
    RetentionScope,
    audit_targets,
    personal_data_holder_register,
)

from . import services
from .models import ShortlistLink

register_award_check(services.award_precheck)


def _links(scope: RetentionScope):
    return ShortlistLink.objects.filter(tender__request_id__in=scope.request_ids)


def _links_clear(scope: RetentionScope) -> None:
    links = _links(scope)
    links.exclude(recipient="").update(recipient=REMOVED)
    links.exclude(chosen_by_name="").update(chosen_by_name=REMOVED)
    links.exclude(top_up_payer="").update(top_up_payer=REMOVED)


personal_data_holder_register(
    "fairness",
    PersonalDataHolder(
        names=lambda scope: [
            *_links(scope).values_list("top_up_payer", flat=True),
            *_links(scope).values_list("chosen_by_name", flat=True),
            *_links(scope).values_list("recipient", flat=True),
        ],
        clear=_links_clear,
        audit_targets=lambda scope: audit_targets(ShortlistLink, _links(scope).values_list("pk", flat=True)),
    ),
)


@receiver(award_made, dispatch_uid="fairness.bed_hold_and_standstill_on_award")
def bed_hold_and_standstill_on_award(sender, *, award, placement, standstill_waiver_reason: str, **kwargs) -> None:
    services.award_made(award=award, placement=placement, standstill_waiver_reason=standstill_waiver_reason)
