"""Settings for benchmark runs: the product's settings plus a minimal endpoint to measure against."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.urls"
