"""Celery tasks that close tender windows: one at each deadline, and a sweeper for any missed."""

from core.tasks import DATABASE_RETRY, service_task

from .services import tender_close_and_evaluate, tender_reminders_send, tenders_close_overdue, tenders_queue_closes


@service_task("bidding.tasks.tender_close_task", retry=DATABASE_RETRY)
def tender_close_task(tender_id: int) -> None:
    tender_close_and_evaluate(tender_id=tender_id)


@service_task("bidding.tasks.tenders_close_overdue_task", retry=DATABASE_RETRY)
def tenders_close_overdue_task() -> int:
    return tenders_close_overdue()


@service_task("bidding.tasks.tenders_queue_closes_task", retry=DATABASE_RETRY)
def tenders_queue_closes_task() -> int:
    return tenders_queue_closes()


@service_task("bidding.tasks.tender_reminders_send_task", retry=DATABASE_RETRY)
def tender_reminders_send_task() -> int:
    return tender_reminders_send()
