"""Widgets for the GOV.UK patterns that Django and crispy-forms-gds do not draw themselves."""

from django import forms


class TextInput(forms.TextInput):
    """A GOV.UK text input with an optional prefix and suffix, such as "£" and "a week".

    It keeps the class name TextInput: crispy-forms-gds marks a text box as in error, with a red
    border, only for widgets of that name.
    """

    template_name = "core/widgets/prefixed_input.html"

    def __init__(self, attrs=None, *, prefix: str = "", suffix: str = "", width: int = 10):
        base = {"class": f"govuk-input govuk-input--width-{width}", "spellcheck": "false"}
        super().__init__({**base, **(attrs or {})})
        self.prefix = prefix
        self.suffix = suffix

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["prefix"] = self.prefix
        context["widget"]["suffix"] = self.suffix
        return context
