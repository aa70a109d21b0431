"""The block-bed offer panel that placement request pages include."""

from django import template

from ..models import BlockOfferDecline
from ..selectors import fitting_void_beds

register = template.Library()


@register.inclusion_tag("blockbeds/_block_offer_panel.html", takes_context=True)
def block_offer_panel(context, placement_request):
    """Fitting void block beds for a new request, or the broker's recorded decline."""
    user = context.get("user")
    decline = BlockOfferDecline.objects.filter(request_id=placement_request.pk).select_related("declined_by").first()
    is_new = placement_request.status == placement_request.Status.NEW
    beds = list(fitting_void_beds(request=placement_request)[:20]) if is_new and decline is None else []
    return {
        "placement_request": placement_request,
        "beds": beds,
        "decline": decline,
        "can_act": bool(user and getattr(user, "is_broker", False)),
    }
