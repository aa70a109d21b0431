"""Provider applications per home and lot, re-opening windows, decisions, and who may touch what."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bidding.services import eligible_care_homes
from core.errors import ApplicationError, ConflictError
from core.models import Notification
from lots.models import LotRules
from providers.models import Admission, CareHome, Vacancy
from providers.services import Declarations, admission_apply, admission_decide, admission_reinstate, care_home_add
from quality.models import RatingValue
from quality.services import rating_record

from .factories import (
    AdmissionFactory,
    ApplicationWindowFactory,
    CareHomeFactory,
    PlacementRequestFactory,
    VacancyFactory,
    lot,
)

pytestmark = pytest.mark.django_db


def declarations(**overrides) -> Declarations:
    values = {
        "insurance_confirmed": True,
        "insurance_expires_on": timezone.localdate() + timedelta(days=200),
        "terms_accepted": True,
        "weekly_fee": Decimal("875.00"),
    }
    return Declarations(**{**values, **overrides})


@pytest.fixture
def home_a(provider_a):
    return CareHomeFactory(provider=provider_a, name="Brook House", rating="Good")


@pytest.fixture
def home_b(provider_b):
    return CareHomeFactory(provider=provider_b, name="Moorside", rating="Good")


def form_data(commissioner, lots, **overrides):
    expires = timezone.localdate() + timedelta(days=200)
    data = {
        "commissioner": commissioner.pk,
        "lots": [lot(n).pk for n in lots],
        "weekly_fee": "875.00",
        "insurance_confirmed": "on",
        "insurance_expires_on_0": expires.day,
        "insurance_expires_on_1": expires.month,
        "insurance_expires_on_2": expires.year,
        "terms_accepted": "on",
    }
    data.update(overrides)
    return data


def test_provider_applies_for_several_lots_and_the_commissioner_is_notified(
    home_a, provider_user_a, council_a, commissioner_a, as_user
):
    response = as_user(provider_user_a).post(f"/provider/homes/{home_a.pk}/apply/", form_data(council_a, [1, 2]))

    assert response.status_code == 302
    applied = Admission.objects.filter(care_home=home_a, commissioner=council_a).order_by("lot__number")
    assert [(a.lot.number, a.status) for a in applied] == [(1, "applied"), (2, "applied")]
    assert applied[0].weekly_fee == Decimal("875.00")
    assert applied[0].terms_accepted and applied[0].insurance_confirmed
    assert applied[0].events.get().to_status == "applied"
    assert Notification.objects.filter(recipient=commissioner_a, verb="providers.admission.applied").exists()


def test_application_without_declarations_is_refused_with_field_messages(home_a, provider_user_a, council_a):
    with pytest.raises(ApplicationError) as refused:
        admission_apply(
            actor=provider_user_a,
            care_home=home_a,
            commissioner=council_a,
            lots=[lot(1)],
            declarations=declarations(terms_accepted=False, insurance_confirmed=False),
        )
    assert set(refused.value.fields) == {"terms_accepted", "insurance_confirmed"}
    assert not Admission.objects.exists()


def test_the_same_home_can_join_several_councils_dps(home_a, provider_user_a, council_a, council_b):
    for council in (council_a, council_b):
        admission_apply(
            actor=provider_user_a, care_home=home_a, commissioner=council, lots=[lot(1)], declarations=declarations()
        )
    assert Admission.objects.filter(care_home=home_a, lot=lot(1)).count() == 2


def test_applying_twice_for_a_live_lot_is_a_conflict(home_a, provider_user_a, council_a):
    admission_apply(
        actor=provider_user_a, care_home=home_a, commissioner=council_a, lots=[lot(1)], declarations=declarations()
    )
    with pytest.raises(ConflictError):
        admission_apply(
            actor=provider_user_a, care_home=home_a, commissioner=council_a, lots=[lot(1)], declarations=declarations()
        )


def test_application_outside_a_reopening_window_is_refused_with_the_next_windows_date(
    home_a, provider_user_a, council_a, as_user
):
    LotRules.objects.filter(commissioner=council_a, lot=lot(3)).update(admission_mode=LotRules.AdmissionMode.WINDOWS)
    past = timezone.localdate() - timedelta(days=60)
    ApplicationWindowFactory(commissioner=council_a, lot=lot(3), opens_on=past, closes_on=past + timedelta(days=14))
    upcoming = ApplicationWindowFactory(commissioner=council_a, lot=lot(3))
    ApplicationWindowFactory(commissioner=council_a, lot=lot(3), opens_on=upcoming.opens_on + timedelta(days=90))

    with pytest.raises(ApplicationError) as refused:
        admission_apply(
            actor=provider_user_a, care_home=home_a, commissioner=council_a, lots=[lot(3)], declarations=declarations()
        )
    assert refused.value.code == "outside_window"
    assert f"{upcoming.opens_on:%-d %B %Y}" in refused.value.message

    page = as_user(provider_user_a).post(f"/provider/homes/{home_a.pk}/apply/", form_data(council_a, [3]))
    assert page.status_code == 200
    assert f"The next window opens on {upcoming.opens_on:%-d %B %Y}" in page.content.decode()
    assert not Admission.objects.exists()


def test_application_inside_an_open_window_is_accepted(home_a, provider_user_a, council_a):
    LotRules.objects.filter(commissioner=council_a, lot=lot(3)).update(admission_mode=LotRules.AdmissionMode.WINDOWS)
    today = timezone.localdate()
    ApplicationWindowFactory(commissioner=council_a, lot=lot(3), opens_on=today, closes_on=today)
    [admission] = admission_apply(
        actor=provider_user_a, care_home=home_a, commissioner=council_a, lots=[lot(3)], declarations=declarations()
    )
    assert admission.status == Admission.Status.APPLIED


def test_window_without_a_next_one_says_none_is_planned(home_a, provider_user_a, council_a):
    LotRules.objects.filter(commissioner=council_a, lot=lot(3)).update(admission_mode=LotRules.AdmissionMode.WINDOWS)
    with pytest.raises(ApplicationError, match="no re-opening is planned"):
        admission_apply(
            actor=provider_user_a, care_home=home_a, commissioner=council_a, lots=[lot(3)], declarations=declarations()
        )


def test_commissioner_admits_with_a_reason_and_the_provider_is_notified(
    home_a, commissioner_a, council_a, provider_user_a, as_user
):
    admission = AdmissionFactory(commissioner=council_a, care_home=home_a, status=Admission.Status.APPLIED)
    client = as_user(commissioner_a)
    queue = client.get("/commissioner/applications/")
    assert home_a.name in queue.content.decode()
    assert "Brook House" in b"".join(client.get("/commissioner/applications/?format=csv").streaming_content).decode()

    missing_reason = client.post(f"/commissioner/applications/{admission.pk}/", {"decision": "admit", "reason": ""})
    assert missing_reason.status_code == 200
    response = client.post(
        f"/commissioner/applications/{admission.pk}/", {"decision": "admit", "reason": "Meets all criteria"}
    )

    assert response.status_code == 302
    admission.refresh_from_db()
    assert admission.status == Admission.Status.ADMITTED
    assert (admission.decided_by, admission.decision_reason) == (commissioner_a, "Meets all criteria")
    assert admission.events.first().reason == "Meets all criteria"
    assert Notification.objects.filter(recipient=provider_user_a, verb="providers.admission.admitted").exists()


def test_commissioner_rejects_with_a_reason(home_a, commissioner_a, council_a):
    admission = AdmissionFactory(commissioner=council_a, care_home=home_a, status=Admission.Status.APPLIED)
    admission_decide(actor=commissioner_a, admission=admission, admit=False, reason="Insurance too low")
    admission.refresh_from_db()
    assert admission.status == Admission.Status.REJECTED
    with pytest.raises(ConflictError):
        admission_decide(actor=commissioner_a, admission=admission, admit=True, reason="Changed my mind")


def test_commissioner_sees_and_decides_only_their_own_bodys_applications(home_a, commissioner_a, council_b, as_user):
    theirs = AdmissionFactory(commissioner=council_b, care_home=home_a, status=Admission.Status.APPLIED)
    client = as_user(commissioner_a)
    assert home_a.name not in client.get("/commissioner/applications/").content.decode()
    assert client.get(f"/commissioner/applications/{theirs.pk}/").status_code == 404
    response = client.post(f"/commissioner/applications/{theirs.pk}/", {"decision": "admit", "reason": "x"})
    assert response.status_code == 404
    assert Admission.objects.get(pk=theirs.pk).status == Admission.Status.APPLIED


def test_provider_cannot_decide_applications(home_a, provider_user_a, council_a, as_user):
    admission = AdmissionFactory(commissioner=council_a, care_home=home_a, status=Admission.Status.APPLIED)
    response = as_user(provider_user_a).post(
        f"/commissioner/applications/{admission.pk}/", {"decision": "admit", "reason": "Trust me"}
    )
    assert response.status_code == 403
    assert Admission.objects.get(pk=admission.pk).status == Admission.Status.APPLIED


def test_provider_adds_a_home_by_cqc_location_id(provider_user_a, as_user):
    client = as_user(provider_user_a)
    response = client.post(
        "/provider/homes/add/",
        {
            "cqc_location_id": "1-7777777777",
            "name": "Fernlea",
            "address_line_1": "3 Mill Lane",
            "postcode": "st16 1aa",
            "registered_beds": "30",
            "provides_residential": "on",
        },
    )
    assert response.status_code == 302
    home = CareHome.objects.get(cqc_location_id="1-7777777777")
    assert (home.provider, home.postcode) == (provider_user_a.organisation, "ST16 1AA")


def test_home_already_known_from_cqc_data_is_filled_from_it(provider_user_a):
    imported = CareHomeFactory(provider=provider_user_a.organisation, name="From CQC", cqc_location_id="1-42")
    home = care_home_add(actor=provider_user_a, cqc_location_id="1-42")
    assert home == imported
    assert home.name == "From CQC"


def test_provider_cannot_claim_another_providers_home(provider_user_a, home_b, as_user):
    with pytest.raises(ConflictError):
        care_home_add(actor=provider_user_a, cqc_location_id=home_b.cqc_location_id, name="Mine now")
    response = as_user(provider_user_a).post(
        "/provider/homes/add/", {"cqc_location_id": home_b.cqc_location_id, "registered_beds": "0"}
    )
    assert response.status_code == 200
    assert "another provider" in response.content.decode()
    home_b.refresh_from_db()
    assert home_b.provider.name == "Moorlands Homes Ltd"


@pytest.mark.parametrize(
    "path",
    [
        "/provider/homes/{pk}/",
        "/provider/homes/{pk}/apply/",
        "/provider/homes/{pk}/vacancies/",
    ],
)
def test_provider_pages_for_another_providers_home_are_not_found(path, provider_user_a, home_b, as_user):
    client = as_user(provider_user_a)
    assert client.get(path.format(pk=home_b.pk)).status_code == 404
    assert client.post(path.format(pk=home_b.pk), {}).status_code == 404


def test_provider_cannot_apply_or_set_vacancies_for_another_providers_home(provider_user_a, home_b, council_a, as_user):
    from core.errors import NotFoundError
    from providers.services import VacancyInput, vacancies_replace

    with pytest.raises(NotFoundError):
        admission_apply(
            actor=provider_user_a, care_home=home_b, commissioner=council_a, lots=[lot(1)], declarations=declarations()
        )
    with pytest.raises(NotFoundError):
        vacancies_replace(
            actor=provider_user_a,
            care_home=home_b,
            vacancies=[VacancyInput(beds_free=3, available_from=timezone.localdate(), lot=lot(1))],
        )
    response = as_user(provider_user_a).post(f"/provider/homes/{home_b.pk}/apply/", form_data(council_a, [1]))
    assert response.status_code == 404
    assert not Admission.objects.exists()


def test_provider_lists_show_only_their_own_homes_and_applications(provider_user_a, home_a, home_b, council_a, as_user):
    AdmissionFactory(commissioner=council_a, care_home=home_b, status=Admission.Status.APPLIED)
    client = as_user(provider_user_a)
    homes = client.get("/provider/homes/").content.decode()
    assert "Brook House" in homes and "Moorside" not in homes
    assert "Moorside" not in client.get("/provider/applications/").content.decode()
    assert "Moorside" not in b"".join(client.get("/provider/homes/?format=csv").streaming_content).decode()


def test_provider_saves_vacancies_on_the_page_and_they_are_confirmed(provider_user_a, home_a, as_user):
    today = timezone.localdate()
    data = {
        "form-TOTAL_FORMS": "2",
        "form-INITIAL_FORMS": "0",
        "form-0-lot": lot(1).pk,
        "form-0-beds_free": "2",
        "form-0-available_from_0": today.day,
        "form-0-available_from_1": today.month,
        "form-0-available_from_2": today.year,
        "form-0-notes": "Ground floor room",
    }
    response = as_user(provider_user_a).post(f"/provider/homes/{home_a.pk}/vacancies/", data)
    assert response.status_code == 302
    vacancy = Vacancy.objects.get(care_home=home_a)
    assert (vacancy.beds_free, vacancy.notes, vacancy.confirmed_by) == (2, "Ground floor room", provider_user_a)


def test_stale_vacancies_are_shown_as_stale(provider_user_a, home_a, as_user, settings):
    settings.VACANCY_STALE_DAYS = 7
    VacancyFactory(care_home=home_a, confirmed_at=timezone.now() - timedelta(days=8), confirmed_by=provider_user_a)
    page = as_user(provider_user_a).get(f"/provider/homes/{home_a.pk}/").content.decode()
    assert "Stale" in page
    settings.VACANCY_STALE_DAYS = 10
    page = as_user(provider_user_a).get(f"/provider/homes/{home_a.pk}/").content.decode()
    assert "Stale" not in page


def test_commissioner_adds_a_reopening_window(commissioner_a, as_user):
    today = timezone.localdate()
    response = as_user(commissioner_a).post(
        "/commissioner/reopening-windows/",
        {
            "lot": lot(2).pk,
            "opens_on_0": today.day,
            "opens_on_1": today.month,
            "opens_on_2": today.year,
            "closes_on_0": today.day,
            "closes_on_1": today.month,
            "closes_on_2": today.year + 1,
        },
    )
    assert response.status_code == 302
    assert commissioner_a.organisation.application_windows.get().lot == lot(2)


def test_home_rated_inadequate_is_admitted_suspended_and_a_good_rating_later_does_not_reinstate_it(
    commissioner_a, council_a, provider_a, provider_user_a
):
    home = CareHomeFactory(provider=provider_a, rating="Inadequate")
    admission = AdmissionFactory(commissioner=council_a, care_home=home, status=Admission.Status.APPLIED)
    with pytest.raises(ApplicationError, match="reason"):
        admission_decide(actor=commissioner_a, admission=admission, admit=True, reason=" ")

    admission_decide(actor=commissioner_a, admission=admission, admit=True, reason="Improvement plan agreed")

    admission.refresh_from_db()
    assert admission.status == Admission.Status.SUSPENDED
    assert admission.status_before_suspension == Admission.Status.ADMITTED
    assert admission.decision_reason == "Improvement plan agreed"
    steps = list(admission.events.order_by("at", "pk").values_list("from_status", "to_status", "automatic"))
    assert steps[-2:] == [("applied", "admitted", False), ("admitted", "suspended", True)]
    assert "Inadequate" in admission.events.order_by("-at", "-pk").first().reason
    message = Notification.objects.get(verb="providers.admission.admitted").body
    assert "suspended from new placements" in message

    rating_record(care_home=home, overall=RatingValue.GOOD, report_date=timezone.localdate())

    admission.refresh_from_db()
    assert admission.status == Admission.Status.SUSPENDED
    request = PlacementRequestFactory(commissioner=council_a, lot=admission.lot, local_authority=home.local_authority)
    assert eligible_care_homes(request=request).homes == []

    admission_reinstate(actor=commissioner_a, admission=admission, reason="Good rating and visit passed")
    admission.refresh_from_db()
    assert admission.status == Admission.Status.ADMITTED
    assert [h.pk for h in eligible_care_homes(request=request).homes] == [home.pk]


def test_commissioner_invites_a_provider_known_from_the_cqc_import_and_its_contact_sets_a_password(
    commissioner_a, as_user
):
    from django.test import Client

    from organisations.models import Organisation

    imported = Organisation.objects.create(
        kind=Organisation.Kind.PROVIDER, name="CQC provider 1-555", slug="cqc-1-555", cqc_provider_id="1-555"
    )
    CareHomeFactory(provider=imported, name="Imported Home")

    response = as_user(commissioner_a).post(
        "/commissioner/providers/invite/",
        {"name": "Lakeside Care Ltd", "cqc_provider_id": "1-555", "email": "Owner@Lakeside.example"},
    )
    assert response.status_code == 302
    invited = imported.users.get()
    assert (invited.email, invited.role, invited.has_usable_password()) == ("owner@lakeside.example", "provider", False)
    notification = Notification.objects.get(recipient=invited, verb="providers.provider.invited")
    assert notification.link.startswith("/provider/welcome/")

    browser = Client()
    form_page = browser.get(notification.link, follow=True)
    assert form_page.status_code == 200
    new_password = "a-long-and-unusual-passphrase-2026"
    done = browser.post(form_page.redirect_chain[-1][0], {"new_password1": new_password, "new_password2": new_password})
    assert done.status_code == 302
    assert browser.login(email="owner@lakeside.example", password=new_password)
    assert "Imported Home" in browser.get("/provider/homes/").content.decode()
    # The link works once only.
    assert "has been used or has expired" in Client().get(notification.link, follow=True).content.decode()


def test_only_commissioners_invite_providers(provider_user_a, broker_a, as_user):
    for user in (provider_user_a, broker_a):
        response = as_user(user).post(
            "/commissioner/providers/invite/", {"name": "X", "cqc_provider_id": "1-9", "email": "x@example.org"}
        )
        assert response.status_code == 403
