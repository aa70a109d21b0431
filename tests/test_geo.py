import pytest

from providers.geo import annotate_distance_km
from providers.models import CareHome

from .factories import CareHomeFactory

pytestmark = pytest.mark.django_db


def test_distances_are_computed_in_the_database_with_known_coordinates():
    CareHomeFactory(name="Stafford", latitude=52.8065, longitude=-2.1166)
    CareHomeFactory(name="Stoke", latitude=52.9990, longitude=-2.1830)
    CareHomeFactory(name="Derby", latitude=52.9220, longitude=-1.4760)
    CareHomeFactory(name="Nowhere", latitude=None, longitude=None)
    rows = annotate_distance_km(CareHome.objects.exclude(latitude=None), 52.8065, -2.1166).order_by("distance_km")
    distances = {home.name: home.distance_km for home in rows}
    assert list(distances) == ["Stafford", "Stoke", "Derby"]
    assert distances["Stafford"] == pytest.approx(0.0, abs=0.001)
    # Stafford to Stoke-on-Trent is about 21.9 km; Stafford to Derby about 44.6 km as the crow flies.
    assert distances["Stoke"] == pytest.approx(21.88, abs=0.2)
    assert distances["Derby"] == pytest.approx(44.6, abs=0.5)


def test_the_coordinate_box_holds_the_circle_and_gives_up_at_the_poles_and_the_antimeridian():
    from providers.geo import bounding_box

    box = bounding_box(52.8, -2.1, 25)
    assert box["latitude__gte"] < 52.8 - 0.2248 and box["latitude__lte"] > 52.8 + 0.2248
    # At 52.8 degrees north a degree of longitude is about 67 km, so 25 km is about 0.37 degrees.
    assert -2.1 - 0.40 < box["longitude__gte"] < -2.1 - 0.37 and -2.1 + 0.37 < box["longitude__lte"] < -2.1 + 0.40
    assert set(bounding_box(89.9, 10, 50)) == {"latitude__gte", "latitude__lte"}
    assert set(bounding_box(10, 179.9, 50)) == {"latitude__gte", "latitude__lte"}
