"""The OpenAPI schema's one error shape: every operation may answer a 4xx or a 5xx in it
(csn.api.errors), so each documents `4XX` and `5XX` with the `Error` component unless it already names
a code of its own."""

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "description": "machine-readable, e.g. not_found, invalid"},
                "message": {"type": "string"},
                "limit": {"type": "integer", "description": "with `stream_limit`: the streams the plan allows at once"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                            "required": ["code", "message"],
                        },
                    },
                },
            },
            "required": ["code", "message", "fields"],
        }
    },
    "required": ["error"],
}

_ERROR_REF = {"$ref": "#/components/schemas/Error"}


def error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: the `Error` component and `4XX`/`5XX` on every operation."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status, description in (("4XX", "Client error"), ("5XX", "Server error")):
                responses.setdefault(
                    status, {"description": description, "content": {"application/json": {"schema": _ERROR_REF}}}
                )
            # A documented 4xx without a body (e.g. "413: too large") has the error shape as well.
            for status, response in responses.items():
                if status[0] in "45" and isinstance(response, dict) and "content" not in response:
                    response["content"] = {"application/json": {"schema": _ERROR_REF}}
    return result
