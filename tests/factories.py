"""factory-boy factories for every model. Apps add theirs here as they grow."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from lots.models import Lot, LotRules, Urgency, UrgencyRules
from organisations.models import ApiClient, Organisation, Role, User
from providers.models import Admission, CareHome, Specialism
from quality.models import Rating, RatingValue

TEST_PASSWORD = "correct-horse-battery-staple"


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ["slug"]
        skip_postgeneration_save = True

    kind = Organisation.Kind.COUNCIL
    name = factory.Sequence(lambda n: f"Council {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")
    local_authority = factory.LazyAttribute(lambda o: o.name.replace(" County Council", ""))

    @factory.post_generation
    def lot_rules(obj, create, extracted, **kwargs):
        from lots.services import lot_rules_create_defaults

        if create and obj.is_commissioning_body:
            lot_rules_create_defaults(commissioner=obj)


class HospitalFactory(OrganisationFactory):
    """An NHS trust's hospital site; `refers_to=[council, ...]` links it to the bodies it refers to."""

    kind = Organisation.Kind.HOSPITAL
    name = factory.Sequence(lambda n: f"Hospital {n}")
    slug = factory.Sequence(lambda n: f"hospital-{n}")
    local_authority = ""

    @factory.post_generation
    def refers_to(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.refers_to.set(extracted)


class ProviderOrganisationFactory(OrganisationFactory):
    kind = Organisation.Kind.PROVIDER
    name = factory.Sequence(lambda n: f"Provider {n} Ltd")
    cqc_provider_id = factory.Sequence(lambda n: f"1-{200000000 + n}")
    local_authority = ""


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    organisation = factory.SubFactory(OrganisationFactory)
    role = Role.BROKER
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ApiClientFactory(factory.django.DjangoModelFactory):
    """For tests that need the row; tests that call the API use api_client_create for the token."""

    class Meta:
        model = ApiClient

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Case system {n}")
    key_id = factory.Sequence(lambda n: f"key{n:08d}")
    secret_hash = "0" * 64
    scopes = factory.LazyFunction(lambda: ["read"])
    user = factory.SubFactory(
        UserFactory, organisation=factory.SelfAttribute("..organisation"), is_service_account=True
    )


def lot(number: int) -> Lot:
    return Lot.objects.get(number=number)


class LotRulesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LotRules
        django_get_or_create = ["commissioner", "lot"]

    commissioner = factory.SubFactory(OrganisationFactory)
    lot = factory.LazyFunction(lambda: Lot.objects.get(number=1))
    guide_weekly_fee = Decimal("800.00")


class UrgencyRulesFactory(factory.django.DjangoModelFactory):
    """A lot's saved rules for hospital discharges (lot 1 of a new council unless given)."""

    class Meta:
        model = UrgencyRules
        django_get_or_create = ["lot_rules", "urgency"]

    lot_rules = factory.LazyAttribute(lambda o: LotRules.objects.get(commissioner=OrganisationFactory(), lot__number=1))
    urgency = Urgency.HOSPITAL_DISCHARGE
    target_hours = 24
    min_window_hours = 1
    default_window_hours = 4
    max_window_hours = 24


class SpecialismFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Specialism
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"specialism-{n}")
    name = factory.Sequence(lambda n: f"Specialism {n}")


class CareHomeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CareHome
        skip_postgeneration_save = True

    provider = factory.SubFactory(ProviderOrganisationFactory)
    cqc_location_id = factory.Sequence(lambda n: f"1-{3000000000 + n}")
    name = factory.Sequence(lambda n: f"Care Home {n}")
    address_line_1 = factory.Sequence(lambda n: f"{n} High Street")
    town = "Stafford"
    postcode = "ST16 2AB"
    local_authority = "Staffordshire"
    region = "West Midlands"
    latitude = 52.8065
    longitude = -2.1166
    registered_beds = 40

    @factory.post_generation
    def rating(obj, create, extracted, **kwargs):
        """Pass rating="Good" (etc.) to give the home a current CQC rating."""
        if create and extracted:
            obj.current_rating = RatingFactory(care_home=obj, overall=extracted)
            obj.save(update_fields=["current_rating"])

    @factory.post_generation
    def specialism_codes(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.specialisms.set(Specialism.objects.filter(code__in=extracted))


class RatingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rating

    care_home = factory.SubFactory(CareHomeFactory)
    overall = RatingValue.GOOD
    safe = factory.SelfAttribute("overall")
    effective = factory.SelfAttribute("overall")
    caring = factory.SelfAttribute("overall")
    responsive = factory.SelfAttribute("overall")
    well_led = factory.SelfAttribute("overall")
    report_date = factory.LazyFunction(lambda: timezone.localdate())
    source = Rating.Source.MANUAL


class AdmissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Admission

    commissioner = factory.SubFactory(OrganisationFactory)
    care_home = factory.SubFactory(CareHomeFactory)
    lot = factory.LazyFunction(lambda: Lot.objects.get(number=1))
    status = Admission.Status.ADMITTED


class BlockContractFactory(factory.django.DjangoModelFactory):
    """A block contract; pass beds=N (and live_from=...) to create its bed rows."""

    class Meta:
        model = "blockbeds.BlockContract"
        skip_postgeneration_save = True

    commissioner = factory.SubFactory(OrganisationFactory)
    care_home = factory.SubFactory(CareHomeFactory)
    provider = factory.SelfAttribute("care_home.provider")
    reference = factory.Sequence(lambda n: f"BLK-{n:04d}")
    contract_type = "long_term"
    number_of_beds = 1
    start_date = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=365))
    end_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=365))

    @factory.post_generation
    def weekly_rate(obj, create, extracted, **kwargs):
        """The first row of the rate history, from the start date (700.00 unless given)."""
        if create:
            obj.rates.create(
                effective_from=obj.start_date, weekly_rate=extracted or Decimal("700.00"), reason="initial"
            )

    @factory.post_generation
    def lot_numbers(obj, create, extracted, **kwargs):
        if create:
            obj.lots.set(Lot.objects.filter(number__in=extracted or [1]))

    @factory.post_generation
    def beds(obj, create, extracted, **kwargs):
        if create:
            live_from = kwargs.get("live_from", obj.start_date)
            for number in range(1, (extracted or obj.number_of_beds) + 1):
                BlockBedFactory(contract=obj, label=f"{number:03d}", live_from=live_from)


class BlockBedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "blockbeds.BlockBed"

    contract = factory.SubFactory(BlockContractFactory)
    label = factory.Sequence(lambda n: f"B{n:04d}")
    live_from = factory.SelfAttribute("contract.start_date")


class BlockRequestFactory(factory.django.DjangoModelFactory):
    """A new placement request, as the block-bed tests need it."""

    class Meta:
        model = "placements.PlacementRequest"
        skip_postgeneration_save = True

    commissioner = factory.SubFactory(OrganisationFactory)
    case_reference = factory.Sequence(lambda n: f"CASE-{n:06d}")
    lot = factory.LazyFunction(lambda: Lot.objects.get(number=1))
    needs_summary = "Needs help with personal care and mobility."
    local_authority = "Staffordshire"
    needed_from = factory.LazyFunction(timezone.localdate)
    max_weekly_rate = Decimal("900.00")
    target_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=5))
    created_by = factory.SubFactory(UserFactory, organisation=factory.SelfAttribute("..commissioner"))

    @factory.post_generation
    def specialism_codes(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.specialisms.set(Specialism.objects.filter(code__in=extracted))


class PaidPlacementFactory(factory.django.DjangoModelFactory):
    """A live spot placement with a care home and a fee, as the contracts and payment tests need it."""

    class Meta:
        model = "placements.Placement"

    commissioner = factory.SubFactory(OrganisationFactory)
    case_reference = factory.Sequence(lambda n: f"PAY-{n:06d}")
    care_home = factory.SubFactory(CareHomeFactory)
    lot = factory.LazyFunction(lambda: Lot.objects.get(number=1))
    source = "tender"
    council_weekly_amount = Decimal("700.00")
    top_up_weekly_amount = Decimal("0.00")
    weekly_fee = factory.LazyAttribute(lambda o: o.council_weekly_amount + o.top_up_weekly_amount)
    start_date = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=60))
    in_county = True
    target_date = factory.SelfAttribute("start_date")
    sourced_at = factory.LazyFunction(timezone.now)


