"""Contracts keeps each placement's service agreement in step with what lower apps do."""

from django.dispatch import receiver

from blockbeds.signals import block_rate_changed
from placements.signals import placement_cancelled, placement_created, placement_ended

from . import services
from .models import ServiceAgreement


@receiver(placement_created, dispatch_uid="contracts.agreement_on_placement_created")
def agreement_on_placement_created(sender, *, placement, actor, **kwargs) -> None:
    services.agreement_create_for_placement(placement=placement, actor=actor)


@receiver(placement_ended, dispatch_uid="contracts.agreement_on_placement_ended")
def agreement_on_placement_ended(sender, *, placement, actor, **kwargs) -> None:
    services.agreement_revise(placement=placement, actor=actor, reason=ServiceAgreement.Reason.ENDED)


@receiver(placement_cancelled, dispatch_uid="contracts.end_recorded_on_placement_cancelled")
def end_recorded_on_placement_cancelled(sender, *, placement, actor, **kwargs) -> None:
    if placement.agreements.exists():
        services.placement_end_record(
            placement=placement, actor=actor, end_date=placement.start_date, reason=placement.cancel_reason
        )


@receiver(block_rate_changed, dispatch_uid="contracts.placement_fees_follow_block_rate")
def placement_fees_follow_block_rate(sender, *, contract, effective_from, weekly_rate, actor, **kwargs) -> None:
    services.block_placement_fees_follow(
        contract=contract, effective_from=effective_from, weekly_rate=weekly_rate, actor=actor
    )
