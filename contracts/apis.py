"""API: payment schedules and service agreements, each scoped to the caller's organisation."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from organisations.api_permissions import HasScope, IsAnyRole

from .models import ServiceAgreement
from .payments import payment_schedule_for, period_parse
from .selectors import agreement_get, agreement_list

MONEY = {"max_digits": 12, "decimal_places": 2}


class _TotalsOutput(serializers.Serializer):
    council = serializers.DecimalField(**MONEY)
    top_up = serializers.DecimalField(**MONEY)
    gross = serializers.DecimalField(**MONEY)


class _LineOutput(serializers.Serializer):
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
    note = serializers.CharField()


class _RemittanceOutput(serializers.Serializer):
    commissioner = serializers.CharField(source="commissioner.name")
    provider = serializers.CharField(source="provider.name")
    provider_cqc_id = serializers.CharField(source="provider.cqc_provider_id")
    totals = _TotalsOutput()
    lines = _LineOutput(many=True)


class _PeriodOutput(serializers.Serializer):
    label = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    days = serializers.IntegerField()


class PaymentScheduleOutput(serializers.Serializer):
    period = _PeriodOutput()
    totals = _TotalsOutput()
    remittances = _RemittanceOutput(many=True)


class PaymentScheduleApi(APIView):
    permission_classes = [IsAnyRole, HasScope]

    @extend_schema(
        summary="The payment schedule for a period",
        description=(
            "A council sees what it owes each provider; a provider sees only its own lines, from every "
            "council. Each line is the days one weekly fee was in force, paid at weekly / 7 a day, "
            "rounded to the penny per line; totals are sums of lines."
        ),
        tags=["payments"],
        parameters=[
            OpenApiParameter(
                "period",
                OpenApiTypes.STR,
                required=True,
                description="An ISO week (2026-W15) or four weeks from one (2026-W15/4).",
            )
        ],
        responses={
            200: PaymentScheduleOutput,
            400: OpenApiResponse(description="The period is missing or not an ISO week."),
            403: OpenApiResponse(description="Not a council or provider user, or the client lacks the read scope."),
        },
    )
    def get(self, request):
        period = period_parse(request.query_params.get("period", ""))
        schedule = payment_schedule_for(actor=request.user, period=period)
        return Response(PaymentScheduleOutput(schedule).data)


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
    summary="One service agreement version",
    tags=["agreements"],
    responses={
        200: ServiceAgreementOutput,
        403: OpenApiResponse(description="Not allowed."),
        404: OpenApiResponse(description="No such agreement, or not yours."),
    },
)
class ServiceAgreementDetailApi(RetrieveAPIView):
    permission_classes = [IsAnyRole, HasScope]
    serializer_class = ServiceAgreementOutput

    def get_object(self):
        return agreement_get(actor=self.request.user, pk=self.kwargs["pk"])
