"""The filters above the agreement, uplift and payment lists."""

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from core.lists import ListFilterForm

from .models import ServiceAgreement, Uplift
from .payments import PaymentSchedule, Totals

AGREEMENT_STATUSES = [
    ("", "All"),
    ("awaiting", "Waiting for the provider to accept"),
    ("accepted", "Accepted"),
    ("ended", "Ended"),
]


class AgreementFilterForm(ListFilterForm):
    status = forms.ChoiceField(label="Status", choices=AGREEMENT_STATUSES)
    care_home = forms.CharField(label="Care home name contains", max_length=100)


def agreements_filter(rows: QuerySet[ServiceAgreement], *, status: str = "", care_home: str = ""):
    if status == "awaiting":
        rows = rows.filter(accepted_at__isnull=True)
    elif status == "accepted":
        rows = rows.filter(accepted_at__isnull=False)
    elif status == "ended":
        rows = rows.filter(end_date__lt=timezone.localdate())
    if care_home:
        rows = rows.filter(care_home_name__icontains=care_home)
    return rows


class UpliftFilterForm(ListFilterForm):
    status = forms.ChoiceField(label="Status", choices=[("", "All"), *Uplift.Status.choices])


class PaymentFilterForm(ListFilterForm):
    """Narrows a period's schedule to one counterparty and to homes whose name contains a text."""

    counterparty = forms.TypedChoiceField(label="Provider", coerce=int, choices=[("", "All")])
    care_home = forms.CharField(label="Care home name contains", max_length=100)

    def __init__(self, data=None, *args, schedule: PaymentSchedule, provider_view: bool, **kwargs):
        super().__init__(data, *args, **kwargs)
        field = self.fields["counterparty"]
        parties = {}
        for remittance in schedule.remittances:
            party = remittance.commissioner if provider_view else remittance.provider
            parties[party.pk] = party.name
        field.label = "Commissioning body" if provider_view else "Provider"
        field.choices = [("", "All"), *sorted(parties.items(), key=lambda item: item[1])]


def payment_schedule_narrow(
    schedule: PaymentSchedule, *, provider_view: bool, counterparty: int | None = None, care_home: str = ""
) -> PaymentSchedule:
    """The schedule's lines for one counterparty and homes whose name contains `care_home`, with
    every total worked out again from the lines kept, so the narrowed totals still reconcile."""
    narrowed = PaymentSchedule(schedule.period)
    needle = care_home.casefold()
    for remittance in schedule.remittances:
        party = remittance.commissioner if provider_view else remittance.provider
        if counterparty is not None and party.pk != counterparty:
            continue
        lines = [line for line in remittance.lines if needle in line.care_home.name.casefold()]
        if not lines:
            continue
        kept = type(remittance)(remittance.commissioner, remittance.provider, lines, Totals())
        for line in lines:
            kept.totals.add(line)
            narrowed.totals.add(line)
        narrowed.remittances.append(kept)
    return narrowed
