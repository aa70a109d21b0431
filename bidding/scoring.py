"""Scoring a tender's bids: a pure function of the bids and the rules, no database.

price score   = lowest valid fee / this fee x 100
quality score = from the home's CQC overall rating (not yet rated: the lot's setting); or, when the
                tender copied a rule weighing more signals when published, their weighted sum
                (quality.scoring: key questions, rating age, monitoring, safeguarding)
total         = quality score x quality weight % + price score x price weight %
Ranked by total, then higher quality, then earlier submission. Bids above the council's
maximum rate are ranked like any other but flagged, so the broker sees them and decides.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from quality.models import RatingValue
from quality.scoring import DEFAULT_WEIGHTS, QualitySignals, weighted_quality

QUALITY_SCORES = {
    RatingValue.OUTSTANDING: Decimal(100),
    RatingValue.GOOD: Decimal(75),
    RatingValue.REQUIRES_IMPROVEMENT: Decimal(40),
    # Inadequate homes are suspended and never invited; should one slip through, it earns nothing.
    RatingValue.INADEQUATE: Decimal(0),
}

CENT = Decimal("0.01")


@dataclass(frozen=True)
class ScoringRules:
    quality_weight: int
    price_weight: int
    not_yet_rated_score: int
    max_weekly_rate: Decimal
    # The weights the tender copied when published; None (published before) or the overall rating
    # alone score on the overall rating as they always did.
    quality_parts: dict | None = None
    scored_on: date | None = None


@dataclass(frozen=True)
class BidForScoring:
    bid_id: int
    weekly_fee: Decimal
    rating: str | None
    submitted_at: datetime
    signals: QualitySignals | None = None


@dataclass(frozen=True)
class BidScore:
    bid_id: int
    quality_score: Decimal
    price_score: Decimal
    total_score: Decimal
    rank: int
    above_max_rate: bool
    working: dict


def _money(value: Decimal) -> str:
    return f"{value.quantize(CENT)}"


def quality_score(rating: str | None, rules: ScoringRules) -> tuple[Decimal, str]:
    if rating in QUALITY_SCORES:
        return QUALITY_SCORES[rating], f"CQC overall rating {rating}"
    return Decimal(rules.not_yet_rated_score), "Not yet rated by the CQC: the lot's score for unrated homes"


def _weighs_more_than_overall(rules: ScoringRules) -> bool:
    return bool(rules.quality_parts) and rules.quality_parts != DEFAULT_WEIGHTS


def bid_quality(bid: BidForScoring, rules: ScoringRules) -> tuple[Decimal, str, list[dict]]:
    """The bid's quality score, its working in words and the parts (empty on the overall rating alone)."""
    if not _weighs_more_than_overall(rules):
        score, words = quality_score(bid.rating, rules)
        return score, words, []
    signals = bid.signals or QualitySignals(overall=bid.rating)
    return weighted_quality(
        signals, rules.quality_parts, on=rules.scored_on or date.today(), unrated=rules.not_yet_rated_score
    )


def score_bids(bids: list[BidForScoring], rules: ScoringRules) -> list[BidScore]:
    """Score and rank valid bids; returns them best first."""
    if not bids:
        return []
    lowest = min(bid.weekly_fee for bid in bids)
    scored = []
    for bid in bids:
        quality, quality_basis, quality_parts = bid_quality(bid, rules)
        price = (lowest / bid.weekly_fee * 100).quantize(CENT, ROUND_HALF_UP)
        total = ((quality * rules.quality_weight + price * rules.price_weight) / Decimal(100)).quantize(
            CENT, ROUND_HALF_UP
        )
        above = bid.weekly_fee > rules.max_weekly_rate
        working = {
            "weekly_fee": _money(bid.weekly_fee),
            "lowest_valid_fee": _money(lowest),
            "price_score": f"{price}",
            "price_working": f"{_money(lowest)} / {_money(bid.weekly_fee)} x 100 = {price}",
            "rating": bid.rating or RatingValue.NOT_RATED.value,
            "quality_score": f"{quality.quantize(CENT)}",
            "quality_working": quality_basis,
            "quality_parts": quality_parts,
            "quality_weight": rules.quality_weight,
            "price_weight": rules.price_weight,
            "total_score": f"{total}",
            "total_working": (
                f"{quality.quantize(CENT)} x {rules.quality_weight}% + {price} x {rules.price_weight}% = {total}"
            ),
            "max_weekly_rate": _money(rules.max_weekly_rate),
            "above_max_rate": above,
        }
        scored.append((bid, quality, price, total, above, working))
    scored.sort(key=lambda row: (-row[3], -row[1], row[0].submitted_at, row[0].bid_id))
    results = []
    for rank, (bid, quality, price, total, above, working) in enumerate(scored, start=1):
        working["rank"] = rank
        results.append(
            BidScore(
                bid_id=bid.bid_id,
                quality_score=quality.quantize(CENT),
                price_score=price,
                total_score=total,
                rank=rank,
                above_max_rate=above,
                working=working,
            )
        )
    return results
