"""The fairness API: what council case systems and provider systems can do, and their refusals."""

from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bidding.models import Award, Tender
from bidding.services import tender_award
from fairness.models import (
    AbnormalPriceConfirmation,
    BedHold,
    Challenge,
    ClarificationQuestion,
    ShortlistLink,
    Standstill,
    StandstillRule,
)
from fairness.services import MoveOnCause, question_answer, question_ask, shortlist_choose, shortlist_share
from lots.models import Lot

from .factories import PaidPlacementFactory, ProviderOrganisationFactory
from .fairness_world import evaluated, make_world, place_bid

pytestmark = pytest.mark.django_db

COUNCIL = ["read", "placement-requests"]
PROVIDER = ["read", "bids"]


@pytest.fixture
def world(council_a, broker_a, provider_a, provider_b, provider_user_a, provider_user_b):
    return make_world(council_a, broker_a, provider_a, provider_b, provider_user_a, provider_user_b)


@pytest.fixture
def council(api_as, council_a):
    return api_as(council_a, scopes=COUNCIL)


@pytest.fixture
def other_council(api_as, council_b):
    return api_as(council_b, scopes=COUNCIL)


@pytest.fixture
def commissioner(api_as, council_a):
    return api_as(council_a, scopes=COUNCIL, role="commissioner")


def provider(api_as, world, key):
    return api_as(world[1][key].organisation, scopes=PROVIDER)


def ranked(bids):
    return sorted(bids.values(), key=lambda bid: bid.rank)


def fields_of(response) -> set:
    assert response["Content-Type"] == "application/problem+json"
    return set(response.json()["errors"])


# --- The person's choice -------------------------------------------------------------------


def test_broker_shares_a_shortlist_gets_the_link_once_and_reads_the_choice(world, council):
    tender, bids = evaluated(world, {"a": "850.00", "b": "950.00"})
    first, second = ranked(bids)
    url = f"/api/v1/tenders/{tender.pk}/shortlists/"

    response = council.post(url, {"bids": [first.pk, second.pk], "recipient": "The person's son", "valid_hours": 48})
    assert response.status_code == 201, response.content
    assert response["Location"].startswith("http")
    shared = response.json()
    assert "/choice/" in shared["url"] and shared["url"].startswith("http")
    assert set(shared["bids"]) == {first.pk, second.pk}
    link = ShortlistLink.objects.get(pk=shared["id"])
    assert abs(link.expires_at - (link.created_at + timedelta(hours=48))) < timedelta(seconds=5)
    assert response["Cache-Control"] == "no-store"
    token = shared["url"].rstrip("/").rsplit("/", 1)[1]
    assert Client().get(urlsplit(shared["url"]).path).status_code == 200

    listed = council.get(url).json()
    assert [row["id"] for row in listed["results"]] == [link.pk]
    assert "url" not in listed["results"][0] and token not in str(listed)

    assert council.get(f"/api/v1/tenders/{tender.pk}/choice/").json()["chosen"] is False
    shortlist_choose(
        token=token, bid_id=bids["b"].pk, chosen_by_name="Sam Jones", top_up_payer="Sam Jones", top_up_consent=True
    )
    choice = council.get(f"/api/v1/tenders/{tender.pk}/choice/").json()
    assert choice["chosen"] is True and choice["bid"] == bids["b"].pk and choice["shortlist"] == link.pk
    assert choice["chosen_by_name"] == "Sam Jones" and choice["top_up_consent"] is True
    assert council.get(url).json()["results"][0]["chosen_bid"] == bids["b"].pk


def test_sharing_a_shortlist_reports_field_errors(world, council):
    tender, bids = evaluated(world, {"a": "850.00"})
    url = f"/api/v1/tenders/{tender.pk}/shortlists/"
    assert fields_of(council.post(url, {})) == {"bids", "recipient"}
    assert fields_of(council.post(url, {"bids": [], "recipient": "x", "valid_hours": 0})) == {"bids", "valid_hours"}
    response = council.post(url, {"bids": [bids["a"].pk, 999999], "recipient": "The person"})
    assert response.status_code == 400 and fields_of(response) == {"bids"}
    assert not ShortlistLink.objects.exists()


