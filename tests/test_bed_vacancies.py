"""Bed-level vacancies: a provider replaces its list (which confirms it), confirms "no change" in one
click, and a vacancy is fresh for urgent requests only while its confirmation is recent enough."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import ApplicationError, ForbiddenError, NotFoundError
from core.models import AuditEvent
from providers.models import BedVacancy
from providers.selectors import DEFAULT_VACANCY_FRESH_HOURS, bed_vacancy_fresh_q, bed_vacancy_is_fresh
from providers.services import BedVacancyInput, bed_vacancies_confirm, bed_vacancies_replace

from .factories import BedVacancyFactory, CareHomeFactory, lot

pytestmark = pytest.mark.django_db


@pytest.fixture
def home(provider_a, provider_user_a):
    return CareHomeFactory(provider=provider_a, name="Meadow View")


def test_saving_replaces_the_list_and_confirms_it_now(home, provider_user_a):
    old = BedVacancyFactory(care_home=home, confirmed_at=timezone.now() - timedelta(days=3))
    before = timezone.now()
    saved = bed_vacancies_replace(
        actor=provider_user_a,
        care_home=home,
        vacancies=[
            BedVacancyInput(beds=2, lot=lot(1), room_type="single", en_suite=True, ground_floor=True),
            BedVacancyInput(beds=1, setting="nursing", room_type="shared", gender="female", bariatric=True),
        ],
    )
    assert not BedVacancy.objects.filter(pk=old.pk).exists()
    rows = list(BedVacancy.objects.filter(care_home=home).order_by("beds"))
    assert [(r.beds, r.lot_id, r.setting, r.gender, r.bariatric) for r in rows] == [
        (1, None, "nursing", "female", True),
        (2, lot(1).pk, "", "any", False),
    ]
    assert all(r.confirmed_at >= before and r.confirmed_by == provider_user_a for r in rows)
    assert len(saved) == 2
    assert rows[1].kind_label == "Single room, en-suite, ground floor"
    assert rows[0].kind_label == "Shared room, bariatric, women only"
    assert AuditEvent.objects.get(verb="providers.bed_vacancies.saved").detail == {"beds": 3, "kinds": 2}


def test_each_bad_row_is_named_and_nothing_is_written(home, provider_user_a):
    kept = BedVacancyFactory(care_home=home)
    with pytest.raises(ApplicationError) as refused:
        bed_vacancies_replace(
            actor=provider_user_a,
            care_home=home,
            vacancies=[
                BedVacancyInput(beds=1, lot=lot(1)),
                BedVacancyInput(beds=1),
                BedVacancyInput(beds=0, lot=lot(1)),
                BedVacancyInput(beds=1, lot=lot(1), gender="children"),
            ],
        )
    assert set(refused.value.fields) == {"vacancies[1]", "vacancies[2]", "vacancies[3]"}
    assert list(BedVacancy.objects.filter(care_home=home)) == [kept]


def test_no_change_stamps_every_vacancy_of_the_home_and_no_other(home, provider_user_a):
    stale = [
        BedVacancyFactory(care_home=home, confirmed_at=timezone.now() - timedelta(hours=30)),
        BedVacancyFactory(care_home=home, setting="nursing", lot=None, confirmed_at=timezone.now() - timedelta(days=4)),
    ]
    elsewhere = BedVacancyFactory(confirmed_at=timezone.now() - timedelta(days=4))
    before = timezone.now()

    assert bed_vacancies_confirm(actor=provider_user_a, care_home=home) == 2

    for vacancy in stale:
        vacancy.refresh_from_db()
        assert vacancy.confirmed_at >= before and vacancy.confirmed_by == provider_user_a
        assert bed_vacancy_is_fresh(vacancy)
    elsewhere.refresh_from_db()
    assert elsewhere.confirmed_at < before
    assert AuditEvent.objects.filter(verb="providers.bed_vacancies.confirmed", actor=provider_user_a).count() == 1


def test_only_the_homes_provider_keeps_its_vacancies(home, provider_user_b, broker_a):
    with pytest.raises(NotFoundError):
        bed_vacancies_confirm(actor=provider_user_b, care_home=home)
    with pytest.raises(ForbiddenError):
        bed_vacancies_replace(actor=broker_a, care_home=home, vacancies=[])


def test_a_vacancy_is_fresh_within_the_hours_and_stale_after():
    now = timezone.now()
    just_fresh = BedVacancyFactory(
        confirmed_at=now - timedelta(hours=DEFAULT_VACANCY_FRESH_HOURS) + timedelta(minutes=1)
    )
    just_stale = BedVacancyFactory(confirmed_at=now - timedelta(hours=DEFAULT_VACANCY_FRESH_HOURS, minutes=1))
    assert bed_vacancy_is_fresh(just_fresh, at=now)
    assert not bed_vacancy_is_fresh(just_stale, at=now)
    assert list(BedVacancy.objects.filter(bed_vacancy_fresh_q(at=now))) == [just_fresh]
    # A rule with a shorter window makes the same confirmation stale.
    assert not bed_vacancy_is_fresh(just_fresh, fresh_hours=12, at=now)
    assert list(BedVacancy.objects.filter(bed_vacancy_fresh_q(fresh_hours=48, at=now)).order_by("pk")) == [
        just_fresh,
        just_stale,
    ]


def test_the_search_leaves_out_closed_homes_and_only_the_searchers_own_embargoes(
    council_a, council_b, broker_a, broker_b, provider_a
):
    from providers.selectors import BedVacancyFilters, bed_vacancy_search

    from .factories import AdmissionClosureFactory

    open_home = CareHomeFactory(provider=provider_a, name="Open")
    embargoed = CareHomeFactory(provider=provider_a, name="Embargoed by A")
    closed = CareHomeFactory(provider=provider_a, name="Closed")
    for home in (open_home, embargoed, closed):
        BedVacancyFactory(care_home=home)
    AdmissionClosureFactory(care_home=embargoed, commissioner=council_a, reason="safeguarding_embargo")
    AdmissionClosureFactory(care_home=closed)

    def names(actor):
        return {v.care_home.name for v in bed_vacancy_search(actor=actor, filters=BedVacancyFilters())}

    assert names(broker_a) == {"Open"}
    assert names(broker_b) == {"Open", "Embargoed by A"}


def test_freshness_in_the_search_follows_the_bodys_hospital_discharge_rule(council_a, broker_a, broker_b, provider_a):
    from providers.selectors import BedVacancyFilters, bed_vacancy_search

    from .factories import UrgencyRulesFactory

    UrgencyRulesFactory(lot_rules=council_a.lot_rules.get(lot=lot(1)), vacancy_fresh_hours=6)
    BedVacancyFactory(care_home=CareHomeFactory(provider=provider_a), confirmed_at=timezone.now() - timedelta(hours=8))
    filters = BedVacancyFilters(lot=lot(1))
    assert [v.fresh for v in bed_vacancy_search(actor=broker_a, filters=filters)] == [False]
    assert [v.fresh for v in bed_vacancy_search(actor=broker_b, filters=filters)] == [True]


def test_discharge_coordinators_search_vacancies_and_providers_do_not(council_a, provider_user_a, as_user):
    from organisations.models import Role

    from .factories import HospitalFactory, UserFactory

    hospital = HospitalFactory()
    hospital.refers_to.add(council_a)
    coordinator = UserFactory(organisation=hospital, role=Role.DISCHARGE_COORDINATOR)
    BedVacancyFactory(care_home=CareHomeFactory(name="Willow Lodge"))
    page = as_user(coordinator).get("/vacancies/search/?lot=1")
    assert page.status_code == 200 and b"Willow Lodge" in page.content
    api = as_user(coordinator).get("/api/v1/bed-vacancies/")
    assert api.status_code == 200 and api.json()["results"][0]["care_home"]["name"] == "Willow Lodge"
    assert as_user(provider_user_a).get("/vacancies/search/").status_code == 403
    assert as_user(provider_user_a).get("/api/v1/bed-vacancies/").status_code == 403
