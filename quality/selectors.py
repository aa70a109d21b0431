"""Reads of ratings, scoped to the person asking."""

from core.errors import NotFoundError
from providers.models import CareHome

from .permissions import can_see_ratings_of


def care_home_get_for_ratings(*, actor, pk: int) -> CareHome:
    """The home whose rating history the actor may see; unknown or not theirs is 404."""
    home = CareHome.objects.select_related("current_rating").filter(pk=pk).first()
    if home is None or not can_see_ratings_of(actor, home):
        raise NotFoundError("No such care home.")
    return home
