"""The process-local fan-out hub.

One channel-layer message per socket caps a process at ~2,000 deliveries/s, so live events do not
go through per-socket channel-layer messages. Instead each process keeps one hub:

- consumers register per topic (`join` / `leave`); a disconnected consumer leaves every topic;
- with REDIS_URL set, ONE Redis pub/sub connection per process carries every topic this process
  follows (SUBSCRIBE when a topic gains its first local socket, UNSUBSCRIBE when it loses the last);
  in the embedded default, events are handed to the hub in-process;
- each event arrives as a frame already encoded by the publisher; events that arrive in the same
  loop turn are coalesced per topic into one `batch` frame, encoded once for all sockets;
- a frame goes to each socket at once, without a task per socket (daphne's send completes in one
  step); a socket whose send suspends queues what follows, bounded, and is cut off past the bound, so
  a slow reader never stalls a topic;
- adaptive pacing: a pass over a topic's sockets costs time (tens of microseconds a socket), so the
  topic's next pass waits `LIVE_PACE_FACTOR` times as long. An idle topic sends at once; a hot one
  takes a bounded share of the event loop, and what arrives meanwhile goes out as one `batch` frame.

Pub/sub is at-most-once: a gap is repaired by the client resuming with `since` from PostgreSQL. When
the hub's own pub/sub connection drops and comes back, it replays from PostgreSQL what its topics
missed meanwhile, so clients need not wait for a later event to notice the gap.
"""

import asyncio
import contextvars
import logging
import threading
import time

from channels.db import database_sync_to_async
from django.conf import settings

from csn import metrics, requestid
from csn.realtime import drain, load
from csn.realtime.alignment import AlignedTopic, clock
from csn.realtime.frames import encode_event, frames_of
from csn.realtime.log import current_seq, topic_replay

logger = logging.getLogger(__name__)


# However long one pass took (a pause of the whole process), a topic never waits longer than this.
MAX_PACE_SECONDS = 0.5


class Item:
    """Events of one topic fanned out together; its frames (`parts`) are encoded once and shared by every
    socket."""

    __slots__ = ("bulk", "events", "parts", "shed", "shed_authors", "shed_coalesced", "topic")

    def __init__(self, topic: str, events: list[tuple[int, str]], *, bulk: bool = False):
        self.topic = topic
        self.events = events
        # One frame, or several when one would pass the server's message cap (frames.MAX_FRAME_BYTES):
        # `(events sent once this part is, ASGI message)`. The messages are shared: the server only reads them.
        self.parts = [
            (sent, {"type": "websocket.send", "text": frame}) for sent, frame in frames_of([text for _, text in events])
        ]
        # Under load (csn.realtime.load): what most sockets get instead (`shed`: a `skipped` note per shed
        # event, protocol 1; `shed_coalesced`: a note per run, protocol 2), and whose own events it sheds.
        self.shed: Item | None = None
        self.shed_coalesced: Item | None = None
        self.shed_authors: set = set()
        # Whether it holds events that may be sampled (chat messages): a socket's backlog sends the
        # topics of such items after the others (the consumer's send path), so scores never wait on chat.
        self.bulk = bulk

    @property
    def frames(self) -> list[str]:
        return [message["text"] for _, message in self.parts]

    @property
    def last_seq(self) -> int:
        return self.events[-1][0]


