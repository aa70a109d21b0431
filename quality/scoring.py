"""Quality signals of a home for a body, the 0-100 score of each, and the risk rating that combines them.

The signals: the CQC overall rating, its five key questions, the rating's age, the body's latest
contract monitoring score and the body's open safeguarding concerns. Bid scoring (bidding.scoring)
weighs the parts by the rule the tender copied when it was published; the risk rating (red, amber,
green) reads the same signals wherever homes are listed to a council.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from .models import QUALITY_PARTS, RatingValue

RATING_SCORES = {
    RatingValue.OUTSTANDING: Decimal(100),
    RatingValue.GOOD: Decimal(75),
    RatingValue.REQUIRES_IMPROVEMENT: Decimal(40),
    RatingValue.INADEQUATE: Decimal(0),
}
PART_LABELS = {
    "overall": "CQC",
    "key_questions": "key questions",
    "rating_age": "rating age",
    "monitoring": "monitoring",
    "safeguarding": "safeguarding",
}
# The rating age score: 100 within a year of the report, 25 less for each further whole year.
AGE_STEP = 25
# Each open safeguarding concern of the body takes this much off 100.
SAFEGUARDING_STEP = 50
DEFAULT_WEIGHTS = {"overall": 100}
TENTH = Decimal("0.1")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class QualitySignals:
    overall: str | None = None
    key_questions: dict = field(default_factory=dict)
    report_date: date | None = None
    monitoring: Decimal | None = None
    open_safeguarding: int = 0
    overdue_actions: int = 0
    embargoed: bool = False


def _mean(values: list[Decimal]) -> Decimal:
    return (sum(values) / len(values)).quantize(CENT, ROUND_HALF_UP)


def part_scores(signals: QualitySignals, *, on: date, unrated: int) -> dict[str, Decimal]:
    """Each part's score out of 100. A part with nothing to go on (no rating, no report date, no
    monitoring visit) takes the lot's score for unrated homes."""
    rated = [RATING_SCORES[v] for v in signals.key_questions.values() if v in RATING_SCORES]
    if signals.report_date is None:
        age = Decimal(unrated)
    else:
        years = max(0, (on - signals.report_date).days) // 365
        age = Decimal(max(0, 100 - AGE_STEP * years))
    return {
        "overall": RATING_SCORES.get(signals.overall, Decimal(unrated)),
        "key_questions": _mean(rated) if rated else Decimal(unrated),
        "rating_age": age,
        "monitoring": signals.monitoring if signals.monitoring is not None else Decimal(unrated),
        "safeguarding": Decimal(max(0, 100 - SAFEGUARDING_STEP * signals.open_safeguarding)),
    }


def _number(value: Decimal) -> str:
    """75, 86.5, 79.33: no trailing zeros, at most two places."""
    text = f"{value.quantize(CENT, ROUND_HALF_UP):f}".rstrip("0").rstrip(".")
    return text or "0"


def weighted_quality(
    signals: QualitySignals, weights: dict[str, int], *, on: date, unrated: int
) -> tuple[Decimal, str, list[dict]]:
    """The quality score under a rule's weights, the working in words and each part's numbers."""
    scores = part_scores(signals, on=on, unrated=unrated)
    parts = [(part, weights[part]) for part in QUALITY_PARTS if weights.get(part)]
    total = (sum(scores[part] * weight for part, weight in parts) / Decimal(100)).quantize(CENT, ROUND_HALF_UP)
    words = []
    for part, weight in parts:
        label = PART_LABELS[part]
        if part == "overall":
            label = f"CQC {signals.overall}" if signals.overall in RATING_SCORES else "CQC not yet rated"
        words.append(f"{label} {_number(scores[part])} x {weight}%")
    working = f"{' + '.join(words)} = {_number(total)}"
    numbers = [{"part": part, "score": f"{scores[part]}", "weight": weight} for part, weight in parts]
    return total, working, numbers


class Risk:
    RED = "red"
    AMBER = "amber"
    GREEN = "green"


def risk_rating(signals: QualitySignals, *, on: date) -> tuple[str, list[str]]:
    """Red, amber or green with the reasons. Red: rated Inadequate, an open safeguarding concern or
    an embargo, or a monitoring score under 50. Amber: rated Requires improvement or not yet rated, a
    key question below Good, a report over three years old, a monitoring score under 75, or an overdue
    improvement action. Green otherwise."""
    red, amber = [], []
    if signals.overall == RatingValue.INADEQUATE:
        red.append("CQC Inadequate")
    if signals.open_safeguarding:
        red.append(f"{signals.open_safeguarding} open safeguarding concern(s)")
    if signals.embargoed:
        red.append("under embargo")
    if signals.monitoring is not None and signals.monitoring < 50:
        red.append(f"monitoring score {_number(signals.monitoring)}")
    if signals.overall == RatingValue.REQUIRES_IMPROVEMENT:
        amber.append("CQC Requires improvement")
    elif signals.overall not in RATING_SCORES:
        amber.append("not yet rated by the CQC")
    weak = [
        k for k, v in signals.key_questions.items() if v in (RatingValue.REQUIRES_IMPROVEMENT, RatingValue.INADEQUATE)
    ]
    if weak:
        amber.append(f"key questions below Good: {', '.join(k.replace('_', '-') for k in weak)}")
    if signals.report_date is not None and (on - signals.report_date).days > 3 * 365:
        amber.append("CQC report over three years old")
    if signals.monitoring is not None and 50 <= signals.monitoring < 75:
        amber.append(f"monitoring score {_number(signals.monitoring)}")
    if signals.overdue_actions:
        amber.append(f"{signals.overdue_actions} overdue improvement action(s)")
    if red:
        return Risk.RED, red + amber
    if amber:
        return Risk.AMBER, amber
    return Risk.GREEN, []
