"""The filters above the provider portal's and the commissioner's lists of homes and applications."""

from django import forms
from django.db.models import QuerySet

from core.lists import ListFilterForm
from lots.models import Lot

from .models import Admission


def _lot_field() -> forms.ModelChoiceField:
    lots = Lot.objects.order_by("number")
    return forms.ModelChoiceField(lots, label="Lot", empty_label="All", to_field_name="number")


class CareHomeNameFilterForm(ListFilterForm):
    care_home = forms.CharField(label="Care home name contains", max_length=100)

    def apply(self, rows: QuerySet, *, home_path: str = "care_home__") -> QuerySet:
        """The rows narrowed by every filter given; `home_path` leads from a row to its care home."""
        filters = self.filters()
        if "care_home" in filters:
            rows = rows.filter(**{f"{home_path}name__icontains": filters["care_home"]})
        if "lot" in filters:
            rows = rows.filter(lot=filters["lot"])
        if "status" in filters:
            rows = rows.filter(status=filters["status"])
        return rows


class AdmissionFilterForm(CareHomeNameFilterForm):
    lot = _lot_field()

    field_order = ["lot", "care_home"]


class MemberFilterForm(AdmissionFilterForm):
    status = forms.ChoiceField(
        label="Status",
        choices=[("", "All"), (Admission.Status.ADMITTED, "Admitted"), (Admission.Status.SUSPENDED, "Suspended")],
    )

    field_order = ["lot", "status", "care_home"]


class ApplicationFilterForm(AdmissionFilterForm):
    status = forms.ChoiceField(label="Status", choices=[("", "All"), *Admission.Status.choices])

    field_order = ["status", "lot", "care_home"]