class Hub:
    def __init__(self):
        self.loop: asyncio.AbstractEventLoop | None = None
        self.topics: dict[str, set] = {}  # a topic's unaligned sockets
        self.aligned: dict[str, AlignedTopic] = {}  # a topic's aligned sockets, by delay tier (alignment.py)
        self.pending: dict[str, list[tuple[int, str]]] = {}
        # Per topic with pending events: the oldest one's publish time (wall clock) and the request ids
        # that published them (for the fan-out lag metric and the slow fan-out log line).
        self.pending_since: dict[str, tuple[float, list[str]]] = {}
        self.next_pass: dict[str, float] = {}  # loop time before which a topic's next pass waits
        # Per followed topic, the newest seq this process passed on, or the topic's seq when this process
        # began to follow it: a replay after a reconnect starts there.
        self.last_seq: dict[str, int] = {}
        self.redis_url = settings.REDIS_URL
        self.prefix = settings.LIVE_REDIS_CHANNEL_PREFIX
        self._pubsub = None
        self._reader: asyncio.Task | None = None
        self._redis_ready: asyncio.Event | None = None

    # --- registration (event loop thread) ------------------------------------------------------
    def _bind(self) -> None:
        loop = asyncio.get_running_loop()
        if self.loop is not loop:
            # A new loop (tests run one per test): start clean on it.
            self.loop, self.topics, self.pending, self.next_pass, self.last_seq = loop, {}, {}, {}, {}
            self.pending_since, self.aligned = {}, {}
            self._pubsub, self._reader, self._redis_ready = None, None, None
            metrics.ensure_loop_sampler(on_sample=self.sample)

    def _followed(self, topic: str) -> bool:
        return bool(self.topics.get(topic)) or topic in self.aligned

    async def join(self, topic: str, subscriber, *, lag: float | None = None) -> None:
        """Follow a topic: every event at once, or with `lag`, each when the socket's horizon (the wall
        clock minus `lag` seconds) passes the event's time (csn.realtime.alignment)."""
        self._bind()
        first = not self._followed(topic)
        if not self._holds(topic, subscriber):
            metrics.live_subscriptions.labels(topic.partition(":")[0]).inc()
        # One way at a time: a subscribe again may switch between the two.
        if lag is None:
            self._drop_aligned(topic, subscriber)
            self.topics.setdefault(topic, set()).add(subscriber)
        else:
            self._drop_unaligned(topic, subscriber)
            aligned = self.aligned.setdefault(topic, AlignedTopic())
            aligned.tier_leave(subscriber)
            aligned.tier_join(lag, subscriber)
        if first and self.redis_url:
            await self._redis_subscribe(topic)
            await self._seq_remember(topic)

    async def leave(self, topic: str, subscriber) -> None:
        if asyncio.get_running_loop() is not self.loop or not self._holds(topic, subscriber):
            return
        self._drop_unaligned(topic, subscriber)
        self._drop_aligned(topic, subscriber)
        metrics.live_subscriptions.labels(topic.partition(":")[0]).dec()
        if not self._followed(topic):
            self.next_pass.pop(topic, None)
            self.last_seq.pop(topic, None)
            if self.redis_url and self._pubsub is not None:
                try:
                    await self._pubsub.unsubscribe(self.prefix + topic)
                except Exception:  # the reader reconnects and resubscribes what is still followed
                    logger.warning("live hub: unsubscribe %s failed", topic, exc_info=True)

    def _holds(self, topic: str, subscriber) -> bool:
        if subscriber in self.topics.get(topic, ()):
            return True
        aligned = self.aligned.get(topic)
        return aligned is not None and any(subscriber in tier.subscribers for tier in aligned.tiers.values())

    def _drop_unaligned(self, topic: str, subscriber) -> None:
        subscribers = self.topics.get(topic)
        if subscribers is not None:
            subscribers.discard(subscriber)
            if not subscribers:
                del self.topics[topic]

    def _drop_aligned(self, topic: str, subscriber) -> None:
        aligned = self.aligned.get(topic)
        if aligned is not None:
            aligned.tier_leave(subscriber)
            if not aligned.tiers:
                del self.aligned[topic]

    def subscriber_count(self, topic: str) -> int:
        aligned = self.aligned.get(topic)
        tiers = aligned.tiers.values() if aligned else ()
        return len(self.topics.get(topic, ())) + sum(len(tier.subscribers) for tier in tiers)

    # --- aligned sockets (event loop thread) -----------------------------------------------------
    def align(self, topic: str, subscriber, *, lag: float, since: int) -> None:
        """Put an aligned socket in the tier of its (new) delay and hand it at once what is due for it
        after `since` (its last seq); it never gets again what it has. Called after `join(lag=...)`
        and on every new horizon report."""
        aligned = self.aligned.get(topic)
        if aligned is None:
            return
        aligned.tier_leave(subscriber)
        tier = aligned.tier_join(lag, subscriber)
        catch_up = aligned.catch_up(tier, since)
        if catch_up:
            subscriber.hub_push(Item(topic, catch_up))
        self._tier_schedule(topic, aligned, tier)

    def timeline_merge(self, topic: str, rows) -> None:
        """Events read from PostgreSQL `(seq, at, frame)` that an aligned socket still waits for (those
        published before this process followed the topic)."""
        aligned = self.aligned.get(topic)
        if aligned is None:
            return
        for seq, at, frame in rows:
            aligned.timeline.add(seq, at, frame)
        for tier in aligned.tiers.values():
            self._tier_schedule(topic, aligned, tier)

    def align_wake(self) -> None:
        """Pass every tier whose next event is due (the clock moved; tests with a clock of their own)."""
        for topic, aligned in list(self.aligned.items()):
            for tier in list(aligned.tiers.values()):
                self._tier_pass(topic, tier)

    def _tier_schedule(self, topic: str, aligned: AlignedTopic, tier) -> None:
        if tier.handle is not None:
            return
        due = aligned.next_due(tier)
        if due is None:
            return
        wait = max(due - clock.now(), tier.next_pass - self.loop.time())
        if wait > 0.001:
            tier.handle = self.loop.call_later(wait, self._tier_pass, topic, tier)
        else:
            tier.handle = self.loop.call_soon(self._tier_pass, topic, tier)

    def _tier_pass(self, topic: str, tier) -> None:
        tier.handle = None
        aligned = self.aligned.get(topic)
        if aligned is None or aligned.tiers.get(tier.lag) is not tier:
            return  # the tier lost its last socket meanwhile
        started = self.loop.time()
        if started < tier.next_pass:  # woken early (align_wake): keep the pacing
            self._tier_schedule(topic, aligned, tier)
            return
        events = aligned.due_events(tier, clock.now())
        if events:
            item = Item(topic, events)
            for subscriber in list(tier.subscribers):
                subscriber.hub_push(item)
            finished = self.loop.time()
            tier.next_pass = finished + min((finished - started) * settings.LIVE_PACE_FACTOR, MAX_PACE_SECONDS)
            aligned.prune()
        self._tier_schedule(topic, aligned, tier)

    def sample(self, loop_lag: float) -> None:
        """Each second on the loop (csn.metrics.loop_sampler): queue gauges, then the load level."""
        metrics.live_hub_queue.labels("pending").set(sum(len(events) for events in self.pending.values()))
        metrics.live_hub_queue.labels("queued").set(drain.queued_frames())
        load.sample(loop_lag)

    # --- delivery (event loop thread) ----------------------------------------------------------
    def deliver(
        self,
        topic: str,
        seq: int,
        frame: str,
        published_at: float | None = None,
        request_id: str | None = None,
        at: float | None = None,
    ) -> None:
        """An event reached this process: published at `published_at` by request `request_id`; `at` is
        the time of what it tells (epoch seconds; None: its publication, else now), for aligned sockets."""
        aligned = self.aligned.get(topic)
        if aligned is not None:
            moment = at if at is not None else published_at if published_at is not None else clock.now()
            if aligned.timeline.add(seq, moment, frame):
                self.last_seq[topic] = max(self.last_seq.get(topic, 0), seq)
                for tier in aligned.tiers.values():
                    self._tier_schedule(topic, aligned, tier)
        if not self.topics.get(topic):
            return
        pending = self.pending.setdefault(topic, [])
        pending.append((seq, frame))
        since = self.pending_since.get(topic)
        if since is None:
            self.pending_since[topic] = (published_at or time.time(), [request_id] if request_id else [])
        elif request_id and len(since[1]) < 10:
            since[1].append(request_id)
        if len(pending) == 1:
            # Everything that arrives before the pass runs goes out as one frame.
            wait = self.next_pass.get(topic, 0.0) - self.loop.time()
            if wait > 0.001:
                self.loop.call_later(wait, self._flush, topic)
            else:
                self.loop.call_soon(self._flush, topic)

    def _flush(self, topic: str) -> None:
        events = self.pending.pop(topic, None)
        published_at, request_ids = self.pending_since.pop(topic, (None, []))
        if not events:
            return
        started = self.loop.time()
        events.sort(key=lambda event: event[0])
        self.last_seq[topic] = max(self.last_seq.get(topic, 0), events[-1][0])
        item = Item(topic, events, bulk=load.bulk(events))
        subscribers = list(self.topics.get(topic, ()))
        shed = load.shed(topic, events, len(subscribers))
        if shed is not None:  # under load: most sockets get the item with some events `skipped`
            item.shed, item.shed_authors = Item(topic, shed.events, bulk=item.bulk), shed.authors
            item.shed_coalesced = Item(topic, shed.coalesced, bulk=item.bulk)
        for subscriber in subscribers:
            subscriber.hub_push(item)
        finished = self.loop.time()
        # A sampled chat room under load waits longer (csn.realtime.load.pace): fewer writes per socket.
        pause = min((finished - started) * settings.LIVE_PACE_FACTOR * load.pace(topic), MAX_PACE_SECONDS)
        self.next_pass[topic] = finished + pause
        if published_at is not None:
            lag = max(0.0, time.time() - published_at)
            metrics.live_fanout_lag.labels(topic.partition(":")[0]).observe(lag)
            load.fanout_observed(lag)
            if lag > settings.LIVE_SLOW_FANOUT_LOG_SECONDS:
                logger.warning(
                    "live hub: slow fan-out of %s to %d sockets: %.0f ms after publish (requests %s)",
                    topic,
                    len(subscribers),
                    lag * 1000,
                    ",".join(request_ids) or "-",
                )

    # --- Redis pub/sub: one connection per process ---------------------------------------------
    async def _redis_subscribe(self, topic: str) -> None:
        if self._reader is None:
            self._redis_ready = asyncio.Event()
            # A context of its own: not the request id of the socket whose subscribe started it.
            self._reader = asyncio.get_running_loop().create_task(self._read_redis(), context=contextvars.Context())
        await self._redis_ready.wait()
        await self._pubsub.subscribe(self.prefix + topic)

    async def _read_redis(self) -> None:
        import redis.asyncio as aioredis

        prefix_len = len(self.prefix)
        connected_before = False
        while True:
            client = aioredis.Redis.from_url(self.redis_url)
            pubsub = client.pubsub()
            try:
                # A control channel keeps the connection subscribed while no topic is followed.
                await pubsub.subscribe(self.prefix + "_hub")
                for topic in {*self.topics, *self.aligned}:
                    await pubsub.subscribe(self.prefix + topic)
                self._pubsub = pubsub
                self._redis_ready.set()
                if connected_before:
                    asyncio.get_running_loop().create_task(self._replay_missed())
                connected_before = True
                async for message in pubsub.listen():
                    if message["type"] != "message":
                        continue
                    channel = message["channel"].decode()
                    self.deliver(channel[prefix_len:], *wire_decode(message["data"].decode()))
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("live hub: Redis pub/sub lost, reconnecting", exc_info=True)
                self._redis_ready.clear()
                await asyncio.sleep(0.5)
            finally:
                try:
                    await pubsub.aclose()
                    await client.aclose()
                except Exception:
                    logger.debug("live hub: closing the pub/sub connection failed", exc_info=True)

    async def _seq_remember(self, topic: str) -> None:
        """Where a topic stands once this process is subscribed, so a reconnect replays what it missed
        even when no event of it came through before the connection dropped."""
        try:
            seq = await database_sync_to_async(current_seq)(topic)
        except Exception:  # the topic is still followed; a later event sets its seq
            logger.warning("live hub: reading the seq of %s failed", topic, exc_info=True)
            return
        if self._followed(topic):
            self.last_seq.setdefault(topic, seq)

    async def _replay_missed(self) -> None:
        """After the pub/sub connection came back: what each followed topic published meanwhile, from
        PostgreSQL. Events that also arrive by pub/sub reach a socket twice; clients drop a seq they
        have applied (docs/protocol.md)."""
        for topic, since in list(self.last_seq.items()):
            if not self._followed(topic):
                continue
            try:
                rows = await database_sync_to_async(topic_replay)(topic=topic, since=since, timed=True)
            except Exception:
                logger.warning("live hub: replay of %s after a reconnect failed", topic, exc_info=True)
                continue
            for seq, name, data, at in rows or ():  # None: too far behind; clients resnapshot on the next event
                self.deliver(topic, seq, encode_event(topic=topic, seq=seq, name=name, data=data), at=at)


