"""Personal data retention: closed requests past the retention period lose the person's case
reference and needs; their placements keep what finance needs."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import timezone

from core.models import AuditEvent
from placements.models import Placement, PlacementRequest
from placements.services import ANONYMISED_NEEDS

from .factories import CareHomeFactory, PaidPlacementFactory, PlacementRequestFactory

pytestmark = pytest.mark.django_db


def closed_long_ago(request: PlacementRequest, days: int) -> None:
    PlacementRequest.objects.filter(pk=request.pk).update(updated_at=timezone.now() - timedelta(days=days))


@pytest.fixture
def requests(council_a, broker_a, provider_a):
    old_cancelled = PlacementRequestFactory(
        commissioner=council_a, created_by=broker_a, case_reference="OLD-CANCELLED", status="cancelled"
    )
    closed_long_ago(old_cancelled, 400)
    recent_cancelled = PlacementRequestFactory(
        commissioner=council_a, created_by=broker_a, case_reference="RECENT-CANCELLED", status="cancelled"
    )
    closed_long_ago(recent_cancelled, 10)
    old_placed = PlacementRequestFactory(
        commissioner=council_a, created_by=broker_a, case_reference="OLD-PLACED", status="placed"
    )
    PaidPlacementFactory(
        commissioner=council_a,
        request=old_placed,
        care_home=CareHomeFactory(provider=provider_a),
        case_reference="OLD-PLACED",
        council_weekly_amount=Decimal("800.00"),
        top_up_weekly_amount=Decimal("50.00"),
        top_up_payer="Her daughter",
        start_date=timezone.localdate() - timedelta(days=900),
        end_date=timezone.localdate() - timedelta(days=500),
    )
    live = PlacementRequestFactory(commissioner=council_a, created_by=broker_a, case_reference="LIVE", status="placed")
    PaidPlacementFactory(commissioner=council_a, request=live, case_reference="LIVE")
    open_request = PlacementRequestFactory(
        commissioner=council_a, created_by=broker_a, case_reference="STILL-OPEN", status="tendering"
    )
    closed_long_ago(open_request, 400)
    return {r.case_reference: r.pk for r in [old_cancelled, recent_cancelled, old_placed, live, open_request]}


def run(days=365) -> str:
    out = StringIO()
    call_command("anonymise_closed_requests", days=days, batch_size=1, stdout=out)
    return out.getvalue()


def test_closed_requests_past_retention_lose_case_reference_and_needs(requests):
    output = run()

    references = dict(PlacementRequest.objects.values_list("pk", "case_reference"))
    assert references[requests["OLD-CANCELLED"]] == f"ANON-{requests['OLD-CANCELLED']}"
    assert references[requests["OLD-PLACED"]] == f"ANON-{requests['OLD-PLACED']}"
    assert references[requests["RECENT-CANCELLED"]] == "RECENT-CANCELLED"
    assert references[requests["LIVE"]] == "LIVE"
    assert references[requests["STILL-OPEN"]] == "STILL-OPEN"
    assert PlacementRequest.objects.get(pk=requests["OLD-PLACED"]).needs_summary == ANONYMISED_NEEDS
    assert "2 closed requests older than 365 days" in output
    assert "Anonymised 1 of 2." in output and "Anonymised 2 of 2." in output
    assert AuditEvent.objects.filter(verb="placements.request.anonymised").count() == 2


def test_placements_keep_what_finance_needs(requests):
    run()

    placement = Placement.objects.get(request_id=requests["OLD-PLACED"])
    assert placement.case_reference == f"ANON-{requests['OLD-PLACED']}"
    assert placement.top_up_payer == ""
    assert (placement.weekly_fee, placement.council_weekly_amount, placement.top_up_weekly_amount) == (
        Decimal("850.00"),
        Decimal("800.00"),
        Decimal("50.00"),
    )
    assert placement.end_date is not None and placement.care_home_id is not None


def test_running_again_changes_nothing(requests):
    run()
    before = list(PlacementRequest.objects.order_by("pk").values_list("case_reference", "needs_summary", "updated_at"))

    output = run()

    assert "0 closed requests" in output and "Done: 0 requests anonymised." in output
    assert (
        list(PlacementRequest.objects.order_by("pk").values_list("case_reference", "needs_summary", "updated_at"))
        == before
    )


@override_settings(PERSONAL_DATA_RETENTION_DAYS=5)
def test_the_retention_setting_is_the_default_period(requests):
    out = StringIO()
    call_command("anonymise_closed_requests", stdout=out)

    assert "3 closed requests older than 5 days" in out.getvalue()
    assert PlacementRequest.objects.get(pk=requests["RECENT-CANCELLED"]).case_reference.startswith("ANON-")


def test_a_nonsense_period_is_refused():
    with pytest.raises(CommandError):
        call_command("anonymise_closed_requests", days=0, stdout=StringIO())