class PlacementRequestFactory(BlockRequestFactory):
    """A placement request for tendering: Staffordshire area around Stafford, lot 1."""

    latitude = 52.8065
    longitude = -2.1166
    max_distance_km = Decimal("20.0")


class DischargeRequestFactory(PlacementRequestFactory):
    """A hospital discharge referral: the person ready since an hour ago, pathway 3, target in a day."""

    urgency = Urgency.HOSPITAL_DISCHARGE
    hospital = factory.SubFactory(HospitalFactory)
    ward_contact = "Ward 7, discharge coordinator, 01785 000000"
    ready_for_discharge_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    pathway = "pathway_3_assessment"
    target_at = factory.LazyAttribute(lambda o: o.ready_for_discharge_at + timedelta(hours=24))
    target_date = factory.LazyAttribute(lambda o: timezone.localdate(o.target_at))

    @factory.post_generation
    def hospital_refers(obj, create, extracted, **kwargs):
        if create:
            obj.hospital.refers_to.add(obj.commissioner)


class TenderFactory(factory.django.DjangoModelFactory):
    """An open tender written directly (tests of publishing use the service)."""

    class Meta:
        model = "bidding.Tender"

    request = factory.SubFactory(PlacementRequestFactory)
    opened_at = factory.LazyFunction(timezone.now)
    closes_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=48))
    quality_weight = 60
    price_weight = 40
    not_yet_rated_score = 50
    max_weekly_rate = factory.SelfAttribute("request.max_weekly_rate")
    created_by = factory.SelfAttribute("request.created_by")


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "bidding.Invitation"

    tender = factory.SubFactory(TenderFactory)
    care_home = factory.SubFactory(CareHomeFactory)


class BidFactory(factory.django.DjangoModelFactory):
    """A submitted bid written directly (tests of the deadline use the service)."""

    class Meta:
        model = "bidding.Bid"

    invitation = factory.SubFactory(InvitationFactory)
    tender = factory.SelfAttribute("invitation.tender")
    care_home = factory.SelfAttribute("invitation.care_home")
    provider = factory.SelfAttribute("invitation.care_home.provider")
    weekly_fee = Decimal("850.00")
    earliest_start = factory.LazyFunction(timezone.localdate)
    needs_confirmed = True
    submitted_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyFunction(timezone.now)
    submitted_by = factory.SubFactory(UserFactory, organisation=factory.SelfAttribute("..provider"), role=Role.PROVIDER)


class ApplicationWindowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "providers.ApplicationWindow"

    commissioner = factory.SubFactory(OrganisationFactory)
    lot = factory.LazyFunction(lambda: Lot.objects.get(number=1))
    opens_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=30))
    closes_on = factory.LazyAttribute(lambda o: o.opens_on + timedelta(days=14))


class VacancyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "providers.Vacancy"

    care_home = factory.SubFactory(CareHomeFactory)
    lot = factory.LazyFunction(lambda: Lot.objects.get(number=1))
    beds_free = 2
    available_from = factory.LazyFunction(timezone.localdate)
    confirmed_at = factory.LazyFunction(timezone.now)
    confirmed_by = factory.SubFactory(
        UserFactory, organisation=factory.SelfAttribute("..care_home.provider"), role=Role.PROVIDER
    )


class BedVacancyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "providers.BedVacancy"

    care_home = factory.SubFactory(CareHomeFactory)
    lot = factory.LazyFunction(lambda: Lot.objects.get(number=1))
    room_type = "single"
    beds = 1
    confirmed_at = factory.LazyFunction(timezone.now)
    confirmed_by = factory.SubFactory(
        UserFactory, organisation=factory.SelfAttribute("..care_home.provider"), role=Role.PROVIDER
    )