def wire_encode(seq: int, frame: str, published_at: float, request_id: str | None, at: float | None = None) -> str:
    """An event on Redis pub/sub: `seq|published_at|request_id|at|frame` (the frame is JSON, so it starts
    with `{`; the request id has no `|`: csn.requestid.sane; `at` is empty when unknown)."""
    return f"{seq}|{published_at:.6f}|{request_id or ''}|{'' if at is None else f'{at:.6f}'}|{frame}"


def wire_decode(data: str) -> tuple[int, str, float | None, str | None, float | None]:
    """`(seq, frame, published_at, request_id, at)`. The older formats too (`seq|frame` before the
    metrics, `seq|published_at|request_id|frame` before aligned delivery), so a rolling deploy from them
    loses nothing on the new processes."""
    seq, _, rest = data.partition("|")
    if rest.startswith("{"):
        return int(seq), rest, None, None, None
    published_at, request_id, rest = rest.split("|", 2)
    at = None
    if not rest.startswith("{"):
        moment, rest = rest.split("|", 1)
        at = float(moment) if moment else None
    return int(seq), rest, float(published_at), request_id or None, at


hub = Hub()
_redis_publisher = None
_publisher_lock = threading.Lock()


def fan_out(*, topic: str, seq: int, frame: str, at: float | None = None) -> None:
    """Hand a committed event (`at`: the time of what it tells, epoch seconds) to every process's hub.
    Callable from any thread, after commit."""
    published_at, request_id = time.time(), requestid.current()
    if settings.REDIS_URL:
        global _redis_publisher
        import redis

        with _publisher_lock:
            if _redis_publisher is None:
                # Short timeouts: a Redis outage must not hang the request that committed.
                _redis_publisher = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
        try:
            _redis_publisher.publish(
                settings.LIVE_REDIS_CHANNEL_PREFIX + topic, wire_encode(seq, frame, published_at, request_id, at)
            )
        except Exception:  # stored already: subscribers get it on resume
            logger.warning("live: publish of %s#%s failed", topic, seq, exc_info=True)
        return
    loop = hub.loop
    if loop is None or loop.is_closed():
        return
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        hub.deliver(topic, seq, frame, published_at, request_id, at)
    else:
        loop.call_soon_threadsafe(hub.deliver, topic, seq, frame, published_at, request_id, at)
