"""The to-do lists on each role's home page, filled at start-up by the apps that own the work.

Organisations is below every app that knows what a provider or a commissioner has to do (bids,
bed holds, agreements, applications, suspensions), so each of those apps registers a source here,
a function of the signed-in user that answers its own items with one counting query; the home
pages only list them. Sources are listed in the order they were given.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class TodoItem:
    key: str
    label: str
    count: int
    url: str
    hint: str = ""


TodoSource = Callable[[object], list[TodoItem]]

_sources: dict[str, list[tuple[int, TodoSource]]] = {}


def todo_source_register(role: str, source: TodoSource, *, order: int = 100) -> None:
    """Add `source` to the home page of `role`; lower `order` first. Registering twice is harmless."""
    sources = _sources.setdefault(role, [])
    if all(existing is not source for _, existing in sources):
        sources.append((order, source))
        sources.sort(key=lambda pair: pair[0])


def todo_list(user) -> list[TodoItem]:
    """What the user's role has to do, from every registered source."""
    return [item for _, source in _sources.get(user.role, []) for item in source(user)]
