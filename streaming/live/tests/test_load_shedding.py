"""Under load (csn.realtime.load) the gateway gives moderators and a shed message's author everything."""

from csn.realtime.frames import encode_event
from csn.realtime.hub import Item
from streaming.live.consumers import GatewayConsumer

CHAT = "chat:7"


def _event(topic, seq, name, data=None):
    return seq, encode_event(topic=topic, seq=seq, name=name, data=data or {})


def test_moderators_and_authors_get_the_whole_item_everyone_else_the_shed_one():
    item = Item(CHAT, [_event(CHAT, 11, "chat.message", {"user": {"id": 5}})])
    item.shed, item.shed_authors = Item(CHAT, [_event(CHAT, 11, "skipped")]), {5}

    def consumer(user_id, moderator=False):
        socket = GatewayConsumer.__new__(GatewayConsumer)
        socket.user = type("U", (), {"pk": user_id})() if user_id else None
        socket.sees_all_chat = moderator
        return socket

    assert consumer(5)._sees_all(item)  # the author
    assert consumer(6, moderator=True)._sees_all(item)
    assert not consumer(6)._sees_all(item)
    assert not consumer(None)._sees_all(item)
