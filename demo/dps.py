"""Each demo body's DPS: its term with two extensions exercised and one still open, its notices,
a selection questionnaire, the compliance documents it requires, and homes' documents (one about
to expire, one expired). Idempotent: a second run finds what the first made."""

from datetime import date, timedelta

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from lots.models import DpsAgreement, DpsNotice, Lot, ProcurementRegime
from lots.services import dps_agreement_create, dps_extension_exercise
from organisations.models import Organisation, Role, User
from providers.models import CareHome, DocumentKind, DocumentRequirement, SelectionQuestion
from providers.services import compliance_document_upload, document_requirement_set, selection_question_add

DEMO_PDF = b"%PDF-1.4\n% Demo compliance document\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
QUESTIONS = [
    (1, "Does the home have a registered manager in post?", "yes_no", "yes"),
    (1, "How many care staff hold a level 3 diploma in health and social care or above?", "number", "5"),
    (1, "Describe how the home involves families in care planning.", "text", ""),
    (2, "Have all care staff completed dementia awareness training in the last year?", "yes_no", "yes"),
]


def _commissioner(body: Organisation) -> User | None:
    return User.objects.filter(organisation=body, role=Role.COMMISSIONER, is_service_account=False).first()


@transaction.atomic
def seed_dps(stdout=None) -> None:
    today = timezone.localdate()
    bodies = Organisation.objects.filter(kind__in=[Organisation.Kind.COUNCIL, Organisation.Kind.NHS]).order_by("pk")
    for body in bodies:
        commissioner = _commissioner(body)
        if commissioner is None or DpsAgreement.objects.filter(commissioner=body).exists():
            continue
        # A four-year term that has run out, kept in term by two 12-month extensions, with a third
        # option still to decide; never more than ten years in all.
        starts_on = date(today.year - 5, 10, 1)
        dps = dps_agreement_create(
            commissioner=body,
            title=f"{body.name}: care and support in care homes DPS",
            reference=f"{body.slug.upper()}-DPS-{starts_on.year}",
            procurement_regime=ProcurementRegime.PCR_2015_LIGHT_TOUCH,
            starts_on=starts_on,
            ends_on=date(today.year - 1, 9, 30),
            maximum_term_ends_on=date(starts_on.year + 10, 9, 30),
            extension_options=[
                (12, date(today.year - 1, 6, 30)),
                (12, date(today.year, 6, 30)),
                (12, date(today.year + 1, 6, 30)),
            ],
        )
        options = list(dps.extension_options.order_by("decide_by"))
        for option, decided_on, reference in (
            (options[0], date(today.year - 1, 5, 14), f"Cabinet decision {today.year - 1}/031"),
            (options[1], date(today.year - 1, 11, 19), f"Delegated decision {today.year - 1}/112"),
        ):
            dps_extension_exercise(
                actor=commissioner, option=option, decision_reference=reference, decided_on=decided_on
            )
        DpsNotice.objects.create(
            agreement=dps,
            kind=DpsNotice.Kind.CONTRACT_NOTICE,
            reference=f"{starts_on.year}/S 000-000{body.pk:03d}",
            url="https://www.find-tender.service.gov.uk/",
            published_on=starts_on - timedelta(days=60),
        )
        DpsNotice.objects.create(
            agreement=dps,
            kind=DpsNotice.Kind.MODIFICATION_NOTICE,
            reference=f"{today.year - 1}/S 000-100{body.pk:03d}",
            url="https://www.find-tender.service.gov.uk/",
            published_on=date(today.year - 1, 5, 21),
        )
        _seed_selection(body, commissioner, today)
    if stdout:
        stdout.write(f"  {DpsAgreement.objects.count()} DPS agreements")


def _seed_selection(body, commissioner, today) -> None:
    if not SelectionQuestion.objects.filter(commissioner=body).exists():
        for number, text, answer_type, required in QUESTIONS:
            selection_question_add(
                actor=commissioner,
                lot=Lot.objects.get(number=number),
                text=text,
                answer_type=answer_type,
                required_answer=required,
            )
    if DocumentRequirement.objects.filter(commissioner=body).exists():
        return
    for kind in (DocumentKind.EMPLOYERS_LIABILITY, DocumentKind.PUBLIC_LIABILITY, DocumentKind.SAFEGUARDING_POLICY):
        document_requirement_set(actor=commissioner, kind=kind, required=True, suspends_when_expired=True)
    homes = list(CareHome.objects.filter(admissions__commissioner=body).distinct().order_by("cqc_location_id")[:6])
    for index, home in enumerate(homes):
        uploader = User.objects.filter(organisation=home.provider, role=Role.PROVIDER).first()
        if uploader is None or home.compliance_documents.exists():
            continue
        for kind in (DocumentKind.EMPLOYERS_LIABILITY, DocumentKind.PUBLIC_LIABILITY, DocumentKind.SAFEGUARDING_POLICY):
            days = {0: 20, 1: 1}.get(index, 300) if kind == DocumentKind.EMPLOYERS_LIABILITY else 300
            document = compliance_document_upload(
                actor=uploader,
                care_home=home,
                kind=kind,
                upload=ContentFile(DEMO_PDF, name=f"{kind}.pdf"),
                expires_on=today + timedelta(days=days),
            )
            if index == 1 and kind == DocumentKind.EMPLOYERS_LIABILITY:
                # Expired yesterday: the home takes no new placements until the renewal is uploaded.
                type(document).objects.filter(pk=document.pk).update(expires_on=today - timedelta(days=1))
