"""Dates that plan what happens next cannot lie in the past: a request's "needed from", a bid's
earliest start and an uplift's first day. Pages show the refusal on the field, the API answers 400
with the field's message, and today is accepted."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from bidding.models import Bid
from bidding.services import bid_submit, tender_publish
from contracts.models import Uplift
from core.dates import not_in_past
from placements.models import PlacementRequest
from quality.models import RatingValue

from .factories import PlacementRequestFactory, admitted_home, lot

pytestmark = pytest.mark.django_db

NEEDED_FROM = "The date the placement is needed from must be today or in the future"
EARLIEST_START = "The earliest start date must be today or in the future"
UPLIFT_FROM = "The date the uplift takes effect must be today or in the future"


def today():
    return timezone.localdate()


def date_fields(name: str, day) -> dict:
    return {f"{name}_0": str(day.day), f"{name}_1": str(day.month), f"{name}_2": str(day.year)}


def request_page_data(day) -> dict:
    return {
        "case_reference": "LAS-PAST",
        "lot": lot(1).pk,
        "needs_summary": "Needs help with mobility.",
        "local_authority": "Staffordshire",
        **date_fields("needed_from", day),
    }


@pytest.fixture
def open_tender(council_a, broker_a, provider_a):
    home = admitted_home(council_a, provider=provider_a, rating=RatingValue.GOOD, name="Brook House")
    request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a, max_weekly_rate=Decimal("850.00"))
    tender = tender_publish(actor=broker_a, request=request)
    return tender, tender.invitations.get(care_home=home)


def test_the_rule_allows_today_and_later_and_names_the_date():
    assert not_in_past(today(), field="d", label="the day") == {}
    assert not_in_past(today() + timedelta(days=1), field="d", label="the day") == {}
    assert not_in_past(None, field="d", label="the day") == {}
    assert not_in_past(today() - timedelta(days=1), field="d", label="the day") == {
        "d": "The day must be today or in the future"
    }


class TestPlacementRequests:
    def test_the_page_refuses_a_past_date_on_the_field(self, broker_a, as_user):
        response = as_user(broker_a).post(
            reverse("placements:request_create"), request_page_data(today().replace(year=2020))
        )

        assert response.status_code in (200, 400)
        page = response.content.decode()
        assert NEEDED_FROM in page
        assert 'href="#id_needed_from_0"' in page, "the summary links to the day box"
        assert page.count("govuk-error-summary__title") == 1
        assert not PlacementRequest.objects.exists()

    def test_the_page_accepts_today(self, broker_a, as_user):
        response = as_user(broker_a).post(reverse("placements:request_create"), request_page_data(today()))

        assert response.status_code == 302, response.content.decode()
        assert PlacementRequest.objects.get().needed_from == today()

    def test_the_api_refuses_a_past_date_with_the_fields_message(self, council_a, api_as):
        council = api_as(council_a, scopes=["read", "placement-requests"])
        payload = {
            "case_reference": "LAS-API",
            "lot": 1,
            "needs_summary": "Older person, needs help with mobility.",
            "local_authority": "Staffordshire",
            "needed_from": "2020-01-01",
        }

        response = council.post("/api/v1/placement-requests/", payload)

        assert response.status_code == 400
        assert response.json()["errors"]["needed_from"] == [NEEDED_FROM]
        assert not PlacementRequest.objects.exists()
        assert (
            council.post("/api/v1/placement-requests/", {**payload, "needed_from": today().isoformat()}).status_code
            == 201
        )


class TestBids:
    def test_the_page_refuses_a_past_earliest_start_on_the_field(self, open_tender, provider_user_a, as_user):
        _, invitation = open_tender
        data = {
            "weekly_fee": "800",
            "needs_confirmed": "on",
            **date_fields("earliest_start", today().replace(year=2020)),
        }

        response = as_user(provider_user_a).post(reverse("bidding:invitation_detail", args=[invitation.pk]), data)

        page = response.content.decode()
        assert response.status_code == 400
        assert EARLIEST_START in page
        assert 'href="#id_earliest_start_0"' in page
        assert page.count("govuk-error-summary__title") == 1
        assert not Bid.objects.exists()

    def test_the_page_accepts_today(self, open_tender, provider_user_a, as_user):
        _, invitation = open_tender
        data = {"weekly_fee": "800", "needs_confirmed": "on", **date_fields("earliest_start", today())}

        response = as_user(provider_user_a).post(reverse("bidding:invitation_detail", args=[invitation.pk]), data)

        assert response.status_code == 302
        assert Bid.objects.get().earliest_start == today()

    def test_the_api_refuses_a_past_earliest_start_on_submit_and_amend(self, open_tender, provider_a, api_as):
        tender, invitation = open_tender
        provider = api_as(provider_a, scopes=["read", "bids"])
        bid = {"care_home": invitation.care_home_id, "weekly_fee": "800.00", "needs_confirmed": True}

        refused = provider.post(f"/api/v1/tenders/{tender.pk}/bids/", {**bid, "earliest_start": "2020-01-01"})
        assert refused.status_code == 400
        assert refused.json()["errors"]["earliest_start"] == [EARLIEST_START]

        created = provider.post(f"/api/v1/tenders/{tender.pk}/bids/", {**bid, "earliest_start": today().isoformat()})
        assert created.status_code == 201, created.content
        amended = provider.patch(
            f"/api/v1/tenders/{tender.pk}/bids/{created.json()['id']}/", {"earliest_start": "2020-01-01"}
        )
        assert amended.status_code == 400
        assert amended.json()["errors"]["earliest_start"] == [EARLIEST_START]
        assert Bid.objects.get().earliest_start == today()

    def test_amending_the_fee_keeps_a_start_that_has_since_passed(self, open_tender, provider_user_a):
        from bidding.services import bid_amend

        _, invitation = open_tender
        bid = bid_submit(
            actor=provider_user_a,
            tender=invitation.tender,
            care_home=invitation.care_home,
            weekly_fee=Decimal("800.00"),
            earliest_start=today(),
            needs_confirmed=True,
        )
        Bid.objects.filter(pk=bid.pk).update(earliest_start=today() - timedelta(days=2))

        amended = bid_amend(actor=provider_user_a, bid=bid, weekly_fee=Decimal("790.00"))

        assert amended.weekly_fee == Decimal("790.00")


class TestUplifts:
    def page_data(self, day) -> dict:
        return {
            "name": "April uplift",
            "basis": "real_living_wage",
            "group_older_people": "5",
            **date_fields("effective_from", day),
        }

    def test_the_page_refuses_a_past_date_on_the_field(self, commissioner_a, as_user):
        response = as_user(commissioner_a).post(
            reverse("contracts:uplift_new"), self.page_data(today().replace(year=2020))
        )

        page = response.content.decode()
        assert response.status_code in (200, 400)
        assert UPLIFT_FROM in page
        assert 'href="#id_effective_from_0"' in page
        assert not Uplift.objects.exists()

    def test_the_page_accepts_today(self, commissioner_a, as_user):
        response = as_user(commissioner_a).post(reverse("contracts:uplift_new"), self.page_data(today()))

        assert response.status_code == 302, response.content.decode()
        assert Uplift.objects.get().effective_from == today()
