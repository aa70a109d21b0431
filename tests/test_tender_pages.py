"""The brokers' and providers' tendering pages: forms, refusals shown on the page, exports."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bidding.models import Bid, Tender
from bidding.services import bid_submit, tender_publish, tenders_close_overdue
from placements.models import PlacementRequest
from quality.models import RatingValue

from .factories import PlacementRequestFactory, admitted_home, lot

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(council_a, broker_a, provider_a, provider_user_a):
    home = admitted_home(council_a, provider=provider_a, rating=RatingValue.GOOD, name="Brook House")
    request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a, case_reference="CASE-PAGES")
    return tender_publish(actor=broker_a, request=request), home


def date_fields(name: str, day) -> dict:
    return {f"{name}_0": str(day.day), f"{name}_1": str(day.month), f"{name}_2": str(day.year)}


def close_now(tender):
    Tender.objects.filter(pk=tender.pk).update(
        opened_at=timezone.now() - timedelta(hours=3), closes_at=timezone.now() - timedelta(seconds=1)
    )


def test_broker_creates_a_request_with_the_lots_target_date(broker_a, as_user):
    client = as_user(broker_a)
    response = client.post(
        "/broker/requests/new/",
        {
            "case_reference": "LAS-1",
            "lot": lot(1).pk,
            "needs_summary": "Needs help with mobility.",
            "local_authority": "Staffordshire",
            **date_fields("needed_from", timezone.localdate()),
        },
    )

    request = PlacementRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/broker/requests/{request.pk}/"
    assert request.target_date == timezone.localdate(request.requested_at) + timedelta(days=5)
    assert request.max_weekly_rate > 0
    assert "LAS-1" in client.get("/broker/").content.decode()


def test_request_form_shows_the_missing_area(broker_a, as_user):
    response = as_user(broker_a).post(
        "/broker/requests/new/",
        {
            "case_reference": "LAS-1",
            "lot": lot(1).pk,
            "needs_summary": "x",
            **date_fields("needed_from", timezone.localdate()),
        },
    )

    assert response.status_code == 200
    assert "Give a local authority, or a location with a maximum distance." in response.content.decode()
    assert not PlacementRequest.objects.exists()


def test_commissioner_reads_requests_but_cannot_publish(commissioner_a, broker_a, council_a, as_user):
    request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a)
    client = as_user(commissioner_a)

    assert client.get(f"/broker/requests/{request.pk}/").status_code == 200
    assert client.post(f"/broker/requests/{request.pk}/publish/").status_code == 403
    assert client.get("/broker/requests/new/").status_code == 403


def test_publishing_with_no_eligible_home_says_why_on_the_page(council_a, broker_a, as_user):
    request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a)

    response = as_user(broker_a).post(f"/broker/requests/{request.pk}/publish/", {"closes_at": ""})

    assert response.status_code == 400
    assert "No home is admitted to lot 1" in response.content.decode()


def test_provider_bids_through_the_page_and_a_late_bid_gets_a_clear_error(published, provider_user_a, as_user):
    tender, _ = published
    invitation = tender.invitations.get()
    client = as_user(provider_user_a)
    form = {"weekly_fee": "810.00", **date_fields("earliest_start", timezone.localdate()), "needs_confirmed": "on"}

    assert client.post(f"/provider/invitations/{invitation.pk}/", form).status_code == 302
    assert Bid.objects.get().weekly_fee == Decimal("810.00")
    close_now(tender)
    late = client.post(f"/provider/invitations/{invitation.pk}/", {**form, "weekly_fee": "700.00"})
    withdraw = client.post(f"/provider/invitations/{invitation.pk}/withdraw/", {"reason": ""})

    assert late.status_code == 409
    assert "bids can no longer be submitted, amended or withdrawn" in late.content.decode()
    assert withdraw.status_code == 409
    assert Bid.objects.get().weekly_fee == Decimal("810.00")
    assert Bid.objects.get().status == Bid.Status.SUBMITTED


def test_sweeper_closes_overdue_tenders_and_the_ranking_exports_as_csv(published, provider_user_a, broker_a, as_user):
    tender, home = published
    bid_submit(
        actor=provider_user_a,
        tender=tender,
        care_home=home,
        weekly_fee=Decimal("810.00"),
        earliest_start=timezone.localdate(),
        needs_confirmed=True,
    )
    close_now(tender)

    assert tenders_close_overdue() == 1

    assert Tender.objects.get(pk=tender.pk).status == Tender.Status.EVALUATED
    response = as_user(broker_a).get(f"/broker/requests/{tender.request_id}/?format=csv")
    rows = b"".join(response.streaming_content).decode().splitlines()
    assert rows[0].startswith("rank,care_home,provider,rating,weekly_fee")
    assert rows[1].startswith("1,Brook House,")


def test_invitation_list_has_bounded_queries(
    published, council_a, broker_a, provider_user_a, as_user, django_assert_max_num_queries
):
    for _ in range(4):
        tender_publish(actor=broker_a, request=PlacementRequestFactory(commissioner=council_a, created_by=broker_a))
    client = as_user(provider_user_a)

    with django_assert_max_num_queries(12):
        response = client.get("/provider/invitations/")

    assert response.status_code == 200
    # Five invitations: each a table row for wide screens and a card for a phone.
    assert response.content.decode().count("Brook House") == 5 * 2
