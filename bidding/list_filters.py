"""The filters above a provider's invitations to tender."""

from django import forms

from core.lists import ListFilterForm

INVITATION_STATES = ["Open", "Closed", "Outcome", "Cancelled", "Invitation withdrawn"]


class InvitationFilterForm(ListFilterForm):
    state = forms.ChoiceField(label="State", choices=[("", "All"), *((state, state) for state in INVITATION_STATES)])
    care_home = forms.CharField(label="Care home name contains", max_length=100)

    def keep(self, row: dict) -> bool:
        """Whether an invitation row (its state worked out) passes the filters."""
        filters = self.filters()
        if filters.get("state") and row["state"] != filters["state"]:
            return False
        return filters.get("care_home", "").casefold() in row["invitation"].care_home.name.casefold()
