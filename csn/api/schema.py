"""The OpenAPI schema's errors: one `Problem` component (csn.api.errors' RFC 9457 shape) and, on every
operation, the codes it can answer, by status.

A view names the codes of its own with `error_codes({409: ["not_pending"], ...})` in its `extend_schema`
(`extensions=`); the codes every operation of a kind can answer are added here (`generic_error_codes`):
a body can be malformed, a path's object missing, a signed-in operation unauthenticated, anything
throttled. The codes land in three places: `x-error-codes` on the operation (`{"404": ["not_found"]}`,
what a generated client or a test reads), one response per status whose description lists them, and an
example per code (`components.examples`). `4XX` and `5XX` stay as catch-alls with the same shape.
"""

from http import HTTPStatus

from csn.api.errors import PROBLEM_JSON, problem_body

ERROR_CODES_KEY = "x-error-codes"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
MEDIA_TYPES = (PROBLEM_JSON, "application/json")

_FIELD_ERRORS = {
    "type": "object",
    "description": "Field errors only: the field's path (`title`, `item_ids.2`, `preferences.autoplay`) "
    "to its errors. Empty when the error is not about fields.",
    "additionalProperties": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            "required": ["code", "message"],
        },
    },
}

_WHEN = {"type": "string", "format": "date-time", "nullable": True}
# Refusals a client acts on carry data beside the code (playback: docs/playback.md).
REFUSAL_MEMBERS = {
    "products": {
        "type": "array",
        "description": "`not_entitled`: the products on sale that would unlock it.",
        "items": {
            "type": "object",
            "properties": {"code": {"type": "string"}, "name": {"type": "string"}, "kind": {"type": "string"}},
        },
    },
    "available_from": {**_WHEN, "description": "`not_available_yet`: when the item opens."},
    "starts_at": {**_WHEN, "description": "`not_available_yet`: when the game starts."},
    "available_until": {**_WHEN, "description": "`expired`: when the item closed."},
    "ended_at": {**_WHEN, "description": "`expired`: when the game ended."},
    "region": {
        "type": "object",
        "description": "`blackout`: the viewer's region.",
        "properties": {
            "country": {"type": "string"},
            "subdivision": {"type": "string"},
            "postal_code": {"type": "string"},
            "source": {"type": "string", "enum": ["cdn", "account"]},
        },
    },
    "replay_opens_at": {**_WHEN, "description": "`blackout`: when the game's replays open in the region."},
    "replay_after_minutes": {"type": "integer", "description": "`blackout`: minutes after the game's end."},
    "limit": {"type": "integer", "description": "`stream_limit`: the streams the user may watch at once."},
    "sessions": {
        "type": "array",
        "description": "`stream_limit`: the open viewing sessions, each endable "
        "(`DELETE /api/v1/playback/sessions/{id}/`).",
        "items": {"type": "object"},
    },
}

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "An error, as RFC 9457 problem details (`application/problem+json`; `application/json` "
    "for a client whose `Accept` names only that). Branch on `code`; `x-error-codes` on each operation "
    "lists the codes it can answer.",
    "properties": {
        "type": {
            "type": "string",
            "description": "The problem type as a URI: `tag:csn,2026:problem/` and the code. An identifier, "
            "not a link.",
            "example": "tag:csn,2026:problem/not_found",
        },
        "title": {"type": "string", "description": "The code in words, the same for every occurrence."},
        "status": {"type": "integer", "minimum": 400, "maximum": 599, "description": "The HTTP status."},
        "detail": {"type": "string", "description": "What went wrong this time, for people."},
        "code": {"type": "string", "description": "Machine-readable, e.g. `not_found`, `invalid`."},
        "fields": _FIELD_ERRORS,
        **REFUSAL_MEMBERS,
        "error": {
            "type": "object",
            "deprecated": True,
            "description": "The v1.0 shape, the same values as `code`, `detail` and `fields`. Deprecated: "
            "read the members above (docs/changelog.md says until when it is sent).",
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "fields": _FIELD_ERRORS},
            "required": ["code", "message", "fields"],
        },
    },
    "required": ["type", "title", "status", "detail", "code", "fields", "error"],
}

