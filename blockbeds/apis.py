"""API: block contracts with their beds' states, and the block-bed utilisation dashboard."""

from datetime import date
from decimal import Decimal

import django_filters
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import created
from core.dates import date_filter_check, validate_filter_date
from lots.models import Lot
from organisations.api_permissions import (
    HasScope,
    IsAnyRoleCommissionerWrites,
    IsCommissioner,
    IsCouncilUser,
)
from organisations.models import ApiClient
from providers.models import CareHome

from .models import BlockContract, BlockContractRate, UpliftBasis
from .selectors import (
    BedState,
    bed_state,
    block_contract_list,
    contracts_with_rows,
    counts_by_contract,
    current_occupancy,
    open_out_of_service,
    utilisation,
)
from .services import block_contract_create, block_contract_rate_record, block_contract_update
from .views import default_range

PROBLEM = OpenApiResponse(
    description="Problem details: invalid input (400), role or scope not allowed (403), not found or not yours (404)."
)


class CountsOutput(serializers.Serializer):
    contracted = serializers.IntegerField()
    live = serializers.IntegerField(help_text="Contracted, in service and past their live date: filled + void.")
    filled = serializers.IntegerField()
    void = serializers.IntegerField()
    out_of_service = serializers.IntegerField()
    not_yet_live = serializers.IntegerField()


class RangeCountsOutput(CountsOutput):
    live_bed_days = serializers.IntegerField()
    filled_bed_days = serializers.IntegerField()
    void_bed_days = serializers.IntegerField()
    void_cost = serializers.DecimalField(max_digits=12, decimal_places=2)
    occupancy_rate = serializers.DecimalField(
        max_digits=4, decimal_places=1, allow_null=True, help_text="Filled bed-days per 100 live bed-days."
    )


class PartyOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class BlockContractRateOutput(serializers.Serializer):
    effective_from = serializers.DateField()
    weekly_rate = serializers.DecimalField(max_digits=10, decimal_places=2)
    reason = serializers.ChoiceField(choices=BlockContractRate.Reason.choices)
    basis = serializers.CharField()
    uplift = serializers.IntegerField(source="uplift_id", allow_null=True)


class BlockContractOutput(serializers.ModelSerializer):
    commissioner = PartyOutput()
    provider = PartyOutput()
    care_home = PartyOutput()
    lots = serializers.SerializerMethodField()
    counts = serializers.SerializerMethodField(help_text="Bed counts today, from the bed and occupancy records.")
    weekly_rate = serializers.DecimalField(
        max_digits=10, decimal_places=2, read_only=True, help_text="Per bed per week, in force today."
    )
    rates = BlockContractRateOutput(many=True, source="rate_history", help_text="The dated rate history, oldest first.")

    class Meta:
        model = BlockContract
        fields = [
            "id",
            "reference",
            "commissioner",
            "provider",
            "care_home",
            "contract_type",
            "lots",
            "number_of_beds",
            "weekly_rate",
            "rates",
            "start_date",
            "end_date",
            "uplift_basis",
            "uplift_percentage",
            "uplift_index",
            "uplift_rule",
            "counts",
        ]

    def get_lots(self, contract) -> list[int]:
        return sorted(lot.number for lot in contract.lots.all())

    @extend_schema_field(CountsOutput)
    def get_counts(self, contract) -> dict:
        return CountsOutput(counts_by_contract([contract], timezone.localdate())[contract.pk]).data


class OccupancyOutput(serializers.Serializer):
    id = serializers.IntegerField()
    placement = serializers.IntegerField(source="placement_id")
    case_reference = serializers.CharField(source="placement.case_reference")
    start_date = serializers.DateField()
    end_date = serializers.DateField(allow_null=True)


class OutOfServiceOutput(serializers.Serializer):
    start_date = serializers.DateField()
    end_date = serializers.DateField(allow_null=True)
    reason = serializers.CharField()


