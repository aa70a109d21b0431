"""Automatic suspension on an Inadequate rating, manual suspension, and reinstatement."""

import io
import json
from datetime import date

import pytest
from django.core import mail
from django.core.management import call_command

from bidding.models import Bid, Invitation
from core.models import AuditEvent, Notification
from providers.models import Admission, AdmissionEvent
from providers.services import admission_reinstate, admission_suspend
from quality.models import Rating, RatingValue
from quality.services import rating_record

from .factories import (
    AdmissionFactory,
    BidFactory,
    CareHomeFactory,
    InvitationFactory,
    TenderFactory,
    lot,
    rating_staff,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def home(provider_a, provider_user_a):
    return CareHomeFactory(provider=provider_a, rating="Good")


@pytest.fixture
def admissions(home, council_a, council_b, commissioner_a, commissioner_b):
    return [
        AdmissionFactory(commissioner=council_a, care_home=home, lot=lot(1)),
        AdmissionFactory(commissioner=council_a, care_home=home, lot=lot(2)),
        AdmissionFactory(commissioner=council_b, care_home=home, lot=lot(1)),
    ]


def statuses(home) -> set[str]:
    return set(Admission.objects.filter(care_home=home).values_list("status", flat=True))


def test_inadequate_rating_suspends_every_admission_withdraws_invitations_and_is_recorded(
    home, admissions, council_a, django_capture_on_commit_callbacks
):
    open_invitation = InvitationFactory(care_home=home, tender=TenderFactory(request__commissioner=council_a))
    bid = BidFactory(care_home=home, invitation=InvitationFactory(care_home=home))
    other_home_invitation = InvitationFactory()

    with django_capture_on_commit_callbacks(execute=False):
        rating = rating_record(care_home=home, overall=RatingValue.INADEQUATE, report_date=None, source="cqc_api")

    assert statuses(home) == {Admission.Status.SUSPENDED}
    open_invitation.refresh_from_db()
    assert open_invitation.status == Invitation.Status.WITHDRAWN
    bid.refresh_from_db()
    assert bid.status == Bid.Status.EXCLUDED
    other_home_invitation.refresh_from_db()
    assert other_home_invitation.status == Invitation.Status.INVITED
    events = AdmissionEvent.objects.filter(admission__care_home=home, to_status=Admission.Status.SUSPENDED)
    assert events.count() == 3
    assert all(e.automatic and "Inadequate" in e.reason and e.from_status == "admitted" for e in events)
    assert AuditEvent.objects.filter(verb="providers.admission.suspended").count() == 3
    assert rating.overall == RatingValue.INADEQUATE


def test_commissioners_of_each_body_and_the_provider_are_notified_once(
    home, admissions, commissioner_a, commissioner_b, provider_user_a
):
    rating = rating_record(care_home=home, overall=RatingValue.INADEQUATE)
    recipients = set(
        Notification.objects.filter(verb="providers.admission.suspended").values_list("recipient__email", flat=True)
    )
    assert recipients == {commissioner_a.email, commissioner_b.email, provider_user_a.email}
    assert rating is not None
    # The same rating seen again (e.g. by the nightly refresh) notifies nobody twice.
    rating_record(care_home=home, overall=RatingValue.INADEQUATE)
    assert Notification.objects.filter(verb="providers.admission.suspended").count() == 3


def test_later_good_rating_leaves_the_home_suspended_until_a_commissioner_reinstates(
    home, admissions, commissioner_a, commissioner_b
):
    rating_record(care_home=home, overall=RatingValue.INADEQUATE)
    rating_record(care_home=home, overall=RatingValue.GOOD)
    assert statuses(home) == {Admission.Status.SUSPENDED}

    admission = admissions[0]
    with pytest.raises(Exception, match="reason"):
        admission_reinstate(actor=commissioner_a, admission=admission, reason=" ")
    admission_reinstate(actor=commissioner_a, admission=admission, reason="Action plan met; visited 3 Nov")

    admission.refresh_from_db()
    assert admission.status == Admission.Status.ADMITTED
    event = admission.events.first()
    assert (event.actor, event.reason, event.to_status) == (
        commissioner_a,
        "Action plan met; visited 3 Nov",
        "admitted",
    )
    assert Admission.objects.get(pk=admissions[1].pk).status == Admission.Status.SUSPENDED


def test_commissioner_cannot_reinstate_another_bodys_admission(home, admissions, commissioner_a):
    from core.errors import NotFoundError

    rating_record(care_home=home, overall=RatingValue.INADEQUATE)
    with pytest.raises(NotFoundError):
        admission_reinstate(actor=commissioner_a, admission=admissions[2], reason="Not ours")


def test_import_of_an_inadequate_rating_suspends(tmp_path, home, admissions):
    record = {
        "locationId": home.cqc_location_id,
        "providerId": home.provider.cqc_provider_id,
        "name": home.name,
        "postalCode": home.postcode,
        "careHome": "Y",
        "registrationStatus": "Registered",
        "gacServiceTypes": [{"name": "Residential homes", "description": "Care home service without nursing"}],
        "currentRatings": {"overall": {"rating": "Inadequate", "reportDate": date.today().isoformat()}},
    }
    path = tmp_path / "locations.json"
    path.write_text(json.dumps([record]))

    invitation = InvitationFactory(
        care_home=home, tender=TenderFactory(request__commissioner=admissions[0].commissioner)
    )

    call_command("import_cqc", "--locations", str(path), stdout=io.StringIO(), stderr=io.StringIO())

    assert statuses(home) == {Admission.Status.SUSPENDED}
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.WITHDRAWN
    assert AuditEvent.objects.filter(verb="providers.admission.suspended").count() == 3
    assert Notification.objects.filter(verb="providers.admission.suspended").exists()
    home.refresh_from_db()
    assert home.current_rating.overall == RatingValue.INADEQUATE
    assert home.ratings.count() == 2
    # The same report again changes nothing and suspends nobody twice.
    call_command("import_cqc", "--locations", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert AdmissionEvent.objects.filter(admission__care_home=home, to_status="suspended").count() == 3


def test_rating_entered_by_hand_by_rating_staff_suspends_on_every_body(home, admissions):
    staff = rating_staff()
    rating_record(
        actor=staff,
        care_home=home,
        overall=RatingValue.INADEQUATE,
        key_questions={},
        report_date=date.today(),
        source=Rating.Source.MANUAL,
    )
    assert statuses(home) == {Admission.Status.SUSPENDED}
    assert home.ratings.first().recorded_by == staff


def test_manual_suspension_needs_a_reason_and_is_recorded(home, admissions, commissioner_a, provider_user_a):
    from core.errors import ApplicationError

    with pytest.raises(ApplicationError):
        admission_suspend(actor=commissioner_a, admission=admissions[0], reason="")
    admission_suspend(actor=commissioner_a, admission=admissions[0], reason="Safeguarding enquiry opened")

    admissions[0].refresh_from_db()
    assert admissions[0].status == Admission.Status.SUSPENDED
    assert admissions[0].events.first().reason == "Safeguarding enquiry opened"
    assert not admissions[0].events.first().automatic
    assert Admission.objects.get(pk=admissions[1].pk).status == Admission.Status.ADMITTED
    assert Notification.objects.filter(recipient=provider_user_a, verb="providers.admission.suspended").exists()


def test_manual_suspension_of_one_home_lot_withdraws_only_that_bodys_tenders_in_that_lot(
    home, admissions, council_a, council_b, commissioner_a
):
    same_lot = InvitationFactory(
        care_home=home, tender=TenderFactory(request__commissioner=council_a, request__lot=lot(1))
    )
    same_lot_bid = BidFactory(invitation=same_lot)
    other_lot = InvitationFactory(
        care_home=home, tender=TenderFactory(request__commissioner=council_a, request__lot=lot(2))
    )
    other_body = InvitationFactory(
        care_home=home, tender=TenderFactory(request__commissioner=council_b, request__lot=lot(1))
    )

    admission_suspend(actor=commissioner_a, admission=admissions[0], reason="Safeguarding enquiry opened")

    same_lot.refresh_from_db()
    same_lot_bid.refresh_from_db()
    assert same_lot.status == Invitation.Status.WITHDRAWN
    assert same_lot_bid.status == Bid.Status.EXCLUDED
    assert Invitation.objects.get(pk=other_lot.pk).status == Invitation.Status.INVITED
    assert Invitation.objects.get(pk=other_body.pk).status == Invitation.Status.INVITED


def test_suspension_pages_list_and_reinstate(home, admissions, commissioner_a, as_user):
    rating_record(care_home=home, overall=RatingValue.INADEQUATE)
    client = as_user(commissioner_a)

    page = client.get("/commissioner/suspensions/")
    assert page.status_code == 200
    assert home.name in page.content.decode()
    csv_page = client.get("/commissioner/suspensions/?format=csv")
    assert "Inadequate" in b"".join(csv_page.streaming_content).decode()

    response = client.post(f"/commissioner/admissions/{admissions[0].pk}/reinstate/", {"reason": "Re-inspected"})
    assert response.status_code == 302
    assert Admission.objects.get(pk=admissions[0].pk).status == Admission.Status.ADMITTED
    other_body = client.get(f"/commissioner/admissions/{admissions[2].pk}/reinstate/")
    assert other_body.status_code == 404


def test_manual_suspension_page(home, admissions, commissioner_a, as_user):
    client = as_user(commissioner_a)
    assert client.get("/commissioner/dps-members/").status_code == 200
    response = client.post(f"/commissioner/admissions/{admissions[1].pk}/suspend/", {"reason": "Safeguarding"})
    assert response.status_code == 302
    assert Admission.objects.get(pk=admissions[1].pk).status == Admission.Status.SUSPENDED


def test_brokers_and_providers_cannot_suspend_or_reinstate(home, admissions, broker_a, provider_user_a, as_user):
    for user in (broker_a, provider_user_a):
        response = as_user(user).post(f"/commissioner/admissions/{admissions[0].pk}/suspend/", {"reason": "x"})
        assert response.status_code == 403
    assert statuses(home) == {Admission.Status.ADMITTED}


def test_suspension_email_is_sent_by_the_worker(home, admissions, django_capture_on_commit_callbacks, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from config.celery import app

    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            rating_record(care_home=home, overall=RatingValue.INADEQUATE)
    finally:
        app.conf.task_always_eager = False
    assert any("suspended" in message.subject for message in mail.outbox)


def test_rating_page_entry_of_inadequate_suspends_and_keeps_history(home, admissions, commissioner_a, as_user):
    today = date.today()
    data = {
        "overall": "Inadequate",
        "report_date_0": today.day,
        "report_date_1": today.month,
        "report_date_2": today.year,
        **dict.fromkeys(["safe", "effective", "caring", "responsive", "well_led"], "Inadequate"),
    }
    # A commissioner reads the history but does not speak for the CQC.
    assert as_user(commissioner_a).post(f"/commissioner/care-homes/{home.pk}/ratings/", data).status_code == 403
    assert statuses(home) == {Admission.Status.ADMITTED}

    client = as_user(rating_staff())
    response = client.post(f"/commissioner/care-homes/{home.pk}/ratings/", data)

    assert response.status_code == 302
    assert statuses(home) == {Admission.Status.SUSPENDED}
    assert home.ratings.count() == 2
    for page in (client, as_user(commissioner_a)):
        history = page.get(f"/commissioner/care-homes/{home.pk}/ratings/").content.decode()
        assert "Inadequate" in history and "Good" in history


def test_providers_cannot_enter_ratings(home, provider_user_a, as_user):
    response = as_user(provider_user_a).post(f"/commissioner/care-homes/{home.pk}/ratings/", {"overall": "Good"})
    assert response.status_code == 403


@pytest.mark.django_db(transaction=True)
def test_two_imports_seeing_the_same_inadequate_rating_at_once_suspend_once():
    import threading

    from django.db import connection

    from .factories import OrganisationFactory, ProviderOrganisationFactory

    council = OrganisationFactory(slug="race-council")
    home = CareHomeFactory(provider=ProviderOrganisationFactory(slug="race-provider"), rating="Good")
    AdmissionFactory(commissioner=council, care_home=home, lot=lot(1))
    AdmissionFactory(commissioner=council, care_home=home, lot=lot(2))
    start = threading.Barrier(2)
    errors = []

    def import_rating():
        try:
            start.wait()
            rating_record(care_home=home, overall=RatingValue.INADEQUATE, report_date=date.today())
        except Exception as error:  # the assertion below shows it
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=import_rating) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert home.ratings.count() == 2
    assert AdmissionEvent.objects.filter(admission__care_home=home, to_status="suspended").count() == 2
    assert statuses(home) == {Admission.Status.SUSPENDED}