class AdmissionClosureFactory(factory.django.DjangoModelFactory):
    """A closure for every body, in force from an hour ago (give `commissioner` for an embargo)."""

    class Meta:
        model = "providers.AdmissionClosure"

    care_home = factory.SubFactory(CareHomeFactory)
    reason = "outbreak"
    details = "Norovirus on the ground floor"
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    took_effect_at = factory.LazyAttribute(lambda o: o.starts_at)


def admitted_home(commissioner, *, provider, rating="Good", lot_number: int = 1, **kwargs) -> CareHome:
    """A care home of `provider` admitted to a lot of `commissioner`'s DPS, near Stafford by default."""
    home = CareHomeFactory(provider=provider, rating=rating, **kwargs)
    AdmissionFactory(commissioner=commissioner, care_home=home, lot=Lot.objects.get(number=lot_number))
    return home


def rating_staff(email: str = "ratings@backoffice.example", *, allowed: bool = True) -> User:
    """A back-office person with no organisation or role, given `quality.enter_rating` or not."""
    from django.contrib.auth.models import Permission

    user = UserFactory(organisation=None, role="", is_staff=True, email=email)
    if allowed:
        user.user_permissions.add(Permission.objects.get(content_type__app_label="quality", codename="enter_rating"))
    return User.objects.get(pk=user.pk)


def ensure_reference_data() -> None:
    """Put back the lots and specialisms that a transactional test's flush removes (migrations made them)."""
    from lots.reference import LOTS
    from providers.reference import SPECIALISMS

    if Lot.objects.count() == len(LOTS) and Specialism.objects.count() >= len(SPECIALISMS):
        return
    for number, name, setting, client_group, dementia in LOTS:
        Lot.objects.update_or_create(
            number=number,
            defaults={"name": name, "setting": setting, "client_group": client_group, "dementia": dementia},
        )
    for code, name in SPECIALISMS:
        Specialism.objects.update_or_create(code=code, defaults={"name": name})


def backdated_uplift(*, actor, name: str, basis: str, effective_from, rules: list[dict], basis_note: str = ""):
    """An uplift agreed earlier and in force from a date now past, written directly: the service
    refuses a past date for a new uplift, while these tests are about applying one."""
    from contracts.models import Uplift, UpliftRule

    uplift = Uplift.objects.create(
        commissioner=actor.organisation,
        name=name,
        basis=basis,
        basis_note=basis_note,
        effective_from=effective_from,
        created_by=actor,
    )
    for rule in rules:
        UpliftRule.objects.create(
            uplift=uplift,
            lot=rule.get("lot"),
            client_group=rule.get("client_group", ""),
            percentage=rule.get("percentage"),
            new_weekly_rate=rule.get("new_weekly_rate"),
        )
    return uplift


def top_up_agreed_for(tender, bid, broker, payer_name="Daughter", signed_via="paper"):
    """The top-up agreement an award of `bid` needs: for the fee above the tender's maximum rate."""
    from bidding.services import fee_split

    top_up = fee_split(weekly_fee=bid.weekly_fee, max_weekly_rate=tender.max_weekly_rate).top_up
    return top_up_agreed(tender.request, broker, top_up, payer_name, signed_via) if top_up else None


def top_up_agreed(request, broker, weekly_amount, payer_name="Daughter", signed_via="paper"):
    """The broker records a signed, affordable top-up agreement, as an award with a top-up needs."""
    from contracts.services import top_up_agreement_record

    return top_up_agreement_record(
        request=request,
        by=broker,
        payer_name=payer_name,
        relationship="Daughter",
        weekly_amount=Decimal(weekly_amount),
        starts_on=request.needed_from,
        signed_via=signed_via,
        signed_on=timezone.localdate(),
        affordability_confirmed=True,
        affordability_note="Income and savings checked against a two-year stay.",
    )
