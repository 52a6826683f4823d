"""How the services name an invalid field: the API's `fields` shape, `{name: [{code, message}]}`."""

from django.core.exceptions import ValidationError as DjangoValidationError

from csn.errors import ApplicationError


def field_error(name: str, code: str, message: str) -> dict:
    return {name: [{"code": code, "message": message}]}


def validation_error(exc: DjangoValidationError) -> ApplicationError:
    """A model's full_clean() failure as one ApplicationError naming every field."""
    fields = {
        name: [{"code": err.code or "invalid", "message": " ".join(err.messages)} for err in errors]
        for name, errors in exc.error_dict.items()
    }
    return ApplicationError("Some fields are invalid.", code="invalid", fields=fields)
