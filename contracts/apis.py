"""API: payment schedules and service agreements, each scoped to the caller's organisation.

The schedule is JSON in cursor pages of lines, or the whole schedule as CSV with `Accept: text/csv`;
an agreement is JSON, or its PDF with `Accept: application/pdf`, for a bearer token as for a session.
The PDF also has an address of its own, for clients that read one representation per operation (as
clients generated from the schema do).
"""

import datetime as dt
from decimal import Decimal

from django.http import HttpResponse
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import CsvRenderer, PdfRenderer, SequenceCursorPagination, created
from core.csv_export import csv_response
from core.errors import NotFoundError
from organisations.api_permissions import HasScope, IsAnyRole, IsAnyRoleCouncilWrites, IsBroker, IsCouncilUser
from organisations.models import ApiClient
from placements.models import Placement
from placements.selectors import placement_list, placement_request_get

from .models import Absence, Death, FncRate, OutcomePayment, PayerType, Route, ServiceAgreement, TopUpAgreement
from .payments import CSV_HEADER, csv_rows, payment_schedule_for, period_parse
from .pdf import agreement_pdf
from .selectors import (
    Share,
    absence_get,
    absence_list,
    agreement_get,
    agreement_list,
    death_paid_until,
    fnc_rate_list,
    funding_shares_prefetch,
    outcome_payment_list,
    payment_rules_for,
    share_sets,
)
from .services import absence_end, absence_record, death_record, funding_shares_change, top_up_agreement_record

MONEY = {"max_digits": 12, "decimal_places": 2}


class PayerTotalOutput(serializers.Serializer):
    payer_type = serializers.ChoiceField(choices=PayerType.choices)
    payer = serializers.CharField()
    route = serializers.ChoiceField(choices=Route.choices)
    amount = serializers.DecimalField(**MONEY)


class PaymentTotalsOutput(serializers.Serializer):
    council = serializers.DecimalField(**MONEY, help_text="The council's own shares.")
    top_up = serializers.DecimalField(**MONEY, help_text="Third-party top-ups.")
    gross = serializers.DecimalField(**MONEY, help_text="Every line: what the homes are paid.")
    council_pays = serializers.DecimalField(
        **MONEY, help_text="What the council pays the homes: its shares and every share on the gross route."
    )
    to_collect = serializers.DecimalField(
        **MONEY, help_text="What the council collects from other payers for gross-route shares."
    )
    paid_direct = serializers.DecimalField(**MONEY, help_text="Net-route shares their payers pay the homes.")
    by_payer = PayerTotalOutput(many=True, help_text="The lines' sum per payer type, payer and route.")


class PaymentLineOutput(serializers.Serializer):
    commissioner = serializers.CharField(source="commissioner.name")
    provider = serializers.CharField(source="provider.name")
    provider_cqc_id = serializers.CharField(source="provider.cqc_provider_id")
    line_type = serializers.CharField(source="kind")
    care_home = serializers.CharField(source="care_home.name")
    cqc_location_id = serializers.CharField(source="care_home.cqc_location_id")
    reference = serializers.CharField()
    placement_id = serializers.IntegerField(allow_null=True)
    lot = serializers.CharField()
    from_date = serializers.DateField(source="start")
    to_date = serializers.DateField(source="end")
    days = serializers.IntegerField()
    weekly_fee = serializers.DecimalField(**MONEY)
    council_weekly = serializers.DecimalField(**MONEY)
    top_up_weekly = serializers.DecimalField(**MONEY)
    council_amount = serializers.DecimalField(**MONEY)
    top_up_amount = serializers.DecimalField(**MONEY)
    gross_amount = serializers.DecimalField(**MONEY)
    top_up_payer = serializers.CharField()
    note = serializers.CharField(help_text="Why a line is paid as it is, e.g. the absence or death rule applied.")
    payer_type = serializers.ChoiceField(choices=PayerType.choices)
    payer = serializers.CharField()
    route = serializers.ChoiceField(choices=Route.choices)
    weekly_amount = serializers.DecimalField(**MONEY, help_text="The payer's weekly share of the fee.")
    percent_paid = serializers.DecimalField(max_digits=5, decimal_places=2, source="percent")
    amount = serializers.DecimalField(**MONEY)
    paid_to_home_by = serializers.CharField(source="paid_by")


class RemittanceTotalsOutput(serializers.Serializer):
    """What one commissioning body pays one provider: its lines are in `results`, with these names."""

    commissioner = serializers.CharField(source="commissioner.name")
    provider = serializers.CharField(source="provider.name")
    provider_cqc_id = serializers.CharField(source="provider.cqc_provider_id")
    totals = PaymentTotalsOutput()


