"""Notices and risk ratings that apps above providers put on a care home's pages and lists (overdue
improvement actions, a risk rating): an app registers a source at start-up, the pages ask every
source, and providers never imports the apps that speak."""

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


@dataclass(frozen=True)
class HomeRisk:
    """A home's risk rating for the person's body: red, amber or green, and why."""

    rating: str
    reasons: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.rating.capitalize()


HomeRiskSource = Callable[..., dict[int, HomeRisk]]

_risk_sources: list[HomeRiskSource] = []


def home_risk_source_register(source: HomeRiskSource) -> None:
    """`source(actor=..., care_home_ids=[...])` returns each home's risk for that actor (none: not shown)."""
    if all(existing is not source for existing in _risk_sources):
        _risk_sources.append(source)


def home_risks(*, actor, care_home_ids) -> dict[int, HomeRisk]:
    ids = list(care_home_ids)
    risks: dict[int, HomeRisk] = {}
    for source in _risk_sources:
        risks.update(source(actor=actor, care_home_ids=ids))
    return risks
