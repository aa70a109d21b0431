"""People read what happened, never an audit verb: every verb the code can write has a label in
plain English, and the timelines, the back office's audit list and the lists show those labels."""

import ast
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.utils import timezone

from blockbeds.services import block_contract_rate_record, block_offer_decline
from core.audit import verb_label, verb_labels, verb_labels_register
from core.models import AuditEvent
from fairness.models import Challenge
from organisations.models import User
from providers.models import Admission

from .factories import AdmissionFactory, BlockContractFactory, BlockRequestFactory, CareHomeFactory

ROOT = Path(__file__).resolve().parent.parent
WRITERS = {"audit_record", "audit_record_many"}
NOT_PRODUCT = {"tests", "migrations", "node_modules", "static", "templates", "docs", "scripts", "var"}
# A verb built at run time, with the values its placeholder can take.
BUILT_VERBS = {
    "fairness.challenge.{}": [Challenge.Decision.DISMISSED, Challenge.Decision.UPHELD],
}
# A dotted code such as bidding.bid.submitted where words belong.
DOTTED_VERB = re.compile(
    r"\b(?:bidding|blockbeds|contracts|dashboards|fairness|integrations|lots|organisations"
    r"|placements|providers|quality)\.[a-z_]+\.[a-z_]+\b"
)


def _product_modules():
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if parts[0].startswith(".") or parts[0].endswith(".egg-info") or NOT_PRODUCT & set(parts):
            continue
        yield path


def _name(func: ast.expr) -> str | None:
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


class _VerbFinder:
    """The verbs one module can pass to the audit writers: literals, both sides of a conditional,
    a local variable's assignments, or, for a helper's parameter, what its callers pass."""

    def __init__(self, path: Path):
        self.path = path
        self.tree = ast.parse(path.read_text())
        self.parents = {child: node for node in ast.walk(self.tree) for child in ast.iter_child_nodes(node)}
        self.unresolved: list[str] = []

    def _function_of(self, node):
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                return node
        return None

    def _passed_to(self, function, parameter: str):
        positional = [a.arg for a in function.args.posonlyargs + function.args.args]
        for call in ast.walk(self.tree):
            if not (isinstance(call, ast.Call) and _name(call.func) == function.name):
                continue
            value = next((k.value for k in call.keywords if k.arg == parameter), None)
            if value is None and parameter in positional and positional.index(parameter) < len(call.args):
                value = call.args[positional.index(parameter)]
            if value is not None:
                yield value, self._function_of(call)

    def resolve(self, expr, function, depth: int = 0) -> set[str]:
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return {expr.value}
        if isinstance(expr, ast.IfExp):
            return self.resolve(expr.body, function, depth) | self.resolve(expr.orelse, function, depth)
        if isinstance(expr, ast.JoinedStr):
            pattern = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in expr.values)
            if pattern in BUILT_VERBS:
                return {pattern.format(value) for value in BUILT_VERBS[pattern]}
        if isinstance(expr, ast.Name) and function is not None and depth < 5:
            verbs = set()
            for node in ast.walk(function):
                if isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == expr.id for t in node.targets
                ):
                    verbs |= self.resolve(node.value, function, depth + 1)
            parameters = function.args.posonlyargs + function.args.args + function.args.kwonlyargs
            if expr.id in {a.arg for a in parameters}:
                for value, caller in self._passed_to(function, expr.id):
                    verbs |= self.resolve(value, caller, depth + 1)
            if verbs:
                return verbs
        self.unresolved.append(f"{self.path.relative_to(ROOT)}:{expr.lineno}: {ast.unparse(expr)}")
        return set()

    def verbs(self) -> set[str]:
        found = set()
        for call in ast.walk(self.tree):
            if isinstance(call, ast.Call) and _name(call.func) in WRITERS:
                verb = next((k.value for k in call.keywords if k.arg == "verb"), None)
                if verb is not None:
                    found |= self.resolve(verb, self._function_of(call))
        return found


def _verbs_in_the_code() -> tuple[set[str], list[str]]:
    verbs, unresolved = set(), []
    for path in _product_modules():
        finder = _VerbFinder(path)
        verbs |= finder.verbs()
        unresolved += finder.unresolved
    return verbs, unresolved