class PaymentPeriodOutput(serializers.Serializer):
    label = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    days = serializers.IntegerField()


class PaymentSchedulePageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True, help_text="The next page of lines; null on the last.")
    previous = serializers.URLField(allow_null=True, help_text="The previous page of lines; null on the first.")
    period = PaymentPeriodOutput()
    totals = PaymentTotalsOutput(help_text="The whole schedule's totals, on every page.")
    remittances = RemittanceTotalsOutput(many=True, help_text="Totals per council and provider, on every page.")
    results = PaymentLineOutput(many=True, help_text="This page's lines, by council, provider, home and line.")


class PaymentScheduleApi(APIView):
    permission_classes = [IsAnyRole, HasScope]
    renderer_classes = [JSONRenderer, CsvRenderer]
    pagination_class = SequenceCursorPagination

    @extend_schema(
        summary="The payment schedule for a period",
        description=(
            "A council sees what is owed to each provider for its placements, by every payer; a provider "
            "sees only its own lines, from every council. Each line is one placement, one payer's share and "
            "the days that share (and any absence or death rule) was in force, paid at weekly / 7 a day, "
            "rounded to the penny per line; totals are sums of lines, per payer too. JSON comes in cursor "
            "pages of lines (`page_size` up to 200), each page with the whole schedule's totals; "
            "`Accept: text/csv` gives every line as one CSV file, ending with a total row per payer and one "
            "for the schedule (line_type `payer_total` and `schedule_total`)."
        ),
        tags=["payments"],
        parameters=[
            OpenApiParameter(
                "period",
                OpenApiTypes.STR,
                required=True,
                description="An ISO week (2026-W15) or four weeks from one (2026-W15/4).",
            ),
            OpenApiParameter("cursor", OpenApiTypes.STR, description="The page: from a `next` or `previous` link."),
            OpenApiParameter(
                "page_size", OpenApiTypes.INT, description=SequenceCursorPagination.page_size_query_description
            ),
        ],
        responses={
            (200, "application/json"): PaymentSchedulePageOutput,
            (200, "text/csv"): OpenApiTypes.STR,
            400: OpenApiResponse(description="The period is missing or not an ISO week."),
            403: OpenApiResponse(description="Not a council or provider user, or the client lacks the read scope."),
        },
    )
    def get(self, request):
        period = period_parse(request.query_params.get("period", ""))
        schedule = payment_schedule_for(actor=request.user, period=period)
        if request.accepted_renderer.format == CsvRenderer.format:
            response = csv_response(f"payment-schedule-{period.label}.csv", CSV_HEADER, csv_rows(schedule))
        else:
            paginator = self.pagination_class()
            lines = paginator.paginate_sequence(schedule.lines, request)
            response = paginator.get_paginated_response(
                PaymentLineOutput(lines, many=True).data,
                period=PaymentPeriodOutput(schedule.period).data,
                totals=PaymentTotalsOutput(schedule.totals).data,
                remittances=RemittanceTotalsOutput(schedule.remittances, many=True).data,
            )
        patch_vary_headers(response, ["Accept"])
        return response


class ServiceAgreementOutput(serializers.ModelSerializer):
    reference = serializers.CharField()

    class Meta:
        model = ServiceAgreement
        fields = [
            "id",
            "reference",
            "placement",
            "version",
            "is_current",
            "reason",
            "terms_version",
            "commissioner_name",
            "provider_name",
            "care_home_name",
            "cqc_location_id",
            "lot_name",
            "case_reference",
            "start_date",
            "end_date",
            "fee_effective_from",
            "weekly_fee",
            "council_weekly_amount",
            "top_up_weekly_amount",
            "top_up_payer",
            "created_at",
            "accepted_at",
        ]


@extend_schema(
    summary="Service agreements your organisation is party to (all versions)",
    tags=["agreements"],
    responses={200: ServiceAgreementOutput(many=True), 403: OpenApiResponse(description="Not allowed.")},
)
class ServiceAgreementListApi(ListAPIView):
    permission_classes = [IsAnyRole, HasScope]
    serializer_class = ServiceAgreementOutput

    def get_queryset(self):
        return agreement_list(actor=self.request.user)


