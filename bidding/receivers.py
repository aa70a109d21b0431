"""Bidding's part in other apps' work, connected from `BiddingConfig.ready()`: a suspended home, or
one closed to admissions, leaves open tenders, and retention clears the awards' copies of a person's details."""

from django.dispatch import receiver

from placements.retention import (
    REMOVED,
    PersonalDataHolder,
    RetentionScope,
    audit_targets,
    personal_data_holder_register,
)
from providers.signals import admission_closure_started, care_home_suspended

from .models import Award, Bid, Tender
from .services import invitations_withdraw_for_care_home


@receiver(care_home_suspended, dispatch_uid="bidding.invitations_withdrawn_on_suspension")
def invitations_withdrawn_on_suspension(sender, *, care_home, actor, reason: str, commissioner, lot, **kwargs) -> None:
    invitations_withdraw_for_care_home(
        care_home=care_home, actor=actor, reason=reason, commissioner=commissioner, lot=lot
    )


@receiver(admission_closure_started, dispatch_uid="bidding.invitations_withdrawn_on_closure")
def invitations_withdrawn_on_closure(sender, *, care_home, actor, reason: str, commissioner, **kwargs) -> None:
    # A closure for every body (commissioner None) withdraws the home from every body's open tenders.
    invitations_withdraw_for_care_home(care_home=care_home, actor=actor, reason=reason, commissioner=commissioner)


def _tenders(scope: RetentionScope):
    return Tender.objects.filter(request_id__in=scope.request_ids).values_list("pk", flat=True)


def _awards(scope: RetentionScope):
    return Award.objects.filter(tender_id__in=_tenders(scope))


def _bids(scope: RetentionScope):
    return Bid.objects.filter(tender_id__in=_tenders(scope))


def _clear(scope: RetentionScope) -> None:
    _awards(scope).exclude(top_up_payer="").update(top_up_payer=REMOVED)


personal_data_holder_register(
    "bidding",
    PersonalDataHolder(
        names=lambda scope: _awards(scope).values_list("top_up_payer", flat=True),
        clear=_clear,
        audit_targets=lambda scope: (
            audit_targets(Tender, _tenders(scope))
            | audit_targets(Award, _awards(scope).values_list("pk", flat=True))
            | audit_targets(Bid, _bids(scope).values_list("pk", flat=True))
        ),
        organisations=lambda scope: _bids(scope).values_list("provider_id", flat=True),
    ),
)
