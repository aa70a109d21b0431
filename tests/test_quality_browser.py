"""In a real browser: a commissioner starts the monitoring framework and records a visit (a refusal
first, on its fields), records a safeguarding concern that embargoes the home and lifts it by a
decision, agrees an improvement action that the provider then completes, and changes how quality is
scored. Every page passes axe with no violations."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from providers.models import AdmissionClosure
from quality.models import Concern, ImprovementAction, MonitoringVisit, QualityScoringRule

from .browser import page_as
from .factories import admitted_home
from .test_accessibility import wcag_violations


def fill_date(page, prefix: str, day):
    page.fill(f"#id_{prefix}_0", str(day.day))
    page.fill(f"#id_{prefix}_1", str(day.month))
    page.fill(f"#id_{prefix}_2", str(day.year))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_commissioner_monitors_a_home_embargoes_it_and_agrees_an_improvement_plan(
    live_server, browser, council_a, commissioner_a, provider_a, provider_user_a
):
    home = admitted_home(council_a, provider=provider_a, name="Brook House")
    page = page_as(browser, live_server, commissioner_a)
    today = timezone.localdate()

    # The framework starts from the default questions.
    page.goto(f"{live_server.url}/commissioner/monitoring/framework/")
    page.get_by_role("button", name="Start with the default questions").click()
    expect(page.get_by_text("Your framework starts from the default domains")).to_be_visible()
    assert wcag_violations(page) == []

    # A visit with no visitor and a question unscored is refused on its fields.
    page.goto(f"{live_server.url}/commissioner/monitoring/")
    page.get_by_role("link", name="Brook House").click()
    page.get_by_role("link", name="Record a visit").click()
    assert wcag_violations(page) == []
    fill_date(page, "visited_on", today)
    selects = page.locator("select")
    for index in range(selects.count() - 1):
        selects.nth(index).select_option("4")
    page.get_by_role("button", name="Record visit").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter who visited")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Score this question from 1 to 4")
    assert not MonitoringVisit.objects.exists()
    assert wcag_violations(page) == []
    page.get_by_label("Visitor").fill("A. Officer")
    selects.nth(selects.count() - 1).select_option("2")
    page.get_by_role("button", name="Record visit").click()
    expect(page.get_by_text("Visit recorded: score 95.00 out of 100.")).to_be_visible()
    assert MonitoringVisit.objects.get().visitor == "A. Officer"

    # A safeguarding concern with an embargo, then the decision that lifts it.
    page.get_by_role("link", name="complaints and safeguarding concerns").click()
    assert wcag_violations(page) == []
    page.get_by_label("Safeguarding concern").check()
    fill_date(page, "received_on", today)
    page.get_by_label("Category").select_option("neglect")
    page.get_by_label("High").check()
    page.get_by_label("Your case reference").fill("SG-77")
    page.get_by_label("Place an embargo").check()
    page.get_by_role("button", name="Record concern").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the date the embargo will be reviewed")
    assert not Concern.objects.exists()
    fill_date(page, "review_on", today + timedelta(days=14))
    page.get_by_role("button", name="Record concern").click()
    expect(page.get_by_text("Brook House is under embargo for your body")).to_be_visible()
    closure = AdmissionClosure.objects.get()
    assert closure.commissioner == council_a and closure.lifted_at is None
    page.get_by_role("link", name="SG-77").click()
    assert wcag_violations(page) == []
    page.get_by_role("button", name="Lift embargo").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the decision to lift it")
    page.get_by_label("Decision to lift the embargo").fill("Strategy meeting: risks managed")
    page.get_by_role("button", name="Lift embargo").click()
    expect(page.get_by_text("Embargo lifted: the home may be invited")).to_be_visible()
    closure.refresh_from_db()
    assert closure.lift_reason == "Strategy meeting: risks managed"

    # An improvement action, already overdue, that the provider completes.
    page.goto(f"{live_server.url}/commissioner/care-homes/{home.pk}/improvement-plan/")
    assert wcag_violations(page) == []
    page.get_by_label("Action", exact=True).fill("Weekly medicines audit")
    page.get_by_label("Owner").fill("Registered manager")
    fill_date(page, "due_on", today - timedelta(days=1))
    fill_date(page, "agreed_on", today - timedelta(days=20))
    page.get_by_role("button", name="Add action").click()
    expect(page.get_by_text("Action added to the improvement plan.")).to_be_visible()
    expect(page.locator("#home-notices")).to_contain_text("1 improvement action is overdue.")

    provider = page_as(browser, live_server, provider_user_a)
    provider.goto(f"{live_server.url}/provider/homes/{home.pk}/")
    expect(provider.locator("#home-notices")).to_contain_text("1 improvement action is overdue.")
    provider.get_by_role("link", name="See the improvement plan").click()
    provider.get_by_role("link", name="Weekly medicines audit").click()
    assert wcag_violations(provider) == []
    provider.get_by_label("Done").check()
    provider.get_by_label("Progress", exact=True).fill("Audits weekly since Monday")
    provider.get_by_role("button", name="Save progress").click()
    expect(provider.get_by_text("Progress saved.")).to_be_visible()
    assert ImprovementAction.objects.get().status == "done"
    provider.goto(f"{live_server.url}/provider/homes/{home.pk}/")
    expect(provider.locator("#home-notices")).to_have_count(0)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_commissioner_changes_how_quality_is_scored(live_server, browser, council_a, commissioner_a):
    page = page_as(browser, live_server, commissioner_a)
    page.goto(f"{live_server.url}/commissioner/quality-scoring/")
    assert wcag_violations(page) == []
    page.get_by_role("link", name="Change lot 1", exact=True).click()
    page.get_by_label("CQC overall rating (%)").fill("50")
    page.get_by_label("Latest contract monitoring score (%)").fill("30")
    page.get_by_role("button", name="Save how quality is scored").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("they add up to 80%")
    assert not QualityScoringRule.objects.exists()
    assert wcag_violations(page) == []
    page.get_by_label("CQC key question ratings (%)").fill("20")
    page.get_by_role("button", name="Save how quality is scored").click()
    expect(page.get_by_text("Quality scoring saved for lot 1.")).to_be_visible()
    rule = QualityScoringRule.objects.get()
    assert (rule.overall, rule.key_questions, rule.monitoring) == (50, 20, 30)
