"""A council's system and a provider's system run the whole journey with a client generated from the
published OpenAPI schema, as an integrator would: the schema is written, `openapi-python-client`
generates a package from it during the run (no network), and every API call below goes through that
package against a live server. Only the tender's close is driven by the project's own service, as
the worker's task does it."""

import importlib
import pkgutil
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from http import HTTPStatus

import pytest
from django.core.management import call_command
from django.utils import timezone
from pypdf import PdfReader

from bidding.models import Tender
from bidding.services import bid_submit, database_now, tender_close_and_evaluate, tender_publish
from lots.models import LotRules
from lots.services import dps_agreement_create, dps_extension_exercise
from organisations.services import api_client_create
from placements.models import PlacementRequest
from quality.models import RatingValue

from .factories import (
    AdmissionFactory,
    BlockContractFactory,
    CareHomeFactory,
    PlacementRequestFactory,
    UserFactory,
    admitted_home,
)

PACKAGE = "placements_client"
# The window between publishing and closing: long enough for the provider's five calls.
WINDOW = timedelta(seconds=6)

pytestmark = pytest.mark.django_db(transaction=True)


class GeneratedClient:
    """The generated package: its client classes, its models and its operations by operation id."""

    def __init__(self, package):
        self.package = package
        self.models = importlib.import_module(f"{PACKAGE}.models")
        self.types = importlib.import_module(f"{PACKAGE}.types")
        api = importlib.import_module(f"{PACKAGE}.api")
        self.operations = {}
        for tag in pkgutil.iter_modules(api.__path__):
            for operation in pkgutil.iter_modules(importlib.import_module(f"{PACKAGE}.api.{tag.name}").__path__):
                self.operations[operation.name] = f"{PACKAGE}.api.{tag.name}.{operation.name}"

    def op(self, operation_id: str):
        return importlib.import_module(self.operations[operation_id])

    def client(self, base_url: str, token: str):
        return self.package.AuthenticatedClient(base_url=base_url, token=token, raise_on_unexpected_status=True)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """Write the schema and generate a client package from it, as an integrator would."""
    directory = tmp_path_factory.mktemp("generated")
    schema = directory / "schema.json"
    call_command("spectacular", "--format", "openapi-json", "--file", str(schema), "--validate", "--fail-on-warn")
    config = directory / "generator.yaml"
    # The generated code is imported, not kept: no formatter runs over it. A PDF is read as bytes,
    # the generator's documented way for a binary type it does not know by name.
    config.write_text('post_hooks: []\ncontent_type_overrides:\n  "application/pdf": "application/octet-stream"\n')
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(schema),
            "--output-path",
            str(directory / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(config),
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(directory))
    try:
        yield GeneratedClient(importlib.import_module(PACKAGE))
    finally:
        sys.path.remove(str(directory))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def created(response, model):
    assert response.status_code == HTTPStatus.CREATED, response.content
    assert isinstance(response.parsed, model), response.parsed
    return response.parsed


def ok(response, model):
    assert response.status_code == HTTPStatus.OK, response.content
    assert isinstance(response.parsed, model), response.parsed
    return response.parsed


