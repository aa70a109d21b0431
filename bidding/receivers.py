"""Bidding's part in other apps' work, connected from `BiddingConfig.ready()`."""

from placements.retention import (
    REMOVED,
    PersonalDataHolder,
    RetentionScope,
    audit_targets,
    personal_data_holder_register,
)

from .models import Award, Bid, Tender


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
