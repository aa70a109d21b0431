"""Notices on a care home's pages from apps above providers (overdue improvement actions, for
example): an app registers a source at start-up, the home's page asks every source, and providers
never imports the apps that speak."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class HomeNotice:
    text: str
    href: str = ""
    link_text: str = ""


HomeNoticeSource = Callable[..., list[HomeNotice]]

_sources: list[HomeNoticeSource] = []


def home_notice_source_register(source: HomeNoticeSource) -> None:
    """`source(actor=..., care_home=...)` returns the notices that actor should see on the home's page."""
    if all(existing is not source for existing in _sources):
        _sources.append(source)


def home_notices(*, actor, care_home) -> list[HomeNotice]:
    return [notice for source in _sources for notice in source(actor=actor, care_home=care_home)]
