from django.urls import path

from . import views

app_name = "integrations"

urlpatterns = [
    path("integrations/api-clients/", views.api_client_list_page, name="api_clients"),
    path("integrations/api-clients/new/", views.api_client_create_page, name="api_client_create"),
    path("integrations/api-clients/<int:pk>/revoke/", views.api_client_revoke_page, name="api_client_revoke"),
    path("integrations/webhooks/", views.webhook_list_page, name="webhooks"),
    path("integrations/webhooks/new/", views.webhook_create_page, name="webhook_create"),
    path("integrations/webhooks/<int:pk>/", views.webhook_detail_page, name="webhook_detail"),
    path("integrations/webhooks/<int:pk>/switch-off/", views.webhook_disable_page, name="webhook_disable"),
    path("integrations/webhooks/<int:pk>/new-secret/", views.webhook_rotate_page, name="webhook_rotate"),
    path("integrations/webhooks/deliveries/<int:pk>/", views.webhook_delivery_page, name="webhook_delivery"),
]
