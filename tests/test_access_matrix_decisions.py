"""Every decision a commissioner takes leaves an audit entry naming them, their organisation and why."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from contracts.services import uplift_create, uplift_queue
from core.models import AuditEvent
from lots.models import LotRules
from lots.services import lot_rules_update
from providers.models import Admission
from providers.services import admission_decide, admission_reinstate, admission_suspend

from .factories import AdmissionFactory, CareHomeFactory, lot

pytestmark = pytest.mark.django_db


def entries_by(actor) -> list[tuple[str, str]]:
    return list(AuditEvent.objects.filter(actor=actor).order_by("pk").values_list("verb", "reason"))


def test_admission_decisions_suspensions_and_reinstatements_are_audited(council_a, commissioner_a, provider_a):
    home = CareHomeFactory(provider=provider_a, rating="Good")
    applied = AdmissionFactory(commissioner=council_a, care_home=home, lot=lot(1), status=Admission.Status.APPLIED)
    rejected = AdmissionFactory(commissioner=council_a, care_home=home, lot=lot(2), status=Admission.Status.APPLIED)

    admission_decide(actor=commissioner_a, admission=applied, admit=True, reason="Meets the lot's standards.")
    admission_decide(actor=commissioner_a, admission=rejected, admit=False, reason="No dementia staffing.")
    admission_suspend(actor=commissioner_a, admission=applied, reason="Safeguarding enquiry.")
    admission_reinstate(actor=commissioner_a, admission=applied, reason="Enquiry closed.")

    reasons = [reason for _, reason in entries_by(commissioner_a)]
    for reason in ["Meets the lot's standards.", "No dementia staffing.", "Safeguarding enquiry.", "Enquiry closed."]:
        assert reason in reasons
    assert AuditEvent.objects.filter(actor=commissioner_a).exclude(organisation=council_a).count() == 0


def test_rule_changes_and_uplifts_are_audited(council_a, commissioner_a):
    rules = LotRules.objects.get(commissioner=council_a, lot=lot(1))
    lot_rules_update(rules=rules, actor=commissioner_a, reason="Faster sourcing.", target_days=3)
    uplift = uplift_create(
        actor=commissioner_a,
        name="April",
        basis="other",
        effective_from=timezone.localdate() + timedelta(days=30),
        rules=[{"lot": lot(1), "percentage": Decimal("3.0")}],
    )
    uplift_queue(uplift=uplift, actor=commissioner_a)

    verbs = [verb for verb, _ in entries_by(commissioner_a)]
    assert len(verbs) >= 3, verbs
    assert any("rules" in verb for verb in verbs)
    assert sum("uplift" in verb for verb in verbs) >= 2
