"""What every form page shares: the crispy-forms GOV.UK helper with one submit button, and the
GOV.UK date input and money fields every form uses."""

from datetime import date
from decimal import Decimal

from crispy_forms_gds.fields import DateInputField
from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import Size, Submit
from django import forms
from django.core.exceptions import ValidationError

from .widgets import TextInput


def form_helper(
    button: str, *, method: str = "post", warning: bool = False, name: str = "submit", small_labels: bool = True
) -> FormHelper:
    """Forms are checked on the server; `novalidate` keeps the browser's own prompts from coming
    before the GOV.UK error summary."""
    helper = FormHelper()
    helper.form_method = method
    helper.attrs = {"novalidate": ""}
    if small_labels:
        helper.label_size = Size.SMALL
    helper.add_input(Submit(name, button, css_class="govuk-button--warning" if warning else ""))
    return helper


class DateField(DateInputField):
    """GOV.UK's date input: day, month and year boxes, with the Design System's messages.

    ``what`` names the date in messages ("Enter the date the placement is needed from"); each box
    in error is marked on its own and linked from the error summary.
    """

    def __init__(self, *, what: str = "a date", **kwargs):
        super().__init__(**kwargs)
        self.what = what
        self.error_messages["required"] = f"Enter {what}"

    def clean(self, value):
        if self.disabled and not isinstance(value, list):
            value = self.widget.decompress(value)
        parts = [str(part).strip() if part is not None else "" for part in (value or ["", "", ""])][:3]
        parts += [""] * (3 - len(parts))
        for field in self.fields:
            field.widget.errors = []
        if not any(parts):
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return None
        missing = [index for index, part in enumerate(parts) if not part]
        if missing:
            names = [DATE_PARTS[index] for index in missing]
            message = f"The date must include a {' and a '.join(names)}"
            self._mark(missing, message)
            raise ValidationError(message, code="incomplete")
        wrong = [index for index, part in enumerate(parts) if not part.isdigit()]
        if wrong:
            self._mark(wrong, "Enter a real date")
            raise ValidationError("Enter a real date", code="invalid")
        if len(parts[2]) != 4:
            message = "The year must include 4 numbers"
            self._mark([2], message)
            raise ValidationError(message, code="invalid_year")
        try:
            day = date(int(parts[2]), int(parts[1]), int(parts[0]))
        except ValueError:
            raise ValidationError("Enter a real date", code="invalid") from None
        self.validate(day)
        self.run_validators(day)
        return day

    def _mark(self, indexes: list[int], message: str) -> None:
        # crispy-forms-gds reads these to outline the boxes in error and link to them from the summary.
        for index in indexes:
            self.fields[index].widget.errors = [message]


DATE_PARTS = ("day", "month", "year")


class MoneyField(forms.DecimalField):
    """An amount of money in pounds and pence, typed after "£" and, for a weekly fee, before "a week".

    People may type "1,200" or "£1,200.50". Every refusal says what is allowed, in the words of
    ``what`` ("Enter a weekly fee of £99,999.99 or less").
    """

    def __init__(
        self,
        *,
        what: str = "an amount",
        per_week: bool = True,
        min_value: Decimal | None = Decimal("0"),
        max_value: Decimal = Decimal("99999.99"),
        **kwargs,
    ):
        kwargs.setdefault(
            "widget",
            TextInput(prefix="£", suffix="a week" if per_week else "", width=5, attrs={"inputmode": "decimal"}),
        )
        super().__init__(max_digits=10, decimal_places=2, min_value=min_value, max_value=max_value, **kwargs)
        too_big = f"Enter {what} of £{max_value:,.2f} or less"
        self.error_messages.update(
            {
                "required": f"Enter {what}",
                "invalid": f"Enter {what} in pounds and pence, like 850 or 850.50",
                "max_value": too_big,
                "max_digits": too_big,
                "max_whole_digits": too_big,
                "max_decimal_places": f"Enter {what} to the nearest penny, like 850.50",
                "min_value": f"Enter {what} above zero"
                if min_value and min_value > 0
                else f"Enter {what} of £0.00 or more",
            }
        )

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().removeprefix("£").replace(",", "").strip()
        return super().to_python(value)

    def clean(self, value):
        try:
            return super().clean(value)
        except ValidationError as error:
            # Too many digits and too large an amount say the same thing: say it once.
            raise ValidationError(list(dict.fromkeys(error.messages))) from None
