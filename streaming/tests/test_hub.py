"""The process hub: per-topic registration, coalescing into one frame encoded once, leaving."""

import asyncio

from streaming.hub import Hub


class Recorder:
    def __init__(self):
        self.items = []

    def hub_push(self, item):
        self.items.append(item)


def test_events_of_one_loop_turn_go_out_as_one_shared_batch_frame(settings):
    settings.REDIS_URL = ""

    async def scenario():
        hub = Hub()
        hub.redis_url = ""
        first, second, elsewhere = Recorder(), Recorder(), Recorder()
        await hub.join("chat:1", first)
        await hub.join("chat:1", second)
        await hub.join("chat:2", elsewhere)
        hub.deliver("chat:1", 2, '{"seq":2}')
        hub.deliver("chat:1", 1, '{"seq":1}')
        hub.deliver("chat:9", 1, '{"nobody":1}')  # no local follower: dropped
        await asyncio.sleep(0)
        assert len(first.items) == 1 and first.items[0] is second.items[0]  # encoded once, shared
        assert first.items[0].frame == '{"type":"batch","events":[{"seq":1},{"seq":2}]}'
        assert elsewhere.items == []
        hub.deliver("chat:1", 3, '{"seq":3}')  # idle again: sent at once, unbatched
        await asyncio.sleep(0)
        assert first.items[1].frame == '{"seq":3}'
        await hub.leave("chat:1", first)
        hub.deliver("chat:1", 4, '{"seq":4}')
        await asyncio.sleep(0)
        assert len(first.items) == 2 and len(second.items) == 3
        await hub.leave("chat:1", second)
        assert hub.subscriber_count("chat:1") == 0 and "chat:1" not in hub.topics

    asyncio.run(scenario())
