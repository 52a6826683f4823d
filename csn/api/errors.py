"""One error shape for every 4xx/5xx: {"error": {"code", "message", "fields"}}."""

import sys

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from csn.errors import ApplicationError


def error_body(code: str, message: str, fields: dict | None = None, extra: dict | None = None) -> dict:
    return {"error": {**(extra or {}), "code": code, "message": message, "fields": fields or {}}}


def _flatten(detail, prefix: str = "") -> dict:
    """ValidationError detail -> {"a.b.0": [{"code", "message"}]}."""
    out: dict[str, list] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(detail, list):
        if all(isinstance(item, exceptions.ErrorDetail) for item in detail):
            out[prefix or "non_field_errors"] = [{"code": d.code, "message": str(d)} for d in detail]
        else:
            for index, value in enumerate(detail):
                if value:
                    out.update(_flatten(value, f"{prefix}.{index}" if prefix else str(index)))
    elif isinstance(detail, exceptions.ErrorDetail):
        out[prefix or "non_field_errors"] = [{"code": detail.code, "message": str(detail)}]
    return out


def exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        return Response(
            error_body("payload_too_large", "The request body is too large."),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, ApplicationError):
        set_rollback()
        return Response(error_body(exc.code, exc.message, exc.fields, exc.extra), status=exc.status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None  # a 500: Django's handler500 renders it

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    set_rollback()

    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        message = "Some fields are invalid."
        if list(fields) == ["non_field_errors"]:
            message = fields["non_field_errors"][0]["message"]
        return Response(error_body("invalid", message, fields), status=exc.status_code, headers=headers)
    detail = exc.detail
    message = str(detail) if not isinstance(detail, (dict, list)) else exc.default_detail
    code = detail.code if isinstance(detail, exceptions.ErrorDetail) else exc.default_code
    return Response(error_body(code, str(message)), status=exc.status_code, headers=headers)


def json_404(request, exception=None):
    return JsonResponse(error_body("not_found", "Not found."), status=404)


def json_500(request):
    # Django calls this while handling the request's exception. A database that failed under the
    # request (its connection ended, PostgreSQL restarting or unreachable) is a moment's outage: 503.
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        body = error_body("database_unavailable", "The database is unavailable for a moment; try again.")
        return JsonResponse(body, status=503, headers={"Retry-After": "1"})
    return JsonResponse(error_body("server_error", "Something went wrong on our side."), status=500)


def json_400(request, exception=None):
    if isinstance(exception, RequestDataTooBig):
        return JsonResponse(error_body("payload_too_large", "The request body is too large."), status=413)
    return JsonResponse(error_body("bad_request", "Bad request."), status=400)


def json_403(request, exception=None):
    return JsonResponse(error_body("permission_denied", "Forbidden."), status=403)
