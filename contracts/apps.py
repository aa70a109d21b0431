from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "contracts"
    verbose_name = "Contracts and payments"

    def ready(self) -> None:
        from . import audit_labels, signals, todo  # noqa: F401  (connects the receivers, the home page's to-do
        # items and the timeline's words)
