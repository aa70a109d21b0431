"""API: payment schedules and service agreements, each scoped to the caller's organisation.

The schedule is JSON in cursor pages of lines, or the whole schedule as CSV with `Accept: text/csv`;
an agreement is JSON, or its PDF with `Accept: application/pdf`, for a bearer token as for a session.
The PDF also has an address of its own, for clients that read one representation per operation (as
clients generated from the schema do).
"""

from django.http import HttpResponse
from django.utils.cache import patch_vary_headers
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from core.api import CsvRenderer, PdfRenderer, SequenceCursorPagination
from core.csv_export import csv_response
from organisations.api_permissions import HasScope, IsAnyRole

from .models import PayerType, Route, ServiceAgreement
from .payments import CSV_HEADER, csv_rows, payment_schedule_for, period_parse
from .pdf import agreement_pdf
from .selectors import agreement_get, agreement_list

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