class BedOutput(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField()
    live_from = serializers.DateField(allow_null=True)
    state = serializers.ChoiceField(choices=list(BedState.LABELS))
    occupancy = OccupancyOutput(allow_null=True, help_text="Who is in the bed today.")
    out_of_service = OutOfServiceOutput(allow_null=True)
    occupancies = OccupancyOutput(many=True, help_text="Every stay in the bed, oldest first.")


class BlockContractDetailOutput(BlockContractOutput):
    beds = serializers.SerializerMethodField()

    class Meta(BlockContractOutput.Meta):
        fields = [*BlockContractOutput.Meta.fields, "beds"]

    @extend_schema_field(BedOutput(many=True))
    def get_beds(self, contract) -> list[dict]:
        today = timezone.localdate()
        rows = []
        for bed in contract.beds.all():
            bed.contract = contract
            rows.append(
                {
                    "id": bed.pk,
                    "label": bed.label,
                    "live_from": bed.live_from,
                    "state": bed_state(bed, today),
                    "occupancy": current_occupancy(bed, today),
                    "out_of_service": open_out_of_service(bed, today),
                    "occupancies": list(bed.occupancies.all()),
                }
            )
        return BedOutput(rows, many=True).data


class OfferedBedOutput(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField()
    contract = serializers.IntegerField(source="contract_id")
    contract_reference = serializers.CharField(source="contract.reference")
    contract_type = serializers.CharField(source="contract.contract_type")
    care_home = PartyOutput(source="contract.care_home")
    weekly_rate = serializers.DecimalField(source="contract.weekly_rate", max_digits=10, decimal_places=2)
    distance_km = serializers.FloatField(allow_null=True, help_text="From the request's location, when it has one.")


class OfferDeclineOutput(serializers.Serializer):
    reason = serializers.CharField()
    declined_at = serializers.DateTimeField()
    declined_by = serializers.CharField(source="declined_by.get_full_name")


class BlockOfferOutput(serializers.Serializer):
    """The block-bed offer on a placement request (block beds come before a tender)."""

    pending = serializers.BooleanField(
        help_text="A fitting void block bed is on offer and not declined: publishing to tender is refused "
        "until the broker places the person in one or declines with a reason."
    )
    beds = OfferedBedOutput(many=True, help_text="Void live block beds that fit, nearest (then cheapest) first.")
    declined = OfferDeclineOutput(source="decline", allow_null=True)


class BlockOfferAcceptInput(serializers.Serializer):
    bed = serializers.IntegerField(help_text="One of the beds in the request's `block_offer`.")
    start_date = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="When the placement starts: by default the day the person is needed from, or today if later.",
    )


class BlockOfferDeclineInput(serializers.Serializer):
    reason = serializers.CharField(
        max_length=2000, help_text="Why the block beds on offer are not used; recorded on the request."
    )


class BlockContractInput(serializers.Serializer):
    reference = serializers.CharField(max_length=64, help_text="Your body's reference, unique among its contracts.")
    care_home = serializers.PrimaryKeyRelatedField(
        queryset=CareHome.objects.filter(registration_status=CareHome.RegistrationStatus.REGISTERED),
        help_text="A registered care home.",
    )
    contract_type = serializers.ChoiceField(choices=BlockContract.Type.choices)
    lots = serializers.SlugRelatedField(
        slug_field="number", queryset=Lot.objects.all(), many=True, allow_empty=False, help_text="Lot numbers."
    )
    number_of_beds = serializers.IntegerField(min_value=1, max_value=500)
    weekly_rate = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=Decimal(0), help_text="Per bed per week."
    )
    start_date = serializers.DateField()
    end_date = serializers.DateField(help_text="The last day of the contract.")
    live_from = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="When the beds are live (in payment); null: not yet known.",
    )
    uplift_basis = serializers.ChoiceField(choices=UpliftBasis.choices, default=UpliftBasis.NEGOTIATED)
    uplift_percentage = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=Decimal(100),
        required=False,
        allow_null=True,
        default=None,
        help_text="For a fixed yearly uplift: the percentage from each anniversary of the start.",
    )
    uplift_index = serializers.CharField(
        max_length=120, required=False, allow_blank=True, default="", help_text="For an index-linked uplift."
    )
    uplift_rule = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Anything else agreed about uplifts."
    )


class BlockContractChangeInput(serializers.Serializer):
    end_date = serializers.DateField(required=False)
    uplift_basis = serializers.ChoiceField(choices=UpliftBasis.choices, required=False)
    uplift_percentage = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal(0), max_value=Decimal(100), required=False, allow_null=True
    )
    uplift_index = serializers.CharField(max_length=120, required=False, allow_blank=True)
    uplift_rule = serializers.CharField(required=False, allow_blank=True)
    reason = serializers.CharField(max_length=1000, help_text="Why the contract changes.")


