from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "contracts"
    verbose_name = "Contracts and payments"

    def ready(self) -> None:
        from . import signals, todo  # noqa: F401  (connects the receivers and the home page's to-do items)
