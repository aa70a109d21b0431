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


def _as_list(messages) -> list[str]:
    return [messages] if isinstance(messages, str) else list(messages)


def apply_to_form(form, error: ApplicationError) -> None:
    """Show a service refusal on a Django form: field messages by field, the rest on top."""
    placed = False
    for name, messages in error.fields.items():
        if name in form.fields:
            for message in messages:
                form.add_error(name, message)
            placed = True
    if not placed:
        form.add_error(None, error.message)
