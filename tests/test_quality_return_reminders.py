"""The returns homes owe and the measures they report: a body sees which homes have not sent the last
quarter's and year's returns, providers are reminded once when a return falls due and once when it is
overdue, and the body keeps its own set of measures on its page and over the API."""

import datetime as dt
from datetime import date

import pytest
from django.utils import timezone

from core.errors import ApplicationError, ForbiddenError
from core.models import AuditEvent, Notification
from providers.models import Admission
from quality.models import ProviderReturn, ReturnMeasure
from quality.selectors import return_periods_ended, returns_outstanding
from quality.services import (
    provider_return_submit,
    return_measure_add,
    return_measure_retire,
    return_measures_start,
    return_reminders_send,
)

from .factories import AdmissionFactory, admitted_home
from .test_quality_returns import GOOD

pytestmark = pytest.mark.django_db

EARLY_OCTOBER = date(2026, 10, 5)  # 2026-Q3 ended on 30 September and is due on 30 October
NOVEMBER = date(2026, 11, 2)


@pytest.fixture
def homes(council_a, provider_a, provider_b, provider_user_a, provider_user_b):
    alder = admitted_home(council_a, provider=provider_a, name="Alder House")
    birch = admitted_home(council_a, provider=provider_b, name="Birch Lodge")
    # Admitted in October: it owes nothing for the third quarter, only from the fourth.
    late = admitted_home(council_a, provider=provider_b, name="Cedar Court")
    Admission.objects.filter(care_home=late).update(decided_at=dt.datetime(2026, 10, 2, 10, tzinfo=dt.UTC))
    Admission.objects.filter(care_home__in=[alder, birch]).update(decided_at=dt.datetime(2025, 6, 1, tzinfo=dt.UTC))
    return alder, birch, late


def test_the_periods_due_are_the_last_ended_quarter_and_year():
    assert [(p.period, p.ends_on, p.due_on) for p in return_periods_ended(EARLY_OCTOBER)] == [
        ("2026-Q3", date(2026, 9, 30), date(2026, 10, 30)),
        ("2025", date(2025, 12, 31), date(2026, 1, 30)),
    ]
    assert [p.period for p in return_periods_ended(date(2027, 2, 10))] == ["2026-Q4", "2026"]
    assert return_periods_ended(date(2026, 7, 1))[0].ends_on == date(2026, 6, 30)


def test_the_returns_owed_leave_out_those_sent_and_homes_admitted_after_the_period(
    homes, council_a, council_b, provider_a, provider_user_a
):
    alder, _, _ = homes
    AdmissionFactory(commissioner=council_b, care_home=alder)  # owes council B its own returns
    provider_return_submit(
        actor=provider_user_a, care_home=alder, commissioner=council_a, period="2026-Q3", answers=GOOD
    )
    owed = [(o.commissioner.name, o.care_home.name, o.period.period) for o in returns_outstanding(on=EARLY_OCTOBER)]
    assert owed == sorted(
        [
            (council_a.name, "Alder House", "2025"),
            (council_a.name, "Birch Lodge", "2025"),
            (council_a.name, "Birch Lodge", "2026-Q3"),
            (council_b.name, "Alder House", "2025"),
            (council_b.name, "Alder House", "2026-Q3"),
        ]
    )
    mine = returns_outstanding(on=EARLY_OCTOBER, commissioner_id=council_b.pk)
    assert {o.commissioner for o in mine} == {council_b}
    # A body that retires every measure asks for no returns.
    return_measures_start(commissioner=council_b)
    ReturnMeasure.objects.filter(commissioner=council_b).update(active=False)
    assert returns_outstanding(on=EARLY_OCTOBER, commissioner_id=council_b.pk) == []


