"""One data set for the quality-gate tests: every kind of object each page or endpoint needs,
owned by council A and provider A, beside council B and provider B data carrying planted
values that no other organisation may ever see."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone

from blockbeds.services import block_bed_fill
from closures.services import home_closing_announce, placement_hand_back
from contracts.services import (
    absence_record,
    agreement_create_for_placement,
    fnc_rate_record,
    outcome_rule_create,
    uplift_create,
)
from integrations.events import emit
from integrations.models import WebhookDelivery
from integrations.services import webhook_subscription_create
from lots.services import dps_agreement_create
from organisations.models import Role
from organisations.services import api_client_create
from providers.models import Admission, ComplianceDocument, SelectionQuestion
from quality.models import ReturnMeasure
from quality.services import (
    concern_record,
    improvement_action_add,
    monitoring_question_add,
    provider_return_submit,
    return_measure_add,
)

from .factories import (
    AdmissionClosureFactory,
    AdmissionFactory,
    BedVacancyFactory,
    BidFactory,
    BlockContractFactory,
    BlockRequestFactory,
    DischargeRequestFactory,
    HospitalFactory,
    InvitationFactory,
    OrganisationFactory,
    PaidPlacementFactory,
    PlacementRequestFactory,
    ProviderOrganisationFactory,
    TenderFactory,
    UserFactory,
    admitted_home,
    ensure_reference_data,
    lot,
)
from .test_quality_returns import GOOD as RETURN_ANSWERS

LEAK_CASE_REFERENCE = "LEAK-B-REF"
LEAK_FEE = "9876.54"
LEAK_PLACEMENT_REFERENCE = "B-PLACED-LEAK"
LEAK_PLACEMENT_FEE = "5432.10"
LEAK_REFERRAL_REFERENCE = "HB-LEAK-REF"
LEAK_MARKERS = {
    # Council B's person waiting on an open tender: only council B's own staff may read it.
    "request": [LEAK_CASE_REFERENCE.encode()],
    # Council B's placement at provider B's home: council B's staff and provider B only.
    "placement": [LEAK_PLACEMENT_REFERENCE.encode(), LEAK_PLACEMENT_FEE.encode(), b"5,432.10"],
    # Provider B's sealed bids on open tenders: provider B only.
    "bid": [LEAK_FEE.encode(), b"9,876.54"],
    # Hospital B's referral to council B: council B's staff and hospital B's coordinators only.
    "referral": [LEAK_REFERRAL_REFERENCE.encode()],
}


@dataclass
class World:
    users: dict = field(default_factory=dict)
    api_tokens: dict = field(default_factory=dict)
    ids: dict = field(default_factory=dict)


def build_world() -> World:
    ensure_reference_data()
    world = World()
    council_a = OrganisationFactory(
        name="Staffordshire County Council", slug="council-a", local_authority="Staffordshire"
    )
    council_b = OrganisationFactory(name="Sefton Council", slug="council-b", local_authority="Sefton")
    provider_a = ProviderOrganisationFactory(name="Trentside Care Ltd", slug="provider-a")
    provider_b = ProviderOrganisationFactory(name="Moorlands Homes Ltd", slug="provider-b")
    users = world.users
    users["broker_a"] = UserFactory(organisation=council_a, role=Role.BROKER, email="broker@a.example")
    users["commissioner_a"] = UserFactory(
        organisation=council_a, role=Role.COMMISSIONER, email="commissioner@a.example"
    )
    users["broker_b"] = UserFactory(organisation=council_b, role=Role.BROKER, email="broker@b.example")
    users["commissioner_b"] = UserFactory(
        organisation=council_b, role=Role.COMMISSIONER, email="commissioner@b.example"
    )
    users["provider_a"] = UserFactory(organisation=provider_a, role=Role.PROVIDER, email="user@provider-a.example")
    users["provider_b"] = UserFactory(organisation=provider_b, role=Role.PROVIDER, email="user@provider-b.example")
    for name, organisation, scope in [
        ("api_a_read", council_a, "read"),
        ("api_a_requests", council_a, "placement-requests"),
        ("api_a_dashboards", council_a, "dashboards"),
        ("api_pa_read", provider_a, "read"),
        ("api_pa_bids", provider_a, "bids"),
    ]:
        _, world.api_tokens[name] = api_client_create(organisation=organisation, name=name, scopes=[scope])

    home_a = admitted_home(council_a, provider=provider_a, rating="Good", name="Alder House")
    home_b = admitted_home(council_a, provider=provider_b, rating="Outstanding", name="Beech Court")
    AdmissionFactory(commissioner=council_b, care_home=home_b, lot=lot(1))
    pending = AdmissionFactory(commissioner=council_a, care_home=home_a, lot=lot(2), status=Admission.Status.APPLIED)
    admitted = Admission.objects.get(commissioner=council_a, care_home=home_a, lot=lot(1))

    request_a = PlacementRequestFactory(
        commissioner=council_a, created_by=users["broker_a"], case_reference="A-CASE-1", status="tendering"
    )
    tender_a = TenderFactory(request=request_a)
    invitation_a = InvitationFactory(tender=tender_a, care_home=home_a)
    invitation_b = InvitationFactory(tender=tender_a, care_home=home_b)
    bid_a = BidFactory(invitation=invitation_a, weekly_fee=Decimal("850.00"), submitted_by=users["provider_a"])
    BidFactory(invitation=invitation_b, weekly_fee=Decimal(LEAK_FEE), submitted_by=users["provider_b"])

    request_b = PlacementRequestFactory(
        commissioner=council_b,
        created_by=users["broker_b"],
        case_reference=LEAK_CASE_REFERENCE,
        needs_summary="Council B person needs.",
        status="tendering",
    )
    tender_b = TenderFactory(request=request_b)
    BidFactory(
        invitation=InvitationFactory(tender=tender_b, care_home=home_b),
        weekly_fee=Decimal(LEAK_FEE),
        submitted_by=users["provider_b"],
    )
    PaidPlacementFactory(
        commissioner=council_b,
        care_home=home_b,
        case_reference=LEAK_PLACEMENT_REFERENCE,
        council_weekly_amount=Decimal(LEAK_PLACEMENT_FEE),
    )

    # Hospitals: A refers to council A, B to council B; each has a coordinator, A a system too. Hospital
    # A's referral is out to tender with provider B's sealed bid; hospital B's carries a planted reference.
    hospital_a = HospitalFactory(name="Royal Stoke Hospital", slug="hospital-a", refers_to=[council_a])
    hospital_b = HospitalFactory(name="Aintree Hospital", slug="hospital-b", refers_to=[council_b])
    users["coordinator_a"] = UserFactory(
        organisation=hospital_a, role=Role.DISCHARGE_COORDINATOR, email="discharge@hospital-a.example"
    )
    users["coordinator_b"] = UserFactory(
        organisation=hospital_b, role=Role.DISCHARGE_COORDINATOR, email="discharge@hospital-b.example"
    )
    for name, scope in [("api_h_referrals", "referrals"), ("api_h_read", "read")]:
        _, world.api_tokens[name] = api_client_create(organisation=hospital_a, name=name, scopes=[scope])
    referral_a = DischargeRequestFactory(
        commissioner=council_a,
        hospital=hospital_a,
        created_by=users["coordinator_a"],
        case_reference="HA-REF-1",
        status="tendering",
    )
    BidFactory(
        invitation=InvitationFactory(tender=TenderFactory(request=referral_a), care_home=home_b),
        weekly_fee=Decimal(LEAK_FEE),
        submitted_by=users["provider_b"],
    )
    referral_b = DischargeRequestFactory(
        commissioner=council_b,
        hospital=hospital_b,
        created_by=users["coordinator_b"],
        case_reference=LEAK_REFERRAL_REFERENCE,
    )

    contract = BlockContractFactory(commissioner=council_a, care_home=home_a, reference="STAFFS-A", beds=2)
    beds = list(contract.beds.order_by("label"))
    filled = BlockRequestFactory(commissioner=council_a, created_by=users["broker_a"], case_reference="A-BLOCK-1")
    occupancy = block_bed_fill(
        bed=beds[0], request=filled, actor=users["broker_a"], start_date=timezone.localdate() - timedelta(days=10)
    )
    offer = BlockRequestFactory(commissioner=council_a, created_by=users["broker_a"], case_reference="A-OFFER-1")

    # A discharge-to-assess stay, so its outcome page and API answer brokers of council A.
    placement_a = PaidPlacementFactory(
        commissioner=council_a,
        care_home=home_a,
        case_reference="A-PLACED-1",
        pathway="pathway_3_assessment",
        assessment_ends_on=timezone.localdate() + timedelta(days=7),
        review_on=timezone.localdate() + timedelta(days=7),
    )
    agreement = agreement_create_for_placement(placement=placement_a, actor=users["broker_a"])
    absence = absence_record(
        placement=placement_a, starts_on=timezone.localdate() - timedelta(days=3), by=users["broker_a"]
    )
    fnc_rate_record(
        effective_from=date(2026, 4, 1), weekly_rate=Decimal("254.06"), note="National rate", by=users["commissioner_a"]
    )
    outcome_rule_create(
        by=users["commissioner_a"], outcome="home", amount=Decimal("200.00"), description="Home", lot=lot(1)
    )
    uplift = uplift_create(
        actor=users["commissioner_a"],
        name="April uplift",
        basis="other",
        effective_from=timezone.localdate() + timedelta(days=30),
        rules=[{"lot": lot(1), "percentage": Decimal("3.0")}],
    )
    subscription, _ = webhook_subscription_create(
        actor=users["commissioner_a"], url="https://case.example.org/hooks", events=["tender.closed"]
    )
    emit(event="tender.closed", organisation=council_a, payload={"tender": {"id": tender_a.pk}}, dedupe_key="gates")
    api_client, _ = api_client_create(organisation=council_a, name="Case system", scopes=["read"])

    BedVacancyFactory(care_home=home_a, beds=2, notes="Window overlooks the garden")
    # An embargo dated ahead, so that it binds nothing yet but can be lifted.
    embargo = AdmissionClosureFactory(
        care_home=home_a,
        commissioner=council_a,
        reason="safeguarding_embargo",
        starts_at=timezone.now() + timedelta(days=1),
        took_effect_at=None,
    )
    dps = dps_agreement_create(
        commissioner=council_a,
        title="Care homes DPS",
        procurement_regime="pcr_2015_light_touch",
        starts_on=timezone.localdate() - timedelta(days=700),
        ends_on=timezone.localdate() + timedelta(days=700),
        extension_options=[(12, timezone.localdate() + timedelta(days=500))],
    )
    document = ComplianceDocument.objects.create(
        care_home=home_a,
        kind="public_liability",
        file=ContentFile(b"%PDF-1.4 policy", name="policy.pdf"),
        original_name="policy.pdf",
        content_type="application/pdf",
        size=15,
        expires_on=timezone.localdate() + timedelta(days=300),
        uploaded_by=users["provider_a"],
    )

    selection_question = SelectionQuestion.objects.create(
        commissioner=council_a, lot=lot(1), text="Is a registered manager in post?", answer_type="yes_no"
    )

    # Council A's quality work on home A: a question for its visits, a concern, an improvement
    # action, two measures of its own asked in returns (one retired through a page, one through the
    # API) and a return from provider A; so that another body's answer is about a real record.
    commissioner_a = users["commissioner_a"]
    monitoring_question = monitoring_question_add(actor=commissioner_a, domain="Safe", text="Are fire doors kept shut?")
    concern = concern_record(
        actor=commissioner_a,
        care_home=home_a,
        kind="complaint",
        received_on=timezone.localdate(),
        category="care",
        severity="low",
        reference="CMP-A-1",
    )
    improvement_action = improvement_action_add(
        actor=commissioner_a,
        care_home=home_a,
        action="Review the falls log monthly",
        owner="Registered manager",
        due_on=timezone.localdate() + timedelta(days=60),
        agreed_on=timezone.localdate(),
    )
    return_measures = [
        return_measure_add(actor=commissioner_a, name=name, kind=ReturnMeasure.Kind.INTEGER, required=False)
        for name in ("Night-time call bells unanswered", "Pressure ulcers")
    ]
    provider_return = provider_return_submit(
        actor=users["provider_a"],
        care_home=home_a,
        commissioner=council_a,
        period=f"{timezone.localdate().year - 1}",
        answers=RETURN_ANSWERS,
    )

    # A home of provider A that council A has marked as closing, with one resident and a block contract.
    closing_home = admitted_home(council_a, provider=provider_a, rating="Good", name="Cedar Lodge")
    PaidPlacementFactory(commissioner=council_a, care_home=closing_home, case_reference="A-CLOSING-1")
    closing_contract = BlockContractFactory(commissioner=council_a, care_home=closing_home, reference="STAFFS-C")
    [home_closure] = home_closing_announce(
        actor=users["commissioner_a"],
        care_home=closing_home,
        closing_on=timezone.localdate() + timedelta(days=30),
        reason="The provider is leaving the market.",
    )

    placement_hand_back(
        actor=users["provider_a"],
        placement=PaidPlacementFactory(commissioner=council_a, care_home=home_a, case_reference="A-HANDBACK-1"),
        notice_ends_on=timezone.localdate() + timedelta(days=28),
        reason="We cannot meet the resident's needs.",
    )

    world.ids = {
        "dps_option": dps.extension_options.get().pk,
        "document": document.pk,
        "home": home_a.pk,
        "closure": embargo.pk,
        "application": pending.pk,
        "admission": admitted.pk,
        "request": request_a.pk,
        "tender": tender_a.pk,
        "bid": bid_a.pk,
        "invitation": invitation_a.pk,
        "contract": contract.pk,
        "bed": beds[1].pk,
        "occupancy": occupancy.pk,
        "offer_request": offer.pk,
        "agreement": agreement.pk,
        "placement": placement_a.pk,
        "absence": absence.pk,
        "uplift": uplift.pk,
        "webhook": subscription.pk,
        "delivery": WebhookDelivery.objects.get(subscription=subscription).pk,
        "api_client": api_client.pk,
        "referral": referral_a.pk,
        "referral_b": referral_b.pk,
        "home_closure": home_closure.pk,
        "move": home_closure.moves.get().pk,
        "closure_contract": closing_contract.pk,
        "selection_question": selection_question.pk,
        "monitoring_question": monitoring_question.pk,
        "concern": concern.pk,
        "improvement_action": improvement_action.pk,
        "return_measure": return_measures[0].pk,
        "return_measure_api": return_measures[1].pk,
        "provider_return": provider_return.pk,
    }
    return world
