from django.urls import path

from organisations.apis import ApiClientListCreateApi, ApiClientRevokeApi

from . import apis

urlpatterns = [
    path("api-clients/", ApiClientListCreateApi.as_view(), name="api-api-clients"),
    path("api-clients/<int:pk>/revoke/", ApiClientRevokeApi.as_view(), name="api-api-client-revoke"),
    path("webhooks/subscriptions/", apis.WebhookSubscriptionListCreateApi.as_view(), name="api-webhook-subscriptions"),
    path(
        "webhooks/subscriptions/<int:pk>/",
        apis.WebhookSubscriptionDetailApi.as_view(),
        name="api-webhook-subscription",
    ),
    path(
        "webhooks/subscriptions/<int:pk>/rotate-secret/",
        apis.WebhookSubscriptionRotateSecretApi.as_view(),
        name="api-webhook-subscription-rotate-secret",
    ),
    path("webhooks/deliveries/", apis.WebhookDeliveryListApi.as_view(), name="api-webhook-deliveries"),
    path("webhooks/deliveries/<int:pk>/", apis.WebhookDeliveryDetailApi.as_view(), name="api-webhook-delivery"),
    path(
        "webhooks/deliveries/<int:pk>/redeliver/",
        apis.WebhookDeliveryRedeliverApi.as_view(),
        name="api-webhook-delivery-redeliver",
    ),
    path("ocds/releases/", apis.OcdsReleasePackageApi.as_view(), name="api-ocds-releases"),
]
