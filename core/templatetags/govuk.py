"""Template helpers for the GOV.UK patterns every page shares: money as people read it, one
error summary per page that links each message to its field, and the scrolling region a wide
table sits in."""

from decimal import Decimal, InvalidOperation

from django import template
from django.template.loader import render_to_string

register = template.Library()


@register.filter
def money(value) -> str:
    """£1,268,601.32: pounds with thousands separators and pence; empty for no amount."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}£{abs(amount):,.2f}"


def _first_input_id(bound_field) -> str:
    # A date's error links to its day box, as the Design System asks; other fields to themselves.
    if hasattr(bound_field.field, "fields"):
        return f"{bound_field.auto_id}_0"
    return bound_field.auto_id


def _form_errors(form) -> list[tuple[str, str]]:
    if hasattr(form, "forms") and hasattr(form, "non_form_errors"):
        rows = [
            ("#" + _first_input_id(form.forms[0].visible_fields()[0]) if form.forms else "", str(error))
            for error in form.non_form_errors()
        ]
        for member in form.forms:
            rows += _form_errors(member)
        return rows
    if not form.is_bound or not form.errors:
        return []
    visible = form.visible_fields()
    first = "#" + _first_input_id(visible[0]) if visible else ""
    rows = [(first, str(error)) for error in form.non_field_errors()]
    for field in visible:
        placed = set()
        for index, subfield in enumerate(getattr(field.field, "fields", ())):
            for error in getattr(subfield.widget, "errors", []):
                rows.append((f"#{field.auto_id}_{index}", str(error)))
                placed.add(str(error))
        rows += [("#" + _first_input_id(field), str(error)) for error in field.errors if str(error) not in placed]
    return rows


@register.inclusion_tag("includes/error_summary.html")
def govuk_error_summary(*forms, message: str = ""):
    """One summary for everything wrong on the page: the forms' errors, each linked to its field,
    and ``message``, a refusal that belongs to no form, when no form already says it."""
    rows = []
    for form in forms:
        if form:
            rows += [row for row in _form_errors(form) if row not in rows]
    if message and not any(text == message for _, text in rows):
        rows.insert(0, ("", message))
    return {"errors": rows}


@register.filter
def paired(first, second) -> list[tuple]:
    """`{% for lot, cell in report.lots|paired:row.cells %}`: a table's column headings beside one
    row's cells, for the narrow view of a wide table."""
    return list(zip(first, second, strict=True))


class TableRegionNode(template.Node):
    def __init__(self, label, nodelist):
        self.label = label
        self.nodelist = nodelist

    def render(self, context):
        return render_to_string(
            "includes/table_region.html",
            {"label": self.label.resolve(context), "table": self.nodelist.render(context)},
        )


@register.tag("table_region")
def table_region(parser, token):
    """`{% table_region "Label" %}<table>…</table>{% endtable_region %}`: the table inside
    includes/table_region.html, a labelled region keyboard users can focus and scroll, so a table
    wider than a phone scrolls on its own instead of the whole page."""
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError("table_region takes one argument: the region's label")
    nodelist = parser.parse(("endtable_region",))
    parser.delete_first_token()
    return TableRegionNode(parser.compile_filter(bits[1]), nodelist)
