"""Provider returns: a provider sends its own home's figures to a body whose DPS the home is on; the
body's measures start from a default set; every answer is checked and nothing is kept unless all are
right; resubmitting replaces the answers until the body accepts the return; nobody else sees them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.errors import ApplicationError, ForbiddenError, NotFoundError
from core.models import AuditEvent
from quality.models import DEFAULT_RETURN_MEASURES, ProviderReturn, ReturnAnswer, ReturnMeasure
from quality.services import provider_return_accept, provider_return_submit, return_measures_start

from .factories import admitted_home

pytestmark = pytest.mark.django_db

GOOD = {
    "Staff in post": "42",
    "Staff vacancies": "3",
    "Agency hours in the period": "120.5",
    "Staff trained in safeguarding": "95",
    "Falls": "4",
    "Hospital admissions": "1",
    "Complaints received": "0",
}


@pytest.fixture
def home(council_a, provider_a):
    return admitted_home(council_a, provider=provider_a, name="Alder House")


def by_name(body) -> dict[str, int]:
    return {m.name: m.pk for m in ReturnMeasure.objects.filter(commissioner=body)}


def test_a_return_starts_the_bodys_default_measures_and_keeps_the_answers(home, council_a, provider_user_a):
    item = provider_return_submit(
        actor=provider_user_a, care_home=home, commissioner=council_a, period="2026-q3", answers=GOOD
    )
    assert [m.name for m in ReturnMeasure.objects.filter(commissioner=council_a)] == [
        name for name, _, _ in DEFAULT_RETURN_MEASURES
    ]
    assert (item.period, item.period_kind) == ("2026-Q3", "quarterly")
    answers = {a.measure.name: a.shown for a in item.answers.select_related("measure")}
    assert answers["Agency hours in the period"] == "120.5" and answers["Staff in post"] == "42"
    assert AuditEvent.objects.filter(verb="quality.provider_return.submitted", actor=provider_user_a).count() == 1
    assert AuditEvent.objects.filter(verb="quality.return_measures.started").count() == 1


def test_wrong_answers_are_refused_on_their_fields_and_nothing_is_written(home, council_a, provider_user_a):
    return_measures_start(commissioner=council_a)
    ids = by_name(council_a)
    answers = {
        **GOOD,
        "Staff in post": "",
        "Staff vacancies": "three",
        "Falls": "-1",
        "Staff trained in safeguarding": "101",
        "Hospital admissions": "1.5",
    }
    with pytest.raises(ApplicationError) as refused:
        provider_return_submit(
            actor=provider_user_a, care_home=home, commissioner=council_a, period="Autumn", answers=answers
        )
    fields = refused.value.fields
    assert set(fields) == {
        "period",
        *(
            str(ids[name])
            for name in (
                "Staff in post",
                "Staff vacancies",
                "Falls",
                "Staff trained in safeguarding",
                "Hospital admissions",
            )
        ),
    }
    assert fields[str(ids["Falls"])] == ["Falls cannot be negative."]
    assert fields[str(ids["Staff vacancies"])] == ["Staff vacancies must be a number."]
    assert "0 to 100" in fields[str(ids["Staff trained in safeguarding"])][0]
    assert not ProviderReturn.objects.exists() and not ReturnAnswer.objects.exists()
    assert not AuditEvent.objects.filter(verb__startswith="quality.provider_return").exists()


def test_resubmitting_replaces_the_answers_until_the_body_accepts(home, council_a, commissioner_a, provider_user_a):
    first = provider_return_submit(
        actor=provider_user_a, care_home=home, commissioner=council_a, period="2026", answers=GOOD
    )
    falls = by_name(council_a)["Falls"]
    again = provider_return_submit(
        actor=provider_user_a, care_home=home, commissioner=council_a, period="2026", answers={**GOOD, "Falls": 9}
    )
    assert again.pk == first.pk and again.period_kind == "annual"
    assert ReturnAnswer.objects.get(provider_return=again, measure_id=falls).value == 9
    assert ReturnAnswer.objects.filter(provider_return=again).count() == len(GOOD)
    event = AuditEvent.objects.get(verb="quality.provider_return.resubmitted")
    assert event.detail["previous"][str(falls)] == "4.00" and event.detail["answers"][str(falls)] == "9.00"

    provider_return_accept(actor=commissioner_a, provider_return=again)
    with pytest.raises(ApplicationError) as refused:
        provider_return_submit(
            actor=provider_user_a, care_home=home, commissioner=council_a, period="2026", answers=GOOD
        )
    assert "period" in refused.value.fields
    assert ReturnAnswer.objects.get(provider_return=again, measure_id=falls).value == 9


def test_only_the_homes_provider_submits_and_only_to_a_body_whose_dps_it_is_on(
    home, council_a, council_b, commissioner_a, provider_user_a, provider_user_b
):
    with pytest.raises(NotFoundError):
        provider_return_submit(
            actor=provider_user_b, care_home=home, commissioner=council_a, period="2026", answers=GOOD
        )
    with pytest.raises(ForbiddenError):
        provider_return_submit(
            actor=commissioner_a, care_home=home, commissioner=council_a, period="2026", answers=GOOD
        )
    with pytest.raises(ApplicationError) as refused:
        provider_return_submit(
            actor=provider_user_a, care_home=home, commissioner=council_b, period="2026", answers=GOOD
        )
    assert "commissioner" in refused.value.fields
    assert not ProviderReturn.objects.exists()


def test_another_provider_and_another_body_neither_see_nor_send_the_homes_returns(
    home, council_a, commissioner_b, provider_user_a, provider_user_b, provider_b, council_b, as_user, api_as
):
    item = provider_return_submit(
        actor=provider_user_a, care_home=home, commissioner=council_a, period="2026", answers=GOOD
    )
    assert as_user(provider_user_b).get(f"/provider/homes/{home.pk}/returns/").status_code == 404
    assert as_user(provider_user_b).get(f"/returns/{item.pk}/").status_code == 404
    assert as_user(commissioner_b).get(f"/returns/{item.pk}/").status_code == 404
    assert b"Alder House" not in as_user(commissioner_b).get("/commissioner/returns/").content
    system_b = api_as(provider_b, scopes=["read", "quality"])
    assert system_b.get(f"/api/v1/care-homes/{home.pk}/returns/").status_code == 404
    posted = system_b.post(
        f"/api/v1/care-homes/{home.pk}/returns/", {"commissioner": council_a.pk, "period": "2027", "answers": GOOD}
    )
    assert posted.status_code == 404
    assert (
        api_as(council_b, scopes=["read"], role="commissioner")
        .get(f"/api/v1/care-homes/{home.pk}/returns/")
        .status_code
        == 404
    )
    assert ProviderReturn.objects.count() == 1


def test_the_providers_system_submits_a_return_and_the_body_reads_it(home, council_a, provider_a, api_as):
    system = api_as(provider_a, scopes=["read", "quality"])
    url = f"/api/v1/care-homes/{home.pk}/returns/"
    refused = system.post(url, {"commissioner": council_a.pk, "period": "2026-Q1", "answers": {**GOOD, "Falls": "-2"}})
    assert refused.status_code == 400
    falls = by_name(council_a)["Falls"]
    assert refused.json()["errors"][str(falls)] == ["Falls cannot be negative."]
    assert not ProviderReturn.objects.exists()
    sent = system.post(url, {"commissioner": council_a.pk, "period": "2026-Q1", "answers": GOOD})
    assert sent.status_code == 201, sent.content
    assert sent.json()["period"] == "2026-Q1" and len(sent.json()["answers"]) == len(GOOD)
    assert api_as(provider_a, scopes=["read"]).post(url, {"commissioner": council_a.pk}).status_code == 403
    body = api_as(council_a, scopes=["read"], role="commissioner").get(url)
    assert body.status_code == 200 and [r["period"] for r in body.json()] == ["2026-Q1"]


def test_the_body_lists_its_returns_with_a_csv_and_accepts_one(
    home, council_a, commissioner_a, provider_user_a, as_user
):
    item = provider_return_submit(
        actor=provider_user_a, care_home=home, commissioner=council_a, period="2026", answers=GOOD
    )
    page = as_user(commissioner_a).get("/commissioner/returns/")
    assert b"Alder House" in page.content and b"Download as CSV" in page.content
    csv = b"".join(as_user(commissioner_a).get("/commissioner/returns/?format=csv").streaming_content).decode()
    assert "Alder House" in csv and "2026" in csv
    detail = as_user(commissioner_a).post(f"/returns/{item.pk}/")
    assert detail.status_code == 302
    item.refresh_from_db()
    assert item.accepted_at is not None
    assert AuditEvent.objects.filter(verb="quality.provider_return.accepted").exists()
    assert as_user(provider_user_a).post(f"/returns/{item.pk}/").status_code == 403


def test_return_lists_run_the_same_queries_whatever_their_length(
    council_a, commissioner_a, provider_a, provider_user_a, api_as, as_user, django_assert_num_queries
):
    homes = [admitted_home(council_a, provider=provider_a, name=f"Home {i}") for i in range(6)]
    system = api_as(council_a, scopes=["read"], role="commissioner")
    page = as_user(commissioner_a)

    def send(home, period):
        provider_return_submit(
            actor=provider_user_a, care_home=home, commissioner=council_a, period=period, answers=GOOD
        )

    send(homes[0], "2025")
    url = f"/api/v1/care-homes/{homes[0].pk}/returns/"
    system.get(url)
    page.get("/commissioner/returns/")
    with CaptureQueriesContext(connection) as api_small:
        assert len(system.get(url).json()) == 1
    with CaptureQueriesContext(connection) as page_small:
        page.get("/commissioner/returns/")
    for period in ("2026", "2026-Q1", "2026-Q2"):
        send(homes[0], period)
    for home in homes[1:]:
        send(home, "2026")
    with django_assert_num_queries(len(api_small)):
        assert len(system.get(url).json()) == 4
    with django_assert_num_queries(len(page_small)):
        assert page.get("/commissioner/returns/").content.count(b"/returns/") >= 9


def test_the_demo_has_returns_the_council_can_read(client):
    from django.core.management import call_command

    from organisations.models import User

    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    commissioner = User.objects.filter(role="commissioner", organisation__returns__isnull=False).first()
    assert commissioner is not None
    assert ProviderReturn.objects.filter(commissioner=commissioner.organisation).count() >= 4
    client.force_login(commissioner)
    page = client.get("/commissioner/returns/")
    assert page.status_code == 200 and page.content.count(b'href="/returns/') >= 4


def test_showing_the_return_form_writes_nothing_and_answers_to_the_default_set_are_kept(
    home, council_a, provider_user_a, as_user
):
    url = reverse("quality:provider_returns", args=[home.pk])
    http = as_user(provider_user_a)
    for _ in range(2):
        page = http.get(url)
        assert page.status_code == 200 and b"Staff in post" in page.content
    assert not ReturnMeasure.objects.exists()
    assert not AuditEvent.objects.filter(verb="quality.return_measures.started").exists()

    # The form names the default measures by their place in the set; sent, the set is kept and
    # each answer lands on its measure.
    fields = {f"default-{position}": GOOD[name] for position, (name, _, _) in enumerate(DEFAULT_RETURN_MEASURES, 1)}
    sent = http.post(url, {"body": council_a.pk, "period": "2026-Q2", **fields})
    assert sent.status_code == 302
    item = ProviderReturn.objects.get()
    assert {a.measure.name: a.shown for a in item.answers.select_related("measure")}["Staff in post"] == "42"
    assert AuditEvent.objects.filter(verb="quality.return_measures.started").count() == 1