def test_shortlist_is_refused_to_other_roles_and_organisations_and_before_ranking(
    world, council, other_council, commissioner, api_as
):
    _homes, _users, tender = world
    url = f"/api/v1/tenders/{tender.pk}/shortlists/"
    payload = {"bids": [1], "recipient": "The person"}
    assert council.post(url, payload).status_code == 409
    assert other_council.post(url, payload).status_code == 404
    assert other_council.get(url).status_code == 404
    assert other_council.get(f"/api/v1/tenders/{tender.pk}/choice/").status_code == 404
    assert commissioner.post(url, payload).status_code == 403
    assert provider(api_as, world, "a").get(url).status_code == 403
    assert provider(api_as, world, "a").get(f"/api/v1/tenders/{tender.pk}/choice/").status_code == 403
    read_only = api_as(tender.request.commissioner, scopes=["read"])
    assert read_only.post(url, payload).status_code == 403


# --- Abnormally low prices -----------------------------------------------------------------


@pytest.fixture
def priced_world(world, council_a):
    for fee in ("880.00", "900.00", "920.00"):
        PaidPlacementFactory(commissioner=council_a, council_weekly_amount=Decimal(fee))
    return world


def test_broker_reads_flags_and_records_the_providers_confirmation(priced_world, council):
    tender, bids = evaluated(priced_world, {"a": "700.00", "b": "850.00"})
    url = f"/api/v1/tenders/{tender.pk}/abnormal-prices/"
    flags = council.get(url).json()
    assert flags["median_awarded_fee"] == "900.00" and flags["threshold"] == "720.00"
    assert [row["bid"] for row in flags["flagged"]] == [bids["a"].pk]
    assert flags["flagged"][0]["weekly_fee"] == "700.00" and flags["flagged"][0]["confirmation"] is None

    confirm = f"{url}{bids['a'].pk}/confirmation/"
    assert fields_of(council.post(confirm, {})) == {"provider_statement"}
    assert council.post(f"{url}{bids['b'].pk}/confirmation/", {"provider_statement": "Fine."}).status_code == 409
    response = council.post(confirm, {"provider_statement": "Manager confirmed staffing."})
    assert response.status_code == 201, response.content
    assert response["Location"].startswith("http")
    assert response.json()["confirmation"]["median_awarded_fee"] == "900.00"
    assert AbnormalPriceConfirmation.objects.get(bid=bids["a"]).provider_statement == "Manager confirmed staffing."
    assert council.post(confirm, {"provider_statement": "Again."}).status_code == 409
    assert council.get(url).json()["flagged"][0]["confirmation"]["provider_statement"] == "Manager confirmed staffing."


def test_flags_are_sealed_until_the_close_and_refused_to_others(
    priced_world, council, other_council, commissioner, api_as
):
    homes, users, tender = priced_world
    place_bid(users["a"], tender, homes["a"], "701.23")
    url = f"/api/v1/tenders/{tender.pk}/abnormal-prices/"
    sealed = council.get(url)
    assert sealed.status_code == 409 and b"701.23" not in sealed.content
    assert other_council.get(url).status_code == 404
    assert provider(api_as, priced_world, "a").get(url).status_code == 403
    confirm = f"{url}1/confirmation/"
    assert commissioner.post(confirm, {"provider_statement": "x"}).status_code == 403
    assert other_council.post(confirm, {"provider_statement": "x"}).status_code == 404


# --- Clarification questions ---------------------------------------------------------------


