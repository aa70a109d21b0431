"""Great-circle distances in the database, so searches filter and sort without loading rows."""

from math import asin, cos, degrees, radians, sin

from django.db.models import F, FloatField, Func, QuerySet

EARTH_RADIUS_KM = 6371.0088
# Widens the box a little so that rounding in the distance formula never loses a home on its edge.
BOX_MARGIN_DEGREES = 0.001


class DistanceKm(Func):
    """Great-circle distance from a fixed point to a row's coordinates, by the spherical law of
    cosines; the clamp keeps ACOS inside its domain for identical points. One expression node, so
    that a query sorting and filtering on it stays cheap to build."""

    output_field = FloatField()
    arity = 2

    def __init__(self, latitude: float, longitude: float, lat_field: str, lng_field: str):
        super().__init__(F(lat_field), F(lng_field))
        self.centre = (float(latitude), float(longitude))

    def as_sql(self, compiler, connection, **extra_context):
        (lat, lat_params), (lng, lng_params) = (compiler.compile(e) for e in self.source_expressions)
        latitude, longitude = self.centre
        sql = (
            f"({EARTH_RADIUS_KM} * ACOS(GREATEST(LEAST("
            f"SIN(RADIANS(%s)) * SIN(RADIANS({lat})) + COS(RADIANS(%s)) * COS(RADIANS({lat}))"
            f" * COS(RADIANS({lng}) - RADIANS(%s)), 1.0), -1.0)))"
        )
        return sql, (latitude, *lat_params, latitude, *lat_params, *lng_params, longitude)


def distance_km_expression(
    latitude: float, longitude: float, *, lat_field: str = "latitude", lng_field: str = "longitude"
):
    return DistanceKm(latitude, longitude, lat_field, lng_field)


def annotate_distance_km(queryset: QuerySet, latitude: float, longitude: float, **fields) -> QuerySet:
    """Add `distance_km` (null where the row has no coordinates)."""
    return queryset.annotate(distance_km=distance_km_expression(latitude, longitude, **fields))


def bounding_box(latitude: float, longitude: float, km: float) -> dict[str, float]:
    """Latitude and longitude bounds holding every point within `km` of the centre, as lookups.

    An index on the coordinates serves these ranges, so only the homes in the box have their
    distance computed. The longitude bound is the widest of the circle (at a latitude nearer the
    pole than the centre); near a pole or across the antimeridian only latitude is bounded.
    """
    angle = max(km, 0.0) / EARTH_RADIUS_KM
    spread = degrees(angle) + BOX_MARGIN_DEGREES
    bounds = {"latitude__gte": latitude - spread, "latitude__lte": latitude + spread}
    if latitude - spread <= -90 or latitude + spread >= 90:
        return bounds
    ratio = sin(angle) / cos(radians(latitude))
    if ratio >= 1:
        return bounds
    width = degrees(asin(ratio)) + BOX_MARGIN_DEGREES
    if longitude - width < -180 or longitude + width > 180:
        return bounds
    return {**bounds, "longitude__gte": longitude - width, "longitude__lte": longitude + width}
