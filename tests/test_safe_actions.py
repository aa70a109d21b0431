"""Safe actions: a successful form redirects (reloading repeats nothing), irreversible or bulk
actions ask first on a page of their own, the uplift's job shows its progress and outcome, and a
bed hold past its deadline reads as expired."""

import datetime as dt
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from bidding.models import Award, Bid
from contracts.models import Uplift
from contracts.services import uplift_create
from fairness.models import BedHold
from organisations.models import ApiClient

from .browser import page_as
from .factories import CareHomeFactory, PaidPlacementFactory, lot
from .fairness_world import evaluated, make_world, place_bid
from .test_accessibility import wcag_violations


@pytest.fixture
def world(council_a, broker_a, provider_a, provider_b, provider_user_a, provider_user_b):
    return make_world(council_a, broker_a, provider_a, provider_b, provider_user_a, provider_user_b)


def _uplift_with_placements(council, commissioner, provider, count=3) -> Uplift:
    home = CareHomeFactory(provider=provider)
    for _ in range(count):
        PaidPlacementFactory(
            commissioner=council,
            care_home=home,
            lot=lot(1),
            start_date=dt.date(2025, 5, 1),
            council_weekly_amount=Decimal("800.00"),
        )
    return uplift_create(
        actor=commissioner,
        name="April uplift",
        basis=Uplift.Basis.REAL_LIVING_WAGE,
        basis_note="Real Living Wage",
        effective_from=timezone.localdate() + timedelta(days=30),
        rules=[{"lot": lot(1), "percentage": Decimal("4")}],
    )


# Post/Redirect/Get --------------------------------------------------------------------------


@pytest.mark.django_db
def test_reloading_after_creating_an_api_client_makes_no_second_client(as_user, commissioner_a):
    web = as_user(commissioner_a)
    shown = web.post(reverse("integrations:api_client_create"), {"name": "Mosaic", "scopes": ["read"]}, follow=True)
    assert shown.redirect_chain and shown.redirect_chain[-1][1] == 302
    token = shown.context["token"]
    assert token.encode() in shown.content

    reloaded = web.get(shown.request["PATH_INFO"])

    assert ApiClient.objects.count() == 1
    assert token.encode() not in reloaded.content, "the token is shown once"


@pytest.mark.django_db
def test_reloading_after_an_award_does_not_award_again(world, broker_a, as_user):
    tender, bids = evaluated(world, {"a": "850.00", "b": "870.00"})
    web = as_user(broker_a)
    url = reverse("placements:request_award", args=[tender.request_id])

    top = min(bids.values(), key=lambda bid: bid.rank)
    awarded = web.post(url, {"bid": top.pk}, follow=True)

    assert awarded.redirect_chain[-1] == (reverse("placements:request_detail", args=[tender.request_id]), 302)
    assert "Placement awarded" in awarded.content.decode()
    again = web.get(awarded.request["PATH_INFO"])
    assert again.status_code == 200
    assert Award.objects.filter(tender=tender).count() == 1


# Confirmation pages -------------------------------------------------------------------------


@pytest.mark.django_db
def test_withdrawing_a_bid_asks_first_and_the_page_changes_nothing(world, provider_user_a, as_user):
    homes, users, tender = world
    bid = place_bid(users["a"], tender, homes["a"], "850.00")
    web = as_user(provider_user_a)
    url = reverse("bidding:invitation_withdraw", args=[bid.invitation.pk])

    page = web.get(url)

    assert page.status_code == 200
    body = page.content.decode()
    assert "Are you sure you want to withdraw your bid?" in body and "£850.00" in body
    assert reverse("bidding:invitation_detail", args=[bid.invitation.pk]) in body, "a way back"
    bid.refresh_from_db()
    assert bid.status == Bid.Status.SUBMITTED

    done = web.post(url, {"reason": "No longer able to meet the needs"})

    assert done.status_code == 302
    bid.refresh_from_db()
    assert bid.status == Bid.Status.WITHDRAWN


@pytest.mark.django_db
def test_applying_an_uplift_asks_first_with_what_will_change(council_a, commissioner_a, provider_a, as_user):
    uplift = _uplift_with_placements(council_a, commissioner_a, provider_a)
    web = as_user(commissioner_a)
    detail = web.get(reverse("contracts:uplift_detail", args=[uplift.pk])).content.decode()
    apply_url = reverse("contracts:uplift_apply", args=[uplift.pk])
    assert f'href="{apply_url}"' in detail, "the detail page links to the confirmation page"
    assert f'action="{apply_url}"' not in detail, "no one-click apply on the detail page"

    page = web.get(reverse("contracts:uplift_apply", args=[uplift.pk]))

    assert page.status_code == 200
    body = page.content.decode()
    assert "Are you sure you want to apply April uplift?" in body
    assert re.search(r"3: weekly cost from £2,?400\.00 to £2,?496\.00", body)
    uplift.refresh_from_db()
    assert uplift.status == Uplift.Status.DRAFT, "asking changes nothing"


@pytest.mark.django_db
def test_uplift_status_answers_as_json_for_the_page_that_polls_it(council_a, commissioner_a, provider_a, as_user):
    uplift = _uplift_with_placements(council_a, commissioner_a, provider_a, count=1)
    Uplift.objects.filter(pk=uplift.pk).update(status=Uplift.Status.QUEUED, queued_at=timezone.now())
    web = as_user(commissioner_a)

    status = web.get(reverse("contracts:uplift_detail", args=[uplift.pk]) + "?format=json").json()
    page = web.get(reverse("contracts:uplift_detail", args=[uplift.pk])).content.decode()

    assert status["status"] == "queued" and "Being applied since" in status["message"]
    assert 'data-job-running="true"' in page and "js/job-status.js" in page
    Uplift.objects.filter(pk=uplift.pk).update(
        status=Uplift.Status.APPLIED, applied_at=timezone.now(), placements_uplifted=1
    )
    status = web.get(reverse("contracts:uplift_detail", args=[uplift.pk]) + "?format=json").json()
    assert status["status"] == "applied" and "1 placement and 0 block contracts uplifted" in status["message"]
    assert "js/job-status.js" not in web.get(reverse("contracts:uplift_detail", args=[uplift.pk])).content.decode()