@extend_schema(
    summary="One service agreement version, as JSON or as its PDF",
    description="`Accept: application/pdf` gives the agreement's PDF, the one its page offers for download.",
    tags=["agreements"],
    responses={
        (200, "application/json"): ServiceAgreementOutput,
        (200, "application/pdf"): OpenApiTypes.BINARY,
        403: OpenApiResponse(description="Not allowed."),
        404: OpenApiResponse(description="No such agreement, or not yours."),
    },
)
class ServiceAgreementDetailApi(RetrieveAPIView):
    permission_classes = [IsAnyRole, HasScope]
    serializer_class = ServiceAgreementOutput
    renderer_classes = [JSONRenderer, PdfRenderer]

    def get_object(self):
        return agreement_get(actor=self.request.user, pk=self.kwargs["pk"])

    def retrieve(self, request, *args, **kwargs):
        if request.accepted_renderer.format == PdfRenderer.format:
            response = _pdf_response(self.get_object())
        else:
            response = super().retrieve(request, *args, **kwargs)
        patch_vary_headers(response, ["Accept"])
        return response


def _pdf_response(agreement: ServiceAgreement) -> HttpResponse:
    response = HttpResponse(agreement_pdf(agreement), content_type=PdfRenderer.media_type)
    response["Content-Disposition"] = content_disposition_header(True, f"{agreement.reference}.pdf")
    return response


@extend_schema(
    summary="One service agreement version's PDF",
    description="The PDF that `Accept: application/pdf` gives on the agreement, at an address whose only "
    "representation is the PDF.",
    tags=["agreements"],
    responses={
        (200, "application/pdf"): OpenApiTypes.BINARY,
        403: OpenApiResponse(description="Not allowed."),
        404: OpenApiResponse(description="No such agreement, or not yours."),
    },
)
class ServiceAgreementPdfApi(APIView):
    permission_classes = [IsAnyRole, HasScope]
    renderer_classes = [PdfRenderer]

    def get(self, request, pk: int):
        return _pdf_response(agreement_get(actor=request.user, pk=pk))


# Who pays what -----------------------------------------------------------------------------

FUNDING_PROBLEMS = {
    400: OpenApiResponse(description="Invalid request (problem details with `errors` per field)."),
    403: OpenApiResponse(description="Your role or API client's scopes do not allow this."),
    404: OpenApiResponse(description="No such placement or placement request, or not your body's."),
}


def _placement_for(request, pk: int):
    placement = placement_list(actor=request.user).filter(pk=pk).first()
    if placement is None:
        raise NotFoundError("No such placement.")
    return placement


class ShareOutput(serializers.Serializer):
    payer_type = serializers.ChoiceField(choices=PayerType.choices)
    payer = serializers.CharField(help_text="The payer as the agreement names it.")
    payer_organisation = serializers.IntegerField(source="payer_organisation_id", allow_null=True)
    route = serializers.ChoiceField(choices=Route.choices)
    weekly_amount = serializers.DecimalField(**MONEY)


class ShareSetOutput(serializers.Serializer):
    effective_from = serializers.DateField()
    effective_to = serializers.DateField(allow_null=True, help_text="The last day; null while in force.")
    total = serializers.DecimalField(**MONEY, help_text="The weekly fee: the shares always add up to it.")
    shares = ShareOutput(many=True)


class ShareInput(serializers.Serializer):
    payer_type = serializers.ChoiceField(choices=PayerType.choices)
    weekly_amount = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal(0))
    route = serializers.ChoiceField(choices=Route.choices, default=Route.GROSS)
    payer_organisation = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="An NHS body's id, for NHS shares."
    )
    payer_name = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=200, help_text="The person or third party."
    )


class FundingChangeInput(serializers.Serializer):
    effective_from = serializers.DateField()
    reason = serializers.CharField(max_length=2000)
    shares = ShareInput(many=True, allow_empty=False)


