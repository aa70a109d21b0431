from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "dashboards"

    def ready(self) -> None:
        from . import audit_labels  # noqa: F401  (the audit verbs' words)
