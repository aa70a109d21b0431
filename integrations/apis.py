"""API: webhook subscriptions and their delivery log, and the OCDS release package."""

from datetime import UTC, datetime, time

from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import DefaultCursorPagination, created
from core.dates import date_filter_check
from organisations.api_permissions import HasScope
from organisations.models import ApiClient, Role

from . import ocds
from .models import WebhookAttempt, WebhookDelivery, WebhookEvent, WebhookSubscription
from .permissions import can_manage_webhooks
from .selectors import (
    webhook_delivery_get,
    webhook_delivery_list,
    webhook_subscription_get,
    webhook_subscription_list,
)
from .services import (
    webhook_delivery_redeliver,
    webhook_subscription_create,
    webhook_subscription_disable,
    webhook_subscription_secret_rotate,
)

BAD_REQUEST = OpenApiResponse(description="Some fields are not valid.")
FORBIDDEN = OpenApiResponse(description="Not allowed for your role or API client scopes.")
NOT_FOUND = OpenApiResponse(description="Unknown, or not your organisation's.")
CONFLICT = OpenApiResponse(description="The object's state does not allow this.")
SIGNING_DESCRIPTION = (
    "Deliveries are POSTed as JSON and signed as the Standard Webhooks specification says: headers "
    "`webhook-id` (the event id, the same on every retry), `webhook-timestamp` (seconds) and "
    "`webhook-signature: v1,<base64>` (space-separated when several), the HMAC-SHA256 of "
    "`<webhook-id>.<webhook-timestamp>.<body>` keyed by the base64-decoded part of the secret after "
    "`whsec_`. Any Standard Webhooks library verifies them. Subscriptions whose `signature_version` "
    "is `legacy` are signed as before until their secret is rotated."
)


class ManagesWebhooks(BasePermission):
    """The same rule as the webhook pages: commissioners, provider users and API clients."""

    message = "Only commissioners, provider users and API clients manage webhooks."

    def roles_for(self, view, method: str) -> tuple[str, ...]:
        return (Role.COMMISSIONER, Role.PROVIDER)

    def has_permission(self, request, view):
        return can_manage_webhooks(request.user)


class _WebhookScope:
    permission_classes = [IsAuthenticated, HasScope, ManagesWebhooks]
    required_scope = ApiClient.Scope.WEBHOOKS
    read_scope = ApiClient.Scope.WEBHOOKS


class WebhookSubscriptionOutput(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.Type.choices))
    is_active = serializers.BooleanField()

    class Meta:
        model = WebhookSubscription
        fields = ["id", "url", "events", "description", "signature_version", "is_active", "created_at", "disabled_at"]


class WebhookSubscriptionCreatedOutput(WebhookSubscriptionOutput):
    secret = serializers.CharField(help_text="Signs every delivery. Shown only in this response.")

    class Meta(WebhookSubscriptionOutput.Meta):
        fields = [*WebhookSubscriptionOutput.Meta.fields, "secret"]


