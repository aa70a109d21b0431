"""The request log: django-structlog's middleware, naming the user only once the request has loaded it.

Its own way reads the signed-in user at the start and the end of every request. That is a
query of the log's own, and with the database down it raises after the outage page has been
chosen, turning a 503 into an error. Here the user id is bound only when the view has already
read the user: never a query, never a failure of its own.
"""

from django.utils.functional import SimpleLazyObject, empty
from django_structlog.middlewares import RequestMiddleware


def _user_loaded(request) -> bool:
    user = getattr(request, "user", None)
    if isinstance(user, SimpleLazyObject):
        return user._wrapped is not empty
    return user is not None


class RequestLogMiddleware(RequestMiddleware):
    @staticmethod
    def bind_user_id(request) -> None:
        if _user_loaded(request):
            RequestMiddleware.bind_user_id(request)
