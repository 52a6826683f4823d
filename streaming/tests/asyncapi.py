"""Frames checked against the AsyncAPI document of the live protocol (streaming/live/asyncapi.yaml).

Every frame a live test receives through `streaming.tests.live.Client` must be one of the document's
server messages, checked strictly: an object schema that lists its properties admits no other (the
document itself lets clients meet new fields; the tests make sure the document names them first)."""

import copy
import functools
from pathlib import Path

import yaml
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

# Event names that only tests publish (to exercise seqs, replay and fan-out); checked as an event envelope.
# Which names the code publishes is held by test_asyncapi.py against the document.
SYNTHETIC_EVENTS = {"a", "b", "n", "first", "note", "secret", "progress", "old", "new", "rolled-back"}
DOCUMENT = Path(__file__).resolve().parents[1] / "live" / "asyncapi.yaml"
URI = "urn:csn:live:asyncapi"


@functools.cache
def document() -> dict:
    return yaml.safe_load(DOCUMENT.read_text())


def _strict(node):
    if isinstance(node, dict):
        node = {key: _strict(value) for key, value in node.items()}
        if node.get("type") == "object" and "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        return node
    if isinstance(node, list):
        return [_strict(item) for item in node]
    return node


def _operation_messages(operation: str) -> list[str]:
    refs = document()["operations"][operation]["messages"]
    return [ref["$ref"].rsplit("/", 1)[-1] for ref in refs]


def server_messages() -> list[str]:
    return _operation_messages("sendFrames")


def client_messages() -> list[str]:
    return _operation_messages("receiveRequests")


@functools.cache
def _validators() -> dict[str, Draft7Validator]:
    strict = _strict(copy.deepcopy(document()))
    registry = Registry().with_resource(URI, Resource.from_contents(strict, default_specification=DRAFT7))
    validators = {
        name: Draft7Validator({"$ref": f"{URI}#/components/messages/{name}/payload"}, registry=registry)
        for name in strict["components"]["messages"]
    }
    validators["syntheticEvent"] = Draft7Validator(
        {"$ref": f"{URI}#/components/schemas/EventEnvelope"}, registry=registry
    )
    return validators


def _frame_type(name: str):
    if name == "syntheticEvent":
        return "event"
    payload = document()["components"]["messages"][name]["payload"]
    for part in [payload, *payload.get("allOf", [])]:
        if "$ref" in part:
            part = document()["components"]["schemas"][part["$ref"].rsplit("/", 1)[-1]]
        kind = part.get("properties", {}).get("type", {}).get("const")
        if kind:
            return kind
    return None


def _match(frame: dict, names: list[str]) -> str:
    if frame.get("type") == "event" and frame.get("name") in SYNTHETIC_EVENTS:
        names = ["syntheticEvent"]
    candidates = [name for name in names if _frame_type(name) == frame.get("type")]
    problems = []
    for name in candidates:
        error = next(iter(_validators()[name].iter_errors(frame)), None)
        if error is None:
            return name
        problems.append(f"{name}: {error.message} at {list(error.absolute_path)}")
    raise AssertionError(f"not a message of the AsyncAPI document: {frame}\n" + "\n".join(problems))


def server_frame(frame: dict) -> list[str]:
    """The documented messages this frame is (a batch: itself and each of its events)."""
    name = _match(frame, server_messages())
    if frame["type"] == "batch":
        return [name, *(_match(event, server_messages()) for event in frame["events"])]
    return [name]


def client_frame(frame: dict) -> str:
    """The documented request this frame is."""
    return _match(frame, client_messages())