def test_provider_asks_broker_answers_and_every_invited_provider_reads_it_anonymised(world, council, api_as):
    _homes, users, tender = world
    url = f"/api/v1/tenders/{tender.pk}/questions/"
    asker, other = provider(api_as, world, "a"), provider(api_as, world, "b")

    asked = asker.post(url, {"question": "Is an en-suite bathroom needed?"})
    assert asked.status_code == 201, asked.content
    assert asked["Location"].startswith("http")
    question_id = asked.json()["id"]
    assert asked.json()["own"] is True
    assert other.get(url).json()["results"] == []
    council_view = council.get(url).json()["results"]
    assert council_view[0]["provider"] == users["a"].organisation.name and council_view[0]["answer"] == ""

    answered = council.post(f"{url}{question_id}/answer/", {"answer": "Yes, an en-suite is needed."})
    assert answered.status_code == 200, answered.content
    seen = other.get(url).json()["results"]
    assert len(seen) == 1 and seen[0]["answer"] == "Yes, an en-suite is needed."
    assert seen[0]["own"] is False and seen[0]["provider"] is None and seen[0]["asked_at"] is None
    assert users["a"].organisation.name.encode() not in other.get(url).content
    assert asker.get(url).json()["results"][0]["own"] is True
    assert council.post(f"{url}{question_id}/answer/", {"answer": "Again."}).status_code == 409


def test_late_answer_through_the_api_extends_the_deadline(world, council, api_as):
    _homes, users, tender = world
    now = timezone.now()
    Tender.objects.filter(pk=tender.pk).update(opened_at=now - timedelta(hours=5), closes_at=now + timedelta(hours=1))
    question = question_ask(actor=users["b"], tender=tender, question="Is a hoist needed?")
    response = council.post(f"/api/v1/tenders/{tender.pk}/questions/{question.pk}/answer/", {"answer": "No."})
    assert response.status_code == 200
    assert response.json()["extended_closes_at"] is not None
    assert Tender.objects.get(pk=tender.pk).closes_at > now + timedelta(hours=1, minutes=30)


def test_questions_refuse_empty_text_other_roles_and_uninvited_callers(
    world, council, other_council, commissioner, api_as, council_b
):
    _homes, users, tender = world
    url = f"/api/v1/tenders/{tender.pk}/questions/"
    asker = provider(api_as, world, "a")
    assert fields_of(asker.post(url, {"question": ""})) == {"question"}
    assert fields_of(asker.post(url, {})) == {"question"}
    assert council.post(url, {"question": "Why?"}).status_code == 403
    assert api_as(users["a"].organisation, scopes=["read"]).post(url, {"question": "Why?"}).status_code == 403
    assert other_council.get(url).status_code == 404
    outsider = api_as(ProviderOrganisationFactory(slug="outsider"), scopes=PROVIDER)
    assert outsider.get(url).status_code == 404
    assert outsider.post(url, {"question": "Why?"}).status_code == 404

    question = question_ask(actor=users["a"], tender=tender, question="Is a hoist needed?")
    answer = f"{url}{question.pk}/answer/"
    assert fields_of(council.post(answer, {"answer": ""})) == {"answer"}
    assert commissioner.post(answer, {"answer": "No."}).status_code == 403
    assert asker.post(answer, {"answer": "No."}).status_code == 403
    assert other_council.post(answer, {"answer": "No."}).status_code == 404
    assert council.post(f"{url}999999/answer/", {"answer": "No."}).status_code == 404
    assert ClarificationQuestion.objects.get(pk=question.pk).answered_at is None


# --- Bed hold and moving to the next bid ---------------------------------------------------


def test_provider_confirms_its_bed_hold_and_only_its_own(world, broker_a, council, api_as):
    tender, bids = evaluated(world, {"a": "850.00", "b": "870.00"})
    first, second = ranked(bids)
    tender_award(actor=broker_a, tender=tender, bid=first)
    owner = next(k for k, b in bids.items() if b.pk == first.pk)
    loser = next(k for k, b in bids.items() if b.pk == second.pk)
    winner_api, loser_api = provider(api_as, world, owner), provider(api_as, world, loser)

    outcome = winner_api.get(f"/api/v1/tenders/{tender.pk}/bids/{first.pk}/outcome/").json()
    assert outcome["won"] is True and outcome["bed_hold"]["status"] == "awaiting"
    confirm = f"/api/v1/tenders/{tender.pk}/bids/{first.pk}/bed-hold/confirm/"
    assert loser_api.post(confirm).status_code == 404
    assert council.post(confirm).status_code == 403
    response = winner_api.post(confirm)
    assert response.status_code == 200 and response.json()["status"] == "held"
    assert BedHold.objects.get(bid=first).status == BedHold.Status.HELD
    assert winner_api.post(confirm).status_code == 409
    assert loser_api.post(f"/api/v1/tenders/{tender.pk}/bids/{second.pk}/bed-hold/confirm/").status_code == 404
    status = council.get(f"/api/v1/tenders/{tender.pk}/award-status/").json()
    assert status["award"]["bid"] == first.pk and status["bed_hold"]["status"] == "held"