class BlockContractFilter(django_filters.FilterSet):
    lot = django_filters.NumberFilter(field_name="lots__number", label="Lot number")
    care_home = django_filters.NumberFilter(field_name="care_home_id")
    active_on = django_filters.DateFilter(
        method="filter_active_on", label="Contracts running on this date", validators=[validate_filter_date]
    )

    class Meta:
        model = BlockContract
        fields = ["contract_type", "lot", "care_home", "active_on"]

    def filter_active_on(self, queryset, name, value):
        return queryset.filter(start_date__lte=value, end_date__gte=value)


@extend_schema(
    summary="Block contracts you can see, with today's bed counts",
    description="Councils see their own contracts; providers see contracts for their homes.",
    tags=["block beds"],
    responses={200: BlockContractOutput(many=True), 400: PROBLEM, 403: PROBLEM, 404: PROBLEM},
)
class BlockContractListApi(ListAPIView):
    permission_classes = [IsAnyRoleCommissionerWrites, HasScope]
    required_scope = ApiClient.Scope.CONTRACTS
    serializer_class = BlockContractOutput
    filterset_class = BlockContractFilter

    def get_queryset(self):
        return _contracts_shown(self.request.user).distinct()

    @extend_schema(
        summary="Create a block contract (commissioners)",
        description="For the caller's body, at a registered care home: one bed row per contracted bed, and the "
        "weekly rate as the first row of the rate history. The uplift terms follow the basis: a percentage for a "
        "fixed yearly uplift, an index for an index-linked one.",
        tags=["block beds"],
        request=BlockContractInput,
        responses={201: BlockContractDetailOutput, 400: PROBLEM, 403: PROBLEM},
    )
    def post(self, request):
        data = BlockContractInput(data=request.data)
        data.is_valid(raise_exception=True)
        contract = block_contract_create(actor=request.user, **data.validated_data)
        return created(
            BlockContractDetailOutput(get_object_or_404(_contracts_shown(request.user), pk=contract.pk)).data,
            location=request.build_absolute_uri(reverse("api-block-contract", args=[contract.pk])),
        )


def _contracts_shown(user):
    """The caller's contracts with the rows their answers show (rates, lots, beds and stays)."""
    return contracts_with_rows(block_contract_list(actor=user))


@extend_schema(
    summary="One block contract with each bed's state and stays",
    tags=["block beds"],
    responses={200: BlockContractDetailOutput, 403: PROBLEM, 404: PROBLEM},
)
class BlockContractDetailApi(RetrieveAPIView):
    permission_classes = [IsAnyRoleCommissionerWrites, HasScope]
    required_scope = ApiClient.Scope.CONTRACTS
    serializer_class = BlockContractDetailOutput

    def get_queryset(self):
        return _contracts_shown(self.request.user)

    @extend_schema(
        summary="Change a block contract's end date or uplift terms (its commissioner)",
        description="Give only what changes, and the reason; both values and the reason are audited. A new "
        "weekly rate is a dated row of its own: `POST /block-contracts/{id}/rates/`.",
        tags=["block beds"],
        request=BlockContractChangeInput,
        responses={200: BlockContractDetailOutput, 400: PROBLEM, 403: PROBLEM, 404: PROBLEM},
    )
    def patch(self, request, pk: int):
        contract = get_object_or_404(block_contract_list(actor=request.user), pk=pk)
        data = BlockContractChangeInput(data=request.data)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        reason = changes.pop("reason")
        block_contract_update(contract=contract, actor=request.user, reason=reason, **changes)
        return Response(BlockContractDetailOutput(self.get_object()).data)


class UtilisationQuery(serializers.Serializer):
    date_from = serializers.DateField(required=False, validators=[validate_filter_date])
    date_to = serializers.DateField(required=False, validators=[validate_filter_date])
    at = serializers.DateField(required=False, validators=[validate_filter_date])

    def validate(self, attrs):
        start, end = attrs.get("date_from"), attrs.get("date_to")
        if start and end and end < start:
            raise serializers.ValidationError({"to": ["The end of the range must be on or after its start."]})
        if start and end and (end - start).days > 3 * 366:
            raise serializers.ValidationError({"to": ["Choose a range of three years or less."]})
        return attrs


