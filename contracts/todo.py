"""Contracts' items on the provider's home page: current service agreements not yet accepted."""

from django.urls import reverse

from organisations.models import Role
from organisations.todo import TodoItem, todo_source_register

from .selectors import agreement_list


def agreements_to_accept(*, actor):
    return agreement_list(actor=actor).filter(is_current=True, accepted_at__isnull=True)


def provider_todo(user) -> list[TodoItem]:
    count = agreements_to_accept(actor=user).order_by().count()
    return [TodoItem("agreements", "Service agreements to accept", count, reverse("contracts:agreements"))]


todo_source_register(Role.PROVIDER, provider_todo, order=30)
