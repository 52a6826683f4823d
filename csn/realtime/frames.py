"""Frames as they go on the wire, encoded once for every socket that follows a topic."""

import json

from csn.realtime.topics import public_topic


def encode_event(*, topic: str, seq: int, name: str, data: dict) -> str:
    return json.dumps(
        {"type": "event", "topic": public_topic(topic), "seq": seq, "name": name, "data": data},
        separators=(",", ":"),
        default=str,
    )


# The largest frame the server sends. bin/serve caps a websocket message at 64 KiB
# (--websocket-max-message-size) and autobahn applies the cap to outgoing messages too: a larger frame
# raises PayloadExceededError and never reaches the socket. A pass's events go out in several `batch`
# frames rather than one past it. Frames are ASCII (json.dumps escapes the rest), so characters are bytes.
MAX_FRAME_BYTES = 60_000

_BATCH_OPEN, _BATCH_CLOSE = '{"type":"batch","events":[', "]}"


def batch_frame(texts: list[str]) -> str:
    """Several encoded events as one frame (a busy topic's events of one pass)."""
    return _BATCH_OPEN + ",".join(texts) + _BATCH_CLOSE


def frames_of(texts: list[str]) -> list[tuple[int, str]]:
    """`texts` (encoded events, in order) as frames of at most MAX_FRAME_BYTES, in order: one event as
    itself, more as `batch` frames. Each frame with the count of events sent once it is."""
    if len(texts) == 1:
        return [(1, texts[0])]
    limit = MAX_FRAME_BYTES - len(_BATCH_OPEN) - len(_BATCH_CLOSE)
    out, start, size = [], 0, -1
    for index, text in enumerate(texts):
        if index > start and size + 1 + len(text) > limit:
            out.append((index, batch_frame(texts[start:index]) if index - start > 1 else texts[start]))
            start, size = index, -1
        size += 1 + len(text)
    out.append((len(texts), batch_frame(texts[start:]) if len(texts) - start > 1 else texts[start]))
    return out
