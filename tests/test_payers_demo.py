"""The demo shows who pays: the council's payment rules, an applied FNC rate, an outcome rule,
placements shared with contributions and the NHS, and absences; seeding again adds nothing."""

from io import StringIO

import pytest
from django.core.management import call_command

from contracts.models import Absence, FncRate, FundingShare, OutcomePaymentRule, PayerType, PaymentRules
from demo.organisations import COUNCIL_SLUG

pytestmark = pytest.mark.django_db


def counts() -> tuple:
    return (
        PaymentRules.objects.count(),
        FncRate.objects.count(),
        OutcomePaymentRule.objects.count(),
        FundingShare.objects.filter(reason=FundingShare.Reason.CHANGE, superseded_at__isnull=True).count(),
        Absence.objects.count(),
    )


def test_seed_demo_records_who_pays_once(client):
    call_command("seed_demo", stdout=StringIO())
    first = counts()
    rules, rates, outcome_rules, changed_shares, absences = first
    assert (rules, rates, outcome_rules) == (1, 1, 1)
    assert changed_shares >= 6 and absences == 2
    council_shares = FundingShare.objects.filter(placement__commissioner__slug=COUNCIL_SLUG)
    assert council_shares.filter(payer_type=PayerType.CONTRIBUTION).exists()
    assert council_shares.filter(payer_type=PayerType.FNC).exists()
    assert FncRate.objects.get().applied_at is not None
    call_command("seed_demo", stdout=StringIO())
    assert counts() == first
