"""The demo's fairness step: a question answered, a shortlist link, a bed hold and a challenged standstill."""

from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.utils import timezone

from bidding.models import Tender
from demo.fairness import PREFIX
from fairness.models import BedHold, Challenge, ClarificationQuestion, ShortlistLink, Standstill
from placements.models import PlacementRequest

pytestmark = pytest.mark.django_db


def counts() -> tuple:
    return (
        PlacementRequest.objects.filter(case_reference__startswith=PREFIX).count(),
        ClarificationQuestion.objects.filter(answered_at__isnull=False).count(),
        Challenge.objects.count(),
        Standstill.objects.count(),
    )


def test_seed_demo_shows_the_fairness_features_and_prints_a_working_shortlist_link(client):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    printed = [line for line in out.getvalue().splitlines() if "shortlist" in line and "/choice/" in line]
    assert len(printed) == 1
    page = client.get(urlsplit(printed[0].split()[-1]).path)
    assert page.status_code == 200 and page.content.count(b'name="bid"') >= 2

    answered = ClarificationQuestion.objects.get(answered_at__isnull=False)
    assert Tender.objects.get(pk=answered.tender_id).status == Tender.Status.OPEN
    assert ClarificationQuestion.objects.filter(answered_at__isnull=True).count() == 1
    challenge = Challenge.objects.get()
    assert challenge.decision == Challenge.Decision.PENDING
    assert challenge.standstill.status == Standstill.Status.CHALLENGED
    awaiting = BedHold.objects.filter(
        status=BedHold.Status.AWAITING, tender__request__case_reference__startswith=PREFIX
    )
    assert awaiting.count() == 2
    assert awaiting.filter(confirm_by__lt=timezone.now()).count() == 1

    first = counts()
    assert first == (4, 1, 1, 1)
    again = StringIO()
    call_command("seed_demo", stdout=again)
    assert counts() == first
    assert "/choice/" in again.getvalue() and ShortlistLink.objects.count() == 2