# What a code's example says, and its status when the code alone does not tell.
GENERIC_MESSAGES = {
    "bad_request": "Bad Content-Length.",
    "invalid": "Some fields are invalid.",
    "parse_error": "JSON parse error - Expecting value: line 1 column 1 (char 0)",
    "malformed_json": "JSON nests more than 32 levels deep.",
    "payload_too_large": "The request body is too large.",
    "unsupported_media_type": 'Unsupported media type "text/plain" in request.',
    "not_authenticated": "Authentication credentials were not provided.",
    "invalid_token": "The token is not valid.",
    "token_expired": "The token expired; sign in again.",
    "token_revoked": "The token was revoked; sign in again.",
    "token_refreshed": "The token was replaced by a refresh; use the new one.",
    "token_reused": "This token was already refreshed; presenting it again signed the device out. Sign in again.",
    "permission_denied": "You do not have permission to perform this action.",
    "not_found": "Not found.",
    "method_not_allowed": 'Method "TRACE" not allowed.',
    "not_acceptable": "Could not satisfy the request Accept header.",
    "throttled": "Request was throttled. Expected available in 12 seconds.",
    "server_error": "Something went wrong on our side.",
    "database_unavailable": "The database is unavailable for a moment; try again.",
}


def error_codes(by_status: dict[int, list[str] | tuple[str, ...]]) -> dict:
    """`extend_schema(extensions=error_codes({409: ["not_pending"]}))`: the codes of this operation's own."""
    return {ERROR_CODES_KEY: {str(status): list(codes) for status, codes in by_status.items()}}


def _has_body(operation: dict) -> bool:
    return "requestBody" in operation


def _signed_in_only(operation: dict) -> bool:
    security = operation.get("security")
    return bool(security) and {} not in security


def _authenticates(operation: dict) -> bool:
    return any(requirement for requirement in operation.get("security") or [])


def generic_error_codes(path: str, method: str, operation: dict) -> dict[str, list[str]]:
    """The codes any operation of its kind can answer (the exception handler and Django's handlers)."""
    codes: dict[str, list[str]] = {
        "400": ["bad_request"],
        "405": ["method_not_allowed"],
        "406": ["not_acceptable"],
        "429": ["throttled"],
        "500": ["server_error"],
        "503": ["database_unavailable"],
    }
    query = any(p.get("in") == "query" for p in operation.get("parameters", []))
    if _has_body(operation) or query:
        codes["400"].append("invalid")
    if _has_body(operation):
        codes["400"] += ["parse_error", "malformed_json"]
        codes["413"] = ["payload_too_large"]
        codes["415"] = ["unsupported_media_type"]
    if _authenticates(operation):
        # accounts.authentication: a token that is not good says why (docs/api.md, "Tokens, step by step")
        codes["401"] = ["invalid_token", "token_expired", "token_revoked", "token_refreshed"]
        codes["403"] = ["permission_denied"]  # a signed-in browser session without its CSRF token
    if _signed_in_only(operation):
        codes["401"].insert(0, "not_authenticated")
    if "{" in path:
        codes["404"] = ["not_found"]
    if any(p.get("in") == "header" and p.get("name") == "Idempotency-Key" for p in operation.get("parameters", [])):
        codes["400"].append("invalid_idempotency_key")
        codes["409"] = ["idempotency_key_reused"]
    return codes


def _example_name(code: str, status: str) -> str:
    return f"{code}_{status}"


def _example(code: str, status: str) -> dict:
    message = GENERIC_MESSAGES.get(code, problem_body(code, "", status=0)["title"] + ".")
    fields = {}
    if code == "invalid":
        fields = {"title": [{"code": "required", "message": "This field is required."}]}
    extra = {"limit": 1} if code == "stream_limit" else None
    value = problem_body(code, message, status=int(status), fields=fields, extra=extra)
    return {"summary": f"{code} ({status})", "value": value}


def _merge(into: dict[str, list[str]], more: dict[str, list[str]]) -> None:
    for status, codes in more.items():
        bucket = into.setdefault(status, [])
        bucket.extend(code for code in codes if code not in bucket)


def _problem_content(status: str, codes: list[str], examples: dict) -> dict:
    refs = {}
    for code in codes:
        name = _example_name(code, status)
        examples.setdefault(name, _example(code, status))
        refs[code] = {"$ref": f"#/components/examples/{name}"}
    return {media_type: {"schema": PROBLEM_REF, "examples": refs} for media_type in MEDIA_TYPES}


def error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: the `Problem` component, and each operation's error codes."""
    components = result.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    examples = components.setdefault("examples", {})
    for path, path_item in result.get("paths", {}).items():
        for method, operation in path_item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            codes = generic_error_codes(path, method, operation)
            _merge(codes, operation.pop(ERROR_CODES_KEY, {}))
            codes = {status: codes[status] for status in sorted(codes)}
            operation[ERROR_CODES_KEY] = codes
            responses = operation["responses"]
            for status, status_codes in codes.items():
                phrase = HTTPStatus(int(status)).phrase
                listed = ", ".join(f"`{code}`" for code in status_codes)
                responses[status] = {
                    "description": f"{phrase}: {listed}",
                    "content": _problem_content(status, status_codes, examples),
                }
            for status, description in (("4XX", "Any other client error"), ("5XX", "Any other server error")):
                responses[status] = {
                    "description": description,
                    "content": {media_type: {"schema": PROBLEM_REF} for media_type in MEDIA_TYPES},
                }
    components["examples"] = dict(sorted(examples.items()))
    return result