def test_broker_moves_to_the_next_ranked_bid_with_a_reason(world, broker_a, council, commissioner, other_council):
    tender, bids = evaluated(world, {"a": "850.00", "b": "870.00", "c": "880.00"})
    first, second, _third = ranked(bids)
    tender_award(actor=broker_a, tender=tender, bid=first)
    url = f"/api/v1/tenders/{tender.pk}/move-to-next-bid/"
    payload = {"cause": MoveOnCause.HOLD_NOT_CONFIRMED, "reason": "No answer from the home."}

    assert fields_of(council.post(url, {})) == {"cause", "reason"}
    assert fields_of(council.post(url, {"cause": "bored", "reason": "x"})) == {"cause"}
    assert council.post(url, payload).status_code == 409
    assert commissioner.post(url, payload).status_code == 403
    assert other_council.post(url, payload).status_code == 404
    BedHold.objects.filter(bid=first).update(confirm_by=timezone.now() - timedelta(minutes=1))
    response = council.post(url, payload)
    assert response.status_code == 201, response.content
    assert response["Location"].startswith("http")
    assert response.json()["bid"] == second.pk and response.json()["placement"]["care_home"] == second.care_home_id
    assert Award.objects.get(tender=tender).bid_id == second.pk
    status = council.get(f"/api/v1/tenders/{tender.pk}/award-status/").json()
    assert status["award"]["bid"] == second.pk and status["bed_hold"]["status"] == "awaiting"
    assert [row["bid"] for row in status["lapsed_awards"]] == [first.pk]
    assert status["lapsed_awards"][0]["lapse_reason"] == "No answer from the home."


# --- Standstill and challenges -------------------------------------------------------------


@pytest.fixture
def standstill_world(world, council_a):
    StandstillRule.objects.create(commissioner=council_a, lot=Lot.objects.get(number=1), days=5)
    return world


def test_unsuccessful_provider_sees_scores_challenges_and_the_commissioner_decides(
    standstill_world, broker_a, council, commissioner, api_as, council_b
):
    tender, bids = evaluated(standstill_world, {"a": "850.00", "b": "870.00"})
    first, second = ranked(bids)
    tender_award(actor=broker_a, tender=tender, bid=first)
    owner = next(k for k, b in bids.items() if b.pk == first.pk)
    loser = next(k for k, b in bids.items() if b.pk == second.pk)
    winner_api, loser_api = provider(api_as, standstill_world, owner), provider(api_as, standstill_world, loser)

    outcome = loser_api.get(f"/api/v1/tenders/{tender.pk}/bids/{second.pk}/outcome/").json()
    assert outcome["won"] is False and outcome["may_challenge"] is True
    assert outcome["standstill"]["status"] == "running"
    assert outcome["own_scores"]["rank"] == 2 and outcome["winning_scores"]["rank"] == 1
    winning_total = Tender.objects.get(pk=tender.pk).bids.get(pk=first.pk).total_score
    assert outcome["winning_scores"]["total_score"] == f"{winning_total}"
    assert "weekly_fee" not in outcome["winning_scores"]

    challenge_url = f"/api/v1/tenders/{tender.pk}/bids/{second.pk}/challenge/"
    assert fields_of(loser_api.post(challenge_url, {"grounds": ""})) == {"grounds"}
    assert winner_api.post(challenge_url, {"grounds": "Unfair."}).status_code == 404
    own_award = f"/api/v1/tenders/{tender.pk}/bids/{first.pk}/challenge/"
    assert winner_api.post(own_award, {"grounds": "x"}).status_code == 409
    raised = loser_api.post(challenge_url, {"grounds": "The quality score missed our new rating."})
    assert raised.status_code == 201, raised.content
    assert raised["Location"].startswith("http")
    assert loser_api.post(challenge_url, {"grounds": "Again."}).status_code == 409
    assert Standstill.objects.get(bid=first).status == Standstill.Status.CHALLENGED

    status = council.get(f"/api/v1/tenders/{tender.pk}/award-status/").json()
    assert status["standstill"]["status"] == "challenged" and status["regime"] == "pcr2015_dps"
    assert [row["id"] for row in status["challenges"]] == [raised.json()["id"]]

    decide = f"/api/v1/tenders/{tender.pk}/challenges/{raised.json()['id']}/decision/"
    assert fields_of(council.post(decide, {"decision": "pending", "reason": ""})) == {"decision", "reason"}
    assert loser_api.post(decide, {"decision": "upheld", "reason": "x"}).status_code == 403
    assert api_as(council_b, scopes=COUNCIL).post(decide, {"decision": "upheld", "reason": "x"}).status_code == 404
    decided = commissioner.post(decide, {"decision": "dismissed", "reason": "Scored on the rating at the close."})
    assert decided.status_code == 200 and decided.json()["decision"] == "dismissed"
    assert Challenge.objects.get().decided_by == commissioner.api_client.user
    assert Standstill.objects.get(bid=first).status == Standstill.Status.RUNNING
    assert council.post(decide, {"decision": "upheld", "reason": "x"}).status_code == 409
    broker_decides = council.post(decide, {"decision": "upheld", "reason": "x"})
    assert broker_decides.json()["code"] == "decided"
    mine = loser_api.get(f"/api/v1/tenders/{tender.pk}/bids/{second.pk}/outcome/").json()
    assert mine["challenge"]["decision"] == "dismissed" and mine["may_challenge"] is False


