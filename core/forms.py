"""What every form page shares: the crispy-forms GOV.UK helper with one submit button."""

from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import Size, Submit


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