def test_a_council_and_a_provider_system_run_the_whole_journey_with_a_generated_client(
    generated, live_server, council_a, provider_a, provider_b
):
    LotRules.objects.filter(commissioner=council_a, lot__number=1).update(min_window_hours=0)
    home = admitted_home(council_a, provider=provider_a, rating=RatingValue.GOOD, name="Meadow View")
    block_home = CareHomeFactory(provider=provider_b, name="Brook House")
    AdmissionFactory(commissioner=council_a, care_home=block_home)
    BlockContractFactory(commissioner=council_a, care_home=block_home, reference="STAFFS-BLK-9", beds=1)
    _, council_token = api_client_create(
        organisation=council_a, name="Case system", scopes=["read", "placement-requests"]
    )
    _, provider_token = api_client_create(organisation=provider_a, name="Care system", scopes=["read", "bids"])
    _, other_token = api_client_create(organisation=provider_b, name="Other care system", scopes=["read", "bids"])
    council = generated.client(live_server.url, council_token)
    other_provider = generated.client(live_server.url, other_token)
    provider = generated.client(live_server.url, provider_token)
    models, op = generated.models, generated.op
    start = timezone.localdate() + timedelta(days=4)

    # The council's DPS, in term today through an extension: the case system reads its term first.
    dps = dps_agreement_create(
        commissioner=council_a,
        title="Care homes DPS",
        procurement_regime="pcr_2015_light_touch",
        starts_on=timezone.localdate() - timedelta(days=1500),
        ends_on=timezone.localdate() - timedelta(days=30),
        extension_options=[(12, timezone.localdate())],
    )
    dps_extension_exercise(
        actor=UserFactory(organisation=council_a, role="commissioner", email="dps@a.example"),
        option=dps.extension_options.get(),
        decision_reference="CAB-2026-12",
        decided_on=timezone.localdate(),
    )
    response = op("dps_agreements_list").sync_detailed(client=council)
    assert response.status_code == HTTPStatus.OK
    (listed,) = [item for item in response.parsed if item.id == dps.pk]
    assert isinstance(listed, models.DpsAgreementOutput)
    assert listed.current_ends_on == dps.extensions.get().new_ends_on
    assert listed.extension_options[0].exercised.decision_reference == "CAB-2026-12"

    # The council's case system creates the request; a void block bed fits it.
    request = created(
        op("placement_requests_create").sync_detailed(
            client=council,
            body=models.PlacementRequestInputRequest(
                case_reference="MOSAIC-104233",
                lot=1,
                needs_summary="Older person, needs help with mobility and personal care.",
                local_authority="Staffordshire",
                needed_from=timezone.localdate() + timedelta(days=3),
                max_weekly_rate="900.00",
            ),
            idempotency_key=str(uuid.uuid4()),
        ),
        models.PlacementRequestOutput,
    )
    assert request.block_offer.pending is True
    assert [bed.contract_reference for bed in request.block_offer.beds] == ["STAFFS-BLK-9"]

    # Block beds first: publishing is refused until the offer is declined through the API.
    refused = op("placement_requests_publish_create").sync_detailed(
        id=request.id, client=council, body=models.PublishInputRequest()
    )
    assert refused.status_code == HTTPStatus.CONFLICT
    assert isinstance(refused.parsed, models.Problem) and refused.parsed.code == "block_bed_on_offer"
    declined = ok(
        op("placement_requests_block_offer_decline_create").sync_detailed(
            id=request.id,
            client=council,
            body=models.BlockOfferDeclineInputRequest(reason="The person wants to live near their daughter."),
        ),
        models.PlacementRequestOutput,
    )
    assert declined.block_offer.pending is False
    closes_at = database_now() + WINDOW
    tender = created(
        op("placement_requests_publish_create").sync_detailed(
            id=request.id,
            client=council,
            body=models.PublishInputRequest(closes_at=closes_at),
            idempotency_key=str(uuid.uuid4()),
        ),
        models.TenderOutput,
    )
    assert tender.is_open is True

    # The provider's system finds its invitation in its inbox, with no webhook needed.
    inbox = ok(
        op("invitations_list").sync_detailed(client=provider, state=models.InvitationsListState.OPEN),
        models.PaginatedInvitationOutputList,
    )
    invitation = next(item for item in inbox.results if item.tender.id == tender.id)
    assert invitation.care_home.id == home.pk
    assert invitation.bid is None
    assert invitation.needs.needs_summary.startswith("Older person")

    def bid(fee: str):
        return created(
            op("tenders_bids_create").sync_detailed(
                id=tender.id,
                client=provider,
                body=models.BidInputRequest(
                    care_home=invitation.care_home.id, weekly_fee=fee, earliest_start=start, needs_confirmed=True
                ),
                idempotency_key=str(uuid.uuid4()),
            ),
            models.OwnBidOutput,
        )

    first = bid("880.00")
    amended = ok(
        op("tenders_bids_partial_update").sync_detailed(
            id=tender.id,
            bid_pk=first.id,
            client=provider,
            body=models.PatchedBidAmendInputRequest(weekly_fee="860.00"),
        ),
        models.OwnBidOutput,
    )
    assert amended.weekly_fee == "860.00"
    assert amended.needs_confirmed is True
    withdrawn = op("tenders_bids_destroy").sync_detailed(id=tender.id, bid_pk=first.id, client=provider)
    assert withdrawn.status_code == HTTPStatus.NO_CONTENT, withdrawn.content
    assert (
        ok(
            op("tenders_bids_retrieve").sync_detailed(id=tender.id, bid_pk=first.id, client=provider),
            models.OwnBidOutput,
        ).status
        == models.BidStatusEnum.WITHDRAWN
    )
    second = bid("870.00")
    assert second.status == models.BidStatusEnum.SUBMITTED

    # The window closes; the worker's task closes and evaluates the tender with this service.
    while database_now() <= closes_at:
        time.sleep(0.2)
    tender_close_and_evaluate(tender_id=tender.id)
    assert Tender.objects.get(pk=tender.id).status == Tender.Status.EVALUATED

    evaluation = ok(
        op("tenders_evaluation_retrieve").sync_detailed(id=tender.id, client=council), models.EvaluationOutput
    )
    assert [(ranked.id, ranked.rank, ranked.weekly_fee) for ranked in evaluation.ranked] == [(second.id, 1, "870.00")]
    assert evaluation.ranked[0].working.rank == 1
    assert evaluation.ranked[0].working.weekly_fee == "870.00"
    assert evaluation.not_ranked == []

    award = created(
        op("tenders_award_create").sync_detailed(
            id=tender.id,
            client=council,
            body=models.AwardInputRequest(bid=second.id),
            idempotency_key=str(uuid.uuid4()),
        ),
        models.AwardOutput,
    )
    assert award.bid == second.id and award.top_ranked is True
    assert isinstance(award.placement, models.PlacementOutput)
    assert award.placement.weekly_fee == "870.00"
    assert award.placement.care_home == home.pk
    assert award.placement.start_date == start

    placed = ok(
        op("placement_requests_retrieve").sync_detailed(id=request.id, client=council), models.PlacementRequestOutput
    )
    assert placed.status.value == PlacementRequest.Status.AWARDED
    placements = ok(op("placements_list").sync_detailed(client=council), models.PaginatedPlacementOutputList)
    assert [placement.id for placement in placements.results] == [award.placement.id]

    won = ok(
        op("invitations_list").sync_detailed(client=provider, state=models.InvitationsListState.WON),
        models.PaginatedInvitationOutputList,
    )
    assert [item.tender.id for item in won.results] == [tender.id]

    agreements = ok(
        op("service_agreements_list").sync_detailed(client=council), models.PaginatedServiceAgreementOutputList
    )
    agreement = next(item for item in agreements.results if item.placement == award.placement.id)
    assert agreement.weekly_fee == "870.00" and agreement.care_home_name == "Meadow View"
    pdf = ok(op("service_agreements_pdf_retrieve").sync_detailed(id=agreement.id, client=council), generated.types.File)
    document = PdfReader(pdf.payload)
    assert "Meadow View" in "".join(page.extract_text() for page in document.pages)
    provider_agreement = ok(
        op("service_agreements_retrieve").sync_detailed(id=agreement.id, client=provider), models.ServiceAgreementOutput
    )
    assert provider_agreement.reference == agreement.reference
    unknown = op("service_agreements_pdf_retrieve").sync_detailed(id=agreement.id, client=other_provider)
    assert unknown.status_code == HTTPStatus.NOT_FOUND and isinstance(unknown.parsed, models.Problem)

    week = start.isocalendar()
    schedule = ok(
        op("payment_schedules_retrieve").sync_detailed(client=council, period=f"{week.year}-W{week.week:02d}"),
        models.PaymentSchedulePageOutput,
    )
    lines = [line for line in schedule.results if line.placement_id == award.placement.id]
    assert lines and lines[0].weekly_fee == "870.00"
    assert lines[0].from_date == start


