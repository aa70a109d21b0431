from django.apps import AppConfig


class BlockbedsConfig(AppConfig):
    name = "blockbeds"