def test_every_verb_the_code_can_write_has_a_label():
    verbs, unresolved = _verbs_in_the_code()
    assert not unresolved, (
        "These audit verbs cannot be read from the code; write them as string literals, or add a verb "
        f"built at run time to BUILT_VERBS: {unresolved}"
    )
    # The scan itself must keep finding the writers (it would pass vacuously if it found none).
    assert len(verbs) > 60
    assert {"blockbeds.offer.declined", "bidding.bid.withdrawn", "fairness.challenge.upheld"} <= verbs
    missing = sorted(verbs - set(verb_labels()))
    assert not missing, f"Add a label to the writing app's audit_labels.py for: {missing}"


def test_labels_are_words_in_sentence_case():
    for verb, label in verb_labels().items():
        assert label and label != verb, verb
        assert label[0].isupper(), label
        assert "_" not in label and not DOTTED_VERB.search(label), label
        assert not label.endswith("."), label


def test_an_unregistered_verb_still_reads_as_words():
    assert verb_label("somewhere.waiting_list.reopened") == "Waiting list reopened"
    assert verb_label("blockbeds.offer.declined") == "Block bed offer declined"


def test_a_second_different_label_for_a_verb_is_refused():
    verb_labels_register({"blockbeds.offer.declined": "Block bed offer declined"})
    with pytest.raises(ImproperlyConfigured):
        verb_labels_register({"blockbeds.offer.declined": "Offer turned down"})
    assert verb_label("blockbeds.offer.declined") == "Block bed offer declined"


@pytest.mark.django_db
def test_every_verb_the_demo_writes_has_a_label():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    written = set(AuditEvent.objects.values_list("verb", flat=True).distinct())
    assert "placements.request.created" in written
    assert not sorted(written - set(verb_labels()))


@pytest.fixture
def home(provider_a, council_a):
    home = CareHomeFactory(provider=provider_a, name="Brook House", specialism_codes=["older-people", "dementia"])
    AdmissionFactory(commissioner=council_a, care_home=home)
    return home


@pytest.fixture
def contract(council_a, home):
    return BlockContractFactory(commissioner=council_a, care_home=home, reference="STAFFS-BLK-9", beds=2)


@pytest.mark.django_db
def test_request_timeline_says_block_bed_offer_declined(as_user, broker_a, council_a, contract):
    placement_request = BlockRequestFactory(commissioner=council_a, created_by=broker_a, specialism_codes=["dementia"])
    block_offer_decline(request=placement_request, actor=broker_a, reason="Person wants to stay near Leek")
    assert AuditEvent.objects.filter(verb="blockbeds.offer.declined").exists()
    html = as_user(broker_a).get(f"/broker/requests/{placement_request.pk}/").content.decode()
    timeline = html[html.index('id="timeline"') :]
    assert "Block bed offer declined" in timeline
    assert not DOTTED_VERB.search(html)


@pytest.mark.django_db
def test_block_contract_history_says_what_changed(as_user, commissioner_a, contract):
    block_contract_rate_record(
        contract=contract,
        actor=commissioner_a,
        effective_from=timezone.localdate(),
        weekly_rate=Decimal("760.00"),
        reason="Annual review",
    )
    html = as_user(commissioner_a).get(f"/block-contracts/{contract.pk}/").content.decode()
    assert "Weekly rate changed by" in html
    assert not DOTTED_VERB.search(html)


@pytest.mark.django_db
def test_back_office_audit_list_says_what_happened(as_user, broker_a, council_a, contract):
    placement_request = BlockRequestFactory(commissioner=council_a, created_by=broker_a, specialism_codes=["dementia"])
    block_offer_decline(request=placement_request, actor=broker_a, reason="Person wants to stay near Leek")
    operator = User.objects.create_superuser(email="ops@example.org", password="x")
    html = as_user(operator).get("/admin/core/auditevent/").content.decode()
    assert "What happened" in html
    assert "Block bed offer declined" in html


@pytest.mark.django_db
def test_a_suspension_with_no_recorded_reason_says_so_rather_than_none(as_user, commissioner_a, council_a, home):
    AdmissionFactory(
        commissioner=council_a,
        care_home=CareHomeFactory(name="Moor View"),
        status=Admission.Status.SUSPENDED,
    )
    html = as_user(commissioner_a).get("/commissioner/suspensions/").content.decode()
    row = html[html.index("Moor View") :]
    row = row[: row.index("</tr>")]
    assert "Not recorded" in row
    assert "None" not in row
