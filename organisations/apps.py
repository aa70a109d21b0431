from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "organisations"

    def ready(self):
        from . import schema  # noqa: F401  (registers the OpenAPI authentication scheme)
