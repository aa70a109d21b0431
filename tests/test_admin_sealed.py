"""Sealed bids in the back office: before the close no admin page answers differently for different
amounts, whatever it is asked, superusers included; once the tender has closed the amounts show."""

import hashlib
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.utils import timezone

from bidding.admin import BidAdmin
from bidding.models import Bid, Tender
from core.admin import _SEALS, SealedValuesAdmin, check_sealed_values_guarded, seal_fields
from integrations.models import IdempotencyKey
from organisations.models import User

from .factories import BidFactory, TenderFactory, UserFactory

pytestmark = pytest.mark.django_db

FIRST = ["1111.11", "2222.22", "3333.33", "4444.44"]
# Different amounts in a different order: every count, filter and order over amounts differs.
SECOND = ["4999.99", "1500.05", "3700.37", "250.25"]
AMOUNT_COLUMN = BidAdmin.list_display.index("weekly_fee")
RANK_COLUMN = BidAdmin.list_display.index("rank")

SEALED_LOOKUPS = [
    "weekly_fee__gt=2000",
    "weekly_fee__gte=2000",
    "weekly_fee__lt=2000",
    "weekly_fee__exact=1111.11",
    "weekly_fee=1111.11",
    "weekly_fee__in=1111.11,2222.22",
    "weekly_fee__range=1000,3000",
    "weekly_fee__isnull=False",
    "weekly_fee__gt=abc",
    "rank__isnull=True",
    "price_score__gt=0",
    "working__has_key=price",
    "tender__bids__weekly_fee__gt=2000",
    "invitation__bid__weekly_fee__lt=2000",
    "submitted_at__year={year}&weekly_fee__gt=2000",
    "_facets=1&weekly_fee__gt=2000",
    "_popup=1&_to_field=weekly_fee",
]
RELATED_LOOKUPS = [
    "bidding/tender/?bids__weekly_fee__gt=2000",
    "bidding/invitation/?bid__weekly_fee__gt=2000",
    "bidding/award/?bid__weekly_fee__gt=2000",
    "providers/carehome/?bids__weekly_fee__gt=2000",
    "organisations/organisation/?bids__weekly_fee__gt=2000",
    "placements/placementrequest/?tenders__bids__weekly_fee__gt=2000",
    "fairness/bedhold/?bid__weekly_fee__gt=2000",
    "fairness/standstill/?bid__weekly_fee__lt=2000",
    "fairness/shortlistlink/?bids__weekly_fee__gt=2000",
    "fairness/shortlistlink/?chosen_bid__weekly_fee__gt=2000",
    "fairness/challenge/?bid__rank=1",
    "integrations/idempotencykey/?response_body__contains=weekly_fee",
    "integrations/idempotencykey/?request_hash=0",
]
PAGES = [
    "bidding/bid/",
    f"bidding/bid/?o={AMOUNT_COLUMN}",
    f"bidding/bid/?o=-{AMOUNT_COLUMN}",
    f"bidding/bid/?o={RANK_COLUMN}",
    f"bidding/bid/?o={AMOUNT_COLUMN}.1",
    "bidding/bid/?q=1111",
    "bidding/bid/?q=2222.2",
    "bidding/bid/?_facets=1",
    "bidding/bid/?_facets=1&status__exact=submitted",
    "bidding/bid/?submitted_at__year={year}",
    "bidding/bid/?submitted_at__year={year}&submitted_at__month={month}&submitted_at__day={day}",
    "bidding/bid/?tender__id__exact={tender}",
    "bidding/bid/{bid}/change/",
    "bidding/bid/{bid}/history/",
    "bidding/tender/",
    "bidding/tender/{tender}/change/",
    "bidding/tender/?o=1",
    "bidding/invitation/?o=0",
    "bidding/invitation/?bid__isnull=False",
    "providers/carehome/?o=0",
]


@pytest.fixture
def bids():
    tender = TenderFactory()
    return [BidFactory(invitation__tender=tender, weekly_fee=Decimal(amount)) for amount in FIRST]


@pytest.fixture(params=["staff", "superuser"])
def back_office(request, as_user):
    if request.param == "superuser":
        return as_user(User.objects.create_superuser(email="ops@example.org", password="x"))
    staff = UserFactory(email="staff@example.org", is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    return as_user(staff)


def set_amounts(bids, amounts):
    for bid, amount in zip(bids, amounts, strict=True):
        Bid.objects.filter(pk=bid.pk).update(weekly_fee=Decimal(amount))


def close(tender):
    Tender.objects.filter(pk=tender.pk).update(
        opened_at=timezone.now() - timedelta(days=2), closes_at=timezone.now() - timedelta(seconds=1)
    )


def url(path, bids):
    submitted = timezone.localtime(bids[0].submitted_at)
    fields = {"year": submitted.year, "month": submitted.month, "day": submitted.day}
    return "/admin/" + path.format(tender=bids[0].tender_id, bid=bids[0].pk, **fields)


def amounts_in(body: str) -> set[str]:
    return {amount for amount in FIRST + SECOND if amount in body or f"{Decimal(amount):,}" in body}


def answer(client, address):
    """What a page tells its reader, with nothing in it that differs between two identical requests."""
    response = client.get(address)
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())
    changelist = (response.context or {}).get("cl") if response.status_code == 200 else None
    rows = None
    if changelist is not None:
        rows = (changelist.result_count, changelist.full_result_count, [row.pk for row in changelist.result_list])
    return {"status": response.status_code, "location": response.get("Location"), "rows": rows, "body": body}


