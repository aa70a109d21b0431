"""The tendering API end to end, and its refusals: 400 with fields, 403, 404, 409."""

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bidding.models import Tender
from bidding.services import database_now
from core.models import AuditEvent, Notification
from lots.models import LotRules
from placements.models import Placement, PlacementRequest
from quality.models import RatingValue

from .factories import ProviderOrganisationFactory, UserFactory, admitted_home

READ_WRITE_COUNCIL = ["read", "placement-requests"]
READ_WRITE_PROVIDER = ["read", "bids"]


def allow_short_windows(council) -> None:
    LotRules.objects.filter(commissioner=council, lot__number=1).update(min_window_hours=0)


def request_payload(**overrides):
    payload = {
        "case_reference": "LAS-2231",
        "lot": 1,
        "needs_summary": "Older person, needs help with mobility and personal care; mild memory loss.",
        "local_authority": "Staffordshire",
        "needed_from": (timezone.localdate() + timedelta(days=3)).isoformat(),
        "max_weekly_rate": "900.00",
    }
    payload.update(overrides)
    return payload


def wait_for(predicate, *, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("gave up waiting")
        time.sleep(0.2)


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_whole_journey_through_the_api_with_the_worker_closing_the_window(
    celery_worker, council_a, broker_a, provider_a, provider_b, provider_user_a, provider_user_b, api_as
):
    allow_short_windows(council_a)
    provider_c = ProviderOrganisationFactory(name="Chase Care Ltd", slug="provider-c")
    UserFactory(organisation=provider_c, role="provider", email="user@provider-c.example")
    good = admitted_home(council_a, provider=provider_a, rating=RatingValue.GOOD, name="Good A")
    outstanding = admitted_home(council_a, provider=provider_b, rating=RatingValue.OUTSTANDING, name="Outstanding B")
    ri = admitted_home(council_a, provider=provider_c, rating=RatingValue.REQUIRES_IMPROVEMENT, name="RI C")
    council = api_as(council_a, scopes=READ_WRITE_COUNCIL)
    callers = {home.pk: api_as(home.provider, scopes=READ_WRITE_PROVIDER) for home in (good, outstanding, ri)}

    created = council.post("/api/v1/placement-requests/", request_payload())
    assert created.status_code == 201, created.content
    request_id = created.json()["id"]
    assert created.json()["target_date"] == (timezone.localdate() + timedelta(days=5)).isoformat()

    closes_at = database_now() + timedelta(seconds=4)
    published = council.post(f"/api/v1/placement-requests/{request_id}/publish/", {"closes_at": closes_at.isoformat()})
    assert published.status_code == 201, published.content
    tender_id = published.json()["id"]
    assert published.json()["invited"] == 3

    def bid(home, fee):
        response = callers[home.pk].post(
            f"/api/v1/tenders/{tender_id}/bids/",
            {
                "care_home": home.pk,
                "weekly_fee": fee,
                "earliest_start": (timezone.localdate() + timedelta(days=4)).isoformat(),
                "needs_confirmed": True,
            },
        )
        assert response.status_code == 201, response.content
        return response.json()["id"]

    good_bid = bid(good, "760.00")
    outstanding_bid = bid(outstanding, "800.00")
    ri_bid = bid(ri, "650.00")
    amended = callers[good.pk].patch(f"/api/v1/tenders/{tender_id}/bids/{good_bid}/", {"weekly_fee": "1000.00"})
    assert amended.status_code == 200, amended.content
    withdrawn = callers[ri.pk].delete(f"/api/v1/tenders/{tender_id}/bids/{ri_bid}/")
    assert withdrawn.status_code == 204

    wait_for(lambda: Tender.objects.get(pk=tender_id).status == Tender.Status.EVALUATED)
    late = callers[good.pk].patch(f"/api/v1/tenders/{tender_id}/bids/{good_bid}/", {"weekly_fee": "700.00"})
    assert late.status_code == 409
    assert late.json()["code"] == "tender_closed"

    evaluation = council.get(f"/api/v1/tenders/{tender_id}/evaluation/")
    assert evaluation.status_code == 200, evaluation.content
    ranked = evaluation.json()["ranked"]
    # Outstanding B: price 800/800 = 100, quality 100 -> 100. Good A: price 800/1000 x 100 = 80,
    # quality 75 -> 75 x 60% + 80 x 40% = 77.
    assert [(row["id"], row["rank"], row["total_score"]) for row in ranked] == [
        (outstanding_bid, 1, "100.00"),
        (good_bid, 2, "77.00"),
    ]
    assert ranked[1]["above_max_rate"] is True
    assert ranked[1]["working"]["price_working"] == "800.00 / 1000.00 x 100 = 80.00"
    assert evaluation.json()["not_ranked"] == [
        {"id": ri_bid, "care_home_name": "RI C", "status": "withdrawn", "reason": ""}
    ]

    choice = {
        "bid": good_bid,
        "reason": "The person chose Good A to be near her daughter.",
        "top_up_payer": "Her daughter",
    }
    refused = council.post(f"/api/v1/tenders/{tender_id}/award/", choice)
    assert refused.status_code == 400 and refused.json()["code"] == "top_up_agreement_required", refused.content
    assert "top_up_payer" in refused.json()["errors"]
    agreement = council.post(
        f"/api/v1/placement-requests/{request_id}/top-up-agreements/",
        {
            "payer_name": "Her daughter",
            "relationship": "Daughter",
            "weekly_amount": "100.00",
            "starts_on": timezone.localdate().isoformat(),
            "signed_via": "paper",
            "signed_on": timezone.localdate().isoformat(),
            "affordability_confirmed": True,
        },
    )
    assert agreement.status_code == 201, agreement.content
    award = council.post(f"/api/v1/tenders/{tender_id}/award/", choice)
    assert award.status_code == 201, award.content
    assert award.json()["top_up_consent"] is True
    body = award.json()
    assert body["top_ranked"] is False
    assert body["top_up_weekly_amount"] == "100.00"
    placement = body["placement"]
    assert (placement["weekly_fee"], placement["council_weekly_amount"], placement["top_up_weekly_amount"]) == (
        "1000.00",
        "900.00",
        "100.00",
    )
    assert placement["care_home"] == good.pk
    assert placement["in_county"] is True
    stored = Placement.objects.get()
    request = PlacementRequest.objects.get(pk=request_id)
    assert stored.sourced_at == request.sourced_at is not None
    assert request.status == PlacementRequest.Status.AWARDED

    listed = council.get("/api/v1/placements/")
    assert [row["id"] for row in listed.json()["results"]] == [stored.pk]
    winner = callers[good.pk].get(f"/api/v1/tenders/{tender_id}/")
    assert winner.json()["case_reference"] == "LAS-2231"
    assert winner.json()["own_bids"][0]["outcome"] == "won"
    assert winner.json()["own_bids"][0]["rank"] == 2
    loser = callers[outstanding.pk].get(f"/api/v1/tenders/{tender_id}/")
    assert loser.json()["case_reference"] is None
    assert loser.json()["own_bids"][0]["outcome"] == "unsuccessful"
    verbs = list(
        AuditEvent.objects.filter(target_id=str(request_id), target_type="placements.placementrequest")
        .order_by("pk")
        .values_list("verb", flat=True)
    )
    assert verbs == [
        "placements.request.created",
        "bidding.tender.published",
        "bidding.bid.submitted",
        "bidding.bid.submitted",
        "bidding.bid.submitted",
        "bidding.bid.amended",
        "bidding.bid.withdrawn",
        "bidding.tender.closed",
        "bidding.tender.evaluated",
        "contracts.top_up_agreement.recorded",
        "bidding.tender.awarded",
    ]
    assert Notification.objects.filter(verb="bidding.bid.won").count() == 1
    assert Notification.objects.filter(verb="bidding.bid.unsuccessful").count() == 1


@pytest.mark.django_db
def test_request_without_an_area_is_refused_with_field_messages(council_a, api_as):
    council = api_as(council_a, scopes=READ_WRITE_COUNCIL)

    response = council.post("/api/v1/placement-requests/", request_payload(local_authority=""))

    assert response.status_code == 400
    assert "local_authority" in response.json()["errors"]
    missing = council.post("/api/v1/placement-requests/", {"lot": 1})
    assert missing.status_code == 400
    assert {"case_reference", "needs_summary", "needed_from"} <= set(missing.json()["errors"])


@pytest.mark.django_db
def test_max_rate_defaults_to_the_lots_guide_fee(council_a, api_as):
    council = api_as(council_a, scopes=READ_WRITE_COUNCIL)
    guide = LotRules.objects.get(commissioner=council_a, lot__number=1).guide_weekly_fee

    response = council.post("/api/v1/placement-requests/", request_payload(max_weekly_rate=None))

    assert response.status_code == 201
    assert Decimal(response.json()["max_weekly_rate"]) == guide


@pytest.mark.django_db
def test_scopes_roles_and_other_councils(council_a, council_b, provider_a, broker_a, api_as):
    reader = api_as(council_a, scopes=["read"])
    assert reader.post("/api/v1/placement-requests/", request_payload()).status_code == 403
    commissioner_system = api_as(council_a, scopes=READ_WRITE_COUNCIL, role="commissioner")
    assert commissioner_system.post("/api/v1/placement-requests/", request_payload()).status_code == 403
    own = api_as(council_a, scopes=READ_WRITE_COUNCIL).post("/api/v1/placement-requests/", request_payload())
    request_id = own.json()["id"]
    other_council = api_as(council_b, scopes=READ_WRITE_COUNCIL)
    assert other_council.get(f"/api/v1/placement-requests/{request_id}/").status_code == 404
    assert other_council.post(f"/api/v1/placement-requests/{request_id}/publish/", {}).status_code == 404
    provider = api_as(provider_a, scopes=["read", "bids"])
    assert provider.get("/api/v1/placement-requests/").status_code == 403
    assert api_as(council_a, scopes=["read"]).get(f"/api/v1/placement-requests/{request_id}/").status_code == 200


@pytest.mark.django_db
def test_publish_with_no_eligible_home_explains_why(council_a, api_as):
    council = api_as(council_a, scopes=READ_WRITE_COUNCIL)
    request_id = council.post("/api/v1/placement-requests/", request_payload()).json()["id"]

    response = council.post(f"/api/v1/placement-requests/{request_id}/publish/", {})

    assert response.status_code == 400
    assert response.json()["detail"] == "No home is admitted to lot 1 (suspended homes are not invited)."


@pytest.mark.django_db
def test_request_list_filters_by_status_with_bounded_queries(
    council_a, broker_a, api_as, django_assert_max_num_queries
):
    from .factories import PlacementRequestFactory

    for number in range(5):
        PlacementRequestFactory(commissioner=council_a, created_by=broker_a, case_reference=f"C-{number}")
    PlacementRequestFactory(
        commissioner=council_a, created_by=broker_a, status=PlacementRequest.Status.CANCELLED, case_reference="X"
    )
    council = api_as(council_a, scopes=["read"])

    with django_assert_max_num_queries(8):
        response = council.get("/api/v1/placement-requests/?status=new")

    assert response.status_code == 200
    assert sorted(row["case_reference"] for row in response.json()["results"]) == [f"C-{n}" for n in range(5)]
    assert "next" in response.json()
