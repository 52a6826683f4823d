"""Errors that services raise: a machine-readable code, a message, an HTTP status.

Views and consumers render them; services never know about HTTP beyond the status they suggest.
"""


class ApplicationError(Exception):
    status_code = 400
    default_code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, fields: dict | None = None, status=None, extra=None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.fields = fields or {}
        # Data a client acts on beside the code (say, the products that would unlock an item): members
        # of the error object next to `code`, `message` and `fields`.
        self.extra = extra or {}
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
