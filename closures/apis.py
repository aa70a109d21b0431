"""API: the closure dashboard, read-only."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView

from organisations.api_permissions import HasScope, IsCouncilUser

from .selectors import home_closure_list

PROBLEM = OpenApiResponse(description="Problem details: not signed in (401), role or scope not allowed (403).")


class HomeClosureOutput(serializers.Serializer):
    id = serializers.IntegerField()
    care_home_id = serializers.IntegerField()
    care_home_name = serializers.CharField(source="care_home.name")
    cqc_location_id = serializers.CharField(source="care_home.cqc_location_id")
    closing_on = serializers.DateField()
    reason = serializers.CharField()
    source = serializers.CharField(help_text="Who said the home is closing: commissioner, provider or cqc.")
    residents_at_start = serializers.IntegerField(help_text="The body's residents on the move plan at the start.")
    residents_remaining = serializers.IntegerField(source="remaining", help_text="Residents not yet moved.")
    moved = serializers.IntegerField()
    requests_open = serializers.IntegerField(help_text="Requests for new homes not yet placed or cancelled.")


@extend_schema(
    summary="Closing homes of the body and each one's progress to no residents left",
    tags=["closures", "dashboards"],
    responses={200: HomeClosureOutput(many=True), 401: PROBLEM, 403: PROBLEM},
)
class HomeClosureListApi(ListAPIView):
    permission_classes = [IsCouncilUser, HasScope]
    serializer_class = HomeClosureOutput

    def get_queryset(self):
        return home_closure_list(actor=self.request.user)
