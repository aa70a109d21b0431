"""Checks that higher apps register to take part in an award, filled at start-up.

Fairness must be able to refuse an award (an abnormally low fee without recorded
deliverability) and to carry the person's choice into its terms, yet bidding must not import
fairness. Each check receives the terms so far and returns them, possibly changed, or raises
an `ApplicationError` to refuse the award.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class AwardTerms:
    reason: str
    top_up_payer: str
    chosen_by_person: bool = False
    top_up_consent: bool = False


AwardCheck = Callable[..., AwardTerms]

_award_checks: list[AwardCheck] = []


def register_award_check(check: AwardCheck) -> AwardCheck:
    """Add `check(*, tender, bid, reason, top_up_payer) -> AwardTerms`, once."""
    if check not in _award_checks:
        _award_checks.append(check)
    return check


def award_checks_run(*, tender, bid, reason: str, top_up_payer: str) -> AwardTerms:
    terms = AwardTerms(reason=reason, top_up_payer=top_up_payer)
    for check in _award_checks:
        result = check(tender=tender, bid=bid, reason=terms.reason, top_up_payer=terms.top_up_payer)
        # A check that does not know of the person's choice or a top-up consent keeps what an earlier one found.
        terms = AwardTerms(
            reason=result.reason,
            top_up_payer=result.top_up_payer,
            chosen_by_person=terms.chosen_by_person or result.chosen_by_person,
            top_up_consent=terms.top_up_consent or result.top_up_consent,
        )
    return terms
