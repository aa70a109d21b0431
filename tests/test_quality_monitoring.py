"""Contract monitoring: a body's framework, visits scored out of 100, the latest score per home with
its history, and each body seeing only its own visits (pages, CSV, API)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.errors import ApplicationError, ForbiddenError, NotFoundError
from core.models import AuditEvent
from quality.models import MonitoringVisit
from quality.selectors import latest_monitoring_scores
from quality.services import (
    monitoring_framework_start,
    monitoring_question_add,
    monitoring_question_retire,
    monitoring_score,
    monitoring_visit_record,
)

from .factories import AdmissionFactory, CareHomeFactory, admitted_home, lot

pytestmark = pytest.mark.django_db


def _visit(actor, home, score_each: int, days_ago: int = 0, findings: str = "Seen the medicines round."):
    framework = actor.organisation.monitoring_framework
    scores = {q.pk: score_each for q in framework.questions.filter(retired_at__isnull=True)}
    return monitoring_visit_record(
        actor=actor,
        care_home=home,
        visited_on=timezone.localdate() - timedelta(days=days_ago),
        visitor="Quality officer",
        findings=findings,
        scores=scores,
    )


def test_the_score_is_the_mean_answer_over_the_scale():
    assert monitoring_score([4, 3, 4, 3], 4) == Decimal("87.50")
    assert monitoring_score([1, 1], 4) == Decimal("25.00")
    assert monitoring_score([3, 4, 4], 4) == Decimal("91.67")


def test_the_default_framework_has_the_five_domains(commissioner_a):
    framework = monitoring_framework_start(actor=commissioner_a)
    domains = set(framework.questions.values_list("domain", flat=True))
    assert domains == {
        "Involvement and information",
        "Personalised care",
        "Safeguarding",
        "Suitability of staffing",
        "Quality of management",
    }
    assert framework.scale_max == 4
    assert AuditEvent.objects.filter(verb="quality.monitoring_framework.started").count() == 1


def test_a_visit_keeps_its_history_and_the_latest_visit_gives_the_home_score(council_a, commissioner_a, provider_a):
    home = admitted_home(council_a, provider=provider_a)
    monitoring_framework_start(actor=commissioner_a)
    older = _visit(commissioner_a, home, 2, days_ago=30)
    newer = _visit(commissioner_a, home, 4, days_ago=1)
    assert (older.score, newer.score) == (Decimal("50.00"), Decimal("100.00"))
    assert latest_monitoring_scores(commissioner_id=council_a.pk, care_home_ids=[home.pk])[home.pk] == newer
    assert MonitoringVisit.objects.filter(care_home=home).count() == 2
    assert AuditEvent.objects.filter(verb="quality.monitoring_visit.recorded").count() == 2


def test_every_current_question_needs_a_score_on_the_scale(council_a, commissioner_a, provider_a):
    home = admitted_home(council_a, provider=provider_a)
    framework = monitoring_framework_start(actor=commissioner_a)
    first, second, *rest = framework.questions.all()
    monitoring_question_retire(actor=commissioner_a, question=rest[0])
    scores = {q.pk: 3 for q in rest[1:]} | {first.pk: 5}
    with pytest.raises(ApplicationError) as error:
        monitoring_visit_record(
            actor=commissioner_a,
            care_home=home,
            visited_on=timezone.localdate() + timedelta(days=1),
            visitor="",
            findings="",
            scores=scores,
        )
    assert set(error.value.fields) == {"visited_on", "visitor", f"q{first.pk}", f"q{second.pk}"}
    assert not MonitoringVisit.objects.exists()


def test_brokers_and_other_bodies_cannot_record_visits(council_a, commissioner_b, broker_a, provider_a):
    home = admitted_home(council_a, provider=provider_a)
    with pytest.raises(ForbiddenError):
        monitoring_question_add(actor=broker_a, domain="Safeguarding", text="Q")
    monitoring_framework_start(actor=commissioner_b)
    with pytest.raises(NotFoundError):
        _visit(commissioner_b, home, 3)


def test_pages_csv_and_api_show_only_the_bodys_own_visits(
    council_a, council_b, commissioner_a, commissioner_b, provider_a, as_user, api_as
):
    home = admitted_home(council_a, provider=provider_a, name="Alder House")
    admitted_home(council_b, provider=provider_a, name="Other Home")
    AdmissionFactory(commissioner=council_b, care_home=home, lot=lot(2))
    monitoring_framework_start(actor=commissioner_a)
    monitoring_framework_start(actor=commissioner_b)
    _visit(commissioner_a, home, 4, findings="A-FINDINGS")
    _visit(commissioner_b, home, 1, findings="B-FINDINGS")

    page = as_user(commissioner_a).get(f"/commissioner/care-homes/{home.pk}/quality/")
    assert page.status_code == 200
    assert b"A-FINDINGS" in page.content and b"B-FINDINGS" not in page.content
    csv = as_user(commissioner_a).get(f"/commissioner/care-homes/{home.pk}/quality/?format=csv")
    body = b"".join(csv.streaming_content)
    assert b"A-FINDINGS" in body and b"B-FINDINGS" not in body
    listing = as_user(commissioner_a).get("/commissioner/monitoring/")
    assert b"Alder House" in listing.content and b"Other Home" not in listing.content

    system_b = api_as(council_b, scopes=["read"])
    answer = system_b.get(f"/api/v1/care-homes/{home.pk}/monitoring-visits/")
    assert answer.status_code == 200
    assert [v["findings"] for v in answer.json()] == ["B-FINDINGS"]


def test_a_body_system_with_the_quality_scope_records_a_visit(council_a, commissioner_a, provider_a, api_as):
    home = admitted_home(council_a, provider=provider_a)
    framework = monitoring_framework_start(actor=commissioner_a)
    reader = api_as(council_a, scopes=["read"], role="commissioner")
    writer = api_as(council_a, scopes=["quality"], role="commissioner")
    questions = list(framework.questions.all())
    body = {
        "visited_on": str(timezone.localdate()),
        "visitor": "Quality team",
        "answers": [{"question": q.pk, "score": 3} for q in questions[:-1]],
    }
    assert reader.post(f"/api/v1/care-homes/{home.pk}/monitoring-visits/", body).status_code == 403
    refused = writer.post(f"/api/v1/care-homes/{home.pk}/monitoring-visits/", body)
    assert refused.status_code == 400
    assert f"q{questions[-1].pk}" in refused.json()["errors"]
    body["answers"].append({"question": questions[-1].pk, "score": 4})
    made = writer.post(f"/api/v1/care-homes/{home.pk}/monitoring-visits/", body)
    assert made.status_code == 201, made.json()
    assert made.json()["score"] == "77.50"
    framework_answer = reader.get("/api/v1/monitoring-framework/")
    assert framework_answer.json()["scale_max"] == 4 and len(framework_answer.json()["questions"]) == 10


def test_the_monitoring_list_reads_latest_scores_in_a_fixed_number_of_queries(
    council_a, commissioner_a, provider_a, as_user, django_assert_max_num_queries
):
    monitoring_framework_start(actor=commissioner_a)
    for n in range(6):
        _visit(commissioner_a, admitted_home(council_a, provider=provider_a, name=f"Home {n}"), 3)
    CareHomeFactory(provider=provider_a)
    client = as_user(commissioner_a)
    with django_assert_max_num_queries(12):
        response = client.get("/commissioner/monitoring/")
    assert response.content.count(b"75.00") == 6


def test_a_homes_quality_lists_run_the_same_queries_whatever_their_length(
    council_a, commissioner_a, provider_a, api_as, django_assert_num_queries
):
    from quality.services import concern_record, improvement_action_add

    home = admitted_home(council_a, provider=provider_a)
    monitoring_framework_start(actor=commissioner_a)
    system = api_as(council_a, scopes=["read"], role="commissioner")
    paths = [
        f"/api/v1/care-homes/{home.pk}/{name}/" for name in ("monitoring-visits", "concerns", "improvement-actions")
    ]

    def grow(n):
        for i in range(n):
            _visit(commissioner_a, home, 3)
            concern_record(
                actor=commissioner_a,
                care_home=home,
                kind="complaint",
                received_on=timezone.localdate(),
                category="care",
                severity="low",
                reference=f"C-{n}-{i}",
            )
            improvement_action_add(
                actor=commissioner_a,
                care_home=home,
                action=f"Action {n}-{i}",
                owner="Manager",
                due_on=timezone.localdate(),
                agreed_on=timezone.localdate(),
            )

    grow(1)
    counts = {}
    for path in paths:
        system.get(path)
        with CaptureQueriesContext(connection) as small:
            assert len(system.get(path).json()) == 1
        counts[path] = len(small)
    grow(5)
    for path in paths:
        with django_assert_num_queries(counts[path]):
            assert len(system.get(path).json()) == 6
