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
