"""Fairness takes part in bidding's award: the pre-award check, and the bed hold and standstill after it."""

from django.dispatch import receiver

from bidding.hooks import register_award_check
from bidding.signals import award_made

from . import services

register_award_check(services.award_precheck)


@receiver(award_made, dispatch_uid="fairness.bed_hold_and_standstill_on_award")
def bed_hold_and_standstill_on_award(sender, *, award, placement, standstill_waiver_reason: str, **kwargs) -> None:
    services.award_made(award=award, placement=placement, standstill_waiver_reason=standstill_waiver_reason)
