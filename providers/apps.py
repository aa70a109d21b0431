from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "providers"

    def ready(self) -> None:
        from . import audit_labels, todo  # noqa: F401  (the commissioner's home page's to-do items; the
        # audit verbs' words)
