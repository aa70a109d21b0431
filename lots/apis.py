"""API: the lots and the caller's rules for them."""

from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny

from organisations.api_permissions import HasScope, IsCouncilUser

from .models import DpsAgreement, DpsNotice, LotRules
from .selectors import dps_agreement_list, lot_rules_list


class LotRulesOutput(serializers.ModelSerializer):
    number = serializers.IntegerField(source="lot.number")
    name = serializers.CharField(source="lot.name")
    setting = serializers.CharField(source="lot.setting")
    client_group = serializers.CharField(source="lot.client_group")

    class Meta:
        model = LotRules
        fields = [
            "number",
            "name",
            "setting",
            "client_group",
            "target_days",
            "quality_weight",
            "price_weight",
            "guide_weekly_fee",
            "default_window_hours",
            "min_window_hours",
            "max_window_hours",
            "not_yet_rated_score",
            "admission_mode",
        ]


@extend_schema(summary="The ten lots with your organisation's rules", tags=["lots"])
class LotListApi(ListAPIView):
    permission_classes = [IsCouncilUser, HasScope]
    serializer_class = LotRulesOutput
    pagination_class = None

    def get_queryset(self):
        return lot_rules_list(actor=self.request.user)


class DpsExtensionOptionOutput(serializers.Serializer):
    months = serializers.IntegerField()
    decide_by = serializers.DateField()
    exercised = serializers.SerializerMethodField()

    @extend_schema_field(
        inline_serializer(
            "DpsExtensionExercised",
            fields={
                "decision_reference": serializers.CharField(),
                "decided_on": serializers.DateField(),
                "new_ends_on": serializers.DateField(),
            },
            allow_null=True,
        )
    )
    def get_exercised(self, option) -> dict | None:
        extension = getattr(option, "exercised", None)
        if extension is None:
            return None
        return {
            "decision_reference": extension.decision_reference,
            "decided_on": extension.decided_on,
            "new_ends_on": extension.new_ends_on,
        }


class DpsNoticeOutput(serializers.ModelSerializer):
    class Meta:
        model = DpsNotice
        fields = ["kind", "reference", "url", "published_on"]


class DpsAgreementOutput(serializers.ModelSerializer):
    commissioner = serializers.CharField(source="commissioner.name")
    commissioner_slug = serializers.CharField(source="commissioner.slug")
    current_ends_on = serializers.DateField(help_text="The end of the term with every exercised extension.")
    lots = serializers.SerializerMethodField(help_text="Lot numbers covered; empty: all ten.")
    extension_options = DpsExtensionOptionOutput(many=True)
    notices = DpsNoticeOutput(many=True)

    class Meta:
        model = DpsAgreement
        fields = [
            "id",
            "commissioner",
            "commissioner_slug",
            "title",
            "reference",
            "procurement_regime",
            "starts_on",
            "ends_on",
            "current_ends_on",
            "maximum_term_ends_on",
            "lots",
            "extension_options",
            "notices",
        ]

    def get_lots(self, agreement) -> list[int]:
        return [lot.number for lot in agreement.lots.all()]


@extend_schema(
    summary="Every body's DPS: its term, extensions, lots and notices",
    description="Public: applications and call-offs are accepted only within a body's term "
    "(`starts_on` to `current_ends_on`).",
    tags=["lots"],
    auth=[],
)
class DpsAgreementListApi(ListAPIView):
    """Open data: a DPS and its notices are public, so anyone may read them."""

    permission_classes = [AllowAny]
    serializer_class = DpsAgreementOutput
    pagination_class = None

    def get_queryset(self):
        return dps_agreement_list()
