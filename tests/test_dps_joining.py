"""The DPS itself and joining it: its term and extensions refuse applications and call-offs outside
it; providers register themselves, answer the selection questionnaire and keep compliance documents
in date; an expired document stops new invitations when the body's setting says so."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from bidding.models import Invitation
from bidding.services import eligible_care_homes, tender_publish
from core.errors import ApplicationError, ConflictError
from core.models import AuditEvent, Notification
from lots.selectors import dps_in_term, dps_term_refusal
from lots.services import dps_agreement_create, dps_extension_exercise
from organisations.models import Organisation, User
from providers.models import Admission, ComplianceReminder, DocumentKind, SelectionQuestion
from providers.services import (
    Declarations,
    admission_apply,
    admission_decide,
    compliance_document_upload,
    compliance_reminders_send,
    document_requirement_set,
    selection_question_add,
)

from .factories import CareHomeFactory, InvitationFactory, PlacementRequestFactory, TenderFactory, admitted_home, lot

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
TODAY = timezone.localdate


def pdf(name: str = "insurance.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def declarations() -> Declarations:
    return Declarations(
        insurance_confirmed=True,
        insurance_expires_on=TODAY() + timedelta(days=200),
        terms_accepted=True,
        weekly_fee=Decimal("900.00"),
    )


def staffordshire_dps(council, *, starts_on: date, ends_on: date, options=()):
    return dps_agreement_create(
        commissioner=council,
        title="Care and support in care homes DPS",
        procurement_regime="pcr_2015_light_touch",
        starts_on=starts_on,
        ends_on=ends_on,
        extension_options=list(options),
    )


# The DPS's term


def test_a_call_off_after_the_dps_end_date_is_refused_with_the_dates_and_allowed_after_an_extension(
    council_a, broker_a, commissioner_a, provider_a
):
    today = TODAY()
    ended = today - timedelta(days=10)
    dps = staffordshire_dps(
        council_a,
        starts_on=date(2021, 10, 1),
        ends_on=ended,
        options=[(12, today + timedelta(days=5)), (12, today + timedelta(days=400))],
    )
    admitted_home(council_a, provider=provider_a)
    request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a)

    with pytest.raises(ConflictError) as refused:
        tender_publish(actor=broker_a, request=request)

    message = refused.value.message
    assert refused.value.code == "outside_dps_term"
    assert f"{today:%-d %B %Y}" in message
    assert "1 October 2021" in message
    assert f"{ended:%-d %B %Y}" in message
    assert "after it ended" in message
    assert not request.tenders.exists()
    assert not dps_in_term(council_a, today)

    first = dps.extension_options.order_by("decide_by").first()
    extension = dps_extension_exercise(
        actor=commissioner_a, option=first, decision_reference="Cabinet decision CAB-2025-41", decided_on=today
    )

    assert extension.new_ends_on.year == ended.year + 1
    assert dps_in_term(council_a, today)
    tender = tender_publish(actor=broker_a, request=request)
    assert tender.invitations.count() == 1
    assert AuditEvent.objects.filter(verb="lots.dps.extended", reason="Cabinet decision CAB-2025-41").exists()


def test_an_extension_is_exercised_once_by_its_decision_date_and_never_past_the_maximum_term(commissioner_a, council_a):
    today = TODAY()
    dps = staffordshire_dps(
        council_a, starts_on=date(2021, 10, 1), ends_on=date(2025, 9, 30), options=[(12, today - timedelta(days=1))]
    )
    late = dps.extension_options.get()
    with pytest.raises(ApplicationError) as refused:
        dps_extension_exercise(actor=commissioner_a, option=late, decision_reference="CAB-1", decided_on=today)
    assert "decided_on" in refused.value.fields

    dps_extension_exercise(actor=commissioner_a, option=late, decision_reference="CAB-1", decided_on=late.decide_by)
    with pytest.raises(ConflictError, match="exercised already"):
        dps_extension_exercise(actor=commissioner_a, option=late, decision_reference="CAB-2", decided_on=late.decide_by)

    capped = dps_agreement_create(
        commissioner=council_a,
        title="Next DPS",
        procurement_regime="pa_2023_dynamic_market",
        starts_on=date(2026, 10, 1),
        ends_on=date(2030, 9, 30),
        maximum_term_ends_on=date(2031, 3, 31),
        extension_options=[(12, date(2030, 3, 31))],
    )
    with pytest.raises(ConflictError, match="31 March 2031"):
        dps_extension_exercise(
            actor=commissioner_a,
            option=capped.extension_options.get(),
            decision_reference="CAB-3",
            decided_on=date(2030, 1, 10),
        )


def test_applications_outside_the_term_or_for_a_lot_it_does_not_cover_are_refused(
    council_a, provider_user_a, provider_a
):
    home = CareHomeFactory(provider=provider_a, rating="Good")
    later = staffordshire_dps(council_a, starts_on=TODAY() + timedelta(days=30), ends_on=TODAY() + timedelta(days=900))

    with pytest.raises(ConflictError) as refused:
        admission_apply(
            actor=provider_user_a, care_home=home, commissioner=council_a, lots=[lot(1)], declarations=declarations()
        )
    assert "before it starts" in refused.value.message
    assert f"{later.starts_on:%-d %B %Y}" in refused.value.message
    assert refused.value.fields == {"lots": [refused.value.message]}

    later.starts_on = TODAY() - timedelta(days=1)
    later.save()
    later.lots.set([lot(1)])
    assert dps_term_refusal(commissioner=council_a, on=TODAY(), lot=lot(2)).endswith(
        f"not covered by {council_a}'s DPS."
    )
    admission_apply(
        actor=provider_user_a, care_home=home, commissioner=council_a, lots=[lot(1)], declarations=declarations()
    )


def test_the_dps_page_api_and_public_register_show_the_term_and_extensions(council_a, commissioner_a, as_user, api_as):
    dps = staffordshire_dps(
        council_a,
        starts_on=date(2021, 10, 1),
        ends_on=date(2025, 9, 30),
        options=[(12, date(2025, 6, 30)), (12, date(2026, 6, 30))],
    )
    dps.notices.create(
        kind="contract_notice",
        reference="2021/S 000-123456",
        url="https://notices.example/123456",
        published_on=date(2021, 8, 2),
    )
    dps_extension_exercise(
        actor=commissioner_a,
        option=dps.extension_options.order_by("decide_by").first(),
        decision_reference="CAB-2025-41",
        decided_on=date(2025, 6, 1),
    )

    page = as_user(commissioner_a).get("/commissioner/lots/dps/").content.decode()
    assert "1 October 2021 to 30 September 2026" in page
    assert "extended from 30 September 2025" in page
    assert "CAB-2025-41" in page and "2021/S 000-123456" in page
    public = Client().get("/dps/").content.decode()
    assert "30 September 2026" in public and "Record its exercise" not in public

    body = api_as(council_a, ["read"]).get("/api/v1/dps-agreements/").json()
    (listed,) = body
    assert listed["current_ends_on"] == "2026-09-30"
    assert listed["ends_on"] == "2025-09-30"
    assert [o["exercised"] and o["exercised"]["decision_reference"] for o in listed["extension_options"]] == [
        "CAB-2025-41",
        None,
    ]
    assert Client().get("/api/v1/dps-agreements/").status_code == 200


def test_the_extension_form_shows_field_errors(council_a, commissioner_a, as_user):
    dps = staffordshire_dps(
        council_a, starts_on=date(2021, 10, 1), ends_on=date(2030, 9, 30), options=[(12, date(2030, 3, 31))]
    )
    option = dps.extension_options.get()
    response = as_user(commissioner_a).post(
        f"/commissioner/lots/dps/options/{option.pk}/exercise/",
        {"decision_reference": "", "decided_on_0": "1", "decided_on_1": "4", "decided_on_2": "2030"},
    )
    assert response.status_code == 200
    assert "Enter the reference of the decision to extend." in response.content.decode()
    assert "This option had to be decided by 31 March 2030." in response.content.decode()


# Registering, applying and being admitted


def register(client, **overrides):
    data = {
        "name": "Lakeside Care Ltd",
        "cqc_provider_id": "1-777000111",
        "full_name": "Rhian Evans",
        "email": "rhian@lakeside.example",
        **overrides,
    }
    return client.post("/sign-up/", data)


def test_sign_up_checks_the_cqc_provider_id_and_each_field(client):
    CareHomeFactory(provider__cqc_provider_id="1-777000111", cqc_provider_id="1-777000111")

    response = register(client, email="not-an-address")
    assert response.status_code == 200
    assert "Enter an e-mail address in the correct format" in response.content.decode()

    response = register(client, cqc_provider_id="1-000", full_name="")

    page = response.content.decode()
    assert response.status_code == 200
    assert "lists no care home under this provider id" in page
    assert "Enter your full name." in page
    assert not User.objects.filter(email="rhian@lakeside.example").exists()


def test_a_provider_registers_confirms_applies_with_answers_and_documents_and_is_admitted(
    client, council_a, commissioner_a, settings
):
    imported = CareHomeFactory(
        provider__cqc_provider_id="1-777000111", cqc_provider_id="1-777000111", name="Lakeside View", rating="Good"
    )
    provider = imported.provider
    provider.users.all().delete()
    yes_no = selection_question_add(
        actor=commissioner_a,
        lot=lot(1),
        text="Does the home have a registered manager in post?",
        answer_type="yes_no",
        required_answer="yes",
    )
    staff = selection_question_add(
        actor=commissioner_a,
        lot=lot(1),
        text="How many staff hold NVQ level 3 or above?",
        answer_type="number",
        required_answer="5",
    )
    document_requirement_set(actor=commissioner_a, kind=DocumentKind.PUBLIC_LIABILITY, required=True)

    assert register(client)["Location"] == "/sign-up/sent/"
    user = User.objects.get(email="rhian@lakeside.example")
    assert not user.is_active and user.organisation == provider
    assert not Client().login(email=user.email, password="a-long-and-unusual-passphrase")
    notice = Notification.objects.get(recipient=user, verb="providers.provider.registered")
    link = re.search(r"(/sign-up/confirm/\S+/\S+/)", notice.body).group(1)
    assert link == notice.link
    form_page = client.get(link, follow=True)
    password = "a-long-and-unusual-passphrase"
    done = client.post(form_page.redirect_chain[-1][0], {"new_password1": password, "new_password2": password})
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.is_active
    again = client.get(link, follow=True)
    assert b"This link has been used or has expired." in again.content

    with pytest.raises(ApplicationError) as refused:
        admission_apply(
            actor=user,
            care_home=imported,
            commissioner=council_a,
            lots=[lot(1)],
            declarations=declarations(),
            answers={yes_no.pk: "yes"},
        )
    assert set(refused.value.fields) == {f"question_{staff.pk}"}
    with pytest.raises(ApplicationError, match="Public liability insurance: not uploaded"):
        admission_apply(
            actor=user,
            care_home=imported,
            commissioner=council_a,
            lots=[lot(1)],
            declarations=declarations(),
            answers={yes_no.pk: "yes", staff.pk: "3"},
        )
    compliance_document_upload(
        actor=user,
        care_home=imported,
        kind=DocumentKind.PUBLIC_LIABILITY,
        upload=pdf(),
        expires_on=TODAY() + timedelta(days=365),
    )
    (admission,) = admission_apply(
        actor=user,
        care_home=imported,
        commissioner=council_a,
        lots=[lot(1)],
        declarations=declarations(),
        answers={yes_no.pk: "yes", staff.pk: "3"},
    )

    with pytest.raises(ConflictError, match="NVQ level 3"):
        admission_decide(actor=commissioner_a, admission=admission, admit=True, reason="Fine")
    decide_page = Client()
    decide_page.force_login(commissioner_a)
    shown = decide_page.get(f"/commissioner/applications/{admission.pk}/").content.decode()
    assert "Not met" in shown and "it can only be rejected" in shown

    admission.answers.filter(question=staff).update(answer="8")
    admission_decide(actor=commissioner_a, admission=admission, admit=True, reason="Meets the criteria")
    admission.refresh_from_db()
    assert admission.status == Admission.Status.ADMITTED


def test_sign_up_is_rate_limited_by_client_address(client, settings):
    settings.SIGNUP_ADDRESS_LIMIT = 2
    for n in range(2):
        assert register(client, email=f"person{n}@example.org", cqc_provider_id="1-nope").status_code == 200
    response = register(client, email="third@example.org", cqc_provider_id="1-nope")
    assert "too many registrations from your network" in response.content.decode()


def test_a_registered_provider_cannot_be_registered_again(client, provider_user_a, provider_a):
    CareHomeFactory(provider=provider_a, cqc_provider_id=provider_a.cqc_provider_id or "1-5550001")
    provider_a.cqc_provider_id = provider_a.cqc_provider_id or "1-5550001"
    provider_a.save()
    response = register(client, cqc_provider_id=provider_a.cqc_provider_id)
    assert "This provider is registered already" in response.content.decode()
    assert Organisation.objects.filter(cqc_provider_id=provider_a.cqc_provider_id).count() == 1


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("insurance.exe", PDF, "file_type"),
        ("insurance.pdf", b"MZ\x90\x00 not a pdf at all", "file_content"),
        ("insurance.pdf", b"", "file_empty"),
    ],
)
def test_uploads_are_checked_for_type_content_and_size(provider_user_a, provider_a, name, content, code):
    home = CareHomeFactory(provider=provider_a)
    with pytest.raises(ApplicationError) as refused:
        compliance_document_upload(
            actor=provider_user_a,
            care_home=home,
            kind=DocumentKind.PUBLIC_LIABILITY,
            upload=SimpleUploadedFile(name, content),
            expires_on=TODAY() + timedelta(days=30),
        )
    assert refused.value.code == code
    assert "file" in refused.value.fields
    assert not home.compliance_documents.exists()


def test_an_upload_over_the_size_limit_is_refused(provider_user_a, provider_a, settings):
    settings.COMPLIANCE_DOCUMENT_MAX_BYTES = 1024 * 1024
    home = CareHomeFactory(provider=provider_a)
    with pytest.raises(ApplicationError, match="smaller than 1 MB"):
        compliance_document_upload(
            actor=provider_user_a,
            care_home=home,
            kind=DocumentKind.PUBLIC_LIABILITY,
            upload=pdf(content=PDF + b"0" * (1024 * 1024)),
            expires_on=TODAY() + timedelta(days=30),
        )


# Expiry: reminders, and no new invitations while expired when the body says so


def expiring_insurance(home, provider_user, *, days: int):
    document = compliance_document_upload(
        actor=provider_user,
        care_home=home,
        kind=DocumentKind.EMPLOYERS_LIABILITY,
        upload=pdf(),
        expires_on=TODAY() + timedelta(days=1),
    )
    type(document).objects.filter(pk=document.pk).update(expires_on=TODAY() + timedelta(days=days))
    return document


@pytest.mark.parametrize("suspends", [True, False])
def test_expired_insurance_stops_new_invitations_only_when_the_setting_says_so(
    suspends, council_a, commissioner_a, broker_a, provider_a, provider_user_a
):
    home = admitted_home(council_a, provider=provider_a, name="Insured Home")
    other = admitted_home(council_a, provider=provider_a, name="Other Home")
    document_requirement_set(
        actor=commissioner_a, kind=DocumentKind.EMPLOYERS_LIABILITY, required=True, suspends_when_expired=suspends
    )
    expiring_insurance(home, provider_user_a, days=-1)
    expiring_insurance(other, provider_user_a, days=200)
    open_invitation = InvitationFactory(care_home=home, tender=TenderFactory(request__commissioner=council_a))

    compliance_reminders_send(on=TODAY())

    request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a)
    invited = {i.care_home.name for i in tender_publish(actor=broker_a, request=request).invitations.all()}
    open_invitation.refresh_from_db()
    if suspends:
        assert invited == {"Other Home"}
        assert open_invitation.status == Invitation.Status.WITHDRAWN
        assert Notification.objects.filter(verb="providers.document.expired", organisation=council_a).exists()
    else:
        assert invited == {"Insured Home", "Other Home"}
        assert open_invitation.status == Invitation.Status.INVITED

    compliance_document_upload(
        actor=provider_user_a,
        care_home=home,
        kind=DocumentKind.EMPLOYERS_LIABILITY,
        upload=pdf("renewed.pdf"),
        expires_on=TODAY() + timedelta(days=365),
    )
    renewed = PlacementRequestFactory(commissioner=council_a, created_by=broker_a)
    assert {h.name for h in eligible_care_homes(request=renewed).homes} == {"Insured Home", "Other Home"}


def test_reminders_go_once_before_expiry_and_once_at_expiry_however_often_they_run(
    council_a, commissioner_a, provider_a, provider_user_a, celery_worker
):
    home = admitted_home(council_a, provider=provider_a)
    document_requirement_set(
        actor=commissioner_a, kind=DocumentKind.EMPLOYERS_LIABILITY, required=True, reminder_days=30
    )
    document = expiring_insurance(home, provider_user_a, days=20)
    from providers.tasks import compliance_reminders_send_task

    assert compliance_reminders_send_task.delay().get(timeout=30) == 1
    assert compliance_reminders_send_task.delay().get(timeout=30) == 0
    assert compliance_reminders_send(on=TODAY() + timedelta(days=21)) == 1
    assert compliance_reminders_send(on=TODAY() + timedelta(days=22)) == 0
    stages = set(ComplianceReminder.objects.filter(document=document).values_list("stage", flat=True))
    assert stages == {"due", "expired"}
    assert Notification.objects.filter(verb="providers.document.expiring", recipient=provider_user_a).count() == 1
    assert Notification.objects.filter(verb="providers.document.expired", recipient=provider_user_a).count() == 1


def test_questions_need_valid_required_answers(commissioner_a):
    with pytest.raises(ApplicationError) as refused:
        selection_question_add(
            actor=commissioner_a, lot=lot(1), text="Beds?", answer_type="number", required_answer="many"
        )
    assert "required_answer" in refused.value.fields
    question = selection_question_add(
        actor=commissioner_a, lot=lot(1), text="Beds?", answer_type="number", required_answer="10"
    )
    assert question.answer_type == SelectionQuestion.AnswerType.NUMBER


def test_ocds_releases_of_a_call_off_carry_the_dps_and_its_period(
    client, council_a, broker_a, provider_a, commissioner_a
):
    dps = staffordshire_dps(
        council_a, starts_on=date(2021, 10, 1), ends_on=TODAY() - timedelta(days=1), options=[(24, TODAY())]
    )
    dps_extension_exercise(
        actor=commissioner_a, option=dps.extension_options.get(), decision_reference="CAB-7", decided_on=TODAY()
    )
    admitted_home(council_a, provider=provider_a)
    tender_publish(actor=broker_a, request=PlacementRequestFactory(commissioner=council_a, created_by=broker_a))

    (release,) = client.get("/api/v1/ocds/releases/").json()["releases"]

    (related,) = release["relatedProcesses"]
    new_end = dps.extensions.get().new_ends_on
    assert related["relationship"] == ["framework"]
    assert related["scheme"] == "ocid" and related["identifier"].endswith(f"-dps-{dps.pk}")
    assert related["title"].endswith(f"(DPS term 2021-10-01 to {new_end.isoformat()})")