def test_open_tender_outcome_shows_no_scores_and_no_other_bid(world, api_as, council):
    homes, users, tender = world
    own = place_bid(users["a"], tender, homes["a"], "812.34")
    place_bid(users["b"], tender, homes["b"], "823.45")
    response = provider(api_as, world, "a").get(f"/api/v1/tenders/{tender.pk}/bids/{own.pk}/outcome/")
    body = response.json()
    assert response.status_code == 200
    assert body["own_scores"] is None and body["winning_scores"] is None and body["standstill"] is None
    assert b"823.45" not in response.content
    assert provider(api_as, world, "b").get(f"/api/v1/tenders/{tender.pk}/bids/{own.pk}/outcome/").status_code == 404
    assert council.get(f"/api/v1/tenders/{tender.pk}/bids/{own.pk}/outcome/").status_code == 403
    status = council.get(f"/api/v1/tenders/{tender.pk}/award-status/")
    assert status.status_code == 200 and status.json()["award"] is None
    assert b"812.34" not in status.content and b"823.45" not in status.content


def queries(caller, path) -> int:
    caller.get(path)  # the first call of a client also looks up its credentials
    with CaptureQueriesContext(connection) as captured:
        assert caller.get(path).status_code == 200
    return len(captured)


def test_question_list_runs_the_same_queries_whatever_its_length(world, broker_a, council, api_as):
    _homes, users, tender = world
    url = f"/api/v1/tenders/{tender.pk}/questions/"
    reader = provider(api_as, world, "b")

    def ask_and_answer(key):
        asked = question_ask(actor=users[key], tender=tender, question=f"A question from {key}?")
        question_answer(actor=broker_a, question=asked, answer="An answer.")

    ask_and_answer("a")
    few = (queries(council, url), queries(reader, url))
    for key in ("a", "b", "c") * 2:
        ask_and_answer(key)
    assert len(reader.get(url).json()["results"]) == 7
    assert (queries(council, url), queries(reader, url)) == few


def test_shortlist_list_runs_the_same_queries_whatever_its_length(world, broker_a, council):
    tender, bids = evaluated(world, {"a": "850.00", "b": "870.00"})
    url = f"/api/v1/tenders/{tender.pk}/shortlists/"
    shortlist_share(actor=broker_a, tender=tender, bids=list(bids.values()), recipient="The person")
    few = queries(council, url)
    for _ in range(4):
        shortlist_share(actor=broker_a, tender=tender, bids=list(bids.values()), recipient="The person's son")
    assert len(council.get(url).json()["results"]) == 5
    assert queries(council, url) == few
