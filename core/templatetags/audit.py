"""`{{ event.verb|verb_label }}`: an audit event's verb in the words people read."""

from django import template

from core.audit import verb_label as _verb_label

register = template.Library()


@register.filter
def verb_label(verb: str) -> str:
    return _verb_label(verb or "")