def test_a_council_system_records_a_discharge_to_assess_outcome_and_reads_the_discharge_figures(
    generated, live_server, council_a, broker_a
):
    from placements.models import Placement

    from .factories import DischargeRequestFactory, PaidPlacementFactory

    referral = DischargeRequestFactory(commissioner=council_a, created_by=broker_a, status="placed")
    stay = PaidPlacementFactory(
        commissioner=council_a,
        request=referral,
        start_date=timezone.localdate() - timedelta(days=30),
        sourced_at=referral.ready_for_discharge_at + timedelta(hours=5),
        pathway="pathway_3_assessment",
        review_on=timezone.localdate() - timedelta(days=2),
        assessment_ends_on=timezone.localdate() - timedelta(days=2),
    )
    _, token = api_client_create(
        organisation=council_a, name="Case system", scopes=["read", "placement-requests", "dashboards"]
    )
    council = generated.client(live_server.url, token)
    models, op = generated.models, generated.op

    figures = ok(op("dashboards_discharge_retrieve").sync_detailed(client=council), models.Discharge)
    assert figures.reviews_overdue == 1
    recorded = ok(
        op("placements_assessment_outcome_create").sync_detailed(
            stay.pk,
            client=council,
            body=models.AssessmentOutcomeInputRequest(
                outcome=models.AssessmentOutcomeEnum.LONG_TERM_ELSEWHERE, on=timezone.localdate()
            ),
        ),
        models.AssessmentOutcomeOutput,
    )
    assert recorded.assessment_outcome == models.AssessmentOutcomeEnum.LONG_TERM_ELSEWHERE
    assert PlacementRequest.objects.get(pk=recorded.long_term_request).assessment_placement_id == stay.pk
    refused = op("placements_assessment_outcome_create").sync_detailed(
        stay.pk,
        client=generated.package.AuthenticatedClient(base_url=live_server.url, token=token),
        body=models.AssessmentOutcomeInputRequest(outcome=models.AssessmentOutcomeEnum.DIED, on=timezone.localdate()),
    )
    assert refused.status_code == HTTPStatus.CONFLICT
    assert Placement.objects.get(pk=stay.pk).assessment_outcome == "long_term_elsewhere"
    figures = ok(op("dashboards_discharge_retrieve").sync_detailed(client=council), models.Discharge)
    assert figures.reviews_overdue == 0


