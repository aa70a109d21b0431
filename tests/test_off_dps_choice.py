"""A spot contract by the person's choice: when the home they prefer is off the body's DPS for the lot
(not admitted, or in another council's area), the request's page says so and the broker places them
there at the agreed rate, with a recorded top-up above the maximum; the agreement and payments follow
as for any placement, and the provider is asked to accept it."""

from datetime import timedelta
from decimal import Decimal

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from closures.models import OffDpsChoice
from closures.services import off_dps_placement_create
from contracts.models import ServiceAgreement
from core.errors import ApplicationError, ConflictError, NotFoundError
from core.models import AuditEvent, Notification
from placements.models import Placement, PlacementRequest
from placements.next_steps import request_next_step
from providers.models import CareHome

from .browser import share_session
from .factories import (
    CareHomeFactory,
    OrganisationFactory,
    PlacementRequestFactory,
    UserFactory,
    admitted_home,
    top_up_agreed,
)

pytestmark = pytest.mark.django_db

TOMORROW = lambda: timezone.localdate() + timedelta(days=1)  # noqa: E731


@pytest.fixture
def chosen(provider_a, provider_user_a):
    """A registered home of provider A that no body admitted to its DPS."""
    return CareHomeFactory(provider=provider_a, name="Heather Bank", rating="Good")


@pytest.fixture
def request_a(council_a, broker_a, chosen):
    return PlacementRequestFactory(
        commissioner=council_a, created_by=broker_a, preferred_home=chosen, max_weekly_rate=Decimal("900.00")
    )


def place(broker, request, home, **changes):
    terms = {
        "weekly_fee": Decimal("850.00"),
        "start_date": TOMORROW(),
        "terms_accepted": True,
        "reason": "Her husband lives in the same home.",
    }
    terms.update(changes)
    return off_dps_placement_create(actor=broker, request=request, care_home=home, **terms)


def test_a_home_off_the_dps_is_placed_on_a_spot_contract_and_the_agreement_follows(
    request_a, chosen, broker_a, provider_user_a, as_user
):
    page = as_user(broker_a).get(reverse("placements:request_detail", args=[request_a.pk]))
    assert b"Heather Bank is not on your DPS for" in page.content and b"Spot contract by choice" in page.content

    choice = place(broker_a, request_a, chosen)

    placement = choice.placement
    assert placement.source == Placement.Source.OFF_DPS_CHOICE and placement.care_home == chosen
    assert (placement.weekly_fee, placement.council_weekly_amount, placement.top_up_weekly_amount) == (
        Decimal("850.00"),
        Decimal("850.00"),
        Decimal("0.00"),
    )
    assert placement.in_county and choice.in_county
    assert ServiceAgreement.objects.filter(placement=placement, is_current=True).exists()
    request_a.refresh_from_db()
    assert request_a.status == PlacementRequest.Status.PLACED and request_a.sourced_at is not None
    assert request_next_step(request_a).label.startswith("Placed off the DPS by the person's choice")
    assert Notification.objects.filter(recipient=provider_user_a, verb="closures.off_dps.placed").exists()
    assert AuditEvent.objects.filter(verb="closures.off_dps.placed", target_id=str(request_a.pk)).count() == 1
    page = as_user(broker_a).get(reverse("placements:request_detail", args=[request_a.pk]))
    assert b"Placed off the DPS by the person&#x27;s choice" in page.content
    assert b"Spot contract by choice" not in page.content
    with pytest.raises(ConflictError):
        place(broker_a, request_a, chosen)


def test_a_home_on_the_dps_in_the_area_is_tendered_to_not_placed_by_choice(council_a, broker_a, provider_a, as_user):
    home = admitted_home(council_a, provider=provider_a, name="On The List")
    request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a, preferred_home=home)
    with pytest.raises(ApplicationError) as error:
        place(broker_a, request, home)
    assert "care_home" in error.value.fields
    page = as_user(broker_a).get(reverse("placements:request_detail", args=[request.pk]))
    assert b"preferred-off-dps" not in page.content