@pytest.mark.django_db
def test_declining_block_beds_and_suspending_a_home_say_what_happens_with_a_way_back(
    council_a, commissioner_a, broker_a, provider_a, as_user
):
    from .factories import PlacementRequestFactory, admitted_home

    home = admitted_home(council_a, provider=provider_a, name="Alder House")
    admission = home.admissions.get()
    page = as_user(commissioner_a).get(reverse("providers:admission_suspend", args=[admission.pk])).content.decode()
    assert "taken out of your open tenders" in page and 'id="cancel"' in page

    request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a)
    page = as_user(broker_a).get(reverse("blockbeds:offer_decline", args=[request.pk])).content.decode()
    assert "stay void" in page
    assert f'id="cancel" href="{reverse("placements:request_detail", args=[request.pk])}"' in page


# Bed holds past their deadline --------------------------------------------------------------


@pytest.mark.django_db
def test_a_bed_hold_past_its_deadline_reads_expired_to_broker_and_provider(world, broker_a, as_user):
    from bidding.services import tender_award

    tender, bids = evaluated(world, {"a": "850.00"})
    tender_award(actor=broker_a, tender=tender, bid=bids["a"])
    hold = BedHold.objects.get(bid=bids["a"])
    broker_page = reverse("fairness:tender_fairness", args=[tender.pk])
    provider_page = reverse("fairness:provider_award", args=[bids["a"].pk])
    provider = as_user(world[1]["a"])
    assert "Awaiting the home" in as_user(broker_a).get(broker_page).content.decode()

    BedHold.objects.filter(pk=hold.pk).update(confirm_by=timezone.now() - timedelta(hours=1))

    for body in (as_user(broker_a).get(broker_page).content.decode(), provider.get(provider_page).content.decode()):
        bed_hold = re.search(r'id="bed-hold">(.*?)</p>', body, re.S).group(1)
        assert "Expired" in bed_hold and "Awaiting the home" not in bed_hold


# In a browser -------------------------------------------------------------------------------


def _check(page) -> None:
    assert wcag_violations(page) == [], page.url


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_provider_withdraws_a_bid_after_confirming(live_server, browser, world, provider_user_a):
    homes, users, tender = world
    bid = place_bid(users["a"], tender, homes["a"], "850.00")
    page = page_as(browser, live_server, provider_user_a)
    page.goto(f"{live_server.url}{reverse('bidding:invitation_detail', args=[bid.invitation.pk])}")
    _check(page)

    page.get_by_role("link", name="Withdraw bid").click()
    expect(page.get_by_role("heading", name="Are you sure you want to withdraw your bid?")).to_be_visible()
    _check(page)
    page.get_by_role("link", name="Cancel and keep the bid").click()
    assert Bid.objects.get(pk=bid.pk).status == Bid.Status.SUBMITTED

    page.get_by_role("link", name="Withdraw bid").click()
    page.get_by_label("Reason (optional)").fill("The bed has been taken")
    page.get_by_role("button", name="Withdraw bid").click()
    expect(page.get_by_text("Bid withdrawn.")).to_be_visible()
    _check(page)
    assert Bid.objects.get(pk=bid.pk).status == Bid.Status.WITHDRAWN
    page.context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_commissioner_applies_an_uplift_after_confirming_and_sees_it_done(
    live_server, browser, celery_worker, council_a, commissioner_a, provider_a
):
    uplift = _uplift_with_placements(council_a, commissioner_a, provider_a)
    page = page_as(browser, live_server, commissioner_a)
    page.goto(f"{live_server.url}{reverse('contracts:uplift_detail', args=[uplift.pk])}")
    expect(page.locator("#job-status-tag")).to_have_text("Draft")
    _check(page)

    page.get_by_role("link", name=re.compile("Apply uplift to 3 placements")).click()
    expect(page.get_by_role("heading", name="Are you sure you want to apply April uplift?")).to_be_visible()
    _check(page)
    page.get_by_role("button", name="Apply uplift").click()

    # The page follows the job (the status script polls and reloads) until the worker is done.
    expect(page.locator("#job-status-tag")).to_have_text("Applied", timeout=30_000)
    expect(page.locator("#job-status-message")).to_contain_text("3 placements and 0 block contracts uplifted")
    _check(page)
    assert Uplift.objects.get(pk=uplift.pk).placements_uplifted == 3
    page.context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_reloading_the_api_client_created_page_makes_no_second_client(live_server, browser, commissioner_a):
    page = page_as(browser, live_server, commissioner_a)
    page.goto(f"{live_server.url}{reverse('integrations:api_client_create')}")
    page.get_by_label("Name").fill("Mosaic")
    page.get_by_label("read", exact=False).first.check()
    page.get_by_role("button", name=re.compile("Create")).click()
    expect(page.get_by_role("heading", name="API client created")).to_be_visible()
    token = page.locator("#api-token").inner_text()
    _check(page)

    page.reload()

    expect(page.get_by_role("heading", name="API clients")).to_be_visible()
    assert token not in page.content()
    assert ApiClient.objects.count() == 1
    page.context.close()
