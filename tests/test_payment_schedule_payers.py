"""The payment schedule page shows the totals per payer and what the council pays, collects and
leaves to be paid directly; a provider's remittance shows what each payer owes it."""

import datetime as dt
import html as html_lib
import re
from decimal import Decimal

import pytest

from contracts.models import PayerType, Route
from contracts.selectors import Share
from contracts.services import agreement_create_for_placement, funding_shares_change

from .factories import CareHomeFactory, PaidPlacementFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def shared(council_a, broker_a, provider_a):
    placement = PaidPlacementFactory(
        commissioner=council_a,
        care_home=CareHomeFactory(provider=provider_a, name="Alder House"),
        case_reference="SHARED-1",
        start_date=dt.date(2025, 6, 2),
        council_weekly_amount=D("600.00"),
        top_up_weekly_amount=D("50.00"),
        top_up_payer="Her daughter",
    )
    agreement_create_for_placement(placement=placement, actor=broker_a)
    funding_shares_change(
        placement=placement,
        effective_from=placement.start_date,
        shares=[
            Share(PayerType.COUNCIL, D("500.00")),
            Share(PayerType.CONTRIBUTION, D("100.00"), Route.NET, payer_name="Mrs Shared"),
            Share(PayerType.TOP_UP, D("50.00"), Route.GROSS, payer_name="Her daughter"),
        ],
        reason="Financial assessment",
        by=broker_a,
    )
    return placement


def _rows(html: str, table_id: str) -> list[list[str]]:
    table = re.search(rf'<table class="govuk-table" id="{table_id}">(.*?)</table>', html, re.S).group(1)
    body = table.split("<tbody", 1)[1]
    cells = r"<t[dh][^>]*>(.*?)</t[dh]>"
    return [
        [html_lib.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(cells, row, re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


def _total(html: str, name: str) -> str:
    return re.search(rf'data-total="{name}">([^<]+)<', html).group(1)


def test_the_council_sees_each_payer_and_what_it_pays_collects_and_leaves_to_be_paid_directly(
    shared, broker_a, as_user
):
    # One week, seven days: each line is its weekly amount.
    html = as_user(broker_a).get("/payments/?period=2026-W14").content.decode()
    assert _rows(html, "payer-totals") == [
        ["Staffordshire County Council", "Council", "The council", "£500.00"],
        ["Mrs Shared", "Person's assessed contribution", "The payer, directly", "£100.00"],
        ["Her daughter", "Third-party top-up", "The council", "£50.00"],
    ]
    assert _total(html, "council_pays") == "£550.00"
    assert _total(html, "to_collect") == "£50.00"
    assert _total(html, "paid_direct") == "£100.00"


def test_a_provider_s_remittance_shows_what_each_payer_owes_it(shared, provider_user_a, provider_user_b, as_user):
    html = as_user(provider_user_a).get("/payments/?period=2026-W14").content.decode()
    assert "What each payer owes you" in html
    assert [row[0] for row in _rows(html, "payer-totals")] == [
        "Staffordshire County Council",
        "Mrs Shared",
        "Her daughter",
    ]
    assert _total(html, "paid_direct") == "£100.00"
    other = as_user(provider_user_b).get("/payments/?period=2026-W14").content.decode()
    assert "Mrs Shared" not in other and 'id="payer-totals"' not in other
