"""Every list endpoint and list page runs the same number of queries whatever the data size.

Two load data sets are generated side by side: a small one and one about ten times larger with
more bids per tender. The same endpoint is read as the same kind of user of each, and the query
count for the larger one must equal the count for the smaller one.
"""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from bidding.models import Tender
from blockbeds.models import BlockContract
from blockbeds.selectors import block_offers
from loadgen.generator import LoadGenerator, Sizes
from lots.models import Lot
from lots.services import dps_agreement_create
from organisations.models import Organisation, Role, User
from organisations.services import api_client_create
from providers.models import Admission, AdmissionClosure, BedVacancy, CareHome, DocumentKind
from providers.services import (
    admission_closure_open,
    admission_suspend,
    document_requirement_set,
    selection_question_add,
)

from .factories import AdmissionFactory, PlacementRequestFactory

pytestmark = pytest.mark.django_db

SMALL = Sizes(homes=20, placements=80, tenders=16, bids_per_tender=3)
LARGE = Sizes(homes=200, placements=900, tenders=200, bids_per_tender=8)
DASHBOARDS = [
    "timeliness",
    "placements-by-client-group",
    "mean-weekly-cost",
    "rating-mix",
    "bids-per-tender",
    "market",
    "market-position",
    "block-utilisation",
    "discharge",
    "who-pays",
]


