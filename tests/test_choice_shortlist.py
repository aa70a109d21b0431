"""The person's choice through a time-limited shortlist link, carried to the award."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from bidding.services import tender_award
from core.errors import ApplicationError, ConflictError
from core.models import AuditEvent
from fairness.models import ShortlistLink
from fairness.services import shortlist_choose, shortlist_share, token_hash
from placements.models import Placement

from .factories import top_up_agreed_for
from .fairness_world import evaluated, make_world, place_bid

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(council_a, broker_a, provider_a, provider_b, provider_user_a, provider_user_b):
    return make_world(council_a, broker_a, provider_a, provider_b, provider_user_a, provider_user_b)


def test_shortlist_cannot_be_shared_while_bids_are_sealed(world, broker_a):
    homes, users, tender = world
    bid = place_bid(users["a"], tender, homes["a"], "850.00")
    with pytest.raises(ConflictError):
        shortlist_share(actor=broker_a, tender=tender, bids=[bid], recipient="Daughter")
    assert not ShortlistLink.objects.exists()


def test_choice_through_link_reaches_award_with_top_up_consent(world, broker_a, client):
    tender, bids = evaluated(world, {"a": "850.00", "b": "950.00", "c": "612.34"})
    link, token = shortlist_share(actor=broker_a, tender=tender, bids=[bids["a"], bids["b"]], recipient="Daughter")
    assert link.token_hash == token_hash(token) and token not in link.token_hash

    page = client.get(reverse("fairness:shortlist", args=[token]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "850.00" in body and "950.00" in body and "£50.00" in body
    assert "612.34" not in body, "a home not on the shortlist must not show its price"
    assert "cqc.org.uk/location/" in body
    # No referrer to other sites (the CQC links), yet the form's own POST keeps its Origin: with
    # "no-referrer" browsers send "Origin: null" and the CSRF check refuses the choice.
    assert page["Referrer-Policy"] == "same-origin"
    assert page["Cache-Control"] == "no-store"

    url = reverse("fairness:shortlist", args=[token])
    refused = client.post(url, {"bid": bids["b"].pk, "chosen_by_name": "Ann Example", "top_up_payer": "Ann Example"})
    assert refused.status_code == 400
    assert "must agree to pay" in refused.content.decode()

    done = client.post(
        url,
        {"bid": bids["b"].pk, "chosen_by_name": "Ann Example", "top_up_payer": "Ann Example", "top_up_consent": "on"},
    )
    assert done.status_code == 302
    link.refresh_from_db()
    assert link.chosen_bid_id == bids["b"].pk and link.top_up_consent
    assert AuditEvent.objects.filter(verb="fairness.choice.recorded").exists()

    # Agreed through the link; the broker records the agreement and its affordability before awarding.
    top_up_agreed_for(tender, bids["b"], broker_a, payer_name="Ann Example", signed_via="choice_link")
    award = tender_award(actor=broker_a, tender=tender, bid=bids["b"])
    assert award.chosen_by_person and award.top_up_consent
    assert award.top_up_payer == "Ann Example"
    assert "person's choice" in award.reason or award.top_ranked
    placement = Placement.objects.get(request=tender.request)
    assert placement.top_up_payer == "Ann Example" and placement.top_up_weekly_amount == 50

    after = client.get(url)
    assert "A decision has been made" in after.content.decode()


def test_expired_link_shows_nothing_and_takes_no_choice(world, broker_a, client):
    tender, bids = evaluated(world, {"a": "850.00", "b": "870.00"})
    link, token = shortlist_share(actor=broker_a, tender=tender, bids=[bids["a"]], recipient="Son", valid_hours=1)
    ShortlistLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    page = client.get(reverse("fairness:shortlist", args=[token]))
    assert page.status_code == 410
    assert "850.00" not in page.content.decode()
    with pytest.raises(ConflictError):
        shortlist_choose(token=token, bid_id=bids["a"].pk, chosen_by_name="Son")
    assert client.get(reverse("fairness:shortlist", args=["not-a-token"])).status_code == 404


def test_choice_must_be_a_shortlisted_home(world, broker_a):
    tender, bids = evaluated(world, {"a": "850.00", "b": "870.00"})
    _link, token = shortlist_share(actor=broker_a, tender=tender, bids=[bids["a"]], recipient="Son")
    with pytest.raises(ApplicationError) as error:
        shortlist_choose(token=token, bid_id=bids["b"].pk, chosen_by_name="Son")
    assert "bid" in error.value.fields


def test_shortlist_is_shared_only_by_the_councils_broker(world, broker_b, commissioner_a):
    from core.errors import ForbiddenError, NotFoundError

    tender, bids = evaluated(world, {"a": "850.00"})
    with pytest.raises(NotFoundError):
        shortlist_share(actor=broker_b, tender=tender, bids=[bids["a"]], recipient="Son")
    with pytest.raises(ForbiddenError):
        shortlist_share(actor=commissioner_a, tender=tender, bids=[bids["a"]], recipient="Son")


def test_broker_shares_the_shortlist_from_the_page_and_sees_the_link_once(world, broker_a, as_user, client):
    tender, bids = evaluated(world, {"a": "850.00", "b": "870.00"})
    broker = as_user(broker_a)
    url = reverse("fairness:tender_fairness", args=[tender.pk])
    response = broker.post(url, {"form": "share", "bids": [bids["a"].pk], "recipient": "Daughter", "valid_hours": 48})
    assert response.status_code == 302
    first = broker.get(url).content.decode()
    start = first.index('id="new-link">') + len('id="new-link">')
    shared = first[start : first.index("<", start)]
    assert "/choice/" in shared
    assert 'id="new-link"' not in broker.get(url).content.decode()
    page = client.get(shared.split("testserver")[-1])
    assert page.status_code == 200 and "850.00" in page.content.decode() and "870.00" not in page.content.decode()
