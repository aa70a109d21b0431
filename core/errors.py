"""The one error type that services raise; pages and the API turn it into messages."""


class ApplicationError(Exception):
    """A rule of the service refused the request.

    ``message`` is written for people; ``code`` is stable for machines; ``fields`` maps
    field names to messages when the refusal is about particular inputs.
    """

    status = 400

    def __init__(self, message: str, *, code: str = "invalid", fields: dict | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.fields = {name: _as_list(msgs) for name, msgs in (fields or {}).items()}


class ConflictError(ApplicationError):
    """The request is well formed but the object's state forbids it (e.g. a closed tender)."""

    status = 409


class NotFoundError(ApplicationError):
    """The object does not exist, or the actor may not know that it does: a 404 on pages and the API."""

    status = 404

    def __init__(self, message: str = "Not found.", *, code: str = "not_found"):
        super().__init__(message, code=code)


class ForbiddenError(ApplicationError):
    """The actor may see the object but not do this: a 403 on pages and the API."""

    status = 403

    def __init__(self, message: str = "You do not have permission to do that.", *, code: str = "permission_denied"):
        super().__init__(message, code=code)


ACCESS_ERRORS = (NotFoundError, ForbiddenError)


def _as_list(messages) -> list[str]:
    return [messages] if isinstance(messages, str) else list(messages)


def apply_to_form(form, error: ApplicationError) -> None:
    """Show a service refusal on a Django form: field messages by field, the rest on top.

    A refusal of access is no form error: it goes on to the page's 404 or 403
    (`core.middleware.AccessErrorMiddleware`).
    """
    if isinstance(error, ACCESS_ERRORS):
        raise error
    placed = False
    for name, messages in error.fields.items():
        if name in form.fields:
            for message in messages:
                form.add_error(name, message)
            placed = True
    if not placed:
        form.add_error(None, error.message)
