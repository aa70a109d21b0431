"""Clarification questions: answers published to every invited provider; a late answer extends the deadline."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from bidding.models import Tender
from bidding.services import tender_close
from core.errors import ConflictError
from core.models import AuditEvent, Notification
from fairness.models import MarketSettings
from fairness.services import question_answer, question_ask

from .fairness_world import make_world, place_bid

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(council_a, broker_a, provider_a, provider_b, provider_user_a, provider_user_b):
    return make_world(council_a, broker_a, provider_a, provider_b, provider_user_a, provider_user_b)


def set_deadline(tender, *, opened_ago: timedelta, closes_in: timedelta) -> Tender:
    now = timezone.now()
    Tender.objects.filter(pk=tender.pk).update(opened_at=now - opened_ago, closes_at=now + closes_in)
    return Tender.objects.get(pk=tender.pk)


def test_answer_is_published_to_every_invited_provider_without_the_asker(world, broker_a, as_user):
    homes, users, tender = world
    question = question_ask(actor=users["a"], tender=tender, question="Is there an en-suite bathroom needed?")
    question_answer(actor=broker_a, question=question, answer="Yes, an en-suite is needed.")
    for key in ("a", "b", "c"):
        page = as_user(users[key]).get(reverse("fairness:provider_questions", args=[tender.pk]))
        body = page.content.decode()
        assert page.status_code == 200
        assert "Yes, an en-suite is needed." in body
        if key != "a":
            assert homes["a"].name not in body and users["a"].organisation.name not in body
    notified = set(
        Notification.objects.filter(verb="fairness.question.answered").values_list("organisation", flat=True)
    )
    assert notified == {users[key].organisation_id for key in ("a", "b", "c")}
    assert Tender.objects.get(pk=tender.pk).closes_at == tender.closes_at


def test_late_answer_extends_the_deadline_and_bids_in_the_extension_are_accepted(
    world, broker_a, council_a, django_capture_on_commit_callbacks
):
    MarketSettings.objects.create(commissioner=council_a, late_question_hours=2, deadline_extension_hours=3)
    homes, users, tender = world
    tender = set_deadline(tender, opened_ago=timedelta(hours=20), closes_in=timedelta(minutes=30))
    original = tender.closes_at
    question = question_ask(actor=users["b"], tender=tender, question="Can the person bring their own bed?")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        answered = question_answer(actor=broker_a, question=question, answer="Yes.")
    tender.refresh_from_db()
    assert answered.extended_closes_at == tender.closes_at
    assert tender.closes_at - original > timedelta(hours=2)
    rescheduled = [callback for callback in callbacks if "question_answer" in callback.__qualname__]
    assert len(rescheduled) == 1, "the close task is rescheduled for the new deadline"
    event = AuditEvent.objects.get(verb="fairness.deadline.extended")
    assert event.detail["from"] == original.isoformat() and event.detail["to"] == tender.closes_at.isoformat()
    assert Notification.objects.filter(
        verb="fairness.question.answered", subject__contains="deadline extended"
    ).exists()

    # Move the clock on past the original deadline but inside the extension.
    shift = timedelta(hours=1)
    Tender.objects.filter(pk=tender.pk).update(opened_at=tender.opened_at - shift, closes_at=tender.closes_at - shift)
    assert original - shift < timezone.now() < tender.closes_at - shift
    assert tender_close(tender_id=tender.pk) is False
    bid = place_bid(users["c"], tender, homes["c"], "850.00")
    assert bid.weekly_fee == Decimal("850.00")


def test_early_answer_leaves_the_deadline(world, broker_a):
    _homes, users, tender = world
    tender = set_deadline(tender, opened_ago=timedelta(hours=1), closes_in=timedelta(hours=20))
    question = question_ask(actor=users["a"], tender=tender, question="Ground floor room?")
    answered = question_answer(actor=broker_a, question=question, answer="Not required.")
    assert answered.extended_closes_at is None
    assert Tender.objects.get(pk=tender.pk).closes_at == tender.closes_at


def test_questions_are_refused_after_the_close(world, broker_a):
    _homes, users, tender = world
    question = question_ask(actor=users["a"], tender=tender, question="Ground floor room?")
    Tender.objects.filter(pk=tender.pk).update(
        opened_at=timezone.now() - timedelta(hours=3), closes_at=timezone.now() - timedelta(seconds=1)
    )
    with pytest.raises(ConflictError):
        question_ask(actor=users["b"], tender=tender, question="Too late?")
    with pytest.raises(ConflictError):
        question_answer(actor=broker_a, question=question, answer="Too late.")


def test_only_invited_providers_ask_and_only_the_councils_broker_answers(world, broker_b, provider_user_a):
    from core.errors import NotFoundError

    from .factories import ProviderOrganisationFactory, UserFactory

    _homes, users, tender = world
    stranger = UserFactory(organisation=ProviderOrganisationFactory(slug="stranger"), role="provider")
    with pytest.raises(NotFoundError):
        question_ask(actor=stranger, tender=tender, question="May I?")
    question = question_ask(actor=users["a"], tender=tender, question="Ground floor?")
    with pytest.raises(NotFoundError):
        question_answer(actor=broker_b, question=question, answer="No.")
