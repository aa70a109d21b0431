"""The fairness pages in a real browser: axe finds no WCAG 2.2 AA violation with every form showing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bidding.models import Tender
from bidding.services import tender_award
from fairness.models import StandstillRule
from fairness.services import question_answer, question_ask, shortlist_share
from lots.models import Lot

from .browser import page_as
from .factories import PaidPlacementFactory, top_up_agreed_for
from .fairness_world import evaluated, make_world
from .test_accessibility import wcag_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_fairness_pages_have_no_wcag_violations(
    live_server,
    browser,
    council_a,
    broker_a,
    provider_a,
    provider_b,
    provider_user_a,
    provider_user_b,
):
    for fee in ("880.00", "900.00", "920.00"):
        PaidPlacementFactory(commissioner=council_a, council_weekly_amount=Decimal(fee))
    StandstillRule.objects.create(commissioner=council_a, lot=Lot.objects.get(number=1), days=5)
    world = make_world(council_a, broker_a, provider_a, provider_b, provider_user_a, provider_user_b)
    _homes, users, tender = world
    question = question_ask(actor=users["a"], tender=tender, question="Is a hoist needed?")
    question_answer(actor=broker_a, question=question, answer="Yes, a ceiling hoist.")
    question_ask(actor=users["b"], tender=tender, question="Is the room on the ground floor?")
    Tender.objects.filter(pk=tender.pk).update(opened_at=timezone.now() - timedelta(hours=2))
    tender, bids = evaluated(world, {"a": "700.00", "b": "950.00", "c": "880.00"})
    _link, token = shortlist_share(actor=broker_a, tender=tender, bids=list(bids.values()), recipient="Daughter")

    pages = [
        (None, f"/choice/{token}/"),
        (None, "/choice/not-a-token-at-all/"),
        (broker_a, f"/broker/tenders/{tender.pk}/fairness/"),
        (users["a"], f"/provider/tenders/{tender.pk}/questions/"),
    ]
    failures = []

    def check(user, path):
        page = page_as(browser, live_server, user)
        page.goto(live_server.url + path)
        found = wcag_violations(page)
        if found:
            failures.append(f"{path}: {found}")
        page.context.close()

    for user, path in pages:
        check(user, path)

    ordered = sorted(bids.values(), key=lambda bid: bid.rank)
    winner = next(bid for bid in ordered if bid.weekly_fee >= Decimal("800"))
    top_up_agreed_for(tender, winner, broker_a, payer_name="Son")
    tender_award(actor=broker_a, tender=tender, bid=winner, reason="The person's preference.", top_up_payer="Son")
    loser = next(bid for bid in ordered if bid.pk != winner.pk)
    loser_user = next(user for user in users.values() if user.organisation_id == loser.provider_id)
    winner_user = next(user for user in users.values() if user.organisation_id == winner.provider_id)
    for user, path in [
        (broker_a, f"/broker/tenders/{tender.pk}/fairness/"),
        (loser_user, f"/provider/bids/{loser.pk}/award/"),
        (winner_user, f"/provider/bids/{winner.pk}/award/"),
    ]:
        check(user, path)
    assert not failures, "\n".join(failures)
