"""One error shape for every 4xx/5xx: RFC 9457 problem details plus our members.

    {"type": "tag:csn,2026:problem/not_found", "title": "Not found", "status": 404,
     "detail": "No such game.", "code": "not_found", "fields": {},
     "error": {"code": "not_found", "message": "No such game.", "fields": {}}}

`code` is the machine-readable value clients branch on (`type` is the same thing as a URI, as RFC 9457
asks: an identifier, never fetched). `fields` holds field errors only: `{"a.b.0": [{"code", "message"}]}`.
Other data an error carries (e.g. `limit` for `stream_limit`) is a member of its own. `error` is the
shape of API v1.0 kept for the clients built on it: deprecated (docs/changelog.md, docs/api.md).

The content type is `application/problem+json`, or `application/json` for a client whose `Accept`
names `application/json` and not the problem type.
"""

import sys

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from csn.errors import ApplicationError

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_PREFIX = "tag:csn,2026:problem/"


def problem_type(code: str) -> str:
    return f"{PROBLEM_TYPE_PREFIX}{code}"


def problem_title(code: str) -> str:
    """The problem type's short summary, the same for every occurrence of the code."""
    return code.replace("_", " ").capitalize()


def error_item(code: str, message: str, fields: dict | None = None) -> dict:
    """The v1.0 `{code, message, fields}` object (the deprecated `error` member; analytics' partial errors)."""
    return {"code": code, "message": message, "fields": fields or {}}


def problem_body(
    code: str, message: str, *, status: int, fields: dict | None = None, extra: dict | None = None
) -> dict:
    fields = fields or {}
    return {
        "type": problem_type(code),
        "title": problem_title(code),
        "status": status,
        "detail": message,
        "code": code,
        "fields": fields,
        **(extra or {}),
        "error": {**(extra or {}), **error_item(code, message, fields)},
    }


def problem_content_type(accept: str | None) -> str:
    """`application/problem+json` unless the client's Accept names `application/json` and not it."""
    accept = (accept or "").lower()
    if "application/json" in accept and PROBLEM_JSON not in accept:
        return "application/json"
    return PROBLEM_JSON


def problem_response(
    code: str, message: str, *, status: int, accept: str | None = None, headers: dict | None = None, **members
) -> JsonResponse:
    """A problem outside DRF (Django's handlers, the ASGI body limit); `accept` is the request's Accept."""
    return JsonResponse(
        problem_body(code, message, status=status, **members),
        status=status,
        headers=headers,
        content_type=problem_content_type(accept),
    )


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


def _drf_problem(request, code, message, *, status, headers=None, fields=None, extra=None) -> Response:
    return Response(
        problem_body(code, message, status=status, fields=fields, extra=extra),
        status=status,
        headers=headers,
        content_type=problem_content_type(request.headers.get("Accept") if request is not None else None),
    )


def exception_handler(exc, context):
    request = context.get("request")
    if isinstance(exc, RequestDataTooBig):
        return _drf_problem(
            request,
            "payload_too_large",
            "The request body is too large.",
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, ApplicationError):
        set_rollback()
        return _drf_problem(request, exc.code, exc.message, status=exc.status_code, fields=exc.fields, extra=exc.extra)
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
        return _drf_problem(request, "invalid", message, status=exc.status_code, headers=headers, fields=fields)
    detail = exc.detail
    message = str(detail) if not isinstance(detail, (dict, list)) else exc.default_detail
    code = detail.code if isinstance(detail, exceptions.ErrorDetail) else exc.default_code
    return _drf_problem(request, code, str(message), status=exc.status_code, headers=headers)


def _accept(request) -> str | None:
    return request.headers.get("Accept")


def json_404(request, exception=None):
    return problem_response("not_found", "Not found.", status=404, accept=_accept(request))


def json_500(request):
    # Django calls this while handling the request's exception. A database that failed under the
    # request (its connection ended, PostgreSQL restarting or unreachable) is a moment's outage: 503.
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        message = "The database is unavailable for a moment; try again."
        return problem_response(
            "database_unavailable", message, status=503, accept=_accept(request), headers={"Retry-After": "1"}
        )
    return problem_response("server_error", "Something went wrong on our side.", status=500, accept=_accept(request))


def json_400(request, exception=None):
    if isinstance(exception, RequestDataTooBig):
        return problem_response(
            "payload_too_large", "The request body is too large.", status=413, accept=_accept(request)
        )
    return problem_response("bad_request", "Bad request.", status=400, accept=_accept(request))


def json_403(request, exception=None):
    return problem_response("permission_denied", "Forbidden.", status=403, accept=_accept(request))
