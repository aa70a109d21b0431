from django import forms

from core.forms import form_helper
from fairness.services import MoveOnCause


class ActionForm(forms.Form):
    """A form on a page with several: `action` says which one was posted."""

    action_name = ""
    button = ""
    warning = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["form"] = forms.CharField(widget=forms.HiddenInput, initial=self.action_name)
        self.helper = form_helper(self.button, name="action", warning=self.warning)


class ChoiceForm(forms.Form):
    bid = forms.TypedChoiceField(label="Which home do you choose?", coerce=int, widget=forms.RadioSelect)
    chosen_by_name = forms.CharField(label="Your name", max_length=200)
    top_up_payer = forms.CharField(
        label="If the home costs more than the council pays: who will pay the top-up?", required=False, max_length=200
    )
    top_up_consent = forms.BooleanField(
        label="The person paying the top-up agrees to pay it for as long as the person lives at the home",
        required=False,
    )

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bid"].choices = choices
        self.helper = form_helper("Record my choice")


class ShareForm(ActionForm):
    action_name = "share"
    button = "Create link"
    bids = forms.TypedMultipleChoiceField(
        label="Homes on the shortlist", coerce=int, widget=forms.CheckboxSelectMultiple
    )
    recipient = forms.CharField(label="Who the link is for", max_length=200)
    valid_hours = forms.IntegerField(label="Link lasts (hours)", min_value=1, max_value=336, initial=72)

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bids"].choices = choices


class DeliverabilityForm(ActionForm):
    action_name = "deliverability"
    button = "Record confirmation"
    bid = forms.IntegerField(widget=forms.HiddenInput)
    provider_statement = forms.CharField(
        label="What the provider confirmed about delivering at this fee", widget=forms.Textarea(attrs={"rows": 3})
    )


class AnswerForm(ActionForm):
    action_name = "answer"
    button = "Publish answer"
    question = forms.IntegerField(widget=forms.HiddenInput)
    answer = forms.CharField(
        label="Answer (published to every invited provider)", widget=forms.Textarea(attrs={"rows": 3})
    )


class MoveOnForm(ActionForm):
    action_name = "move_on"
    button = "Award the next ranked bid"
    warning = True
    cause = forms.ChoiceField(label="Why", choices=MoveOnCause.CHOICES, widget=forms.RadioSelect)
    reason = forms.CharField(label="Details", widget=forms.Textarea(attrs={"rows": 3}))
    top_up_payer = forms.CharField(label="Top-up payer, if the next home costs more", required=False, max_length=200)


class DecideForm(ActionForm):
    action_name = "decide"
    button = "Record decision"
    challenge = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(
        label="Decision",
        choices=[("dismissed", "Dismiss"), ("upheld", "Uphold: set the award aside")],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label="Reasons", widget=forms.Textarea(attrs={"rows": 3}))


class QuestionForm(forms.Form):
    question = forms.CharField(label="Your question", widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Ask question")


class ChallengeForm(forms.Form):
    grounds = forms.CharField(label="Grounds of your challenge", widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Raise challenge")


class BedHoldForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("Confirm the bed is held", small_labels=False)
