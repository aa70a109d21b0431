from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import urlpatterns as product_urlpatterns


class PingApi(APIView):
    """The least an authenticated DRF endpoint can do: authenticate, throttle, answer."""

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [path("bench/ping/", PingApi.as_view(), name="bench-ping"), *product_urlpatterns]