def test_a_hospital_system_refers_and_follows_its_referrals_with_a_generated_client(
    generated, live_server, council_a, council_b
):
    from organisations.models import Role

    from .factories import HospitalFactory, UserFactory

    hospital = HospitalFactory(name="Royal Stoke Hospital", slug="hospital-a", refers_to=[council_a])
    other = HospitalFactory(name="Aintree Hospital", slug="hospital-b", refers_to=[council_b])
    UserFactory(organisation=hospital, role=Role.DISCHARGE_COORDINATOR)
    _, token = api_client_create(organisation=hospital, name="Ward system", scopes=["referrals"])
    _, other_token = api_client_create(organisation=other, name="Other ward system", scopes=["referrals"])
    _, read_only_token = api_client_create(organisation=hospital, name="Bed board", scopes=["read"])
    system = generated.client(live_server.url, token)
    models, op = generated.models, generated.op
    ready = timezone.now() - timedelta(hours=2)

    referral = created(
        op("referrals_create").sync_detailed(
            client=system,
            body=models.ReferralInputRequest(
                commissioner="council-a",
                case_reference="RJE-204",
                lot=1,
                needs_summary="Medically fit for discharge; needs help with mobility.",
                ward_contact="Ward 12, 01782 000000",
                ready_for_discharge_at=ready,
                pathway=models.PathwayEnum.PATHWAY_3_ASSESSMENT,
            ),
            idempotency_key=str(uuid.uuid4()),
        ),
        models.ReferralOutput,
    )
    assert referral.next_step.code == "draft" and referral.next_step.label == "Draft"
    assert referral.target_at == ready + timedelta(hours=24)
    stored = PlacementRequest.objects.get(pk=referral.id)
    assert (stored.commissioner, stored.hospital, stored.urgency) == (council_a, hospital, "hospital_discharge")

    refused = op("referrals_create").sync_detailed(
        client=system,
        body=models.ReferralInputRequest(
            commissioner="council-b",
            case_reference="RJE-205",
            lot=1,
            needs_summary="Needs nursing care.",
            ward_contact="Ward 12",
            ready_for_discharge_at=ready,
            pathway=models.PathwayEnum.LONG_TERM,
        ),
        idempotency_key=str(uuid.uuid4()),
    )
    assert refused.status_code == HTTPStatus.BAD_REQUEST and isinstance(refused.parsed, models.Problem)

    listed = ok(op("referrals_list").sync_detailed(client=system), models.PaginatedReferralOutputList)
    assert [item.case_reference for item in listed.results] == ["RJE-204"]
    followed = ok(op("referrals_retrieve").sync_detailed(id=referral.id, client=system), models.ReferralOutput)
    assert followed.care_home_name == ""
    elsewhere = generated.client(live_server.url, other_token)
    unknown = op("referrals_retrieve").sync_detailed(id=referral.id, client=elsewhere)
    assert unknown.status_code == HTTPStatus.NOT_FOUND and isinstance(unknown.parsed, models.Problem)
    no_scope = op("referrals_list").sync_detailed(client=generated.client(live_server.url, read_only_token))
    assert no_scope.status_code == HTTPStatus.FORBIDDEN