def test_providers_are_reminded_once_when_due_and_once_when_overdue(homes, council_a, provider_user_a, provider_user_b):
    alder, _, _ = homes
    ProviderReturn.objects.create(
        care_home=alder, commissioner=council_a, period="2025", period_kind="annual", submitted_at=timezone.now()
    )
    # 30 January 2026 has passed, so the year's return is overdue at once; the quarter is only due.
    assert return_reminders_send(on=EARLY_OCTOBER) == 3
    assert return_reminders_send(on=EARLY_OCTOBER) == 0
    alder_notes = Notification.objects.filter(recipient=provider_user_a)
    assert [(n.verb, n.subject) for n in alder_notes] == [
        ("quality.provider_return.due", "Alder House: return for 2026-Q3 due"),
    ]
    assert "is due by 30 October 2026" in alder_notes.get().body
    assert alder_notes.get().link == f"/provider/homes/{alder.pk}/returns/?body={council_a.pk}"
    birch_notes = Notification.objects.filter(recipient=provider_user_b).order_by("verb")
    assert [n.verb for n in birch_notes] == ["quality.provider_return.due", "quality.provider_return.overdue"]
    # A return sent stops the reminders; one still owed after its due date is reminded as overdue.
    provider_return_submit(
        actor=provider_user_a, care_home=alder, commissioner=council_a, period="2026-Q3", answers=GOOD
    )
    assert return_reminders_send(on=NOVEMBER) == 1
    assert Notification.objects.filter(recipient=provider_user_a).count() == 1
    assert Notification.objects.filter(recipient=provider_user_b, verb="quality.provider_return.overdue").count() == 2
    assert AuditEvent.objects.filter(verb="quality.provider_return.overdue", organisation=council_a).count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_scheduled_task_sends_todays_reminders_once(celery_worker, council_a, provider_a, provider_user_a):
    from config.settings import CELERY_BEAT_SCHEDULE
    from quality.tasks import return_reminders_send_task

    admitted_home(council_a, provider=provider_a, name="Alder House")
    Admission.objects.update(decided_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    assert CELERY_BEAT_SCHEDULE["quality-return-reminders"]["task"] == return_reminders_send_task.name
    expected = len(returns_outstanding(on=timezone.localdate()))
    assert expected == 2  # the last quarter's return and the last year's
    assert return_reminders_send_task.delay().get(timeout=30) == expected
    assert return_reminders_send_task.delay().get(timeout=30) == 0
    assert Notification.objects.filter(recipient=provider_user_a).count() == expected


def test_the_body_adds_and_retires_measures_and_later_returns_follow(
    homes, council_a, commissioner_a, broker_a, provider_user_a
):
    alder, _, _ = homes
    with pytest.raises(ApplicationError) as refused:
        return_measure_add(actor=commissioner_a, name="", kind="colour")
    assert set(refused.value.fields) == {"name", "kind"}
    assert not ReturnMeasure.objects.exists()
    with pytest.raises(ForbiddenError):
        return_measure_add(actor=broker_a, name="Night staff", kind="integer")
    night = return_measure_add(actor=commissioner_a, name="Night staff", kind="integer", unit="people")
    assert ReturnMeasure.objects.filter(commissioner=council_a).count() == 8  # the defaults, then this one
    with pytest.raises(ApplicationError) as twice:
        return_measure_add(actor=commissioner_a, name="night STAFF", kind="integer")
    assert twice.value.fields["name"] == ["You already ask for night staff."]
    falls = ReturnMeasure.objects.get(commissioner=council_a, name="Falls")
    return_measure_retire(actor=commissioner_a, measure=falls)

    answers = {key: value for key, value in GOOD.items() if key != "Falls"}
    with pytest.raises(ApplicationError) as missing:
        provider_return_submit(
            actor=provider_user_a, care_home=alder, commissioner=council_a, period="2026-Q3", answers=answers
        )
    assert missing.value.fields == {str(night.pk): ["Enter night staff."]}
    item = provider_return_submit(
        actor=provider_user_a,
        care_home=alder,
        commissioner=council_a,
        period="2026-Q3",
        answers={**answers, "Night staff": "6"},
    )
    assert sorted(a.measure.name for a in item.answers.all()) == sorted([*answers, "Night staff"])
    assert AuditEvent.objects.filter(verb="quality.return_measure.retired", actor=commissioner_a).count() == 1


def test_a_lot_measure_is_asked_only_of_homes_on_that_lot(
    homes, council_a, commissioner_a, provider_a, provider_user_a
):
    from lots.models import Lot
    from quality.services import return_measures_for_home

    alder, _, _ = homes
    nursing_home = admitted_home(council_a, provider=provider_a, name="Nursing Home", lot_number=3)
    return_measure_add(actor=commissioner_a, name="Pressure ulcers", kind="integer", lot=Lot.objects.get(number=3))
    assert "Pressure ulcers" in [
        m.name for m in return_measures_for_home(commissioner=council_a, care_home=nursing_home)
    ]
    assert "Pressure ulcers" not in [m.name for m in return_measures_for_home(commissioner=council_a, care_home=alder)]


def test_the_measures_page_adds_retires_and_exports(council_a, commissioner_a, broker_a, as_user):
    page = as_user(commissioner_a).get("/commissioner/returns/measures/")
    assert page.status_code == 200 and b"Keep my own set" in page.content and b"Staff in post" in page.content
    assert not ReturnMeasure.objects.exists()  # showing the defaults keeps nothing
    refused = as_user(commissioner_a).post("/commissioner/returns/measures/", {"name": "", "kind": ""})
    assert refused.status_code == 200 and b"Enter the name of the measure." in refused.content
    added = as_user(commissioner_a).post(
        "/commissioner/returns/measures/", {"name": "Night staff", "kind": "integer", "required": "on"}
    )
    assert added.status_code == 302
    night = ReturnMeasure.objects.get(name="Night staff")
    assert as_user(commissioner_a).post(f"/commissioner/returns/measures/{night.pk}/retire/").status_code == 302
    csv = b"".join(as_user(commissioner_a).get("/commissioner/returns/measures/?format=csv").streaming_content)
    assert csv.splitlines()[0] == b"position,measure,kind,unit,lot,required,state"
    assert b"8,Night staff,Whole number,,all,yes,retired" in csv
    assert as_user(broker_a).get("/commissioner/returns/measures/").status_code == 403


def test_the_returns_page_lists_the_returns_owed_with_a_csv(homes, commissioner_a, as_user):
    page = as_user(commissioner_a).get("/commissioner/returns/").content.decode()
    today = timezone.localdate()
    owed = returns_outstanding(on=today)
    assert owed and all(o.care_home.name in page for o in owed)
    csv = b"".join(as_user(commissioner_a).get("/commissioner/returns/?format=csv&owed=1").streaming_content)
    lines = csv.decode().splitlines()
    assert lines[0] == "care_home,cqc_location_id,period,period_kind,due_on" and len(lines) == len(owed) + 1


def test_measures_over_the_api(homes, council_a, council_b, provider_a, api_as):
    body = api_as(council_a, scopes=["read", "quality"], role="commissioner")
    refused = body.post("/api/v1/return-measures/", {"name": "Night staff", "kind": "colour"})
    assert refused.status_code == 400 and "kind" in refused.json()["errors"]
    made = body.post("/api/v1/return-measures/", {"name": "Night staff", "kind": "integer", "lot": 1})
    assert made.status_code == 201 and made.json()["lot"] == 1
    listed = body.get("/api/v1/return-measures/").json()
    assert len(listed) == 8 and all(m["id"] for m in listed)
    falls = next(m for m in listed if m["name"] == "Falls")
    assert body.post(f"/api/v1/return-measures/{falls['id']}/retire/").json()["active"] is False
    # Another body cannot retire it; a provider's system reads the measures of the bodies its homes are with.
    other = api_as(council_b, scopes=["read", "quality"], role="commissioner")
    assert other.post(f"/api/v1/return-measures/{made.json()['id']}/retire/").status_code == 404
    AdmissionFactory(commissioner=council_b, care_home=homes[0])
    provider = api_as(provider_a, scopes=["read", "quality"])
    seen = provider.get("/api/v1/return-measures/").json()
    mine = [m for m in seen if m["commissioner"] == council_a.pk]
    defaults = [m for m in seen if m["commissioner"] == council_b.pk]
    assert "Falls" not in {m["name"] for m in mine} and "Night staff" in {m["name"] for m in mine}
    assert len(defaults) == 7 and all(m["id"] is None for m in defaults)
    assert provider.post("/api/v1/return-measures/", {"name": "Mine", "kind": "integer"}).status_code == 403
    assert (
        api_as(council_a, scopes=["read"], role="commissioner")
        .post("/api/v1/return-measures/", {"name": "Scope", "kind": "integer"})
        .status_code
        == 403
    )