class World:
    """One generated data set, seen as its first council's broker and commissioner and its busiest provider."""

    def __init__(self, seed: int, sizes: Sizes, pick_provider):
        LoadGenerator(sizes, seed=seed).run()
        self.council = Organisation.objects.filter(slug__startswith=f"load{seed}-", kind="council").order_by("pk")[0]
        # Providers with a block contract, fewest homes first, so that every provider list has rows.
        providers = (
            Organisation.objects.filter(slug__startswith=f"load{seed}-", kind="provider")
            .annotate(homes=Count("care_homes", distinct=True), contracts=Count("provided_block_contracts"))
            .filter(contracts__gt=0)
            .order_by("homes", "pk")
        )
        self.provider = pick_provider(list(providers))
        self.users = {
            Role.BROKER: User.objects.get(organisation=self.council, role=Role.BROKER),
            Role.COMMISSIONER: User.objects.get(organisation=self.council, role=Role.COMMISSIONER),
            Role.PROVIDER: User.objects.get(organisation=self.provider, role=Role.PROVIDER),
        }
        self._application_and_suspension()
        self._dps_and_selection(many=sizes.homes > SMALL.homes)
        self._request_offered_a_block_bed()
        self._closures_and_hand_backs(many=sizes.homes > SMALL.homes)
        self.tender = (
            Tender.objects.filter(request__commissioner=self.council, status=Tender.Status.AWARDED)
            .annotate(n=Count("bids"))
            .order_by("-n", "pk")
            .first()
        )
        self.bid_tender = Tender.objects.filter(bids__provider=self.provider).order_by("pk").first()
        home = CareHome.objects.filter(admissions__commissioner=self.council).first()
        self.near = f"{home.latitude},{home.longitude}"
        self.own_home = CareHome.objects.filter(provider=self.provider).order_by("pk").first()
        self.api = {}
        for role, organisation in [
            (Role.BROKER, self.council),
            (Role.COMMISSIONER, self.council),
            (Role.PROVIDER, self.provider),
        ]:
            _, token = api_client_create(
                organisation=organisation,
                name=f"{role} system",
                scopes=["read", "placement-requests", "bids", "dashboards", "webhooks", "vacancies"],
                role=role,
            )
            self.api[role] = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    def _request_offered_a_block_bed(self) -> None:
        """A new request that one of the council's void block beds fits, in both sets, so the request
        queue compares an offer's beds with beds (the generated data may leave the small set without one)."""
        broker = User.objects.get(organisation=self.council, role=Role.BROKER)
        for contract in BlockContract.objects.filter(commissioner=self.council).select_related("care_home"):
            home = contract.care_home
            for lot in contract.lots.all():
                candidate = PlacementRequestFactory(
                    commissioner=self.council,
                    created_by=broker,
                    lot=lot,
                    latitude=home.latitude,
                    longitude=home.longitude,
                    local_authority=home.local_authority,
                )
                if block_offers(requests=[candidate]).get(candidate.pk):
                    return
                candidate.delete()

    def _closures_and_hand_backs(self, *, many: bool) -> None:
        """Homes of the council's residents closing (more in the larger set), and a placement handed
        back to it by the provider, so the closure pages and their API compare short lists with long."""
        from closures.services import home_closing_announce, placement_hand_back
        from placements.models import Placement

        placed = Placement.objects.filter(commissioner=self.council, end_date__isnull=True, cancelled_at__isnull=True)
        homes = (
            CareHome.objects.filter(pk__in=placed.values("care_home_id"))
            .exclude(provider=self.provider)
            .order_by("pk")[: 6 if many else 2]
        )
        for home in homes:
            home_closing_announce(
                actor=self.users[Role.COMMISSIONER],
                care_home=home,
                closing_on=timezone.localdate() + timedelta(days=30),
                reason="The provider is leaving the market.",
            )
        given = placed.filter(care_home__provider=self.provider, block_occupancy__isnull=True).order_by("pk")
        for placement in given[: 4 if many else 1]:
            placement_hand_back(
                actor=self.users[Role.PROVIDER],
                placement=placement,
                notice_ends_on=timezone.localdate() + timedelta(days=28),
                reason="We cannot meet the resident's needs.",
            )

    def _dps_and_selection(self, *, many: bool) -> None:
        """The council's DPS with its options and notices, questions and required documents: more of
        each in the larger set, so its pages and list compare a short table with a long one."""
        count = 6 if many else 2
        today = timezone.localdate()
        dps = dps_agreement_create(
            commissioner=self.council,
            title="Care homes DPS",
            procurement_regime="pcr_2015_light_touch",
            starts_on=today - timedelta(days=900),
            ends_on=today + timedelta(days=900),
            extension_options=[(12, today + timedelta(days=100 + n)) for n in range(count)],
        )
        dps.lots.set(Lot.objects.order_by("number")[: count + 2])
        for n in range(count):
            dps.notices.create(reference=f"2024/S 000-{n:06d}", url="https://notices.example/", published_on=today)
        commissioner = self.users[Role.COMMISSIONER]
        for n in range(count * 3):
            selection_question_add(
                actor=commissioner, lot=Lot.objects.get(number=1 + n % 10), text=f"Question {n}", answer_type="text"
            )
        for kind in DocumentKind.values[:count]:
            document_requirement_set(actor=commissioner, kind=kind, required=True)

    def _application_and_suspension(self) -> None:
        """One more application waiting and one more suspension for the council, in homes of other providers.

        A small set may have neither, and an empty page skips the query of its rows: without these the
        application and suspension pages would compare an empty page with a full one."""
        admissions = Admission.objects.filter(commissioner=self.council).exclude(care_home__provider=self.provider)
        admitted = admissions.filter(status=Admission.Status.ADMITTED).order_by("pk")[0]
        admission_suspend(
            actor=self.users[Role.COMMISSIONER], admission=admitted, reason="Safeguarding concern under review"
        )
        # Free beds in every home of the council's, and closures of the provider's first home, so that
        # the vacancy search and the closures list have rows in both sets.
        homes = CareHome.objects.filter(admissions__commissioner=self.council).distinct()
        BedVacancy.objects.bulk_create(
            BedVacancy(care_home=home, lot=Lot.objects.get(number=1), beds=2, confirmed_at=timezone.now())
            for home in homes
        )
        own = CareHome.objects.filter(provider=self.provider).order_by("pk").first()
        for days in range(1, 1 + CareHome.objects.count() // 10):
            AdmissionClosure.objects.create(
                care_home=own, reason="refurbishment", starts_at=timezone.now() - timedelta(days=days)
            )
        # And an embargo, so that the embargoes page has a row in both sets.
        admission_closure_open(
            actor=self.users[Role.COMMISSIONER],
            care_home=admitted.care_home,
            commissioner=self.council,
            reason="safeguarding_embargo",
            details="Enquiry under way",
        )
        taken = set(admissions.values_list("care_home_id", "lot_id"))
        home, lot = next(
            (home, lot)
            for home in CareHome.objects.filter(pk__in={home for home, _ in taken}).order_by("pk")
            for lot in Lot.objects.order_by("number")
            if (home.pk, lot.pk) not in taken
        )
        AdmissionFactory(
            commissioner=self.council,
            care_home=home,
            lot=lot,
            status=Admission.Status.APPLIED,
            applied_at=timezone.now(),
            weekly_fee=Decimal("950.00"),
            insurance_confirmed=True,
            insurance_expires_on=timezone.localdate() + timedelta(days=200),
            terms_accepted=True,
        )

    def page_client(self, role) -> Client:
        client = Client()
        client.force_login(self.users[role])
        return client

    def url(self, template: str) -> str:
        return template.format(
            tender=self.tender.pk,
            bid_tender=self.bid_tender.pk if self.bid_tender else 0,
            near=self.near,
            home=self.own_home.pk,
            week=f"{timezone.localdate():%G-W%V}/4",
        )


@pytest.fixture
def worlds():
    small = World(11, SMALL, pick_provider=lambda providers: providers[0])
    large = World(12, LARGE, pick_provider=lambda providers: providers[-1])
    return small, large


def _queries(client: Client, url: str) -> tuple[int, int, int]:
    client.get(url)  # first use: session, last-used stamp, caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return response.status_code, len(queries), len(response.content)


def _compare(worlds, cases, client_for, django_assert_num_queries):
    """Check every case and report all that differ at once."""
    small, large = worlds
    problems = []
    for role, template in cases:
        small_status, small_count, small_size = _queries(client_for(small, role), small.url(template))
        if small_status != 200:
            problems.append(f"{template} as {role}: status {small_status}")
            continue
        client = client_for(large, role)
        url = large.url(template)
        client.get(url)
        try:
            with django_assert_num_queries(small_count):
                response = client.get(url)
        except pytest.fail.Exception as error:
            problems.append(f"{template} as {role}: {str(error).splitlines()[0]}")
            continue
        # The larger set shows more rows, so a constant count is not an artefact of empty pages.
        if response.status_code != 200 or len(response.content) < small_size * 0.9:
            problems.append(f"{template} as {role}: {response.status_code}, {len(response.content)} < {small_size}")
    assert not problems, "\n".join(problems)


API_CASES = [
    (Role.BROKER, "/api/v1/placement-requests/"),
    (Role.BROKER, "/api/v1/placement-requests/?page_size=200"),
    (Role.BROKER, "/api/v1/placements/"),
    (Role.BROKER, "/api/v1/placements/?page_size=200"),
    (Role.BROKER, "/api/v1/care-homes/"),
    (Role.BROKER, "/api/v1/care-homes/?near={near}&within_km=50"),
    (Role.BROKER, "/api/v1/care-homes/?lot=1&rating=Good"),
    (Role.BROKER, "/api/v1/block-contracts/"),
    (Role.BROKER, "/api/v1/lots/"),
    (Role.BROKER, "/api/v1/dps-agreements/"),
    (Role.BROKER, "/api/v1/tenders/{tender}/evaluation/"),
    (Role.BROKER, "/api/v1/ocds/releases/"),
    (Role.COMMISSIONER, "/api/v1/service-agreements/"),
    (Role.COMMISSIONER, "/api/v1/payment-schedules/?period={week}"),
    (Role.COMMISSIONER, "/api/v1/webhooks/subscriptions/"),
    (Role.COMMISSIONER, "/api/v1/webhooks/deliveries/"),
    (Role.PROVIDER, "/api/v1/care-homes/"),
    (Role.PROVIDER, "/api/v1/care-homes/{home}/admission-closures/"),
    (Role.BROKER, "/api/v1/bed-vacancies/"),
    (Role.BROKER, "/api/v1/bed-vacancies/?near={near}&within_km=50&lot=1&fresh_only=true"),
    (Role.PROVIDER, "/api/v1/tenders/{bid_tender}/bids/"),
    (Role.PROVIDER, "/api/v1/invitations/"),
    (Role.PROVIDER, "/api/v1/block-contracts/"),
    (Role.PROVIDER, "/api/v1/service-agreements/"),
    *[(Role.COMMISSIONER, f"/api/v1/dashboards/{name}/") for name in DASHBOARDS],
    (Role.COMMISSIONER, "/api/v1/quality-scoring-rules/"),
    (Role.COMMISSIONER, "/api/v1/return-measures/"),
    (Role.PROVIDER, "/api/v1/return-measures/"),
    (Role.BROKER, "/api/v1/dashboards/home-closures/"),
]

# API lists that only signed-in people may use (API clients cannot manage API clients).
SESSION_API_CASES = [
    (Role.COMMISSIONER, "/api/v1/api-clients/"),
    (Role.PROVIDER, "/api/v1/api-clients/"),
]

PAGE_CASES = [
    (Role.BROKER, "/broker/"),
    (Role.BROKER, "/broker/requests/"),
    (Role.BROKER, "/care-homes/search/"),
    (Role.BROKER, "/care-homes/search/?lot=1&near={near}&within_km=50"),
    (Role.BROKER, "/block-contracts/"),
    (Role.BROKER, "/agreements/"),
    (Role.COMMISSIONER, "/commissioner/"),
    (Role.COMMISSIONER, "/commissioner/applications/"),
    (Role.COMMISSIONER, "/commissioner/dps-members/"),
    (Role.COMMISSIONER, "/commissioner/suspensions/"),
    (Role.COMMISSIONER, "/commissioner/reopening-windows/"),
    (Role.COMMISSIONER, "/commissioner/lots/"),
    (Role.COMMISSIONER, "/commissioner/lots/dps/"),
    (Role.COMMISSIONER, "/commissioner/questionnaire/"),
    (Role.COMMISSIONER, "/commissioner/document-requirements/"),
    (Role.BROKER, "/dps/"),
    (Role.COMMISSIONER, "/commissioner/uplifts/"),
    (Role.COMMISSIONER, "/payments/"),
    (Role.COMMISSIONER, "/block-contracts/utilisation/"),
    (Role.COMMISSIONER, "/integrations/api-clients/"),
    (Role.COMMISSIONER, "/integrations/webhooks/"),
    (Role.COMMISSIONER, "/dashboards/"),
    *[(Role.COMMISSIONER, f"/dashboards/{name}/") for name in DASHBOARDS if name != "block-utilisation"],
    (Role.PROVIDER, "/provider/"),
    (Role.PROVIDER, "/provider/invitations/"),
    (Role.PROVIDER, "/provider/homes/"),
    (Role.PROVIDER, "/provider/applications/"),
    (Role.COMMISSIONER, "/commissioner/embargoes/"),
    (Role.BROKER, "/vacancies/search/?lot=1"),
    (Role.PROVIDER, "/agreements/"),
    (Role.COMMISSIONER, "/commissioner/monitoring/"),
    (Role.COMMISSIONER, "/commissioner/monitoring/framework/"),
    (Role.COMMISSIONER, "/commissioner/quality-scoring/"),
    (Role.COMMISSIONER, "/commissioner/returns/"),
    (Role.COMMISSIONER, "/commissioner/returns/measures/"),
    (Role.BROKER, "/closures/"),
    (Role.COMMISSIONER, "/closures/"),
    (Role.PROVIDER, "/provider/hand-backs/"),
]


def test_api_list_endpoints_run_a_constant_number_of_queries(worlds, django_assert_num_queries):
    _compare(worlds, API_CASES, lambda world, role: world.api[role], django_assert_num_queries)


def test_api_lists_for_signed_in_people_run_a_constant_number_of_queries(worlds, django_assert_num_queries):
    _compare(worlds, SESSION_API_CASES, lambda world, role: world.page_client(role), django_assert_num_queries)


def test_list_pages_run_a_constant_number_of_queries(worlds, django_assert_num_queries):
    _compare(worlds, PAGE_CASES, lambda world, role: world.page_client(role), django_assert_num_queries)


def _shape(path: str) -> str:
    """A path with its parameters blanked and its query dropped, to compare cases with routes."""
    return re.sub(r"\{[^}]+\}", "{}", path.split("?")[0])


# Lists that have no case above, and why.
NOT_COUNTED = {
    "/api/v1/bench/ping/": "benchmark baseline, only in the benchmark settings",
    # The load data sets have no questions or shortlists; these lists are grown and counted there.
    "/api/v1/tenders/{id}/questions/": "test_fair_api.test_question_list_runs_the_same_queries_whatever_its_length",
    "/api/v1/tenders/{id}/shortlists/": "test_fair_api.test_shortlist_list_runs_the_same_queries_whatever_its_length",
    # The load data sets have no hospitals; referral lists are grown and counted there.
    "/api/v1/referrals/": "test_hospital_referrals.test_referral_lists_run_the_same_queries_whatever_their_length",
    # A placement's share sets and the national FNC rates are not in the load data sets.
    "/api/v1/placements/{id}/funding-shares/": (
        "test_funding_shares.test_funding_share_and_fnc_rate_lists_run_the_same_queries_whatever_their_length"
    ),
    "/api/v1/placements/{id}/absences/": (
        "test_placement_payers_api.test_absence_and_outcome_payment_lists_run_the_same_queries_whatever_their_length"
    ),
    "/api/v1/placements/{id}/outcome-payments/": (
        "test_placement_payers_api.test_absence_and_outcome_payment_lists_run_the_same_queries_whatever_their_length"
    ),
    "/api/v1/fnc-rates/": (
        "test_funding_shares.test_funding_share_and_fnc_rate_lists_run_the_same_queries_whatever_their_length"
    ),
    # The load data sets have no quality work; a home's quality lists are grown and counted there.
    **dict.fromkeys(
        [
            "/api/v1/care-homes/{id}/monitoring-visits/",
            "/api/v1/care-homes/{id}/concerns/",
            "/api/v1/care-homes/{id}/improvement-actions/",
        ],
        "test_quality_monitoring.test_a_homes_quality_lists_run_the_same_queries_whatever_their_length",
    ),
    "/api/v1/care-homes/{id}/returns/": (
        "test_quality_returns.test_return_lists_run_the_same_queries_whatever_their_length"
    ),
}


def test_every_paginated_api_list_has_a_query_count_case():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    counted = {_shape(template) for _, template in API_CASES + SESSION_API_CASES}
    missing = []
    for path, operations in schema["paths"].items():
        ok = operations.get("get", {}).get("responses", {}).get("200", {})
        body = ok.get("content", {}).get("application/json", {}).get("schema", {})
        is_list = body.get("type") == "array" or "Paginated" in body.get("$ref", "")
        if is_list and _shape(path) not in counted and path not in NOT_COUNTED:
            missing.append(path)
    assert not missing, "Add a query-count case for: " + ", ".join(sorted(missing))


def test_every_page_with_a_table_has_a_query_count_case():
    world = World(13, SMALL, pick_provider=lambda providers: providers[0])
    counted = {_shape(template) for _, template in PAGE_CASES}
    missing, tables = [], set()
    for pattern in _page_routes():
        for role in (Role.BROKER, Role.COMMISSIONER, Role.PROVIDER):
            response = world.page_client(role).get(pattern)
            if response.status_code == 200 and b"<table" in response.content:
                tables.add(pattern)
                if pattern not in counted:
                    missing.append(f"{pattern} as {role}")
    assert not missing, "Add a query-count case for: " + ", ".join(sorted(missing))
    assert len(tables) >= 12, f"only {sorted(tables)} show tables: is the data set empty?"


def _page_routes() -> list[str]:
    """Every page that takes no parameters."""
    routes = []

    def walk(patterns, prefix=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern) and "<" not in str(entry.pattern):
                path = "/" + prefix + str(entry.pattern)
                if not path.startswith(("/api/", "/admin/")) and "^" not in path:
                    routes.append(path)

    walk(get_resolver().url_patterns)
    return sorted(set(routes))