def test_an_award_with_a_top_up_waits_for_its_agreement_through_a_generated_client(
    generated, live_server, council_a, broker_a, provider_a, provider_user_a
):
    """The case system awards a home above the council's maximum rate: refused until it records the
    top-up agreement; then the placement's funding shares show the third party's share."""
    request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a, max_weekly_rate=Decimal("900.00"))
    home = admitted_home(council_a, provider=provider_a, rating=RatingValue.GOOD, name="Hill View")
    tender = tender_publish(actor=broker_a, request=request)
    bid = bid_submit(
        actor=provider_user_a,
        tender=tender,
        care_home=home,
        weekly_fee=Decimal("950.00"),
        earliest_start=timezone.localdate(),
        needs_confirmed=True,
    )
    Tender.objects.filter(pk=tender.pk).update(
        opened_at=timezone.now() - timedelta(hours=3), closes_at=timezone.now() - timedelta(seconds=1)
    )
    tender_close_and_evaluate(tender_id=tender.pk)
    _, token = api_client_create(
        organisation=council_a, name="Case system", scopes=["read", "placement-requests", "contracts"]
    )
    council = generated.client(live_server.url, token)
    op, models = generated.op, generated.models

    def award():
        return op("tenders_award_create").sync_detailed(
            id=tender.pk,
            client=council,
            body=models.AwardInputRequest(bid=bid.pk, top_up_payer="Her daughter"),
            idempotency_key=str(uuid.uuid4()),
        )

    refused = award()
    assert refused.status_code == HTTPStatus.BAD_REQUEST and isinstance(refused.parsed, models.Problem)
    assert refused.parsed.code == "top_up_agreement_required"
    assert "£50.00 a week" in refused.parsed.detail

    recorded = created(
        op("placement_requests_top_up_agreements_create").sync_detailed(
            id=request.pk,
            client=council,
            body=models.TopUpAgreementInputRequest(
                payer_name="Her daughter",
                relationship="Daughter",
                weekly_amount="50.00",
                starts_on=request.needed_from,
                signed_via=models.SignedViaEnum.PAPER,
                signed_on=timezone.localdate(),
                affordability_confirmed=True,
            ),
            idempotency_key=str(uuid.uuid4()),
        ),
        models.TopUpAgreementOutput,
    )
    assert recorded.weekly_amount == "50.00"

    awarded = created(award(), models.AwardOutput)
    assert awarded.top_up_consent is True and awarded.top_up_weekly_amount == "50.00"
    funding = op("placements_funding_shares_list").sync_detailed(id=awarded.placement.id, client=council)
    assert funding.status_code == HTTPStatus.OK, funding.content
    (current,) = funding.parsed
    assert current.total == "950.00"
    assert {(share.payer_type.value, share.payer, share.weekly_amount) for share in current.shares} == {
        ("council", council_a.name, "900.00"),
        ("top_up", "Her daughter", "50.00"),
    }
    rates = op("fnc_rates_list").sync_detailed(client=council)
    assert rates.status_code == HTTPStatus.OK and rates.parsed == []


