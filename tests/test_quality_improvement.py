"""Improvement plans: actions agreed with the provider, tracked to completion; the provider's users
see and update their own homes' plans only; overdue actions appear on both home pages."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import ApplicationError, ForbiddenError, NotFoundError
from core.models import AuditEvent
from quality.models import ImprovementAction
from quality.services import improvement_action_add, improvement_action_update

from .factories import admitted_home

pytestmark = pytest.mark.django_db


def add(actor, home, *, due_in: int, text="Audit medicines weekly"):
    today = timezone.localdate()
    return improvement_action_add(
        actor=actor,
        care_home=home,
        action=text,
        owner="Registered manager",
        due_on=today + timedelta(days=due_in),
        agreed_on=today - timedelta(days=30),
    )


@pytest.fixture
def home(council_a, provider_a):
    return admitted_home(council_a, provider=provider_a, name="Alder House")


def test_overdue_actions_appear_on_the_commissioners_and_the_providers_home_pages(
    home, commissioner_a, provider_user_a, as_user
):
    add(commissioner_a, home, due_in=-3, text="Overdue action")
    add(commissioner_a, home, due_in=10, text="Later action")
    provider_page = as_user(provider_user_a).get(f"/provider/homes/{home.pk}/")
    assert b"1 improvement action is overdue." in provider_page.content
    commissioner_page = as_user(commissioner_a).get(f"/commissioner/care-homes/{home.pk}/quality/")
    assert b"1 improvement action is overdue." in commissioner_page.content
    plan = as_user(provider_user_a).get(f"/provider/homes/{home.pk}/improvement-plan/")
    assert plan.content.count(b"Overdue</strong>") == 1


def test_the_provider_reports_progress_and_done_clears_the_overdue_notice(
    home, commissioner_a, provider_user_a, as_user
):
    item = add(commissioner_a, home, due_in=-1)
    with pytest.raises(ApplicationError):
        improvement_action_update(actor=provider_user_a, action=item, status="finished")
    item = improvement_action_update(actor=provider_user_a, action=item, status="done", note="Weekly audits since May")
    assert item.completed_on == timezone.localdate() and item.progress_note == "Weekly audits since May"
    assert b"overdue" not in as_user(provider_user_a).get(f"/provider/homes/{home.pk}/").content
    assert AuditEvent.objects.filter(verb="quality.improvement_action.updated", actor=provider_user_a).exists()


def test_another_provider_and_another_body_neither_see_nor_update_the_plan(
    home, commissioner_a, commissioner_b, provider_user_b, broker_a, as_user, api_as, provider_b
):
    item = add(commissioner_a, home, due_in=-1, text="PLAN-OF-ALDER")
    for actor in (provider_user_b, commissioner_b):
        with pytest.raises(NotFoundError):
            improvement_action_update(actor=actor, action=item, status="done")
    with pytest.raises(ForbiddenError):
        improvement_action_update(actor=broker_a, action=item, status="done")
    assert as_user(provider_user_b).get(f"/improvement-actions/{item.pk}/").status_code == 404
    assert as_user(provider_user_b).get(f"/provider/homes/{home.pk}/improvement-plan/").status_code == 404
    assert (
        b"PLAN-OF-ALDER"
        not in as_user(commissioner_b).get(f"/commissioner/care-homes/{home.pk}/improvement-plan/").content
    )
    system_b = api_as(provider_b, scopes=["read", "quality"])
    assert system_b.get(f"/api/v1/care-homes/{home.pk}/improvement-actions/").status_code == 404
    assert system_b.post(f"/api/v1/improvement-actions/{item.pk}/progress/", {"status": "done"}).status_code == 404
    assert ImprovementAction.objects.get().status == "not_started"


def test_the_providers_system_reads_its_plan_and_reports_progress(home, commissioner_a, provider_a, api_as):
    item = add(commissioner_a, home, due_in=-2)
    system = api_as(provider_a, scopes=["read", "quality"])
    listed = system.get(f"/api/v1/care-homes/{home.pk}/improvement-actions/").json()
    assert [(a["id"], a["overdue"]) for a in listed] == [(item.pk, True)]
    refused = system.post(f"/api/v1/improvement-actions/{item.pk}/progress/", {"status": "nearly"})
    assert refused.status_code == 400 and "status" in refused.json()["errors"]
    done = system.post(f"/api/v1/improvement-actions/{item.pk}/progress/", {"status": "done", "note": "Fixed"})
    assert done.status_code == 200 and done.json()["overdue"] is False
    # The provider cannot add actions to a body's plan.
    made = system.post(
        f"/api/v1/care-homes/{home.pk}/improvement-actions/",
        {"action": "x", "owner": "y", "due_on": "2030-01-01", "agreed_on": "2026-01-01"},
    )
    assert made.status_code == 404


def test_an_action_needs_its_owner_and_dates(home, commissioner_a):
    with pytest.raises(ApplicationError) as error:
        improvement_action_add(actor=commissioner_a, care_home=home, action="", owner="", due_on=None, agreed_on=None)
    assert set(error.value.fields) == {"action", "owner", "due_on", "agreed_on"}
