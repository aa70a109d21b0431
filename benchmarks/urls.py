from django.db import connection
from django.http import JsonResponse
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import urlpatterns as product_urlpatterns

# The table the minimal POST writes to; the bid burst creates it in the benchmark's database.
MINIMAL_INSERT_TABLE = "bench_minimal_insert"


class PingApi(APIView):
    """The least an authenticated DRF endpoint can do: authenticate, throttle, answer."""

    def get(self, request):
        return Response({"ok": True})


class MinimalInsertApi(APIView):
    """The least an authenticated write can do: authenticate, throttle, insert one row, answer 201."""

    def post(self, request):
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {MINIMAL_INSERT_TABLE} (body, at) VALUES (%s, clock_timestamp()) RETURNING id",  # noqa: S608
                [request.body.decode()],
            )
            return Response({"id": cursor.fetchone()[0]}, status=201)


def bare(request):
    """A plain Django view giving the minimal endpoint's JSON: the stack's floor without DRF or auth."""
    return JsonResponse({"ok": True})


urlpatterns = [
    path("bench/ping/", PingApi.as_view(), name="bench-ping"),
    path("bench/bare/", bare, name="bench-bare"),
    path("bench/insert/", MinimalInsertApi.as_view(), name="bench-insert"),
    *product_urlpatterns,
]
