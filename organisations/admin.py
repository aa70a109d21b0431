from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from core.admin import SealedValuesAdmin

from .models import ApiClient, Organisation, User


@admin.register(Organisation)
class OrganisationAdmin(SealedValuesAdmin, admin.ModelAdmin):
    list_display = ["name", "kind", "slug", "cqc_provider_id", "local_authority", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "slug", "cqc_provider_id"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["refers_to"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "organisation", "role", "is_staff", "is_active"]
    list_filter = ["role", "is_staff", "is_active", "organisation__kind"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["first_name", "last_name"]}),
        ("Organisation", {"fields": ["organisation", "role", "is_service_account"]}),
        ("Back office", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    # Recorded by the service, not typed in (and Django's split date and time boxes have no labels).
    readonly_fields = ["last_login", "date_joined"]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "organisation", "role", "password1", "password2"]})
    ]


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "key_id", "scopes", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["organisation"]
    readonly_fields = ["key_id", "secret_hash", "user", "created_by", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        # Secrets are shown once by the create_api_client command or the client page.
        return False
