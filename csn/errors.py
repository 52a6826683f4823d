"""Errors that services raise: a machine-readable code, a message, an HTTP status.

Views and consumers render them; services never know about HTTP beyond the status they suggest.
`fields` holds field errors only (`{"name": [{"code", "message"}]}`); any other data the client needs
(e.g. the plan's stream limit) goes in `extra`, rendered as members of its own beside `code`.
"""


class ApplicationError(Exception):
    status_code = 400
    default_code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        fields: dict | None = None,
        extra: dict | None = None,
        status=None,
    ):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.fields = fields or {}  # field name -> [{"code", "message"}]: what is wrong with each input
        self.extra = extra or {}  # what the client can act on beside the code, e.g. stream_limit's limit
        if status is not None:
            self.status_code = status


class NotFoundError(ApplicationError):
    status_code = 404
    default_code = "not_found"


class PermissionDeniedError(ApplicationError):
    status_code = 403
    default_code = "permission_denied"


class ConflictError(ApplicationError):
    status_code = 409
    default_code = "conflict"
