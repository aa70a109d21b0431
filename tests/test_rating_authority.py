"""A CQC rating comes only from the CQC or from staff allowed to enter its report; a body's own
suspension reaches only that body's admissions and tenders, and every notice says who acted and why."""

import re
from datetime import date, timedelta

import pytest

from bidding.models import Bid, Invitation
from core.errors import ApplicationError, ForbiddenError, NotFoundError
from core.models import AuditEvent, Notification
from organisations.models import Organisation, Role, User
from providers.models import Admission, AdmissionEvent
from providers.services import admission_suspend
from quality.models import Rating, RatingValue
from quality.services import rating_record

from .factories import (
    AdmissionFactory,
    BidFactory,
    CareHomeFactory,
    InvitationFactory,
    OrganisationFactory,
    TenderFactory,
    UserFactory,
    lot,
    rating_staff,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def home(provider_a):
    home = CareHomeFactory(provider=provider_a, rating="Good", name="Brook House")
    # Rated Good by the CQC over a year ago.
    Rating.objects.filter(care_home=home).update(report_date=date.today() - timedelta(days=400))
    return home


@pytest.fixture
def world(home, council_a, council_b):
    """The home on two councils' DPS, each with an open tender that invites it."""
    admission_a = AdmissionFactory(commissioner=council_a, care_home=home, lot=lot(1))
    admission_b = AdmissionFactory(commissioner=council_b, care_home=home, lot=lot(1))
    invitation_a = InvitationFactory(
        care_home=home, tender=TenderFactory(request__commissioner=council_a, request__lot=lot(1))
    )
    invitation_b = InvitationFactory(
        care_home=home, tender=TenderFactory(request__commissioner=council_b, request__lot=lot(1))
    )
    bid_b = BidFactory(invitation=invitation_b)
    return {
        "a": admission_a,
        "b": admission_b,
        "invitation_a": invitation_a,
        "invitation_b": invitation_b,
        "bid_b": bid_b,
    }


@pytest.fixture
def nhs_commissioner():
    body = OrganisationFactory(kind=Organisation.Kind.NHS, name="Mersey Integrated Care Board", slug="icb-m")
    return UserFactory(organisation=body, role=Role.COMMISSIONER, email="commissioner@icb.example")


def counts() -> dict[str, int]:
    return {
        "ratings": Rating.objects.count(),
        "suspended": Admission.objects.filter(status=Admission.Status.SUSPENDED).count(),
        "suspension_events": AdmissionEvent.objects.filter(to_status=Admission.Status.SUSPENDED).count(),
        "withdrawn": Invitation.objects.filter(status=Invitation.Status.WITHDRAWN).count(),
        "excluded": Bid.objects.filter(status=Bid.Status.EXCLUDED).count(),
        "notifications": Notification.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def page_data(overall: str = "Inadequate", report_date: date | None = None) -> dict:
    day = report_date or date.today()
    return {
        "overall": overall,
        "report_date_0": day.day,
        "report_date_1": day.month,
        "report_date_2": day.year,
        **dict.fromkeys(["safe", "effective", "caring", "responsive", "well_led"], overall),
    }


def rating_url(home) -> str:
    return f"/commissioner/care-homes/{home.pk}/ratings/"


# --- Who may enter a rating -------------------------------------------------------------------


def test_commissioner_of_an_unrelated_body_gets_404_and_nothing_is_written(world, home, nhs_commissioner, as_user):
    before = counts()

    response = as_user(nhs_commissioner).post(rating_url(home), page_data("Inadequate"))
    assert response.status_code == 404
    assert as_user(nhs_commissioner).get(rating_url(home)).status_code == 404
    with pytest.raises(NotFoundError):
        rating_record(
            actor=nhs_commissioner,
            care_home=home,
            overall=RatingValue.INADEQUATE,
            report_date=date.today(),
            source=Rating.Source.MANUAL,
        )

    assert counts() == before
    assert set(Admission.objects.filter(care_home=home).values_list("status", flat=True)) == {"admitted"}
    assert Invitation.objects.get(pk=world["invitation_b"].pk).status == Invitation.Status.INVITED


def test_commissioner_of_a_body_the_home_is_on_sees_the_history_but_gets_403_on_entering(
    world, home, commissioner_a, as_user
):
    before = counts()
    client = as_user(commissioner_a)

    page = client.get(rating_url(home))
    assert page.status_code == 200
    assert "Good" in page.content.decode()
    assert 'name="overall"' not in page.content.decode()
    assert client.post(rating_url(home), page_data("Inadequate")).status_code == 403
    with pytest.raises(ForbiddenError):
        rating_record(
            actor=commissioner_a,
            care_home=home,
            overall=RatingValue.INADEQUATE,
            report_date=date.today(),
            source=Rating.Source.MANUAL,
        )

    assert counts() == before


def test_brokers_providers_and_staff_without_the_permission_cannot_enter_ratings(
    world, home, broker_a, provider_user_a, as_user
):
    before = counts()
    for user in (broker_a, provider_user_a, rating_staff(allowed=False)):
        assert as_user(user).post(rating_url(home), page_data("Inadequate")).status_code == 403, user
    assert counts() == before


def test_a_person_cannot_record_a_rating_as_if_it_came_from_the_cqc_import(world, home):
    staff = rating_staff()
    before = counts()
    with pytest.raises(ForbiddenError):
        rating_record(actor=staff, care_home=home, overall=RatingValue.INADEQUATE, source=Rating.Source.CQC_API)
    # And a hand entry always names the person who made it.
    with pytest.raises(NotFoundError):
        rating_record(care_home=home, overall=RatingValue.INADEQUATE, report_date=date.today(), source="manual")
    assert counts() == before


def test_staff_with_the_permission_record_the_rating_with_its_source_report_date_and_who(home, as_user):
    staff = rating_staff()
    published = date.today() - timedelta(days=3)

    response = as_user(staff).post(rating_url(home), page_data("Requires improvement", published))

    assert response.status_code == 302
    rating = Rating.objects.filter(care_home=home).order_by("-pk").first()
    assert (rating.overall, rating.source, rating.report_date, rating.recorded_by) == (
        RatingValue.REQUIRES_IMPROVEMENT,
        Rating.Source.MANUAL,
        published,
        staff,
    )
    home.refresh_from_db()
    assert home.current_rating == rating
    audit = AuditEvent.objects.get(verb="quality.rating.recorded")
    assert audit.actor == staff and audit.detail["source"] == "manual"
    history = as_user(staff).get(rating_url(home)).content.decode()
    assert "Entered by hand" in history and staff.email in history


def test_the_report_date_is_required_and_cannot_be_in_the_future(home, as_user):
    staff = rating_staff()
    before = counts()
    for report_date, code in [
        (None, "report_date_required"),
        (date.today() + timedelta(days=1), "report_date_in_future"),
    ]:
        with pytest.raises(ApplicationError) as refused:
            rating_record(
                actor=staff,
                care_home=home,
                overall=RatingValue.GOOD,
                report_date=report_date,
                source=Rating.Source.MANUAL,
            )
        assert refused.value.code == code
    page = as_user(staff).post(rating_url(home), page_data("Inadequate", date.today() + timedelta(days=2)))
    assert page.status_code == 200
    assert "must be today or in the past" in page.content.decode()
    assert counts() == before


def test_the_form_preselects_no_overall_rating(home, as_user):
    page = as_user(rating_staff()).get(rating_url(home)).content.decode()
    select = re.search(r'<select[^>]*name="overall"[^>]*>(.*?)</select>', page, re.S)
    assert select is not None
    options = re.findall(r"<option[^>]*>", select.group(1))
    assert 'value=""' in options[0]
    assert [option for option in options if "selected" in option] == ['<option value="" selected>']
    # Sent without a choice, it is refused rather than read as Outstanding.
    data = page_data("Good")
    del data["overall"]
    response = as_user(rating_staff("other@backoffice.example")).post(rating_url(home), data)
    assert response.status_code == 200
    assert "Choose the overall rating" in response.content.decode()
    assert home.ratings.count() == 1


def test_inadequate_entered_by_staff_suspends_on_every_body_and_names_cqc_report_and_person(world, home):
    staff = rating_staff()
    staff.first_name, staff.last_name = "Priya", "Shah"
    staff.save()
    published = date(2026, 3, 27)

    rating_record(actor=staff, care_home=home, overall=RatingValue.INADEQUATE, report_date=published, source="manual")

    assert set(Admission.objects.filter(care_home=home).values_list("status", flat=True)) == {"suspended"}
    for name in ("invitation_a", "invitation_b"):
        invitation = Invitation.objects.get(pk=world[name].pk)
        assert invitation.status == Invitation.Status.WITHDRAWN
        assert "CQC rated the home Inadequate" in invitation.withdrawn_reason
        assert "27 March 2026" in invitation.withdrawn_reason
        assert "Priya Shah" in invitation.withdrawn_reason
    provider_notice = Notification.objects.get(verb="providers.admission.suspended", organisation=home.provider)
    assert "27 March 2026" in provider_notice.body and "Priya Shah" in provider_notice.body


# --- A body's own suspension ------------------------------------------------------------------


def test_a_commissioners_suspension_on_council_a_leaves_council_b_untouched(
    world, home, council_a, council_b, commissioner_a, commissioner_b, provider_user_a
):
    admission_suspend(actor=commissioner_a, admission=world["a"], reason="Safeguarding enquiry")

    assert Admission.objects.get(pk=world["a"].pk).status == Admission.Status.SUSPENDED
    assert Admission.objects.get(pk=world["b"].pk).status == Admission.Status.ADMITTED
    invitation_a = Invitation.objects.get(pk=world["invitation_a"].pk)
    assert invitation_a.status == Invitation.Status.WITHDRAWN
    assert invitation_a.withdrawn_reason == "Suspended by Staffordshire County Council: Safeguarding enquiry"
    assert Invitation.objects.get(pk=world["invitation_b"].pk).status == Invitation.Status.INVITED
    assert Bid.objects.get(pk=world["bid_b"].pk).status == Bid.Status.SUBMITTED
    assert not Notification.objects.filter(recipient=commissioner_b).exists()


def test_the_notices_and_audit_of_a_bodys_suspension_name_the_body_and_reason_not_the_cqc(
    world, council_a, provider_a, commissioner_a, provider_user_a
):
    admission_suspend(actor=commissioner_a, admission=world["a"], reason="Safeguarding enquiry")

    notices = Notification.objects.filter(verb="providers.admission.suspended").select_related("recipient")
    assert {commissioner_a, provider_user_a} <= {n.recipient for n in notices}
    assert {n.recipient.organisation_id for n in notices} == {council_a.pk, provider_a.pk}
    for notice in notices:
        assert "Suspended by Staffordshire County Council: Safeguarding enquiry" in notice.body
        assert "CQC" not in notice.body and "None" not in notice.body
        assert re.search(r"from \d{1,2} \w+ \d{4}", notice.body), notice.body
    to_provider = notices.get(recipient=provider_user_a)
    assert to_provider.subject == "Brook House suspended from new placements by Staffordshire County Council"
    assert "Staffordshire County Council's DPS, lots 1" in to_provider.body
    audit = AuditEvent.objects.get(verb="providers.admission.suspended")
    assert (audit.actor, audit.reason, audit.detail["suspended_by"]) == (
        commissioner_a,
        "Safeguarding enquiry",
        "Staffordshire County Council",
    )
    assert not audit.detail["automatic"]


def test_a_cqc_import_without_a_report_date_still_gives_a_reason_with_no_none(world, home):
    rating_record(care_home=home, overall=RatingValue.INADEQUATE, report_date=None, source=Rating.Source.CQC_API)

    reasons = list(AdmissionEvent.objects.filter(to_status="suspended").values_list("reason", flat=True))
    assert len(reasons) == 2
    for reason in reasons:
        assert reason.startswith("Suspended on every DPS because the CQC rated the home Inadequate overall")
        assert "None" not in reason and "entered by hand" not in reason
    assert all(n.body.count("None") == 0 for n in Notification.objects.filter(verb="providers.admission.suspended"))


def test_the_admin_offers_no_way_round_the_rating_service(client):
    superuser = User.objects.create_superuser("admin@backoffice.example", "a-long-pass-phrase")
    client.force_login(superuser)
    assert client.get("/admin/quality/rating/add/").status_code == 403
    assert client.get("/admin/quality/rating/").status_code == 200
