"""No CSV export lets a spreadsheet run a formula typed into the service.

Formula-looking text is planted in every field a person (or a council's system, or an import) can
write and that reaches an export: case references, home and organisation names, reasons, notes,
webhook descriptions, API client names. Every CSV download and export command is then read back,
and no cell may begin with `=`, `+`, `-`, `@`, a tab or a carriage return unless it is a number.

The list of exports is checked against the code: a new `csv_response` call or a new command that
writes CSV, without a row here, fails the first test."""

import ast
import csv
import io
import itertools
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from bidding.models import Tender
from bidding.services import tenders_close_overdue
from blockbeds.models import BlockBed, BlockContract, BlockContractRate
from closures.models import HandBack, ResidentMove
from contracts.models import FeePeriod, FncRate, OutcomePaymentRule, ServiceAgreement, Uplift
from contracts.payments import period_containing
from core.csv_export import csv_cell, csv_response
from dashboards.registry import DASHBOARDS
from integrations.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from lots.models import DpsAgreement, Lot
from organisations.models import ApiClient, Organisation
from placements.models import Placement, PlacementRequest
from providers.models import (
    Admission,
    AdmissionClosure,
    AdmissionEvent,
    BedVacancy,
    CareHome,
    ComplianceDocument,
    SelectionQuestion,
)
from providers.services import admission_suspend
from quality.models import ProviderReturn, Rating, ReturnAnswer, ReturnMeasure

