"""Every list page that can grow shows fifty rows a page under the GOV.UK pagination component,
narrows its rows with its filters, downloads the filtered rows in full as CSV, and runs the same
number of queries with ten rows as with a hundred and twenty."""

import csv
import io
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bidding.models import Tender
from contracts.models import Uplift
from contracts.services import agreement_create_for_placement
from integrations.models import WebhookSubscription
from lots.models import Lot
from placements.models import PlacementRequest
from providers.models import Admission
from tests.factories import (
    AdmissionFactory,
    ApiClientFactory,
    ApplicationWindowFactory,
    BlockContractFactory,
    CareHomeFactory,
    InvitationFactory,
    PaidPlacementFactory,
    PlacementRequestFactory,
    TenderFactory,
)

pytestmark = pytest.mark.django_db

SMALL, LARGE = 10, 120
# Of every batch of rows made, one in four is the kind the case's filter picks out.
PICKED = 4


@dataclass
class Case:
    user: str
    url: str
    make: object  # make(world, index) -> None: one more row of the list, picked when index % PICKED == 0
    filtered: str = ""  # a query that keeps only the picked rows


def _lot(number: int) -> Lot:
    return Lot.objects.get(number=number)


def _picked(index: int) -> bool:
    return index % PICKED == 0


def _home(world, index, provider="provider_a"):
    """Two homes per provider: Willow Court for picked rows, Oak House for the others."""
    key = (provider, _picked(index))
    if key not in world.homes:
        name = "Willow Court" if _picked(index) else "Oak House"
        world.homes[key] = CareHomeFactory(provider=getattr(world, provider), name=f"{name} {provider}")
    return world.homes[key]


def make_placement(world, index):
    PaidPlacementFactory(
        commissioner=world.council_a,
        care_home=_home(world, index, "provider_b" if _picked(index) else "provider_a"),
        case_reference=f"LIST-{index:04d}",
    )


def make_agreement(world, index):
    placement = PaidPlacementFactory(
        commissioner=world.council_a, care_home=_home(world, index), case_reference=f"AGR-{index:04d}"
    )
    agreement = agreement_create_for_placement(placement=placement, actor=world.broker_a)
    if _picked(index):
        type(agreement).objects.filter(pk=agreement.pk).update(
            accepted_at=timezone.now(), accepted_by=world.provider_user_a
        )


def make_uplift(world, index):
    Uplift.objects.create(
        commissioner=world.council_a,
        name=f"Uplift {index}",
        basis=Uplift.Basis.choices[0][0],
        effective_from=timezone.localdate() + timedelta(days=index),
        status=Uplift.Status.APPLIED if _picked(index) else Uplift.Status.DRAFT,
        created_by=world.commissioner_a,
    )


def _admission(status_for):
    def make(world, index):
        home = CareHomeFactory(provider=world.provider_a, name=f"Home {index:04d}")
        status = status_for(index)
        AdmissionFactory(
            commissioner=world.council_a, care_home=home, lot=_lot(2 if _picked(index) else 1), status=status
        )

    return make


def make_application(world, index):
    home = CareHomeFactory(provider=world.provider_a, name=f"Home {index:04d}")
    status = Admission.Status.REJECTED if _picked(index) else Admission.Status.APPLIED
    AdmissionFactory(commissioner=world.council_a, care_home=home, status=status)


def make_home(world, index):
    CareHomeFactory(provider=world.provider_a, name=("Willow Court" if _picked(index) else "Oak House") + f" {index}")


def make_invitation(world, index):
    tender = world.tender_for(index)
    InvitationFactory(tender=tender, care_home=_home(world, index))


def make_contract(world, index):
    BlockContractFactory(
        commissioner=world.council_a,
        care_home=_home(world, index),
        reference=f"BLK-L{index:04d}",
        lot_numbers=[2] if _picked(index) else [1],
    )


def make_api_client(world, index):
    ApiClientFactory(organisation=world.council_a, revoked_at=timezone.now() if _picked(index) else None)


def make_webhook(world, index):
    WebhookSubscription.objects.create(
        organisation=world.council_a,
        url=f"https://example.org/hooks/{index}",
        events=["placement_request.published"],
        secret="s" * 40,
        disabled_at=timezone.now() if _picked(index) else None,
    )


def make_request(world, index):
    status = PlacementRequest.Status.CANCELLED if _picked(index) else PlacementRequest.Status.NEW
    PlacementRequestFactory(
        commissioner=world.council_a, created_by=world.broker_a, case_reference=f"REQ-{index:04d}", status=status
    )


def make_window(world, index):
    ApplicationWindowFactory(
        commissioner=world.council_a, opens_on=timezone.localdate() + timedelta(days=30 + 20 * index)
    )


def make_search_home(world, index):
    home = CareHomeFactory(provider=world.provider_a, name=f"Search home {index:04d}")
    AdmissionFactory(commissioner=world.council_a, care_home=home, lot=_lot(2 if _picked(index) else 1))