class WebhookSubscriptionInput(serializers.Serializer):
    url = serializers.URLField(max_length=500)
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.Type.choices), min_length=1)
    description = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class WebhookSubscriptionListCreateApi(_WebhookScope, ListAPIView):
    serializer_class = WebhookSubscriptionOutput
    queryset = WebhookSubscription.objects.none()

    def get_queryset(self):
        return webhook_subscription_list(actor=self.request.user)

    @extend_schema(summary="Your organisation's webhook subscriptions", tags=["webhooks"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Subscribe to events",
        description=SIGNING_DESCRIPTION,
        tags=["webhooks"],
        request=WebhookSubscriptionInput,
        responses={201: WebhookSubscriptionCreatedOutput, 400: BAD_REQUEST, 403: FORBIDDEN},
        examples=[
            OpenApiExample(
                "Hear about awards",
                value={"url": "https://case-system.example.org/hooks/placements", "events": ["tender.awarded"]},
                request_only=True,
            )
        ],
    )
    def post(self, request):
        data = WebhookSubscriptionInput(data=request.data)
        data.is_valid(raise_exception=True)
        subscription, secret = webhook_subscription_create(actor=request.user, **data.validated_data)
        subscription.secret = secret
        return created(
            WebhookSubscriptionCreatedOutput(subscription).data,
            location=request.build_absolute_uri(reverse("api-webhook-subscription", args=[subscription.pk])),
        )


class WebhookSubscriptionRotateSecretApi(_WebhookScope, APIView):
    @extend_schema(
        summary="Rotate the signing secret",
        description="Returns a new secret (shown only in this response) and moves a legacy subscription to "
        "Standard Webhooks signatures. A standard subscription's deliveries carry a signature by the old "
        "secret too for 24 hours, so the receiver can switch without rejecting any.",
        tags=["webhooks"],
        request=None,
        responses={200: WebhookSubscriptionCreatedOutput, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT},
    )
    def post(self, request, pk: int):
        subscription = webhook_subscription_get(actor=request.user, pk=pk)
        # The service sets the new secret on the subscription; the output shows it this once.
        subscription, _ = webhook_subscription_secret_rotate(actor=request.user, subscription=subscription)
        return Response(WebhookSubscriptionCreatedOutput(subscription).data)


class WebhookSubscriptionDetailApi(_WebhookScope, APIView):
    @extend_schema(
        summary="One webhook subscription",
        tags=["webhooks"],
        responses={200: WebhookSubscriptionOutput, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def get(self, request, pk: int):
        return Response(WebhookSubscriptionOutput(webhook_subscription_get(actor=request.user, pk=pk)).data)

    @extend_schema(
        summary="Switch a subscription off",
        tags=["webhooks"],
        responses={204: None, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT},
    )
    def delete(self, request, pk: int):
        subscription = webhook_subscription_get(actor=request.user, pk=pk)
        webhook_subscription_disable(actor=request.user, subscription=subscription)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookAttemptOutput(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["number", "manual", "status_code", "error", "succeeded", "duration_ms", "attempted_at"]


class WebhookDeliveryOutput(serializers.ModelSerializer):
    event_id = serializers.IntegerField()
    event_type = serializers.CharField(source="event.type")
    subscription_id = serializers.IntegerField()

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "event_type",
            "subscription_id",
            "status",
            "attempt_count",
            "next_attempt_at",
            "delivered_at",
            "created_at",
        ]


class WebhookDeliveryDetailOutput(WebhookDeliveryOutput):
    attempts = WebhookAttemptOutput(many=True)
    payload = serializers.JSONField(source="event.payload")

    class Meta(WebhookDeliveryOutput.Meta):
        fields = [*WebhookDeliveryOutput.Meta.fields, "payload", "attempts"]


class WebhookDeliveryFilter(serializers.Serializer):
    subscription = serializers.IntegerField(required=False, min_value=1)


class WebhookDeliveryListApi(_WebhookScope, ListAPIView):
    serializer_class = WebhookDeliveryOutput
    queryset = WebhookDelivery.objects.none()

    def get_queryset(self):
        query = WebhookDeliveryFilter(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        subscription_id = query.validated_data.get("subscription")
        subscription = (
            webhook_subscription_get(actor=self.request.user, pk=subscription_id) if subscription_id else None
        )
        return webhook_delivery_list(actor=self.request.user, subscription=subscription)

    @extend_schema(
        summary="The delivery log",
        tags=["webhooks"],
        parameters=[WebhookDeliveryFilter],
        responses={200: WebhookDeliveryOutput(many=True), 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class WebhookDeliveryDetailApi(_WebhookScope, APIView):
    @extend_schema(
        summary="One delivery with its attempts",
        tags=["webhooks"],
        responses={200: WebhookDeliveryDetailOutput, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def get(self, request, pk: int):
        return Response(WebhookDeliveryDetailOutput(webhook_delivery_get(actor=request.user, pk=pk)).data)


class WebhookDeliveryRedeliverApi(_WebhookScope, APIView):
    @extend_schema(
        summary="Send a finished delivery again",
        tags=["webhooks"],
        request=None,
        responses={202: WebhookDeliveryOutput, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT},
    )
    def post(self, request, pk: int):
        delivery = webhook_delivery_get(actor=request.user, pk=pk)
        delivery = webhook_delivery_redeliver(actor=request.user, delivery=delivery)
        return Response(WebhookDeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)


def parse_moment(value: str, *, field: str):
    """An ISO 8601 date (midnight, local time) or date-time."""
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise serializers.ValidationError({field: ["Enter an ISO 8601 date or date-time."]})
        moment = timezone.make_aware(datetime.combine(day, time.min))
    elif timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    # The database takes offsets up to 15 hours only; UTC is the same instant.
    return moment.astimezone(UTC)


class OcdsPagination(DefaultCursorPagination):
    """Packages of releases, a page of tenders each, in the order they were first published."""

    ordering = "id"


class OcdsQuery(serializers.Serializer):
    # `from` is a Python keyword: the field is named in the schema through the parameters below.
    def validate(self, attrs):
        params = self.initial_data
        for name in ("from", "to"):
            value = params.get(name)
            try:
                attrs[name] = parse_moment(value, field=name) if value else None
            except (ValueError, OverflowError) as error:
                raise serializers.ValidationError({name: ["Enter an ISO 8601 date or date-time."]}) from error
        date_filter_check({"from": attrs["from"], "to": attrs["to"]}, range_of=("from", "to"))
        return attrs


OCDS_RELEASE_PACKAGE = inline_serializer(
    "OcdsReleasePackage",
    {
        "uri": serializers.URLField(),
        "version": serializers.CharField(help_text="The OCDS version, 1.1"),
        "extensions": serializers.ListField(
            child=serializers.URLField(), help_text="The extensions' metadata files, which the releases use"
        ),
        "publishedDate": serializers.DateTimeField(),
        "publisher": inline_serializer("OcdsPublisher", {"name": serializers.CharField()}),
        "license": serializers.URLField(),
        "publicationPolicy": serializers.URLField(),
        "releases": inline_serializer(
            "OcdsRelease",
            {
                "ocid": serializers.CharField(help_text="The contracting process: one per placement request"),
                "id": serializers.CharField(help_text="Never changes once published"),
                "date": serializers.DateTimeField(),
                "tag": serializers.ListField(child=serializers.CharField()),
                "initiationType": serializers.CharField(),
            },
            help_text="An OCDS 1.1 release: the fields named here, and the rest of the release schema "
            "(parties, buyer, tender, awards, contracts) with the declared extensions.",
            many=True,
        ),
        "links": inline_serializer(
            "OcdsLinks",
            {
                "next": serializers.URLField(help_text="The next package of this window", required=False),
                "prev": serializers.URLField(help_text="The previous package of this window", required=False),
            },
            required=False,
        ),
    },
)


class OcdsReleasePackageApi(APIView):
    """Open data: anyone may read it, so it is served without sign-in."""

    permission_classes = [AllowAny]

    @extend_schema(
        summary="OCDS 1.1 release package of tenders, awards and contracts",
        description="One release per event of each placement request's contracting process (tender "
        "published, closed or cancelled; award; contract signed when the provider accepts its agreement, "
        "amended at a fee change, terminated), dated in [from, to); release ids never change. The person "
        "is never named and the case reference is not published. Follow `links.next` when the window "
        "holds more tenders than one package.",
        tags=["open data"],
        auth=[],
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATETIME, description="Earliest release date (inclusive)."),
            OpenApiParameter("to", OpenApiTypes.DATETIME, description="Latest release date (exclusive)."),
            OpenApiParameter("cursor", OpenApiTypes.STR, description=OcdsPagination.cursor_query_description),
            OpenApiParameter(
                "page_size",
                OpenApiTypes.INT,
                description="How many tenders' releases a package holds: 1 to 200, 50 when not given.",
            ),
        ],
        responses={200: OCDS_RELEASE_PACKAGE, 400: BAD_REQUEST},
    )
    def get(self, request):
        query = OcdsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        window = query.validated_data
        tenders = ocds.tenders_for_publication(released_from=window["from"], released_to=window["to"])
        # The API's one pagination style, by tender: OCDS packages carry the links as `links`.
        paginator = OcdsPagination()
        page = paginator.paginate_queryset(tenders, request, view=self)
        package = ocds.release_package(
            releases=[
                release
                for tender in page
                for release in ocds.releases_in_window(tender, released_from=window["from"], released_to=window["to"])
            ],
            uri=request.build_absolute_uri(),
            next_uri=paginator.get_next_link() or "",
            prev_uri=paginator.get_previous_link() or "",
        )
        return Response(package)