from .gates_world import build_world

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
PAYLOADS = ['=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
NEGATIVE_NUMBER = re.compile(r"-\d+(\.\d+)?")

# Every view that calls csv_response, as (module, function), and the pages that reach it:
# (who asks, path with {ids}, whether planted text must show up in it). A page is asked for
# `?format=csv`; an API path (under /api/) is asked for CSV by its Accept header.
PAGE_EXPORTS = {
    ("bidding.views", "invitation_list_view"): [("provider_a", "/provider/invitations/", True)],
    ("quality.views", "ratings"): [("commissioner_a", "/commissioner/care-homes/{home}/ratings/", True)],
    ("quality.views", "monitoring"): [("commissioner_a", "/commissioner/monitoring/", True)],
    ("quality.views", "framework"): [("commissioner_a", "/commissioner/monitoring/framework/", False)],
    ("quality.views", "home_quality"): [("commissioner_a", "/commissioner/care-homes/{home}/quality/", False)],
    ("quality.views", "concerns"): [("commissioner_a", "/commissioner/care-homes/{home}/concerns/", False)],
    ("quality.views", "_plan_page"): [
        ("commissioner_a", "/commissioner/care-homes/{home}/improvement-plan/", False),
        ("provider_a", "/provider/homes/{home}/improvement-plan/", False),
    ],
    ("quality.views", "scoring_rules"): [("commissioner_a", "/commissioner/quality-scoring/", True)],
    ("quality.views", "provider_returns"): [("provider_a", "/provider/homes/{home}/returns/", True)],
    ("quality.views", "body_returns"): [
        ("commissioner_a", "/commissioner/returns/", True),
        ("commissioner_a", "/commissioner/returns/?owed=1", False),
    ],
    ("quality.views", "return_measures"): [("commissioner_a", "/commissioner/returns/measures/", True)],
    ("quality.views", "return_detail"): [
        ("commissioner_a", "/returns/{provider_return}/", True),
        ("provider_a", "/returns/{provider_return}/", True),
    ],
    ("providers.views", "my_homes"): [("provider_a", "/provider/homes/", True)],
    ("providers.views", "my_applications"): [("provider_a", "/provider/applications/", True)],
    ("providers.views", "application_queue"): [("commissioner_a", "/commissioner/applications/", True)],
    ("providers.views", "members"): [("commissioner_a", "/commissioner/dps-members/", True)],
    ("providers.views", "suspensions"): [("commissioner_a", "/commissioner/suspensions/", True)],
    ("providers.views", "bed_vacancy_search"): [("broker_a", "/vacancies/search/", True)],
    ("providers.views", "embargoes"): [("commissioner_a", "/commissioner/embargoes/", True)],
    ("providers.views", "windows"): [("commissioner_a", "/commissioner/reopening-windows/", False)],
    ("providers.views", "care_home_search"): [("broker_a", "/care-homes/search/", True)],
    ("lots.views", "rules_list"): [("commissioner_a", "/commissioner/lots/", True)],
    ("placements.views", "referral_list_view"): [("coordinator_a", "/hospital/referrals/", True)],
    ("lots.views", "dps"): [("commissioner_a", "/commissioner/lots/dps/", True)],
    ("lots.views", "dps_register"): [("provider_a", "/dps/", True)],
    ("providers.views", "home_documents"): [("provider_a", "/provider/homes/{home}/documents/", True)],
    ("providers.views", "questionnaire"): [("commissioner_a", "/commissioner/questionnaire/", True)],
    ("providers.views", "document_requirements"): [("commissioner_a", "/commissioner/document-requirements/", False)],
    ("integrations.views", "api_client_list_page"): [("commissioner_a", "/integrations/api-clients/", True)],
    ("integrations.views", "webhook_list_page"): [("commissioner_a", "/integrations/webhooks/", True)],
    ("integrations.views", "webhook_detail_page"): [("commissioner_a", "/integrations/webhooks/{webhook}/", False)],
    ("integrations.views", "webhook_delivery_page"): [
        ("commissioner_a", "/integrations/webhooks/deliveries/{delivery}/", True)
    ],
    ("dashboards.views", "dashboard_page"): [
        ("commissioner_a", f"/dashboards/{name}/", name in ("at-risk", "market")) for name in sorted(DASHBOARDS)
    ],
    ("placements.views", "request_list"): [("broker_a", "/broker/requests/", True)],
    ("bidding.request_views", "request_detail"): [("broker_a", "/broker/requests/{request}/", True)],
    ("contracts.views", "agreements"): [("broker_a", "/agreements/", True)],
    ("contracts.views", "uplifts"): [("commissioner_a", "/commissioner/uplifts/", True)],
    ("contracts.views", "uplift_detail"): [("commissioner_a", "/commissioner/uplifts/{uplift}/", False)],
    ("contracts.views", "payment_schedule"): [("broker_a", "/payments/?period={period}", True)],
    ("contracts.views", "fnc_rates"): [("commissioner_a", "/commissioner/fnc-rates/", True)],
    ("contracts.views", "outcome_rules"): [("broker_a", "/commissioner/outcome-payments/", True)],
    ("closures.views", "closure_list"): [("broker_a", "/closures/", True)],
    ("closures.views", "closure_detail"): [("broker_a", "/closures/{home_closure}/", True)],
    ("closures.views", "hand_backs"): [("provider_a", "/provider/hand-backs/", True)],
    # The API answers CSV when asked for it with `Accept: text/csv`, not with a format parameter.
    ("contracts.apis", "get"): [("broker_a", "/api/v1/payment-schedules/?period={period}", True)],
    ("blockbeds.views", "contract_list"): [("broker_a", "/block-contracts/", True)],
    ("blockbeds.views", "contract_detail"): [
        ("broker_a", "/block-contracts/{contract}/", True),
        ("broker_a", "/block-contracts/{contract}/?table=rates", True),
    ],
    ("blockbeds.views", "utilisation_page"): [
        ("commissioner_a", "/block-contracts/utilisation/?date_from={year_ago}&date_to={today}", True),
        ("commissioner_a", "/block-contracts/utilisation/?date_from={year_ago}&date_to={today}&table=months", False),
    ],
}
# Every management command that writes CSV, with the arguments that make it do so.
COMMAND_EXPORTS = {
    "dashboards/management/commands/export_dashboard.py": [
        (["export_dashboard", name, "--commissioner", "council-a"], name in ("at-risk", "market"))
        for name in sorted(DASHBOARDS)
    ],
    "contracts/management/commands/payment_schedule_export.py": [
        (["payment_schedule_export", "council-a", "{period}", "--output", "{output}"], True)
    ],
}


def _source_files():
    for path in sorted(ROOT.glob("*/**/*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in {"tests", ".venv", "node_modules", "benchmarks", "loadgen"} or "migrations" in (
            relative.parts
        ):
            continue
        yield relative, ast.parse(path.read_text())


def _called_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return f"{func.value.id}.{func.attr}"
    return getattr(func, "id", "")


def test_every_csv_export_in_the_code_is_tested_here():
    calls, writers, commands = set(), [], set()
    for relative, tree in _source_files():
        module = ".".join(relative.with_suffix("").parts)
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Call) and _called_name(node) == "csv_response":
                    calls.add((module, function.name))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = _called_name(node)
                if name in {"csv.writer", "csv.DictWriter"} and str(relative) != "core/csv_export.py":
                    writers.append(f"{relative}:{node.lineno}")
                if name == "csv_writer" and "management" in relative.parts:
                    commands.add(str(relative))
    assert not writers, "Write CSV through core.csv_export.csv_writer, not csv.writer: " + ", ".join(writers)
    assert calls == set(PAGE_EXPORTS), "Add each new CSV download to PAGE_EXPORTS (and remove removed ones)."
    assert commands == set(COMMAND_EXPORTS), "Add each new CSV export command to COMMAND_EXPORTS."


def test_a_formula_cell_is_quoted_and_numbers_stay_numbers():
    assert [csv_cell(text) for text in PAYLOADS] == ["'" + text for text in PAYLOADS]
    assert csv_cell(Decimal("-12.50")) == Decimal("-12.50")
    assert csv_cell(-3) == -3
    assert csv_cell(None) is None
    assert csv_cell("Alder House") == "Alder House"
    assert csv_cell("-") == "'-"


def _plant(world):
    """Formula-looking text in every person-written field that reaches an export."""
    payloads = itertools.cycle(PAYLOADS)

    def plant(queryset, *fields):
        for obj in queryset.order_by("pk"):
            type(obj).objects.filter(pk=obj.pk).update(**{field: next(payloads) for field in fields})

    provider_user = world.users["provider_a"]
    home = CareHome.objects.get(pk=world.ids["home"])
    body = world.users["commissioner_a"].organisation
    measure = ReturnMeasure.objects.create(commissioner=body, name="Falls", kind="integer", unit="falls")
    provider_return = ProviderReturn.objects.create(
        care_home=home,
        commissioner=body,
        period_kind="annual",
        period="2026",
        submitted_by=provider_user,
        submitted_at=timezone.now(),
    )
    ReturnAnswer.objects.create(provider_return=provider_return, measure=measure, value=3)
    world.ids["provider_return"] = provider_return.pk

    tender = Tender.objects.get(request_id=world.ids["request"])
    Tender.objects.filter(pk=tender.pk).update(
        opened_at=timezone.now() - timedelta(hours=3), closes_at=timezone.now() - timedelta(seconds=1)
    )
    assert tenders_close_overdue() >= 1
    admission_suspend(
        actor=world.users["commissioner_a"], admission=Admission.objects.get(pk=world.ids["admission"]), reason="-"
    )
    WebhookAttempt.objects.create(
        delivery=WebhookDelivery.objects.get(pk=world.ids["delivery"]),
        number=1,
        succeeded=False,
        error="",
        attempted_at=timezone.now(),
    )

    plant(CareHome.objects.all(), "name", "local_authority")
    plant(Organisation.objects.all(), "name")
    PlacementRequest.objects.update(target_date=timezone.localdate())
    plant(PlacementRequest.objects.all(), "case_reference", "local_authority")
    plant(Placement.objects.all(), "case_reference")
    plant(ServiceAgreement.objects.all(), "case_reference", "care_home_name", "provider_name", "commissioner_name")
    plant(Admission.objects.all(), "decision_reason")
    plant(AdmissionEvent.objects.all(), "reason")
    plant(Lot.objects.all(), "name")
    plant(Rating.objects.all(), "safe")
    plant(ApiClient.objects.all(), "name")
    plant(WebhookSubscription.objects.all(), "description")
    plant(WebhookAttempt.objects.all(), "error")
    plant(Uplift.objects.all(), "name")
    plant(FncRate.objects.all(), "note")
    plant(OutcomePaymentRule.objects.all(), "description")
    plant(BlockContract.objects.all(), "reference")
    plant(BlockContractRate.objects.all(), "basis")
    plant(BlockBed.objects.all(), "label")
    plant(FeePeriod.objects.all(), "note")
    plant(AdmissionClosure.objects.all(), "details")
    plant(BedVacancy.objects.all(), "notes")
    plant(DpsAgreement.objects.all(), "title", "reference")
    plant(ComplianceDocument.objects.all(), "original_name")
    plant(SelectionQuestion.objects.all(), "text", "required_answer")
    plant(HandBack.objects.all(), "reason")
    plant(ResidentMove.objects.all(), "note")
    plant(ReturnMeasure.objects.all(), "name", "unit")


def _unsafe_cells(text: str) -> tuple[list[str], int]:
    unsafe, quoted = [], 0
    for row in csv.reader(io.StringIO(text, newline="")):
        for cell in row:
            if cell.startswith("'") and cell[1:].startswith(DANGEROUS):
                quoted += 1
            elif cell.startswith(DANGEROUS) and not NEGATIVE_NUMBER.fullmatch(cell):
                unsafe.append(cell)
    return unsafe, quoted


@pytest.fixture
def planted_world():
    world = build_world()
    _plant(world)
    return world


def test_no_csv_download_starts_a_cell_with_a_formula(planted_world):
    callers = {}
    failures, checked = [], 0
    today = timezone.localdate()
    for (module, function), pages in PAGE_EXPORTS.items():
        for role, template, expect_text in pages:
            if role not in callers:
                callers[role] = Client()
                callers[role].force_login(planted_world.users[role])
            dates = {"today": today, "year_ago": today - timedelta(days=365), "period": period_containing(today).label}
            path = template.format(**planted_world.ids, **dates)
            if path.startswith("/api/"):
                url = path
                response = callers[role].get(url, HTTP_ACCEPT="text/csv")
            else:
                url = path + ("&" if "?" in path else "?") + "format=csv"
                response = callers[role].get(url)
            assert response.status_code == 200, f"{url}: {response.status_code}"
            assert response["Content-Type"].startswith("text/csv"), url
            unsafe, quoted = _unsafe_cells(b"".join(response.streaming_content).decode())
            checked += 1
            if unsafe:
                failures.append(f"{module}.{function} {url}: {unsafe}")
            if expect_text and not quoted:
                failures.append(f"{module}.{function} {url}: none of the planted text reached the export")
    assert not failures, "\n".join(failures)
    assert checked == sum(len(pages) for pages in PAGE_EXPORTS.values())


def test_no_csv_export_command_starts_a_cell_with_a_formula(planted_world, tmp_path):
    period = period_containing(timezone.localdate()).label
    output = tmp_path / "export.csv"
    failures = []
    for path, runs in COMMAND_EXPORTS.items():
        for arguments, expect_text in runs:
            out = io.StringIO()
            call_command(
                *(argument.format(period=period, output=output) for argument in arguments),
                stdout=out,
                stderr=io.StringIO(),
            )
            unsafe, quoted = _unsafe_cells(output.read_text() if "--output" in arguments else out.getvalue())
            if unsafe:
                failures.append(f"{path} {arguments}: {unsafe}")
            if expect_text and not quoted:
                failures.append(f"{path} {arguments}: none of the planted text reached the export")
    assert not failures, "\n".join(failures)


def test_a_negative_amount_stays_a_number_and_text_that_looks_like_one_is_quoted():
    response = csv_response("amounts.csv", ["amount", "note"], [[Decimal("-12.50"), "-12.50 refunded"], [-3, "x"]])
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode(), newline="")))
    assert rows == [["amount", "note"], ["-12.50", "'-12.50 refunded"], ["-3", "x"]]
