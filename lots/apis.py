"""API: the lots and the caller's rules for them."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView

from organisations.api_permissions import HasScope, IsCouncilUser

from .models import LotRules
from .selectors import lot_rules_list


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