def test_no_admin_answer_depends_on_the_amounts_of_an_open_tender(bids, back_office):
    addresses = [url(path, bids) for path in PAGES + RELATED_LOOKUPS] + [
        url(f"bidding/bid/?{query}", bids) for query in SEALED_LOOKUPS
    ]

    first = {address: answer(back_office, address) for address in addresses}
    set_amounts(bids, SECOND)
    second = {address: answer(back_office, address) for address in addresses}

    assert [address for address in addresses if first[address] != second[address]] == []
    assert [address for address in addresses if amounts_in(first[address]["body"] + second[address]["body"])] == []
    assert {answer["status"] for answer in first.values()} == {200, 400}
    assert {first[url(path, bids)]["status"] for path in PAGES} == {200}
    assert first[url("bidding/bid/", bids)]["rows"][0] == len(bids)


def test_every_lookup_on_a_sealed_field_is_refused(bids, back_office):
    for query in SEALED_LOOKUPS:
        assert back_office.get(url(f"bidding/bid/?{query}", bids)).status_code == 400, query
    for path in RELATED_LOOKUPS:
        assert back_office.get(url(path, bids)).status_code == 400, path


def test_open_amounts_show_as_sealed_until_the_close(bids, back_office):
    closes = timezone.localtime(bids[0].tender.closes_at)
    for path in ("bidding/bid/", "bidding/bid/{bid}/change/", "bidding/tender/{tender}/change/"):
        body = back_office.get(url(path, bids)).content.decode()
        assert f"Sealed until {closes:%-d %b %Y, %H:%M}" in body, path


def test_amount_column_cannot_be_sorted(bids, back_office):
    unsorted = back_office.get(url("bidding/bid/", bids))
    response = back_office.get(url(f"bidding/bid/?o={AMOUNT_COLUMN}", bids))
    body = response.content.decode()

    assert 'class="column-weekly_fee"' in body and "sortable column-weekly_fee" not in body
    assert [row.pk for row in response.context["cl"].result_list] == [
        row.pk for row in unsorted.context["cl"].result_list
    ]


def test_closed_tender_amounts_show_in_the_back_office(bids, back_office):
    close(bids[0].tender)
    pages = [url(path, bids) for path in ("bidding/bid/", "bidding/tender/{tender}/change/")]

    first = {page: answer(back_office, page) for page in pages}
    set_amounts(bids, SECOND)
    second = {page: answer(back_office, page) for page in pages}

    for page in pages:
        assert amounts_in(first[page]["body"]) == set(FIRST), page
        assert amounts_in(second[page]["body"]) == set(SECOND), page
        assert "Sealed until" not in first[page]["body"]
    change = back_office.get(url("bidding/bid/{bid}/change/", bids)).content.decode()
    assert SECOND[0] in change and "Sealed until" not in change


def test_lookups_on_amounts_stay_refused_after_the_close(bids, back_office):
    """A list mixes open and closed tenders: a filter over the mix would answer about the open ones."""
    close(bids[0].tender)
    assert back_office.get(url("bidding/bid/?weekly_fee__gt=2000", bids)).status_code == 400
    assert back_office.get(url("bidding/tender/?bids__weekly_fee__gt=2000", bids)).status_code == 400


def test_a_mixed_list_seals_only_the_open_tenders_bids(bids, back_office):
    closed = BidFactory(weekly_fee=Decimal("555.55"))
    close(closed.tender)
    body = back_office.get(url("bidding/bid/", bids)).content.decode()
    assert "555.55" in body
    assert amounts_in(body) == set()


def test_every_admin_that_reaches_a_sealed_value_uses_the_guard():
    assert check_sealed_values_guarded() == []

    site = admin.AdminSite(name="unguarded")
    site.register(Bid)
    site.register(Tender, type("TenderAdmin", (admin.ModelAdmin,), {}))
    assert [error.id for error in check_sealed_values_guarded(site=site)] == ["core.E001", "core.E001"]


def test_a_date_hierarchy_over_a_sealed_field_is_refused():
    seal_fields(Tender, ["closes_at"])
    try:
        site = admin.AdminSite(name="dated")
        dated = type("TenderAdmin", (SealedValuesAdmin, admin.ModelAdmin), {"date_hierarchy": "closes_at"})
        site.register(Tender, dated)
        assert [error.id for error in check_sealed_values_guarded(site=site)] == ["core.E002"]
    finally:
        del _SEALS[Tender]


def test_a_stored_bid_response_and_its_request_hash_stay_out_of_the_back_office(bids, back_office):
    body = b'{"weekly_fee": "1111.11"}'
    request_hash = hashlib.sha256(b"POST\n/api/v1/tenders/1/bids/\n" + body).hexdigest()
    key = IdempotencyKey.objects.create(
        user=bids[0].submitted_by,
        key="bid-1",
        method="POST",
        path="/api/v1/tenders/1/bids/",
        request_hash=request_hash,
        state=IdempotencyKey.State.COMPLETED,
        response_status=201,
        response_body=body,
    )

    for path in (f"integrations/idempotencykey/{key.pk}/change/", "integrations/idempotencykey/"):
        page = back_office.get(url(path, bids))
        assert page.status_code == 200
        assert "1111.11" not in page.content.decode() and request_hash not in page.content.decode()
    assert back_office.get(url(f"integrations/idempotencykey/?request_hash={request_hash}", bids)).status_code == 400
