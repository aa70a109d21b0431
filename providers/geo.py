"""Great-circle distances in the database, so searches filter and sort without loading rows."""

from django.db.models import F, FloatField, QuerySet, Value
from django.db.models.functions import ACos, Cos, Greatest, Least, Radians, Sin

EARTH_RADIUS_KM = 6371.0088


def distance_km_expression(
    latitude: float, longitude: float, *, lat_field: str = "latitude", lng_field: str = "longitude"
):
    """Spherical law of cosines; the clamp keeps ACOS inside its domain for identical points."""
    lat0 = Radians(Value(float(latitude), output_field=FloatField()))
    lng0 = Radians(Value(float(longitude), output_field=FloatField()))
    lat1 = Radians(F(lat_field))
    lng1 = Radians(F(lng_field))
    cosine = Sin(lat0) * Sin(lat1) + Cos(lat0) * Cos(lat1) * Cos(lng1 - lng0)
    clamped = Greatest(Least(cosine, Value(1.0)), Value(-1.0))
    return ACos(clamped, output_field=FloatField()) * Value(EARTH_RADIUS_KM)


def annotate_distance_km(queryset: QuerySet, latitude: float, longitude: float, **fields) -> QuerySet:
    """Add `distance_km` (null where the row has no coordinates)."""
    return queryset.annotate(distance_km=distance_km_expression(latitude, longitude, **fields))