class PlacementFundingApi(APIView):
    """A placement's funding shares over time."""

    permission_classes = [IsAnyRoleCouncilWrites, HasScope]
    required_scope = ApiClient.Scope.CONTRACTS

    @extend_schema(
        summary="Who pays a placement's fee, from each date",
        description="Each set of shares adds up to the weekly fee in force on its days.",
        tags=["funding"],
        responses={200: ShareSetOutput(many=True), **FUNDING_PROBLEMS},
    )
    def get(self, request, pk: int):
        placement = _placement_for(request, pk)
        placement = (
            Placement.objects.select_related("commissioner")
            .prefetch_related("fee_periods", funding_shares_prefetch())
            .get(pk=placement.pk)
        )
        return Response(ShareSetOutput(share_sets(placement=placement), many=True).data)

    @extend_schema(
        summary="Change who pays from a date (councils; the `contracts` scope)",
        description=(
            "The shares apply from `effective_from` until the next change already recorded, and must add up "
            "to the weekly fee on each of those days; the agreement gets a new version."
        ),
        tags=["funding"],
        request=FundingChangeInput,
        responses={201: ShareSetOutput(many=True), **FUNDING_PROBLEMS},
    )
    def post(self, request, pk: int):
        placement = _placement_for(request, pk)
        data = FundingChangeInput(data=request.data)
        data.is_valid(raise_exception=True)
        shares = [
            Share(
                payer_type=s["payer_type"],
                weekly_amount=s["weekly_amount"],
                route=s["route"],
                payer_organisation_id=s["payer_organisation"],
                payer_name=s["payer_name"],
            )
            for s in data.validated_data["shares"]
        ]
        sets = funding_shares_change(
            placement=placement,
            effective_from=data.validated_data["effective_from"],
            shares=shares,
            reason=data.validated_data["reason"],
            by=request.user,
        )
        return created(
            ShareSetOutput(sets, many=True).data,
            location=request.build_absolute_uri(reverse("api-placement-funding", args=[placement.pk])),
        )


class TopUpAgreementInput(serializers.Serializer):
    payer_name = serializers.CharField(max_length=200)
    relationship = serializers.CharField(max_length=100)
    weekly_amount = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0.01"))
    starts_on = serializers.DateField()
    signed_via = serializers.ChoiceField(choices=TopUpAgreement.SignedVia.choices)
    signed_on = serializers.DateField()
    affordability_confirmed = serializers.BooleanField(
        help_text="The broker checked the payer can afford the top-up for the length of the stay."
    )
    affordability_note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class TopUpAgreementOutput(serializers.ModelSerializer):
    class Meta:
        model = TopUpAgreement
        fields = [
            "id",
            "request",
            "placement",
            "payer_name",
            "relationship",
            "weekly_amount",
            "starts_on",
            "signed_via",
            "signed_on",
            "affordability_confirmed",
            "recorded_at",
            "stopped_on",
        ]


@extend_schema(
    summary="Record a top-up agreement for a placement request (brokers)",
    description=(
        "An award whose fee is above the council's maximum rate is refused until the third party's signed "
        "agreement to pay the difference is recorded, with the broker's affordability check."
    ),
    tags=["funding"],
    request=TopUpAgreementInput,
    responses={201: TopUpAgreementOutput, **FUNDING_PROBLEMS},
)
class TopUpAgreementApi(APIView):
    permission_classes = [IsBroker, HasScope]
    required_scope = ApiClient.Scope.PLACEMENT_REQUESTS

    def post(self, request, pk: int):
        placement_request = placement_request_get(actor=request.user, pk=pk)
        data = TopUpAgreementInput(data=request.data)
        data.is_valid(raise_exception=True)
        agreement = top_up_agreement_record(request=placement_request, by=request.user, **data.validated_data)
        return created(
            TopUpAgreementOutput(agreement).data,
            location=request.build_absolute_uri(reverse("api-placement-request", args=[placement_request.pk])),
        )


class FncRateOutput(serializers.ModelSerializer):
    class Meta:
        model = FncRate
        fields = ["effective_from", "weekly_rate", "note"]


@extend_schema(
    summary="The national NHS-funded nursing care rates",
    description="Each weekly rate applies from its date until the next; nursing placements' FNC shares follow.",
    tags=["funding"],
    responses={200: FncRateOutput(many=True), 403: FUNDING_PROBLEMS[403]},
)
class FncRateListApi(ListAPIView):
    permission_classes = [IsAnyRole, HasScope]
    serializer_class = FncRateOutput
    pagination_class = None

    def get_queryset(self):
        return fnc_rate_list()


# Absences, deaths and outcome payments -------------------------------------------------------

PAYER_PROBLEMS = {
    **FUNDING_PROBLEMS,
    409: OpenApiResponse(description="It conflicts with what is recorded (an overlapping absence, a second death)."),
}


class AbsenceOutput(serializers.ModelSerializer):
    class Meta:
        model = Absence
        fields = ["id", "kind", "starts_on", "ends_on", "note", "recorded_at"]


class AbsenceInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Absence.Kind.choices, default=Absence.Kind.HOSPITAL)
    starts_on = serializers.DateField(help_text="The first day away.")
    ends_on = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="The last day away; leave out while still away."
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class AbsenceEndInput(serializers.Serializer):
    ends_on = serializers.DateField(help_text="The last day away.")


