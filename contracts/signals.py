"""Contracts keeps each placement's service agreement in step with what lower apps do, and lets go of
the agreements' personal details when placements' retention period passes."""

from django.db.models import Q
from django.dispatch import receiver

from bidding.hooks import register_award_check
from blockbeds.signals import block_rate_changed
from placements.history_import import imported_shares_writer_register
from placements.models import Placement
from placements.retention import (
    REMOVED,
    PersonalDataHolder,
    RetentionScope,
    audit_targets,
    personal_data_holder_register,
)
from placements.signals import (
    assessment_outcome_recorded,
    placement_cancelled,
    placement_created,
    placement_ended,
)

from . import services
from .models import FundingShare, PayerType, ServiceAgreement, TopUpAgreement

NAMED_PAYERS = (PayerType.CONTRIBUTION, PayerType.TOP_UP)


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


@receiver(assessment_outcome_recorded, dispatch_uid="contracts.funding_and_payments_on_assessment_outcome")
def funding_and_payments_on_assessment_outcome(sender, *, placement, outcome, on, by, **kwargs) -> None:
    """The outcome earns its outcome payments; long term in the same home moves what the NHS paid
    during the assessment to the council, in a new agreement version from that date."""
    services.outcome_payments_earn(placement=placement, outcome=outcome, on=on, by=by)
    if outcome == Placement.AssessmentOutcome.LONG_TERM_SAME_HOME:
        services.funding_nhs_interim_end(placement=placement, on=on, by=by)


register_award_check(services.top_up_award_check)
imported_shares_writer_register(services.imported_shares_write)


def _agreements(scope: RetentionScope):
    return ServiceAgreement.objects.filter(placement__in=scope.placements)


def _top_ups(scope: RetentionScope):
    return TopUpAgreement.objects.filter(Q(placement__in=scope.placements) | Q(request__in=scope.requests))


def _named_shares(scope: RetentionScope):
    return FundingShare.objects.filter(placement__in=scope.placements).exclude(payer_name="")


def _names(scope: RetentionScope):
    return [
        *_agreements(scope).values_list("top_up_payer", flat=True),
        *_top_ups(scope).values_list("payer_name", flat=True),
        *_named_shares(scope).values_list("payer_name", flat=True),
    ]


def _agreements_clear(scope: RetentionScope) -> None:
    agreements = _agreements(scope)
    agreements.exclude(top_up_payer="").update(top_up_payer=REMOVED)
    agreements.exclude(top_up_terms="").update(top_up_terms="")
    _top_ups(scope).update(payer_name=REMOVED, relationship=REMOVED, affordability_note="")
    _named_shares(scope).update(payer_name=REMOVED)
    for agreement in agreements.exclude(funding_shares=[]):
        agreement.funding_shares = [
            {**share, "payer": REMOVED} if share.get("payer_type") in NAMED_PAYERS else share
            for share in agreement.funding_shares
        ]
        agreement.save(update_fields=["funding_shares"])
    for request in scope.requests:
        agreements.filter(Q(placement__request_id=request.pk) | Q(placement__lapsed_request_id=request.pk)).update(
            case_reference=scope.anonymous[request.pk]
        )


personal_data_holder_register(
    "contracts",
    PersonalDataHolder(
        names=_names,
        clear=_agreements_clear,
        audit_targets=lambda scope: audit_targets(ServiceAgreement, _agreements(scope).values_list("pk", flat=True)),
    ),
)
