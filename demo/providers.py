"""Demo DPS membership for the demo council: pending applications, a framework lot with its
re-opening window, and vacancies. Idempotent: a second run finds what the first made."""

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from lots.models import Lot, LotRules
from organisations.models import Organisation, Role, User
from providers.models import Admission, AdmissionEvent, ApplicationWindow, CareHome, Vacancy

FRAMEWORK_LOT = 9


@transaction.atomic
def seed_dps_membership(*, council_slug: str, stdout=None) -> None:
    council = Organisation.objects.filter(slug=council_slug).first()
    if council is None:
        return
    today = timezone.localdate()
    now = timezone.now()
    lots = {lot.number: lot for lot in Lot.objects.all()}

    # One lot run as a framework, open again in a month.
    LotRules.objects.filter(commissioner=council, lot=lots[FRAMEWORK_LOT]).update(
        admission_mode=LotRules.AdmissionMode.WINDOWS
    )
    ApplicationWindow.objects.get_or_create(
        commissioner=council,
        lot=lots[FRAMEWORK_LOT],
        opens_on=today + timedelta(days=30),
        defaults={"closes_on": today + timedelta(days=44)},
    )

    homes = list(CareHome.objects.filter(admissions__commissioner=council).distinct().order_by("cqc_location_id"))
    applied = 0
    for home in homes[:5]:
        applicant = User.objects.filter(organisation=home.provider, role=Role.PROVIDER).first()
        own = Admission.objects.filter(commissioner=council, care_home=home)
        if own.filter(status=Admission.Status.APPLIED).exists():
            continue
        taken = set(own.values_list("lot__number", flat=True))
        wanted = next((n for n in (2, 4, 6, 8) if n not in taken), None)
        if wanted is None or applicant is None:
            continue
        admission = Admission.objects.create(
            commissioner=council,
            care_home=home,
            lot=lots[wanted],
            status=Admission.Status.APPLIED,
            insurance_confirmed=True,
            insurance_expires_on=today + timedelta(days=240),
            terms_accepted=True,
            weekly_fee=Decimal("845.00") + applied * 25,
            applied_by=applicant,
            applied_at=now - timedelta(days=applied + 1),
        )
        AdmissionEvent.objects.create(admission=admission, to_status=Admission.Status.APPLIED, actor=applicant)
        applied += 1

    confirmed = 0
    for index, home in enumerate(homes[5:20]):
        if home.vacancies.exists():
            continue
        provider_user = User.objects.filter(organisation=home.provider, role=Role.PROVIDER).first()
        if provider_user is None:
            continue
        admission = home.admissions.filter(commissioner=council).select_related("lot").first()
        # Every fourth home last confirmed its vacancies a fortnight ago, to show stale data.
        Vacancy.objects.create(
            care_home=home,
            lot=admission.lot if admission else None,
            setting="" if admission else Vacancy.Setting.RESIDENTIAL,
            beds_free=1 + index % 3,
            available_from=today + timedelta(days=index % 4),
            notes="Ground floor room" if index % 2 else "",
            confirmed_at=now - timedelta(days=14 if index % 4 == 0 else index % 3),
            confirmed_by=provider_user,
        )
        confirmed += 1
    if stdout:
        stdout.write(f"  {applied} DPS applications waiting, {confirmed} homes with vacancies")
