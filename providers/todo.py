"""Providers' items on the commissioner's home page: DPS applications to decide, suspensions to review."""

from django.db.models import Count
from django.urls import reverse

from organisations.models import Role
from organisations.todo import TodoItem, todo_source_register

from .models import Admission
from .selectors import admissions_for_commissioner


def commissioner_todo(user) -> list[TodoItem]:
    counts = {
        row["status"]: row["n"]
        for row in admissions_for_commissioner(actor=user)
        .filter(status__in=[Admission.Status.APPLIED, Admission.Status.SUSPENDED])
        .order_by()
        .values("status")
        .annotate(n=Count("id"))
    }
    return [
        TodoItem(
            "applications",
            "DPS applications to decide",
            counts.get(Admission.Status.APPLIED, 0),
            reverse("providers:application_queue"),
        ),
        TodoItem(
            "suspensions",
            "Suspended homes to review for reinstatement",
            counts.get(Admission.Status.SUSPENDED, 0),
            reverse("providers:suspensions"),
        ),
    ]


todo_source_register(Role.COMMISSIONER, commissioner_todo, order=10)
