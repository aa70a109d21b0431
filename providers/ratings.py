"""The CQC's rating scale and its five key questions: how care homes are shown, searched, admitted
and scored. Here, below quality, because every app that shows a home reads its current rating;
quality records the ratings themselves."""

from django.db import models


class RatingValue(models.TextChoices):
    OUTSTANDING = "Outstanding", "Outstanding"
    GOOD = "Good", "Good"
    REQUIRES_IMPROVEMENT = "Requires improvement", "Requires improvement"
    INADEQUATE = "Inadequate", "Inadequate"
    NOT_RATED = "Not yet rated", "Not yet rated"


KEY_QUESTIONS = ("safe", "effective", "caring", "responsive", "well_led")


class RatingSource(models.TextChoices):
    """Where a recorded rating came from."""

    CQC_API = "cqc_api", "CQC API"
    CQC_DIRECTORY = "cqc_directory", "CQC care directory"
    # Back-office staff entering the CQC's published report while the import lags.
    MANUAL = "manual", "Entered by hand"
