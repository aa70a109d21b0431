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