class PeriodOutput(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    live_bed_days = serializers.IntegerField()
    filled_bed_days = serializers.IntegerField()
    void_bed_days = serializers.IntegerField()
    occupancy_rate = serializers.DecimalField(max_digits=4, decimal_places=1, allow_null=True)


class ContractUtilisationOutput(serializers.Serializer):
    id = serializers.IntegerField(source="contract.pk")
    reference = serializers.CharField(source="contract.reference")
    care_home = serializers.CharField(source="contract.care_home.name")
    counts = RangeCountsOutput()


class LotUtilisationOutput(serializers.Serializer):
    number = serializers.IntegerField(source="lot.number")
    name = serializers.CharField(source="lot.name")
    counts = RangeCountsOutput()


class UtilisationOutput(serializers.Serializer):
    at = serializers.DateField(help_text="The day the bed counts are taken on.")
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    overall = RangeCountsOutput()
    contracts = ContractUtilisationOutput(many=True)
    lots = LotUtilisationOutput(many=True, help_text="A contract serving several lots counts under each.")
    periods = PeriodOutput(many=True, help_text="Occupancy by calendar month over the range.")


@extend_schema(
    summary="Block bed utilisation: counts, void bed-days and their cost, occupancy by month",
    tags=["block beds", "dashboards"],
    parameters=[
        OpenApiParameter("from", OpenApiTypes.DATE, description="First day of the range (default: a year ago)."),
        OpenApiParameter("to", OpenApiTypes.DATE, description="Last day of the range (default: today)."),
        OpenApiParameter("at", OpenApiTypes.DATE, description="Day to count beds on (default: today)."),
    ],
    responses={200: UtilisationOutput, 400: PROBLEM, 403: PROBLEM},
)
class BlockUtilisationApi(APIView):
    permission_classes = [IsCouncilUser, HasScope]
    read_scope = ApiClient.Scope.DASHBOARDS

    def get(self, request):
        today = timezone.localdate()
        query = UtilisationQuery(
            data={
                key: value
                for key, value in {
                    "date_from": request.query_params.get("from"),
                    "date_to": request.query_params.get("to"),
                    "at": request.query_params.get("at"),
                }.items()
                if value
            }
        )
        if not query.is_valid():
            errors = {_PUBLIC_NAMES.get(name, name): messages for name, messages in query.errors.items()}
            raise serializers.ValidationError(errors)
        default_from, default_to = default_range(today)
        date_from: date = query.validated_data.get("date_from", default_from)
        date_to: date = query.validated_data.get("date_to", default_to)
        at: date = query.validated_data.get("at", today)
        # Checked with the defaults filled in: `from` alone once reached back centuries to today.
        date_filter_check({"from": date_from, "to": date_to, "at": at}, range_of=("from", "to"))
        result = utilisation(commissioner=request.user.organisation, at=at, date_from=date_from, date_to=date_to)
        return Response(UtilisationOutput(result).data)


_PUBLIC_NAMES = {"date_from": "from", "date_to": "to"}


class BlockContractRateInput(serializers.Serializer):
    effective_from = serializers.DateField(help_text="After the contract's latest rate and inside the contract.")
    weekly_rate = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal(0))
    reason = serializers.CharField(max_length=1000, help_text="Why the rate changes, e.g. the review it follows.")


@extend_schema(
    summary="Record a negotiated weekly rate for a block contract from a date",
    description="The commissioner's own contracts only. Placements already in its beds follow the new rate "
    "in their fee history and agreements; the provider is told.",
    tags=["block beds"],
    request=BlockContractRateInput,
    responses={201: BlockContractRateOutput, 400: PROBLEM, 403: PROBLEM, 404: PROBLEM},
)
class BlockContractRateCreateApi(APIView):
    permission_classes = [IsCommissioner, HasScope]
    required_scope = ApiClient.Scope.CONTRACTS

    def post(self, request, pk: int):
        contract = get_object_or_404(block_contract_list(actor=request.user), pk=pk)
        data = BlockContractRateInput(data=request.data)
        data.is_valid(raise_exception=True)
        rate = block_contract_rate_record(contract=contract, actor=request.user, **data.validated_data)
        # A rate has no address of its own: the contract shows it in its rate history.
        return created(
            BlockContractRateOutput(rate).data,
            location=request.build_absolute_uri(reverse("api-block-contract", args=[contract.pk])),
        )
