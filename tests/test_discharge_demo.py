"""The demo shows hospital discharge: a hospital with a coordinator login, urgent referrals in every
state, discharge-to-assess stays (one past its review) and a year of figures for the dashboard."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from bidding.models import Tender
from demo.discharge import COORDINATOR_EMAIL, HOSPITAL_SLUG, OVERDUE_CASE, PREFIX
from demo.organisations import DEMO_PASSWORD
from organisations.models import Organisation, User
from placements.models import Pathway, Placement, PlacementRequest
from placements.selectors import assessment_reviews_overdue

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_hospital_urgent_referrals_in_every_state_and_discharge_to_assess_stays(client):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    printed = out.getvalue()
    hospital = Organisation.objects.get(slug=HOSPITAL_SLUG)
    council = Organisation.objects.get(slug="staffordshire")
    assert list(hospital.refers_to.all()) == [council]
    assert COORDINATOR_EMAIL in printed and "discharge_coordinator" in printed
    coordinator = User.objects.get(email=COORDINATOR_EMAIL)
    assert coordinator.check_password(DEMO_PASSWORD) and coordinator.organisation == hospital

    referrals = PlacementRequest.objects.filter(case_reference__startswith=PREFIX)
    assert set(referrals.values_list("status", flat=True)) == {"new", "tendering", "awarded", "cancelled"}
    tenders = Tender.objects.filter(request__in=referrals)
    assert {"open", "evaluated", "awarded", "no_bids"} <= set(tenders.values_list("status", flat=True))
    closing = tenders.get(status="open", closes_at__lte=timezone.now() + timedelta(minutes=10))
    assert closing.award_rule == "first_acceptable"
    awarded = Placement.objects.get(request__case_reference=f"{PREFIX}04")
    assert awarded.pathway == Pathway.PATHWAY_3_ASSESSMENT and awarded.review_on is not None

    overdue = assessment_reviews_overdue(commissioner_id=council.pk, today=timezone.localdate())
    assert [p.case_reference for p in overdue] == [OVERDUE_CASE]
    assert Placement.objects.exclude(assessment_outcome="").filter(commissioner=council).count() > 20
    client.force_login(User.objects.get(email="commissioner@staffordshire.example"))
    body = client.get("/api/v1/dashboards/discharge/").json()
    cells = [c for month in body["months"] for c in month["urgencies"] if c["urgency"] == "hospital_discharge"]
    assert sum(cell["sourced"] for cell in cells) > 100
    assert body["reviews_overdue"] == 1
    beds = body["vacancies"]["rows"]
    assert sum(row["fresh_beds"] for row in beds) > 0 and sum(row["stale_beds"] for row in beds) > 0

    call_command("seed_demo", stdout=StringIO())
    assert PlacementRequest.objects.filter(case_reference__startswith=PREFIX).count() == referrals.count()
