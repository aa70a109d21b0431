from django.apps import AppConfig


class BiddingConfig(AppConfig):
    name = "bidding"

    def ready(self) -> None:
        from . import audit_labels, receivers, todo  # noqa: F401  (registers bidding's part in other apps' work)
