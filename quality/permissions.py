"""Who may see a home's rating history and who may enter a CQC rating by hand."""

from organisations.permissions import is_commissioner

ENTER_RATING = "quality.enter_rating"


def can_enter_rating(user) -> bool:
    """Back-office staff given the permission explicitly. An Inadequate rating suspends a home on
    every body's DPS, so no commissioner may record one on the CQC's behalf by virtue of their role."""
    return bool(
        user
        and user.is_authenticated
        and user.is_active
        and user.is_staff
        and not getattr(user, "is_service_account", False)
        and user.has_perm(ENTER_RATING)
    )


def can_see_ratings_of(user, care_home) -> bool:
    """Rating staff see every home; a commissioner sees the homes that applied to their body's DPS."""
    if can_enter_rating(user):
        return True
    return is_commissioner(user) and care_home.admissions.filter(commissioner_id=user.organisation_id).exists()
