"""Lists that scale: every list page shows fifty rows a page under the GOV.UK pagination
component, narrowed by a GET form of filters, and its CSV download carries the same filters
and holds every filtered row, not only the page on screen.

A list view reads its filters with a `ListFilterForm`, narrows its rows, and then either
answers the CSV of all of them or `list_page(request, rows)` for the page asked for. Paging a
queryset costs one count and one slice whatever the list's length, so the query count of a
list page does not grow with its data.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.http import QueryDict

from .forms import form_helper

PAGE_SIZE = 50
# Query parameters that belong to one page or one download, never to the list's filters.
NOT_FILTERS = ("page", "format", "submit")


def filter_query(query: QueryDict, **changes: Any) -> str:
    """The query string of the list's filters, with `changes` set (a None value drops a key)."""
    kept = query.copy()
    for key in NOT_FILTERS:
        kept.pop(key, None)
    for key, value in changes.items():
        kept.pop(key, None)
        if value is not None:
            kept[key] = str(value)
    return "?" + kept.urlencode()


def csv_href(request) -> str:
    """The link to the CSV of the list as it is filtered now."""
    return filter_query(request.GET, format="csv")


@dataclass(frozen=True)
class PageLink:
    """One entry of the pagination list: a numbered page, or a gap (number None)."""

    number: int | None
    href: str = ""
    current: bool = False


def _numbers(current: int, last: int) -> list[int | None]:
    """The first and last page, the current page and its neighbours, with None for each gap."""
    shown = sorted({1, last, current - 1, current, current + 1} & set(range(1, last + 1)))
    numbers: list[int | None] = []
    for number in shown:
        if numbers and number - numbers[-1] > 1:
            numbers.append(None)
        numbers.append(number)
    return numbers


class ListPage:
    """One page of a list: its rows, the links to the other pages and the CSV link."""

    def __init__(self, request, rows, *, per_page: int = PAGE_SIZE):
        paginator = Paginator(rows, per_page)
        self.page = paginator.get_page(request.GET.get("page"))
        self.rows: Sequence = list(self.page.object_list)
        self.count = paginator.count
        self.first = self.page.start_index()
        self.last = self.page.end_index()
        self.has_pages = paginator.num_pages > 1
        query = request.GET
        self.csv_href = csv_href(request)
        self.links = [
            PageLink(n, filter_query(query, page=n), n == self.page.number) if n else PageLink(None)
            for n in _numbers(self.page.number, paginator.num_pages)
        ]
        self.previous_href = (
            filter_query(query, page=self.page.previous_page_number()) if self.page.has_previous() else ""
        )
        self.next_href = filter_query(query, page=self.page.next_page_number()) if self.page.has_next() else ""

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __bool__(self) -> bool:
        return self.count > 0


def list_page(request, rows, *, per_page: int = PAGE_SIZE) -> ListPage:
    """The page of `rows` the request asks for (`?page=`); an unknown page number shows the nearest page."""
    return ListPage(request, rows, per_page=per_page)


class ListFilterForm(forms.Form):
    """The filters above a list: every field optional, sent by GET.

    A value that does not fit its field (an old link, a hand-edited address) is shown as a field
    error and the list is left unfiltered by it, rather than refusing the page."""

    def __init__(self, data=None, *args, **kwargs):
        relevant = data if data is not None and any(k not in NOT_FILTERS for k in data) else None
        super().__init__(relevant, *args, **kwargs)
        for field in self.fields.values():
            field.required = False
        self.helper = form_helper("Filter", method="get")
        self.helper.form_id = "filters"

    def filters(self) -> dict[str, Any]:
        """The valid, non-empty filter values."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {key: value for key, value in self.cleaned_data.items() if value not in (None, "", [])}