CASES = {
    "payments": Case("commissioner_a", "/payments/", make_placement, "counterparty={provider_b}"),
    "agreements": Case("broker_a", "/agreements/", make_agreement, "status=accepted"),
    "uplifts": Case("commissioner_a", "/commissioner/uplifts/", make_uplift, "status=applied"),
    "dps-members": Case(
        "commissioner_a",
        "/commissioner/dps-members/",
        _admission(lambda i: Admission.Status.SUSPENDED if _picked(i) else Admission.Status.ADMITTED),
        "status=suspended",
    ),
    "suspensions": Case(
        "commissioner_a", "/commissioner/suspensions/", _admission(lambda i: Admission.Status.SUSPENDED), "lot=2"
    ),
    "application-queue": Case(
        "commissioner_a", "/commissioner/applications/", _admission(lambda i: Admission.Status.APPLIED), "lot=2"
    ),
    "my-applications": Case("provider_user_a", "/provider/applications/", make_application, "status=rejected"),
    "my-homes": Case("provider_user_a", "/provider/homes/", make_home, "care_home=willow"),
    "invitations": Case("provider_user_a", "/provider/invitations/", make_invitation, "care_home=Willow"),
    "block-contracts": Case("broker_a", "/block-contracts/", make_contract, "lot=2"),
    "api-clients": Case("commissioner_a", "/integrations/api-clients/", make_api_client, "state=revoked"),
    "webhooks": Case("commissioner_a", "/integrations/webhooks/", make_webhook, "state=off"),
    "requests": Case("broker_a", "/broker/requests/", make_request, "status=cancelled"),
    "reopening-windows": Case("commissioner_a", "/commissioner/reopening-windows/", make_window),
    "care-home-search": Case(
        "broker_a", "/care-homes/search/?local_authority=Staffordshire", make_search_home, "lot={lot_2}"
    ),
}


class World:
    def __init__(self, request):
        for name in ("council_a", "provider_a", "provider_b", "broker_a", "commissioner_a", "provider_user_a"):
            setattr(self, name, request.getfixturevalue(name))
        self.homes = {}
        self.made = 0

    def tender_for(self, index) -> Tender:
        request = PlacementRequestFactory(commissioner=self.council_a, created_by=self.broker_a)
        return TenderFactory(request=request)

    def grow(self, case: Case, to: int) -> None:
        while self.made < to:
            case.make(self, self.made)
            self.made += 1

    def query(self, text: str) -> str:
        return text.format(provider_b=self.provider_b.pk, lot_2=_lot(2).pk)


def _url(case: Case, world: World, *extra: str) -> str:
    joiner = "&" if "?" in case.url else "?"
    parts = [world.query(part) for part in extra if part]
    return case.url + (joiner + "&".join(parts) if parts else "")


def _rows(html: str) -> int:
    """Rows of the page's longest table body."""
    bodies = re.findall(r"<tbody[^>]*>(.*?)</tbody>", html, re.S)
    return max((len(re.findall(r"<tr\b", body)) for body in bodies), default=0)


# The payment schedule's CSV ends with its totals check: rows that sum the lines, not lines.
TOTAL_ROWS = {"payer_total", "schedule_total"}


def _csv_rows(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()
    return [row for row in csv.DictReader(io.StringIO(text)) if row.get("line_type") not in TOTAL_ROWS]


def _count_queries(client, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_long_list_pages_filters_and_downloads_in_full(name, request, as_user):
    case = CASES[name]
    world = World(request)
    client = as_user(getattr(world, case.user))

    world.grow(case, SMALL)
    small_queries = _count_queries(client, _url(case, world))
    world.grow(case, LARGE)
    large_queries = _count_queries(client, _url(case, world))
    assert large_queries == small_queries, f"{small_queries} queries for {SMALL} rows, {large_queries} for {LARGE}"

    first = client.get(_url(case, world)).content.decode()
    assert _rows(first) == 50
    assert 'class="govuk-pagination"' in first and 'aria-label="Page 3"' in first
    assert f"of {LARGE} " in first

    third = client.get(_url(case, world, "page=3")).content.decode()
    assert _rows(third) == LARGE - 100
    assert 'aria-current="page"' in third and 'rel="next"' not in third

    # The download of the list holds every row, whichever page it is taken from.
    page_three_csv = client.get(_url(case, world, "page=3", "format=csv"))
    assert len(_csv_rows(page_three_csv)) == LARGE

    if case.filtered:
        picked = LARGE // PICKED
        narrowed = client.get(_url(case, world, case.filtered)).content.decode()
        assert _rows(narrowed) == picked
        assert 'class="govuk-pagination"' not in narrowed
        # The page's own CSV link carries the filters.
        link = re.search(r'href="([^"]*format=csv[^"]*)">Download as CSV', narrowed).group(1).replace("&amp;", "&")
        assert world.query(case.filtered).split("=")[0] in link
        assert len(_csv_rows(client.get(case.url.split("?")[0] + link))) == picked


def test_page_links_keep_the_filters_and_show_gaps(as_user, commissioner_a, council_a):
    for _ in range(400):
        ApiClientFactory(organisation=council_a, revoked_at=timezone.now())
    page = as_user(commissioner_a).get("/integrations/api-clients/?state=revoked&page=5").content.decode()
    links = re.findall(r'href="(\?[^"]*page=\d+[^"]*)"', page)
    assert links and all("state=revoked" in link for link in links)
    assert page.count("govuk-pagination__item--ellipses") == 2
    for number in (1, 4, 5, 6, 8):
        assert f'aria-label="Page {number}"' in page
    assert 'aria-label="Page 2"' not in page and 'aria-label="Page 7"' not in page


def test_a_page_number_out_of_range_shows_the_last_page(as_user, commissioner_a, council_a):
    for _ in range(60):
        ApiClientFactory(organisation=council_a)
    page = as_user(commissioner_a).get("/integrations/api-clients/?page=99").content.decode()
    assert _rows(page) == 10 and "Showing 51 to 60 of 60" in page
