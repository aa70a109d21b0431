"""CQC ratings of care homes, with their history."""

from django.db import models

# The scale is providers' (it shows and searches homes by it); named here too for quality's callers.
from providers.ratings import KEY_QUESTIONS as KEY_QUESTIONS
from providers.ratings import RatingSource, RatingValue


def _rating_field(label: str) -> models.CharField:
    return models.CharField(label, max_length=30, choices=RatingValue.choices, default=RatingValue.NOT_RATED)


class Rating(models.Model):
    """One published CQC assessment of a home. New ratings add rows; old rows stay."""

    Source = RatingSource

    care_home = models.ForeignKey("providers.CareHome", on_delete=models.CASCADE, related_name="ratings")
    overall = _rating_field("Overall")
    safe = _rating_field("Safe")
    effective = _rating_field("Effective")
    caring = _rating_field("Caring")
    responsive = _rating_field("Responsive")
    well_led = _rating_field("Well-led")
    report_date = models.DateField(null=True, blank=True, help_text="Date the CQC published the report.")
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.MANUAL)
    recorded_by = models.ForeignKey(
        "organisations.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-report_date", "-recorded_at"]
        indexes = [models.Index(fields=["care_home", "-recorded_at"])]
        permissions = [("enter_rating", "Can enter a CQC rating by hand, as the CQC published it")]

    def __str__(self) -> str:
        return f"{self.care_home}: {self.overall} ({self.report_date or 'no date'})"

    def key_questions(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in KEY_QUESTIONS}