def test_a_home_in_another_councils_area_is_out_of_county_and_the_host_council_is_told(
    council_a, broker_a, commissioner_a, provider_a, chosen, request_a, as_user
):
    host = OrganisationFactory(name="Cheshire East Council", slug="cheshire-east", local_authority="Cheshire East")
    host_commissioner = UserFactory(organisation=host, role="commissioner")
    home = admitted_home(council_a, provider=provider_a, name="Over The Border", local_authority="Cheshire East")
    request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a, preferred_home=home)
    choice = place(broker_a, request, home, host_council=host)
    assert not choice.in_county and not choice.placement.in_county
    assert "another council's area" in choice.off_dps_because
    assert Notification.objects.filter(recipient=host_commissioner, verb="closures.off_dps.host_told").exists()

    # The commissioners' placements dashboard counts them apart, in and out of county, with their cost.
    place(broker_a, request_a, chosen, weekly_fee=Decimal("800.00"))
    at = TOMORROW().isoformat()
    body = as_user(commissioner_a).get(f"/api/v1/dashboards/placements-by-client-group/?at={at}").json()
    assert body["off_dps_choice"] == {
        "in_county": 1,
        "out_of_county": 1,
        "in_county_weekly_cost": "800.00",
        "out_of_county_weekly_cost": "850.00",
    }
    assert body["total"]["total"] == 2
    page = as_user(commissioner_a).get(f"/dashboards/placements-by-client-group/?at={at}")
    assert b"Of which spot contracts by the person's choice" in page.content and b"\xc2\xa3850.00" in page.content


def test_above_the_maximum_needs_the_recorded_top_up_agreement_for_the_difference(request_a, chosen, broker_a):
    with pytest.raises(ApplicationError) as error:
        place(broker_a, request_a, chosen, weekly_fee=Decimal("1000.00"))
    assert "weekly_fee" in error.value.fields and "£100.00" in error.value.fields["weekly_fee"][0]
    top_up_agreed(request_a, broker_a, Decimal("50.00"))
    with pytest.raises(ApplicationError):
        place(broker_a, request_a, chosen, weekly_fee=Decimal("1000.00"))  # the agreement is for another amount
    agreement = top_up_agreed(request_a, broker_a, Decimal("100.00"), payer_name="Son")
    placement = place(broker_a, request_a, chosen, weekly_fee=Decimal("1000.00")).placement
    assert (placement.council_weekly_amount, placement.top_up_weekly_amount, placement.top_up_payer) == (
        Decimal("900.00"),
        Decimal("100.00"),
        "Son",
    )
    agreement.refresh_from_db()
    assert agreement.placement == placement


def test_the_spot_contract_needs_the_terms_a_fee_a_reason_and_a_registered_home(request_a, chosen, broker_a, broker_b):
    with pytest.raises(ApplicationError) as error:
        place(broker_a, request_a, chosen, terms_accepted=False, weekly_fee=None, reason=" ", start_date=None)
    assert set(error.value.fields) == {"terms_accepted", "weekly_fee", "reason", "start_date"}
    CareHome.objects.filter(pk=chosen.pk).update(registration_status=CareHome.RegistrationStatus.DEREGISTERED)
    chosen.refresh_from_db()
    with pytest.raises(ApplicationError) as error:
        place(broker_a, request_a, chosen)
    assert "care_home" in error.value.fields
    with pytest.raises(NotFoundError):
        place(broker_b, request_a, chosen)
    assert not OffDpsChoice.objects.exists() and not Placement.objects.exists()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_broker_places_the_person_by_choice_from_the_request_page(
    reference_data, live_server, browser_page, council_a, broker_a, provider_a
):
    chosen = CareHomeFactory(provider=provider_a, name="Heather Bank", rating="Good")
    request = PlacementRequestFactory(
        commissioner=council_a, created_by=broker_a, preferred_home=chosen, case_reference="CHOICE-1"
    )
    page = browser_page
    share_session(page.context, live_server, broker_a)
    page.goto(f"{live_server.url}/broker/requests/{request.pk}/")
    assert "Heather Bank is not on your DPS" in page.locator("#preferred-off-dps").inner_text()
    page.get_by_role("link", name="Spot contract by choice").click()
    assert page.get_by_label("The chosen home's CQC location ID").input_value() == chosen.cqc_location_id
    page.get_by_role("button", name="Place on a spot contract by choice").click()
    expect(page.get_by_role("alert")).to_be_visible()
    page.get_by_label("The home accepts the council's terms and conditions for this placement").check()
    page.get_by_label("Weekly fee agreed with the home").fill("850")
    day = TOMORROW()
    page.get_by_label("Day").fill(str(day.day))
    page.get_by_label("Month").fill(str(day.month))
    page.get_by_label("Year").fill(str(day.year))
    page.get_by_label("Why did the person choose this home?").fill("Close to her daughter.")
    results = Axe().run(page, context="#main-content")
    assert [v["id"] for v in results.response["violations"] if v["impact"] in ("serious", "critical")] == []
    page.get_by_role("button", name="Place on a spot contract by choice").click()
    expect(page.locator("body")).to_contain_text("Placed at Heather Bank on a spot contract by choice.")
    assert page.locator("#request-status").inner_text().startswith("Placed off the DPS by the person")
    assert Placement.objects.get(request=request).source == Placement.Source.OFF_DPS_CHOICE
