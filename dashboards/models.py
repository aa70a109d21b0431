"""Commissioner dashboards and reporting.

`TimelinessMonth` keeps the timeliness figures (Table 2) per body, month and lot, so the dashboard
reads a few hundred rows instead of aggregating a million placements. PostgreSQL triggers on the
placements table keep it in step with every insert, change and delete in the same transaction,
whichever service (or import) writes the placement. They run once per statement, not per row:
each nets the statement's rows by body, month and lot and updates each group once, so a bulk
write of a million placements makes a few hundred updates here.
"""

from django.db import models


class TimelinessMonth(models.Model):
    commissioner = models.ForeignKey("organisations.Organisation", on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text="First day of the month, Europe/London.")
    lot = models.ForeignKey("lots.Lot", on_delete=models.PROTECT, related_name="+")
    sourced = models.IntegerField(default=0)
    within_target = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["commissioner", "month", "lot"], name="timeliness_month_one_per_lot"),
        ]

    def __str__(self) -> str:
        return f"{self.commissioner_id} {self.month:%Y-%m} lot {self.lot_id}: {self.within_target}/{self.sourced}"
