"""The evaluation formula, as a pure function: no database."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bidding.scoring import BidForScoring, ScoringRules, score_bids

RULES = ScoringRules(quality_weight=60, price_weight=40, not_yet_rated_score=50, max_weekly_rate=Decimal("900"))
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def bid(bid_id, fee, rating, minutes=0):
    return BidForScoring(
        bid_id=bid_id, weekly_fee=Decimal(fee), rating=rating, submitted_at=T0 + timedelta(minutes=minutes)
    )


def test_scores_follow_the_formula_and_rank_by_total():
    results = score_bids(
        [bid(1, "700", "Good"), bid(2, "800", "Outstanding"), bid(3, "1000", "Requires improvement")], RULES
    )

    by_id = {r.bid_id: r for r in results}
    assert (by_id[1].price_score, by_id[1].quality_score, by_id[1].total_score) == (
        Decimal("100.00"),
        Decimal("75.00"),
        Decimal("85.00"),
    )
    assert (by_id[2].price_score, by_id[2].total_score) == (Decimal("87.50"), Decimal("95.00"))
    assert (by_id[3].price_score, by_id[3].total_score) == (Decimal("70.00"), Decimal("52.00"))
    assert [r.bid_id for r in results] == [2, 1, 3]
    assert [r.rank for r in results] == [1, 2, 3]


def test_bid_above_the_maximum_rate_is_ranked_but_flagged():
    results = score_bids([bid(1, "950", "Outstanding"), bid(2, "900", "Good")], RULES)

    flagged = {r.bid_id: r.above_max_rate for r in results}
    assert flagged == {1: True, 2: False}
    assert results[0].bid_id == 1
    assert results[0].working["above_max_rate"] is True


def test_not_yet_rated_home_gets_the_lots_score():
    rules = ScoringRules(quality_weight=50, price_weight=50, not_yet_rated_score=60, max_weekly_rate=Decimal("900"))
    (result,) = score_bids([bid(1, "800", None)], rules)

    assert result.quality_score == Decimal("60.00")
    assert result.total_score == Decimal("80.00")
    assert result.working["rating"] == "Not yet rated"


def test_equal_bids_rank_by_earlier_submission():
    rules = ScoringRules(quality_weight=50, price_weight=50, not_yet_rated_score=50, max_weekly_rate=Decimal("2000"))
    results = score_bids(
        [
            bid(1, "800", "Good", minutes=5),
            bid(2, "800", "Good", minutes=1),
            bid(3, "1000", "Outstanding", minutes=9),
        ],
        rules,
    )
    totals = {r.bid_id: r.total_score for r in results}
    assert totals == {1: Decimal("87.50"), 2: Decimal("87.50"), 3: Decimal("90.00")}
    assert [r.bid_id for r in results] == [3, 2, 1]


def test_equal_totals_prefer_higher_quality():
    rules = ScoringRules(quality_weight=50, price_weight=50, not_yet_rated_score=50, max_weekly_rate=Decimal("2000"))
    # Good at 500: 75/2 + 100/2 = 87.50. Outstanding at 666.67: 100/2 + 75.00/2 = 87.50.
    results = score_bids([bid(1, "500", "Good"), bid(2, "666.67", "Outstanding", minutes=30)], rules)

    assert results[0].total_score == results[1].total_score == Decimal("87.50")
    assert [r.bid_id for r in results] == [2, 1]


def test_each_score_carries_its_working():
    (result,) = score_bids([bid(7, "750", "Good")], RULES)

    assert result.working["price_working"] == "750.00 / 750.00 x 100 = 100.00"
    assert result.working["total_working"] == "75.00 x 60% + 100.00 x 40% = 85.00"
    assert result.working["rank"] == 1