def response_fields_required(result, generator, request, public):
    """drf-spectacular postprocessing hook: every property of a response component is required.

    Our answers always carry every field their serializer names (null where nullable), but DRF marks a
    writable model field optional, so the schema said `avatar_url` might be missing. Request components
    (`...Request`, `Patched...Request`: COMPONENT_SPLIT_REQUEST) keep their own rules."""
    for name, schema in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") or name == "Problem" or "properties" not in schema:
            continue
        schema["required"] = list(schema["properties"])
    return result


def public_operations(result, generator, request, public):
    """drf-spectacular postprocessing hook (after `error_responses`, which reads the security): an
    operation anyone may call has `security: []`.

    drf-spectacular writes the schemes and `{}` (optional credentials), and client generators take any
    non-empty list as "needs credentials" (openapi-python-client then asks for an authenticated client
    even to sign in). Credentials still count where sent (premium `video_url`, staff's view of drafts):
    `x-credentials: optional` and the description say so."""
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or {} not in (operation.get("security") or []):
                continue
            schemes = [requirement for requirement in operation["security"] if requirement]
            operation["security"] = []
            if schemes:
                operation["x-credentials"] = "optional"
                operation["description"] = (
                    operation.get("description", "").rstrip()
                    + "\n\nPublic: no credentials needed; a signed-in caller's token or session still counts."
                ).lstrip()
    return result


_EMPTY_STRING = {"type": "string", "maxLength": 0}


def _blank_any_of(node) -> None:
    if isinstance(node, dict):
        if _EMPTY_STRING in node.get("oneOf", []):
            node["anyOf"] = node.pop("oneOf")
        for value in node.values():
            _blank_any_of(value)
    elif isinstance(node, list):
        for value in node:
            _blank_any_of(value)


def blank_strings_any_of(result, generator, request, public):
    """drf-spectacular postprocessing hook: a URL or email field that may be blank is documented as
    `oneOf` [the format, an empty string]; "" matches both (a format does not reject it for every
    validator), which `oneOf` forbids, so valid answers failed validation. `anyOf` says the same."""
    _blank_any_of(result)
    return result


HEADERS = {
    "RateLimit-Policy": {
        "description": 'The throttle that counted this request: `"<policy>";q=<requests>;w=<window seconds>` '
        "(IETF draft-ietf-httpapi-ratelimit-headers). Absent while the throttle cache is down.",
        "schema": {"type": "string", "example": '"user_read";q=1200;w=60'},
    },
    "RateLimit": {
        "description": 'What is left of it: `"<policy>";r=<requests left>;t=<seconds until the window resets>`.',
        "schema": {"type": "string", "example": '"user_read";r=1187;t=42'},
    },
    "Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}},
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the same Idempotency-Key.",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "Deprecation": {
        "description": "Sent when the request used something deprecated: when it was deprecated, `@<unix time>` "
        "(RFC 9745); see `Sunset` and `Link`.",
        "schema": {"type": "string", "example": "@1796256000"},
    },
    "Sunset": {
        "description": "When the deprecated thing the request used may stop working (RFC 8594, an HTTP date).",
        "schema": {"type": "string", "example": "Wed, 30 Jun 2027 00:00:00 GMT"},
    },
}


def _header_refs(*names: str) -> dict:
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


def response_headers(result, generator, request, public):
    """drf-spectacular postprocessing hook (after `error_responses`): the headers our answers carry.
    Every answer may carry the rate-limit fields; a 429 or 503 `Retry-After`; an idempotent operation's
    success `Idempotent-Replayed`; an operation with deprecated parameters `Deprecation` and `Sunset`."""
    result.setdefault("components", {})["headers"] = HEADERS
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            parameters = operation.get("parameters", [])
            idempotent = any(p.get("name") == "Idempotency-Key" for p in parameters)
            deprecations = any(p.get("deprecated") for p in parameters)
            for status, response in operation["responses"].items():
                headers = response.setdefault("headers", {})
                headers.update(_header_refs("RateLimit-Policy", "RateLimit"))
                if status in ("429", "503"):
                    headers.update(_header_refs("Retry-After"))
                if status.startswith("2") and idempotent:
                    headers.update(_header_refs("Idempotent-Replayed"))
                if status.startswith("2") and deprecations:
                    headers.update(_header_refs("Deprecation", "Sunset"))
    return result
