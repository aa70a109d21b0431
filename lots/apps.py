from django.apps import AppConfig


class LotsConfig(AppConfig):
    name = "lots"
