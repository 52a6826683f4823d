"""The API's JSON parser: DRF's, plus a bound on nesting.

Python's decoder recurses once per level: `[[[[…` a few thousand deep raises RecursionError (a 500), and
a body nested a few hundred deep parses but then fails wherever it is walked again (validation, the
jsonb encoder). No request body of this API nests deeper than a few levels, so past `MAX_DEPTH` the body
is refused with 400 `malformed_json`.
"""

import codecs
import json

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils.json import strict_constant

MAX_DEPTH = 32


class MalformedJSON(ParseError):
    default_code = "malformed_json"


def json_depth_exceeds(value, limit: int = MAX_DEPTH) -> bool:
    """True if `value` (parsed JSON) nests arrays and objects more than `limit` levels deep."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class BoundedJSONParser(JSONParser):
    """JSON whose nesting is at most `MAX_DEPTH` levels; deeper is 400 `malformed_json`."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding") or "utf-8"
        raw = stream.read() if stream is not None else b""
        try:
            text = codecs.decode(raw, encoding)
            data = json.loads(text, parse_constant=strict_constant if self.strict else None)
        except RecursionError:
            raise MalformedJSON(f"JSON nests more than {MAX_DEPTH} levels deep.") from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        # Fewer brackets than the limit cannot nest past it: the walk is only for the rare deep body.
        deep = isinstance(data, dict | list) and raw.count(b"[") + raw.count(b"{") > MAX_DEPTH
        if deep and json_depth_exceeds(data):
            raise MalformedJSON(f"JSON nests more than {MAX_DEPTH} levels deep.")
        return data
