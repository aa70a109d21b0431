"""A quality score worth its weight: a body's rule per lot weighs the CQC overall rating, its key
questions, the rating's age, the latest monitoring score and open safeguarding concerns; a tender copies
the rule when published, so changing it never rescores that tender; tenders published before score on
the overall rating alone; each ranked bid shows its working."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bidding.models import Bid, Tender
from bidding.services import bid_submit, tender_close_and_evaluate, tender_publish
from core.errors import ApplicationError
from lots.models import Lot
from quality.models import RatingValue
from quality.scoring import QualitySignals, part_scores, risk_rating, weighted_quality
from quality.services import (
    concern_record,
    monitoring_framework_start,
    monitoring_visit_record,
    quality_scoring_rule_set,
)

from .factories import PlacementRequestFactory, admitted_home

pytestmark = pytest.mark.django_db


def visit(actor, home, each: int):
    framework = actor.organisation.monitoring_framework
    monitoring_visit_record(
        actor=actor,
        care_home=home,
        visited_on=timezone.localdate(),
        visitor="Quality officer",
        findings="",
        scores={q.pk: each for q in framework.questions.all()},
    )


def bid(home, tender, fee="800"):
    return bid_submit(
        actor=home.provider.users.get(),
        tender=tender,
        care_home=home,
        weekly_fee=Decimal(fee),
        earliest_start=timezone.localdate() + timedelta(days=2),
        needs_confirmed=True,
    )


def close(tender):
    Tender.objects.filter(pk=tender.pk).update(
        opened_at=timezone.now() - timedelta(hours=3), closes_at=timezone.now() - timedelta(seconds=1)
    )
    tender_close_and_evaluate(tender_id=tender.pk)


@pytest.fixture
def two_good_homes(council_a, commissioner_a, provider_a, provider_b, provider_user_a, provider_user_b):
    well_run = admitted_home(council_a, provider=provider_a, rating=RatingValue.GOOD, name="Well Run")
    struggling = admitted_home(council_a, provider=provider_b, rating=RatingValue.GOOD, name="Struggling")
    monitoring_framework_start(actor=commissioner_a)
    visit(commissioner_a, well_run, 4)  # 100
    visit(commissioner_a, struggling, 2)  # 50
    return well_run, struggling


def test_same_rating_different_monitoring_rank_differently_and_a_closed_tender_keeps_its_scores(
    council_a, commissioner_a, broker_a, two_good_homes
):
    well_run, struggling = two_good_homes
    lot = Lot.objects.get(number=1)
    quality_scoring_rule_set(
        actor=commissioner_a, lot=lot, weights={"overall": 50, "key_questions": 20, "monitoring": 30}
    )
    tender = tender_publish(
        actor=broker_a, request=PlacementRequestFactory(commissioner=council_a, created_by=broker_a)
    )
    assert tender.quality_rules == {"weights": {"overall": 50, "key_questions": 20, "monitoring": 30}}
    bid(struggling, tender)
    bid(well_run, tender)
    # Changed while the tender is open: the tender scores with the copy it was published with.
    quality_scoring_rule_set(actor=commissioner_a, lot=lot, weights={"overall": 100})
    close(tender)

    ranked = {b.care_home_id: b for b in Bid.objects.filter(invitation__tender=tender)}
    first, second = ranked[well_run.pk], ranked[struggling.pk]
    # 75 x 50% + 75 x 20% + 100 x 30% = 82.5 against 75 x 50% + 75 x 20% + 50 x 30% = 67.5
    assert (first.quality_score, second.quality_score) == (Decimal("82.50"), Decimal("67.50"))
    assert (first.rank, second.rank) == (1, 2)
    assert (
        first.working["quality_working"] == "CQC Good 75 x 50% + key questions 75 x 20% + monitoring 100 x 30% = 82.5"
    )
    assert (
        second.working["quality_working"] == "CQC Good 75 x 50% + key questions 75 x 20% + monitoring 50 x 30% = 67.5"
    )
    assert [p["part"] for p in first.working["quality_parts"]] == ["overall", "key_questions", "monitoring"]

    # The rule changes again after the close: the closed tender keeps its copy and its scores.
    quality_scoring_rule_set(actor=commissioner_a, lot=lot, weights={"overall": 20, "monitoring": 80})
    tender.refresh_from_db()
    assert tender.quality_rules == {"weights": {"overall": 50, "key_questions": 20, "monitoring": 30}}
    first.refresh_from_db()
    assert (first.quality_score, first.rank) == (Decimal("82.50"), 1)


def test_tenders_published_before_score_on_the_overall_rating_alone(
    council_a, commissioner_a, broker_a, two_good_homes
):
    well_run, struggling = two_good_homes
    quality_scoring_rule_set(
        actor=commissioner_a, lot=Lot.objects.get(number=1), weights={"overall": 40, "monitoring": 60}
    )
    tender = tender_publish(
        actor=broker_a, request=PlacementRequestFactory(commissioner=council_a, created_by=broker_a)
    )
    Tender.objects.filter(pk=tender.pk).update(quality_rules=None)  # as published before the rules existed
    bid(struggling, tender, "800")
    bid(well_run, tender, "800")
    close(tender)
    scored = list(Bid.objects.filter(invitation__tender=tender))
    assert {b.quality_score for b in scored} == {Decimal("75.00")}
    assert {b.working["quality_working"] for b in scored} == {"CQC overall rating Good"}


def test_without_a_saved_rule_a_tender_copies_the_overall_rating_alone(council_a, broker_a, two_good_homes):
    tender = tender_publish(
        actor=broker_a, request=PlacementRequestFactory(commissioner=council_a, created_by=broker_a)
    )
    assert tender.quality_rules == {"weights": {"overall": 100}}


def test_weights_add_up_to_100_and_only_commissioners_set_them(commissioner_a, broker_a):
    lot = Lot.objects.get(number=1)
    with pytest.raises(ApplicationError) as error:
        quality_scoring_rule_set(actor=commissioner_a, lot=lot, weights={"overall": 50, "monitoring": 30})
    assert "add up to 100" in error.value.fields["overall"][0]
    with pytest.raises(ApplicationError):
        quality_scoring_rule_set(actor=broker_a, lot=lot, weights={"overall": 100})


def test_each_part_and_the_working_by_hand():
    on = timezone.localdate()
    signals = QualitySignals(
        overall=RatingValue.GOOD,
        key_questions={
            "safe": "Good",
            "effective": "Outstanding",
            "caring": "Good",
            "responsive": "Good",
            "well_led": "Requires improvement",
        },
        report_date=on - timedelta(days=800),
        monitoring=Decimal("86.00"),
        open_safeguarding=1,
    )
    parts = part_scores(signals, on=on, unrated=50)
    # key questions: (75 + 100 + 75 + 75 + 40) / 5 = 73; two whole years old: 50; one open concern: 50
    assert parts == {
        "overall": Decimal(75),
        "key_questions": Decimal("73.00"),
        "rating_age": Decimal(50),
        "monitoring": Decimal("86.00"),
        "safeguarding": Decimal(50),
    }
    total, words, _ = weighted_quality(
        signals, {"overall": 50, "key_questions": 20, "monitoring": 30}, on=on, unrated=50
    )
    assert total == Decimal("77.90")
    assert words == "CQC Good 75 x 50% + key questions 73 x 20% + monitoring 86 x 30% = 77.9"
    assert risk_rating(signals, on=on)[0] == "red"
    assert risk_rating(QualitySignals(overall="Good", key_questions={"safe": "Good"}, report_date=on), on=on) == (
        "green",
        [],
    )
    assert risk_rating(QualitySignals(overall="Good", monitoring=Decimal(60), report_date=on), on=on)[0] == "amber"


def test_the_risk_rating_shows_on_the_care_home_search_the_home_page_and_the_api(
    council_a, council_b, commissioner_a, commissioner_b, broker_a, two_good_homes, as_user, api_as
):
    _, struggling = two_good_homes  # monitoring 100 and 50
    concern_record(
        actor=commissioner_a,
        care_home=struggling,
        kind="safeguarding",
        received_on=timezone.localdate(),
        category="neglect",
        severity="high",
        reference="SG-1",
    )
    search = as_user(broker_a).get("/care-homes/search/?local_authority=Staffordshire")
    body = search.content.decode()
    assert search.status_code == 200
    assert body.count("govuk-tag--red") == 1 and body.count("govuk-tag--green") == 1
    assert "1 open safeguarding concern(s)" in body
    csv = b"".join(
        as_user(broker_a).get("/care-homes/search/?local_authority=Staffordshire&format=csv").streaming_content
    )
    assert b",red" in csv and b",green" in csv
    page = as_user(commissioner_a).get(f"/commissioner/care-homes/{struggling.pk}/quality/")
    assert b"govuk-tag--red" in page.content
    # Another body's search knows nothing of council A's concern or monitoring.
    other = as_user(commissioner_b).get("/care-homes/search/?local_authority=Staffordshire").content.decode()
    assert other.count("govuk-tag--green") == 2 and "govuk-tag--red" not in other
    # The API lists the same ratings, page and single home alike; a provider's system sees none.
    system = api_as(council_a, scopes=["read"], role="broker")
    listed = system.get("/api/v1/care-homes/?local_authority=Staffordshire").json()["results"]
    risks = {home["name"]: home["risk"] for home in listed}
    assert risks["Struggling"]["rating"] == "red" and "1 open safeguarding concern(s)" in risks["Struggling"]["reasons"]
    assert risks["Well Run"] == {"rating": "green", "reasons": []}
    assert system.get(f"/api/v1/care-homes/{struggling.pk}/").json()["risk"]["rating"] == "red"
    own = api_as(struggling.provider, scopes=["read"]).get(f"/api/v1/care-homes/{struggling.pk}/").json()
    assert own["risk"] is None
    assert (
        api_as(council_b, scopes=["read"], role="broker")
        .get(f"/api/v1/care-homes/{struggling.pk}/")
        .json()["risk"]["rating"]
        == "green"
    )


def test_rules_page_csv_and_api(council_a, commissioner_a, as_user, api_as):
    page = as_user(commissioner_a).post("/commissioner/quality-scoring/2/", {"overall": "60", "monitoring": "30"})
    assert page.status_code == 200 and b"add up to 100" in page.content
    as_user(commissioner_a).post("/commissioner/quality-scoring/2/", {"overall": "60", "monitoring": "40"})
    csv = b"".join(as_user(commissioner_a).get("/commissioner/quality-scoring/?format=csv").streaming_content)
    assert b"2,Older people residential dementia,60,0,0,40,0,yes" in csv
    system = api_as(council_a, scopes=["read", "quality"], role="commissioner")
    listed = system.get("/api/v1/quality-scoring-rules/").json()
    assert next(r for r in listed if r["lot"] == 2)["monitoring"] == 40
    refused = system.put("/api/v1/quality-scoring-rules/3/", {"overall": 90})
    assert refused.status_code == 400 and "overall" in refused.json()["errors"]
    saved = system.put("/api/v1/quality-scoring-rules/3/", {"overall": 50, "key_questions": 50})
    assert saved.status_code == 200 and saved.json()["saved"] is True
