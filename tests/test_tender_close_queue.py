"""Closes are queued for their deadline only when it is near: a message a worker holds back for
longer than the broker's visibility timeout would be handed out again every timeout."""

import json
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from bidding.services import schedule_tender_close, tenders_queue_closes
from config.celery import app

from .factories import PlacementRequestFactory, TenderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue():
    """The tasks waiting in the broker's default queue (no worker runs in these tests)."""
    app.control.purge()
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)

    def queued_closes() -> list[int]:
        tasks = [json.loads(raw)["headers"] for raw in client.lrange(app.conf.task_default_queue, 0, -1)]
        return sorted(int(h["argsrepr"].strip("(,)")) for h in tasks if h["task"] == "bidding.tasks.tender_close_task")

    yield queued_closes
    app.control.purge()


def tender_closing_in(council, broker, delta):
    request = PlacementRequestFactory(commissioner=council, created_by=broker, status="tendering")
    now = timezone.now()
    return TenderFactory(request=request, opened_at=now - timedelta(hours=1), closes_at=now + delta)


def test_a_near_deadline_is_queued_at_once_and_a_far_one_is_left_for_later(council_a, broker_a, queue):
    near = tender_closing_in(council_a, broker_a, timedelta(minutes=5))
    far = tender_closing_in(council_a, broker_a, timedelta(hours=48))

    schedule_tender_close(near.pk, near.closes_at)
    schedule_tender_close(far.pk, far.closes_at)

    assert queue() == [near.pk]


def test_beat_queues_the_closes_that_have_come_near_and_no_others(council_a, broker_a, queue):
    horizon = timedelta(seconds=settings.TENDER_CLOSE_QUEUE_AHEAD_SECONDS)
    soon = tender_closing_in(council_a, broker_a, horizon - timedelta(minutes=1))
    later = tender_closing_in(council_a, broker_a, horizon + timedelta(minutes=1))
    overdue = tender_closing_in(council_a, broker_a, -timedelta(minutes=1))  # the sweeper's job

    assert tenders_queue_closes() == 1

    assert queue() == [soon.pk]
    assert later.pk not in queue() and overdue.pk not in queue()


def test_the_beat_schedule_looks_more_often_than_the_horizon():
    entry = settings.CELERY_BEAT_SCHEDULE["tenders-queue-closes"]
    assert entry["task"] == "bidding.tasks.tenders_queue_closes_task"
    assert entry["schedule"] < settings.TENDER_CLOSE_QUEUE_AHEAD_SECONDS
    assert (
        settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] / 2 >= settings.TENDER_CLOSE_QUEUE_AHEAD_SECONDS
    )
