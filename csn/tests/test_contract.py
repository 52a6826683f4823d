"""The API contract: the committed schema (docs/openapi.yaml) is what the app serves, each version of it
is in the changelog, and every operation is documented for client generators (ids, summaries,
descriptions, tags, error codes with examples, typed bodies)."""

import re

import pytest
import yaml

from csn.api.contract import changelog_digests, committed_schema, schema_digest

pytestmark = pytest.mark.django_db

METHODS = {"get", "put", "patch", "post", "delete"}
HOW_TO = "Run `make schema` and record the digest it prints in docs/changelog.md with what changed."


@pytest.fixture(scope="module")
def served(django_db_setup, django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def _without_integer_bounds(node):
    """The schema less the bounds of integers, which model fields take from the database: SQLite's
    integers are all 64-bit, PostgreSQL's `integer` and `smallint` are not."""
    if isinstance(node, dict):
        bounds = {"maximum", "minimum", "format"} if node.get("type") == "integer" else set()
        return {key: _without_integer_bounds(value) for key, value in node.items() if key not in bounds}
    if isinstance(node, list):
        return [_without_integer_bounds(value) for value in node]
    return node


def test_the_served_schema_is_the_committed_one(served):
    """docs/openapi.yaml is generated on PostgreSQL, as production serves it (`make schema` with
    DATABASE_URL set); on SQLite only the integer bounds differ, and are set aside."""
    from django.db import connection

    committed = committed_schema()
    if connection.vendor != "postgresql":
        served, committed = _without_integer_bounds(served), _without_integer_bounds(committed)
    assert served == committed, f"docs/openapi.yaml differs from the served schema. {HOW_TO}"


def test_the_committed_schema_is_recorded_in_the_changelog():
    digests = changelog_digests()
    assert digests, "docs/changelog.md records no schema digest"
    assert digests[0] == schema_digest(committed_schema()), f"docs/openapi.yaml changed. {HOW_TO}"


def test_every_operation_has_a_readable_id_a_summary_a_description_and_a_known_tag(served):
    tags = {tag["name"] for tag in served["tags"]}
    ids = []
    for path, method, operation in _operations(served):
        where = f"{method.upper()} {path}"
        assert re.fullmatch(r"[a-z]+(?:[A-Z][a-z]*)*", operation["operationId"]), where
        assert operation.get("summary") and operation.get("description"), where
        assert len(operation["tags"]) == 1 and operation["tags"][0] in tags, where
        ids.append(operation["operationId"])
    assert len(ids) == len(set(ids))


def test_every_operation_lists_its_error_codes_each_with_an_example(served):
    examples = served["components"]["examples"]
    for path, method, operation in _operations(served):
        codes = operation["x-error-codes"]
        assert "throttled" in codes["429"] and "server_error" in codes["500"], path
        for status, status_codes in codes.items():
            response = operation["responses"][status]
            for media_type in ("application/problem+json", "application/json"):
                content = response["content"][media_type]
                assert content["schema"] == {"$ref": "#/components/schemas/Problem"}
                for code in status_codes:
                    ref = content["examples"][code]["$ref"].rsplit("/", 1)[1]
                    assert examples[ref]["value"]["code"] == code
                    assert examples[ref]["value"]["status"] == int(status)


def test_operation_specific_codes_are_listed(served):
    def codes(path, method):
        return {code for listed in served["paths"][path][method]["x-error-codes"].values() for code in listed}

    assert {"email_taken", "weak_password"} <= codes("/api/v1/auth/register/", "post")
    assert "stream_limit" in codes("/api/v1/games/{game_id}/heartbeat/", "post")
    assert "idempotency_key_reused" in codes("/api/v1/playlists/", "post")
    assert "not_found" in codes("/api/v1/content/{id}/", "get")
    assert "not_authenticated" not in codes("/api/v1/content/", "get")  # public


def test_public_operations_need_no_credentials(served):
    public = {
        ("/api/v1/content/", "get"),
        ("/api/v1/content/{id}/", "get"),
        ("/api/v1/teams/", "get"),
        ("/api/v1/players/", "get"),
        ("/api/v1/games/", "get"),
        ("/api/v1/games/{id}/", "get"),
        ("/api/v1/playlists/shared/{token}/", "get"),
        ("/api/v1/content/{id}/moments/", "get"),
        ("/api/v1/games/{game_id}/playback/", "get"),
        ("/api/v1/games/{game_id}/chat/replay/", "get"),
        ("/api/v1/auth/token/", "post"),
        ("/api/v1/auth/register/", "post"),
        ("/api/v1/playback/manifest/{token}/", "get"),  # players fetch it without credentials
        ("/api/v1/playback/manifest/{token}/{name}", "get"),  # and the segments beside it
        ("/api/v1/billing/stripe/webhook/", "post"),  # Stripe signs it instead
    }
    for path, method, operation in _operations(served):
        # `security: []`: generated clients call them without credentials (csn.api.schema.public_operations)
        assert (operation["security"] == []) == ((path, method) in public), f"{method} {path}"
    assert served["paths"]["/api/v1/content/"]["get"]["x-credentials"] == "optional"
    assert "x-credentials" not in served["paths"]["/api/v1/auth/token/"]["post"]


def test_response_bodies_are_typed_and_their_fields_required(served):
    for name, component in served["components"]["schemas"].items():
        if name.endswith("Request") or "properties" not in component:
            continue
        for field, schema in component["properties"].items():
            typed = any(key in schema for key in ("type", "$ref", "allOf", "oneOf", "anyOf"))
            assert typed, f"{name}.{field} has no type"
        if name != "Problem":
            assert set(component["required"]) == set(component["properties"]), name


def test_filters_are_typed_enums_and_booleans(served):
    parameters = {p["name"]: p for p in served["paths"]["/api/v1/content/"]["get"]["parameters"]}

    assert parameters["premium"]["schema"]["type"] == "boolean"
    assert "-published_at" in parameters["ordering"]["schema"]["enum"]
    assert parameters["published_from"]["schema"]["format"] == "date"
    assert parameters["published_after"]["deprecated"] is True
    games = {p["name"]: p for p in served["paths"]["/api/v1/games/"]["get"]["parameters"]}
    assert set(games["ordering"]["schema"]["enum"]) == {"starts_at", "-starts_at", "created_at", "-created_at"}


def test_the_schema_names_its_servers_and_the_problem_component(served):
    assert served["servers"][0]["url"] == "/"
    problem = served["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "code", "fields"} <= set(problem["required"])


def test_the_changelog_is_served_beside_the_schema(client):
    response = client.get("/api/changelog/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/markdown")
    assert changelog_digests()[0] in b"".join(response.streaming_content).decode()


def test_the_headers_answers_carry_are_documented(served):
    content = served["paths"]["/api/v1/content/"]["get"]["responses"]
    playlists = served["paths"]["/api/v1/playlists/"]["post"]["responses"]

    assert {"RateLimit-Policy", "RateLimit", "Deprecation", "Sunset"} <= set(content["200"]["headers"])
    assert "Retry-After" in content["429"]["headers"]
    assert "Idempotent-Replayed" in playlists["201"]["headers"]
    assert "Idempotent-Replayed" not in content["200"]["headers"]
