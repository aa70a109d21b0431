"""Personal data retention: closed requests past the retention period lose the person's case
reference and needs; their placements keep what finance needs."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import CharField, JSONField, TextField
from django.db.models.functions import Cast
from django.test import override_settings
from django.utils import timezone

from bidding.services import tender_award
from core.models import AuditEvent
from placements.models import Placement, PlacementRequest
from placements.services import ANONYMISED_NEEDS

from .factories import (
    BidFactory,
    CareHomeFactory,
    InvitationFactory,
    PaidPlacementFactory,
    PlacementRequestFactory,
    TenderFactory,
    admitted_home,
    top_up_agreed_for,
)

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


def rows_mentioning(text: str) -> list[str]:
    """Every text and JSON column of every table, searched for `text`."""
    found = []
    for model in apps.get_models():
        columns = [f for f in model._meta.concrete_fields if isinstance(f, CharField | TextField | JSONField)]
        for column in columns:
            searched = model._default_manager.annotate(_as_text=Cast(column.name, TextField()))
            for pk in searched.filter(_as_text__contains=text).values_list("pk", flat=True):
                found.append(f"{model._meta.label}.{column.name} (row {pk})")
    return found


@pytest.fixture
def awarded_long_ago(council_a, broker_a, provider_a, provider_user_a):
    """A request tendered, awarded with a top-up paid by a relative, placed, and ended long ago."""
    request = PlacementRequestFactory(
        commissioner=council_a, created_by=broker_a, case_reference="MOS-771234", status="tendering"
    )
    tender = TenderFactory(
        request=request,
        opened_at=timezone.now() - timedelta(hours=3),
        closes_at=timezone.now() - timedelta(hours=1),
        max_weekly_rate=Decimal("840.00"),
    )
    home = admitted_home(council_a, provider=provider_a)
    bid = BidFactory(invitation=InvitationFactory(tender=tender, care_home=home), weekly_fee=Decimal("900.00"))
    top_up_agreed_for(tender, bid, broker_a, payer_name="Ms Daughter-Payer")
    tender_award(
        actor=broker_a,
        tender=tender,
        bid=bid,
        top_up_payer="Ms Daughter-Payer",
        reason="Closest to the family.",
    )
    placement = Placement.objects.get(request=request)
    Placement.objects.filter(pk=placement.pk).update(
        start_date=timezone.localdate() - timedelta(days=900), end_date=timezone.localdate() - timedelta(days=500)
    )
    PlacementRequest.objects.filter(pk=request.pk).update(status="placed")
    return request


def test_no_copy_of_the_case_reference_or_payer_is_left_anywhere(awarded_long_ago):
    assert rows_mentioning("MOS-771234"), "the journey should have copied the reference somewhere"
    assert rows_mentioning("Ms Daughter-Payer")

    run()

    left = rows_mentioning("MOS-771234") + rows_mentioning("Ms Daughter-Payer")
    assert not left, "\n".join(left)
    placement = Placement.objects.get(request=awarded_long_ago)
    assert placement.weekly_fee == Decimal("900.00") and placement.top_up_weekly_amount == Decimal("60.00")
