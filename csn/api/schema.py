"""The OpenAPI schema's one error shape: every operation may answer a 4xx or a 5xx in it
(csn.api.errors), so each documents `4XX` and `5XX` with the `Error` component unless it already names
a code of its own."""

_WHEN = {"type": "string", "format": "date-time", "nullable": True}
REFUSAL_MEMBERS = {
    "products": {
        "type": "array",
        "description": "not_entitled: the products on sale that would unlock it",
        "items": {
            "type": "object",
            "properties": {"code": {"type": "string"}, "name": {"type": "string"}, "kind": {"type": "string"}},
        },
    },
    "available_from": {**_WHEN, "description": "not_available_yet: when the item opens"},
    "starts_at": {**_WHEN, "description": "not_available_yet: when the game starts"},
    "available_until": {**_WHEN, "description": "expired: when the item closed"},
    "ended_at": {**_WHEN, "description": "expired: when the game ended"},
    "region": {
        "type": "object",
        "description": "blackout: the viewer's region",
        "properties": {
            "country": {"type": "string"},
            "subdivision": {"type": "string"},
            "postal_code": {"type": "string"},
            "source": {"type": "string", "enum": ["cdn", "account"]},
        },
    },
    "replay_opens_at": {**_WHEN, "description": "blackout: when the replays open in the region"},
    "replay_after_minutes": {"type": "integer", "description": "blackout: minutes after the game's end"},
    "limit": {"type": "integer", "description": "stream_limit: streams allowed at once"},
    "sessions": {
        "type": "array",
        "description": "stream_limit: the open sessions, each endable (DELETE /api/v1/playback/sessions/{id}/)",
        "items": {"type": "object"},
    },
}

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "description": "machine-readable, e.g. not_found, invalid"},
                "message": {"type": "string"},
                **REFUSAL_MEMBERS,
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
            # Refusals a client acts on carry data beside the code (docs/playback.md).
            "additionalProperties": True,
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