class DeathInput(serializers.Serializer):
    died_on = serializers.DateField()


class DeathOutput(serializers.ModelSerializer):
    paid_until = serializers.SerializerMethodField(help_text="The last day paid, as the body's rules say.")

    class Meta:
        model = Death
        fields = ["died_on", "recorded_at", "paid_until"]

    def get_paid_until(self, death) -> dt.date:
        return death_paid_until(death, payment_rules_for(death.placement.commissioner_id))


class OutcomePaymentOutput(serializers.ModelSerializer):
    description = serializers.CharField(source="rule.description")

    class Meta:
        model = OutcomePayment
        fields = ["id", "description", "outcome", "outcome_on", "amount", "due_on"]


class PlacementAbsencesApi(APIView):
    """A placement's absences from the home."""

    permission_classes = [IsAnyRoleCouncilWrites, HasScope]
    required_scope = ApiClient.Scope.CONTRACTS

    @extend_schema(
        summary="A placement's absences from the home",
        description="Each absence's days are paid under the commissioning body's payment rules.",
        tags=["funding"],
        responses={200: AbsenceOutput(many=True), **FUNDING_PROBLEMS},
    )
    def get(self, request, pk: int):
        return Response(AbsenceOutput(absence_list(placement=_placement_for(request, pk)), many=True).data)

    @extend_schema(
        summary="Record an absence from the home (councils; the `contracts` scope)",
        description=(
            "A temporary absence such as a hospital admission, while the person is placed; it may not overlap "
            "another. The body's rules pay the full fee for its first weeks, then a percentage."
        ),
        tags=["funding"],
        request=AbsenceInput,
        responses={201: AbsenceOutput, **PAYER_PROBLEMS},
    )
    def post(self, request, pk: int):
        placement = _placement_for(request, pk)
        data = AbsenceInput(data=request.data)
        data.is_valid(raise_exception=True)
        absence = absence_record(placement=placement, by=request.user, **data.validated_data)
        return created(
            AbsenceOutput(absence).data,
            location=request.build_absolute_uri(reverse("api-placement-absences", args=[placement.pk])),
        )


@extend_schema(
    summary="Record the return from an absence (councils; the `contracts` scope)",
    description="The absence's last day away; recording it again corrects it.",
    tags=["funding"],
    request=AbsenceEndInput,
    responses={200: AbsenceOutput, **FUNDING_PROBLEMS},
)
class PlacementAbsenceEndApi(APIView):
    permission_classes = [IsCouncilUser, HasScope]
    required_scope = ApiClient.Scope.CONTRACTS

    def post(self, request, pk: int, absence_pk: int):
        absence = absence_get(placement=_placement_for(request, pk), pk=absence_pk)
        data = AbsenceEndInput(data=request.data)
        data.is_valid(raise_exception=True)
        absence = absence_end(absence=absence, by=request.user, **data.validated_data)
        return Response(AbsenceOutput(absence).data)


@extend_schema(
    summary="Record a resident's death (councils; the `contracts` scope)",
    description=(
        "The placement ends on the day of death and is paid on for the days the commissioning body's "
        "rules say; the agreement gets a new version. Recorded once."
    ),
    tags=["funding"],
    request=DeathInput,
    responses={201: DeathOutput, **PAYER_PROBLEMS},
)
class PlacementDeathApi(APIView):
    permission_classes = [IsCouncilUser, HasScope]
    required_scope = ApiClient.Scope.CONTRACTS

    def post(self, request, pk: int):
        placement = _placement_for(request, pk)
        data = DeathInput(data=request.data)
        data.is_valid(raise_exception=True)
        death = death_record(placement=placement, by=request.user, **data.validated_data)
        return created(
            DeathOutput(death).data,
            location=request.build_absolute_uri(reverse("api-placement-absences", args=[placement.pk])),
        )


@extend_schema(
    summary="A placement's outcome payments",
    description="What the placement's recorded outcomes earned under its body's outcome payment rules.",
    tags=["funding"],
    responses={200: OutcomePaymentOutput(many=True), **FUNDING_PROBLEMS},
)
class PlacementOutcomePaymentsApi(ListAPIView):
    permission_classes = [IsAnyRole, HasScope]
    serializer_class = OutcomePaymentOutput
    pagination_class = None
    queryset = OutcomePayment.objects.none()  # the schema's model; `get_queryset` scopes the rows

    def get_queryset(self):
        return outcome_payment_list(placement=_placement_for(self.request, self.kwargs["pk"]))
