"""Frames as they go on the wire, encoded once for every socket that follows a topic."""

import json

from csn.realtime.topics import public_topic


def encode_event(*, topic: str, seq: int, name: str, data: dict) -> str:
    return json.dumps(
        {"type": "event", "topic": public_topic(topic), "seq": seq, "name": name, "data": data},
        separators=(",", ":"),
        default=str,
    )


def batch_frame(texts: list[str]) -> str:
    """Several encoded events as one frame (a busy topic's events of one pass)."""
    return '{"type":"batch","events":[' + ",".join(texts) + "]}"
