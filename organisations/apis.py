"""API: an organisation's API clients (for its people; systems cannot manage credentials)."""

from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import created

from .models import ApiClient, Role
from .permissions import can_manage_api_clients
from .selectors import api_client_get, api_client_list
from .services import api_client_create, api_client_revoke

BAD_REQUEST = OpenApiResponse(description="Some fields are not valid.")
FORBIDDEN = OpenApiResponse(description="Only commissioners and provider users manage API clients.")
NOT_FOUND = OpenApiResponse(description="Unknown, or not your organisation's.")
CONFLICT = OpenApiResponse(description="Already revoked.")


class CanManageApiClients(BasePermission):
    message = "Only commissioners and provider users manage API clients."

    def roles_for(self, view, method: str) -> tuple[str, ...]:
        return (Role.COMMISSIONER, Role.PROVIDER)

    def scope_for(self, view, method: str) -> None:
        """No scope lets a system manage credentials."""
        return None

    def has_permission(self, request, view):
        return can_manage_api_clients(request.user)


class ApiClientOutput(serializers.ModelSerializer):
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=ApiClient.Scope.choices))

    class Meta:
        model = ApiClient
        fields = ["id", "name", "key_id", "scopes", "created_at", "last_used_at", "revoked_at"]


class ApiClientCreatedOutput(ApiClientOutput):
    token = serializers.CharField(help_text="Send as `Authorization: Bearer <token>`. Shown only in this response.")

    class Meta(ApiClientOutput.Meta):
        fields = [*ApiClientOutput.Meta.fields, "token"]


class ApiClientInput(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=ApiClient.Scope.choices), min_length=1)


class ApiClientListCreateApi(ListAPIView):
    permission_classes = [IsAuthenticated, CanManageApiClients]
    serializer_class = ApiClientOutput
    queryset = ApiClient.objects.none()

    def get_queryset(self):
        return api_client_list(actor=self.request.user)

    @extend_schema(summary="Your organisation's API clients", tags=["api clients"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Register a system and get its token",
        tags=["api clients"],
        request=ApiClientInput,
        responses={201: ApiClientCreatedOutput, 400: BAD_REQUEST, 403: FORBIDDEN},
        examples=[
            OpenApiExample(
                "A case system",
                value={"name": "Mosaic case system", "scopes": ["read", "placement-requests", "webhooks"]},
                request_only=True,
            )
        ],
    )
    def post(self, request):
        data = ApiClientInput(data=request.data)
        data.is_valid(raise_exception=True)
        client, token = api_client_create(
            organisation=request.user.organisation,
            name=data.validated_data["name"],
            scopes=data.validated_data["scopes"],
            actor=request.user,
        )
        client.token = token
        # The token is shown once: no cache, and no stored copy for idempotent replays.
        # There is no address of one client: Location names the list it joined.
        return created(
            ApiClientCreatedOutput(client).data,
            location=request.build_absolute_uri(reverse("api-api-clients")),
            headers={"Cache-Control": "no-store"},
        )


class ApiClientRevokeApi(APIView):
    permission_classes = [IsAuthenticated, CanManageApiClients]

    @extend_schema(
        summary="Revoke an API client (its token is refused at once)",
        tags=["api clients"],
        request=None,
        responses={200: ApiClientOutput, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT},
    )
    def post(self, request, pk: int):
        client = api_client_revoke(client=api_client_get(actor=request.user, pk=pk), actor=request.user)
        return Response(ApiClientOutput(client).data)
