"""The filters above the list of block contracts."""

import datetime as dt

from django import forms
from django.db.models import QuerySet

from core.lists import ListFilterForm
from lots.models import Lot

CONTRACT_STATES = [("", "All"), ("running", "Running"), ("not_started", "Not started"), ("ended", "Ended")]


class BlockContractFilterForm(ListFilterForm):
    state = forms.ChoiceField(label="State", choices=CONTRACT_STATES)
    lot = forms.ModelChoiceField(Lot.objects.order_by("number"), label="Lot", empty_label="All", to_field_name="number")
    care_home = forms.CharField(label="Care home name contains", max_length=100)

    def apply(self, contracts: QuerySet, *, today: dt.date) -> QuerySet:
        filters = self.filters()
        state = filters.get("state")
        if state == "running":
            contracts = contracts.filter(start_date__lte=today, end_date__gte=today)
        elif state == "not_started":
            contracts = contracts.filter(start_date__gt=today)
        elif state == "ended":
            contracts = contracts.filter(end_date__lt=today)
        if "lot" in filters:
            contracts = contracts.filter(pk__in=filters["lot"].block_contracts.values("pk"))
        if "care_home" in filters:
            contracts = contracts.filter(care_home__name__icontains=filters["care_home"])
        return contracts
