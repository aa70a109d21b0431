"""Every DPS membership page renders for its role, with its CSV where it has a table."""

import pytest

from providers.models import Admission

from .factories import AdmissionFactory, ApplicationWindowFactory, CareHomeFactory, VacancyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def setting(provider_a, provider_user_a, council_a):
    home = CareHomeFactory(provider=provider_a, name="Brook House", rating="Good")
    VacancyFactory(care_home=home, confirmed_by=provider_user_a)
    applied = AdmissionFactory(commissioner=council_a, care_home=home, status=Admission.Status.APPLIED)
    ApplicationWindowFactory(commissioner=council_a)
    return home, applied


def test_provider_pages_render(setting, provider_user_a, as_user):
    home, _ = setting
    client = as_user(provider_user_a)
    for path in [
        "/provider/",
        "/provider/homes/",
        "/provider/homes/add/",
        f"/provider/homes/{home.pk}/",
        f"/provider/homes/{home.pk}/apply/",
        f"/provider/homes/{home.pk}/vacancies/",
        "/provider/applications/",
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert "Brook House" in response.content.decode() or path.endswith("add/"), path
    assert client.get("/provider/applications/?format=csv")["Content-Type"].startswith("text/csv")


def test_commissioner_pages_render(setting, commissioner_a, as_user):
    home, applied = setting
    client = as_user(commissioner_a)
    for path in [
        "/commissioner/",
        "/commissioner/applications/",
        f"/commissioner/applications/{applied.pk}/",
        "/commissioner/dps-members/",
        "/commissioner/suspensions/",
        "/commissioner/reopening-windows/",
        "/commissioner/providers/invite/",
        f"/commissioner/care-homes/{home.pk}/ratings/",
        "/care-homes/search/",
    ]:
        assert client.get(path).status_code == 200, path
    for path in ["/commissioner/dps-members/", "/commissioner/reopening-windows/"]:
        assert client.get(f"{path}?format=csv")["Content-Type"].startswith("text/csv"), path
    assert client.get(f"/commissioner/care-homes/{home.pk}/ratings/?format=csv").status_code == 200


def test_nav_links_for_each_role(provider_user_a, commissioner_a, broker_a, as_user):
    assert "/provider/homes/" in as_user(provider_user_a).get("/provider/").content.decode()
    commissioner_page = as_user(commissioner_a).get("/commissioner/").content.decode()
    assert "/commissioner/applications/" in commissioner_page and "/commissioner/suspensions/" in commissioner_page
    assert "/care-homes/search/" in as_user(broker_a).get("/broker/").content.decode()