def test_a_council_system_creates_and_changes_a_block_contract_with_a_generated_client(
    generated, live_server, council_a, provider_a
):
    """Block contracts over the API as on the commissioner's pages: created with its beds and first
    rate, refused with field errors, its end date changed with a reason; the home's provider reads it."""
    home = CareHomeFactory(provider=provider_a, name="Brook House")
    _, token = api_client_create(
        organisation=council_a, name="Contracts system", scopes=["read", "contracts"], role="commissioner"
    )
    _, provider_token = api_client_create(organisation=provider_a, name="Care system", scopes=["read"])
    council = generated.client(live_server.url, token)
    op, models = generated.op, generated.models
    start = timezone.localdate()

    def create(**changes):
        values = {
            "reference": "STAFFS-BLK-21",
            "care_home": home.pk,
            "contract_type": models.ContractTypeEnum.LONG_TERM,
            "lots": [1, 2],
            "number_of_beds": 3,
            "weekly_rate": "780.00",
            "start_date": start,
            "end_date": start + timedelta(days=365),
            "uplift_basis": models.UpliftBasisEnum.FIXED_ANNUAL,
            "uplift_percentage": "2.50",
        }
        return op("block_contracts_create").sync_detailed(
            client=council,
            body=models.BlockContractInputRequest(**(values | changes)),
            idempotency_key=str(uuid.uuid4()),
        )

    refused = create(end_date=start - timedelta(days=1), uplift_percentage=None)
    assert refused.status_code == HTTPStatus.BAD_REQUEST and isinstance(refused.parsed, models.Problem)
    errors = refused.parsed.errors.additional_properties
    assert set(errors) == {"end_date", "uplift_percentage"}, errors

    contract = created(create(), models.BlockContractDetailOutput)
    assert (contract.reference, contract.number_of_beds, contract.weekly_rate) == ("STAFFS-BLK-21", 3, "780.00")
    assert contract.lots == [1, 2] and [bed.label for bed in contract.beds] == ["001", "002", "003"]
    assert [(rate.weekly_rate, rate.effective_from) for rate in contract.rates] == [("780.00", start)]
    again = create()
    assert again.status_code == HTTPStatus.BAD_REQUEST
    assert "already have a block contract with this reference" in str(again.parsed.errors.additional_properties)

    changed = ok(
        op("block_contracts_partial_update").sync_detailed(
            id=contract.id,
            client=council,
            body=models.PatchedBlockContractChangeInputRequest(
                end_date=start + timedelta(days=180), reason="Shortened at the provider's request"
            ),
        ),
        models.BlockContractDetailOutput,
    )
    assert changed.end_date == start + timedelta(days=180) and changed.uplift_percentage == "2.50"

    seen = ok(
        op("block_contracts_retrieve").sync_detailed(
            id=contract.id, client=generated.client(live_server.url, provider_token)
        ),
        models.BlockContractDetailOutput,
    )
    assert seen.end_date == changed.end_date
