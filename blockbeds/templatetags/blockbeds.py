"""The block-bed offer panel that placement request pages include."""

from django import template

from ..selectors import block_offer_summaries

register = template.Library()


@register.inclusion_tag("blockbeds/_block_offer_panel.html", takes_context=True)
def block_offer_panel(context, placement_request):
    """Fitting void block beds for a new request, or the broker's recorded decline."""
    user = context.get("user")
    offer = block_offer_summaries(requests=[placement_request])[placement_request.pk]
    return {
        "placement_request": placement_request,
        "beds": offer.beds[:20],
        "decline": offer.decline,
        "can_act": bool(user and getattr(user, "is_broker", False)),
    }
