from django.apps import AppConfig


class PlacementsConfig(AppConfig):
    name = "placements"

    def ready(self) -> None:
        from . import audit_labels  # noqa: F401  (the audit verbs' words)
