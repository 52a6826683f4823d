"""Aligned subscriptions of the live gateway: `subscribe {align: true}` and the `align` message.

A mixin of `GatewayConsumer` (consumers.py), kept apart so the gateway's own code stays thin. An aligned
subscription gets its snapshot as the topic stood at the socket's horizon, then each event when the
horizon passes it (csn.realtime.alignment, the hub's delay tiers); a new horizon moves the socket to
another tier without sending anything twice. See docs/protocol.md, "Aligned delivery".
"""

from datetime import UTC, datetime

from channels.db import database_sync_to_async
from django.conf import settings

from content.models import Game
from content.spoilers import spoilers_for
from csn.errors import ApplicationError
from csn.realtime.alignment import clock
from csn.realtime.frames import encode_event
from csn.realtime.hub import Item, hub
from csn.realtime.log import current_seq, topic_replay
from csn.realtime.topics import public_topic
from streaming.live import selectors
from streaming.live.services.alignment import Horizon, horizon_delay, horizon_parse, spoiler_start_delay
from streaming.live.topics import CHAT, GAME

ALIGNABLE = (GAME, CHAT)  # not the moderators' queue, the user's or the Studio's topics


def _aligned_read(*, topic: str, kind: str, ident: int, since, horizon: datetime):
    """What an aligned subscription starts from: ("replay", seq, events) after `since` up to the horizon,
    or ("snapshot", seq, data) at the horizon; and the events after it, timed, that are not due yet."""
    seq, data = selectors.topic_snapshot_at(topic=topic, kind=kind, ident=ident, horizon=horizon)
    how, payload, start = "snapshot", data, seq
    if since is not None and since <= current_seq(topic):  # a `since` ahead of the topic: start over
        rows = [] if since >= seq else topic_replay(topic=topic, since=since, until=seq)
        if rows is not None:
            how, payload, start = "replay", rows, max(since, seq)
    pending = topic_replay(topic=topic, since=seq, timed=True, limit=settings.LIVE_ALIGN_TIMELINE_MAX) or []
    return how, start, payload, [(s, at, encode_event(topic=topic, seq=s, name=n, data=d)) for s, n, d, at in pending]


def _spoiler_delay(user, game_id: int) -> float | None:
    """None unless the user holds this game's result; then the delay of the stream's start."""
    game = Game.objects.filter(pk=game_id).first()
    if user is None or game is None or not spoilers_for(user).holds(game):
        return None
    return spoiler_start_delay(game_id)


def aligned_item(item: Item, subscription) -> Item | None:
    """What of a tier's frame this socket lacks (it never gets a seq twice); advances its seq."""
    if item.last_seq <= subscription.seq:
        return None
    if item.events[0][0] <= subscription.seq:
        item = Item(item.topic, [event for event in item.events if event[0] > subscription.seq])
    subscription.seq = item.last_seq
    return item


class AlignedSubscriptions:
    horizon: Horizon | None = None

    def _horizon(self) -> Horizon:
        if self.horizon is None:
            self.horizon = Horizon()
        return self.horizon

    def _aligned_games(self) -> set[int]:
        return {int(topic.partition(":")[2]) for topic, sub in self.subscriptions.items() if sub.aligned}

    async def _horizon_take(self, value, extra_games=()) -> None:
        horizon = horizon_parse(value)
        games = self._aligned_games() | set(extra_games)
        delay = await database_sync_to_async(horizon_delay)(horizon, game_ids=games)
        self._horizon().move(delay)

    async def spoiler_align(self, kind: str, ident) -> bool:
        """Whether a subscription must be aligned although it did not ask: its viewer holds the game's
        result (spoiler-safe mode). A socket that has not said where it is starts at the stream's start."""
        if kind not in ALIGNABLE or self.user is None:
            return False
        delay = await database_sync_to_async(_spoiler_delay)(self.user, ident)
        if delay is None:
            return False
        if self.horizon is None:
            self._horizon().delay = delay
        return True

    async def subscribe_aligned(self, *, topic, kind, ident, since, ref, subscription, message) -> None:
        """The aligned branch of `on_subscribe` (the subscription is registered, nothing sent yet)."""
        if kind not in ALIGNABLE:
            raise ApplicationError("Only game and chat topics can be aligned.", code="invalid_message")
        if message.get("horizon") is not None:
            await self._horizon_take(message["horizon"], extra_games={ident})
        subscription.aligned = True
        delay = self._horizon().delay
        await hub.join(topic, self, lag=delay)
        horizon = datetime.fromtimestamp(clock.now() - delay, UTC)
        how, seq, payload, pending = await database_sync_to_async(_aligned_read)(
            topic=topic, kind=kind, ident=ident, since=since, horizon=horizon
        )
        public = public_topic(topic)
        if how == "replay":
            for event_seq, name, data in payload:
                await self.send(text_data=encode_event(topic=topic, seq=event_seq, name=name, data=data))
            await self.ack(ref, topic=public, seq=seq, replayed=len(payload), **self._horizon().data())
        else:
            snapshot = {"type": "snapshot", "status": "ok", "ref": ref, "topic": public, "seq": seq, "data": payload}
            if since is not None:
                snapshot["reset"] = True
            await self.reply({**snapshot, **self._horizon().data()})
        if self.subscriptions.get(topic) is not subscription:
            return
        held, subscription.holding = subscription.holding, None
        subscription.seq = seq
        hub.timeline_merge(topic, pending)
        # At the delay of now (an `align` may have come meanwhile): hands over at once what is due, unsent.
        hub.align(topic, self, lag=self._horizon().delay, since=seq)
        for item in held:
            item = aligned_item(item, subscription)
            if item is not None:
                self._enqueue(item)

    async def horizon_report(self, value, extra_games=()) -> dict:
        """A new horizon (`align`, or a heartbeat's): every aligned subscription moves to its tier."""
        await self._horizon_take(value, extra_games)
        delay = self._horizon().delay
        for topic, subscription in self.subscriptions.items():
            if subscription.aligned and subscription.holding is None:
                hub.align(topic, self, lag=delay, since=subscription.seq)
        return self._horizon().data()

    async def on_align(self, message, ref):
        """`align {horizon}`: where this socket's viewer is now."""
        if "horizon" not in message:
            raise ApplicationError("`horizon` is required.", code="invalid_message")
        await self.ack(ref, **await self.horizon_report(message["horizon"]))
