"""The demo's DPS membership step: applications to decide, a framework window, and vacancies."""

import pytest

from demo.organisations import COUNCIL_SLUG, seed_organisations
from demo.providers import seed_dps_membership
from providers.models import Admission, ApplicationWindow, Vacancy

pytestmark = pytest.mark.django_db


def test_demo_step_makes_applications_and_vacancies_once():
    seed_organisations()
    seed_dps_membership(council_slug=COUNCIL_SLUG)
    counts = (
        Admission.objects.filter(status=Admission.Status.APPLIED).count(),
        ApplicationWindow.objects.count(),
        Vacancy.objects.count(),
    )
    assert counts[0] >= 3 and counts[1] == 1 and counts[2] >= 10

    seed_dps_membership(council_slug=COUNCIL_SLUG)

    again = (
        Admission.objects.filter(status=Admission.Status.APPLIED).count(),
        ApplicationWindow.objects.count(),
        Vacancy.objects.count(),
    )
    assert again == counts


def test_demo_records_each_bodys_dps_in_term_through_two_extensions_once():
    from django.utils import timezone

    from demo.dps import seed_dps
    from lots.models import DpsAgreement, DpsExtension
    from lots.selectors import dps_in_term
    from organisations.models import Organisation
    from providers.models import ComplianceDocument, SelectionQuestion

    seed_organisations()
    seed_dps()
    council = Organisation.objects.get(slug=COUNCIL_SLUG)
    dps = DpsAgreement.objects.get(commissioner=council)
    assert dps.ends_on < timezone.localdate()
    assert DpsExtension.objects.filter(agreement=dps).count() == 2
    assert dps.extension_options.filter(exercised__isnull=True).count() == 1
    assert dps_in_term(council, timezone.localdate())
    counts = (DpsAgreement.objects.count(), SelectionQuestion.objects.count(), ComplianceDocument.objects.count())
    assert counts[1] >= 3 and counts[2] >= 6
    expired = ComplianceDocument.objects.filter(expires_on__lt=timezone.localdate())
    assert expired.count() == 1

    seed_dps()

    assert (
        DpsAgreement.objects.count(),
        SelectionQuestion.objects.count(),
        ComplianceDocument.objects.count(),
    ) == counts
