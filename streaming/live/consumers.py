"""The live gateway at /ws/. Thin: parse, authorize, call a service or selector, send.

Topic fan-out goes through the process hub (`csn.realtime.hub`); see docs/protocol.md.
"""

import asyncio
import json
import logging
from collections import deque

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from accounts.selectors import token_active_until
from accounts.services import token_authenticate
from content.services import presence as studio
from content.services.presence import STUDIO
from csn import metrics, requestid
from csn.errors import ApplicationError
from csn.realtime import drain
from csn.realtime.frames import encode_event, frames_of
from csn.realtime.hub import Item, hub
from csn.realtime.log import topic_replay
from csn.realtime.sessions import credential_id
from csn.realtime.topics import USER_TOPIC, public_topic, user_group, user_topic
from csn.text import text_storable
from streaming.live import protocol, reactions, selectors
from streaming.live.aligned import AlignedSubscriptions, aligned_item
from streaming.live.permissions import can_moderate
from streaming.live.representation import chat_message_data
from streaming.live.services import chat, engagement, moderation, presence
from streaming.live.topics import game_topic, parse_topic

logger = logging.getLogger(__name__)

CLOSE_SIGNED_OUT = protocol.Close.SIGNED_OUT  # the credential was revoked or expired: sign in again
CLOSE_SLOW_READER = protocol.Close.SLOW_READER
CLOSE_FLOOD = protocol.Close.FLOOD
# This process is draining: reconnect (after `delay_ms`) and resume.
CLOSE_SERVICE_RESTART = protocol.Close.SERVICE_RESTART
PIPELINED = {"chat.send"}
MAX_IN_FLIGHT = 16
MAX_ID = 2**63 - 1  # game ids and seqs are bigints: past this the database refuses the parameter


def _dumps(message: dict) -> str:
    return json.dumps(message, separators=(",", ":"), default=str)


def _strings_storable(value) -> bool:
    """Every string of a parsed frame, keys included, free of NUL and lone surrogates (csn.text)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if not text_storable(node):
                return False
        elif isinstance(node, dict):
            stack.extend(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return True


def _token_user(key: str):
    """The token's user and the token, or an ApplicationError saying why not (the API's own check)."""
    token = token_authenticate(key=key)
    return token.user, token


def _subscribe_read(*, topic: str, kind: str, ident, since, user):
    """Replay after `since` when possible, otherwise a snapshot. Returns ("replay"|"snapshot", ...)."""
    if since is not None:
        if kind == STUDIO:
            studio.studio_access(user=user, content_id=ident)
        elif kind != USER_TOPIC:
            selectors.topic_access(kind=kind, ident=ident, user=user)
        rows = topic_replay(topic=topic, since=since)
        if rows is not None:
            return "replay", (rows[-1][0] if rows else since), rows
    seq, data = selectors.topic_snapshot(topic=topic, kind=kind, ident=ident, user=user)
    return "snapshot", seq, data


async def _drive(coroutine, blocker) -> None:
    """Run a coroutine that suspended on `blocker` (what it yielded) to its end, as a task would."""
    while True:
        if blocker is not None:  # a bare yield (sleep(0)) yields None
            await asyncio.wait([blocker])
        try:
            blocker = coroutine.send(None)
        except StopIteration:
            return


def _urgent_first(items) -> list[Item]:
    """A socket's backlog in the order it goes out: the topics that carry sampled events (chat) after the
    others (scores, plays), each topic's items still in their order (seqs are per topic)."""
    bulk_topics = {item.topic for item in items if item.bulk}
    if not bulk_topics:
        return list(items)
    return [item for item in items if item.topic not in bulk_topics] + [
        item for item in items if item.topic in bulk_topics
    ]


class Subscription:
    __slots__ = ("aligned", "holding", "seq")

    def __init__(self):
        # Events that arrive while the snapshot/replay is read wait here, then pass if newer.
        self.holding: list[Item] | None = []
        self.aligned = False  # time-aligned (aligned.py): `seq` is the last seq this socket got
        self.seq = 0


class GatewayConsumer(AlignedSubscriptions, AsyncWebsocketConsumer):
    """Topic frames come from the process hub. Channels' layer carries the messages meant for this
    user's sockets wherever they are (`csn.realtime.sessions`): a signed-in socket joins its user's
    group. With channels_redis a process reads its sockets' layer messages on one connection, so the
    layer costs a waiting coroutine per socket, not a Redis read per socket."""

    async def connect(self):
        self.user = None
        self.credential: str | None = None  # how this socket signed in (a digest), for revocation
        self.subscriptions: dict[str, Subscription] = {}
        self.sessions: dict[int, str] = {}
        self.studio_open: set[int] = set()  # content items this (staff) socket has open in the Studio
        self.queue: deque[Item] = deque()
        self.sending: asyncio.Task | None = None  # finishes a send that suspended, then the queue
        self.recent = deque()
        self.gone = False
        self.in_flight: set[asyncio.Task] = set()
        self.reacted: reactions.SocketReactions | None = None
        self.expiry: asyncio.TimerHandle | None = None  # a token-signed socket closes when its token ends
        self.version = protocol.requested_version(self.scope)
        if self.version is None:
            await self._refuse_version()
            return
        self.sees_all_chat = False  # moderators see every chat message, also when chat is sampled
        headers = dict(self.scope.get("headers") or [])
        self.request_id = requestid.sane(headers.get(b"x-request-id")) or requestid.new()
        drain.register(self)
        scope_user = self.scope.get("user")
        if scope_user is not None and scope_user.is_authenticated:
            session = self.scope.get("session")
            self.credential = credential_id("session", session.session_key) if session else None
            # Join before reading the user again, so a deactivation in between is not missed.
            await self._join_user_group(scope_user.pk)
            self.user = await database_sync_to_async(self._reload_user)(scope_user.pk)
            if self.user is None:
                await self._leave_user_group(scope_user.pk)
            else:
                self.sees_all_chat = await database_sync_to_async(can_moderate)(self.user)
        await self.accept()
        await self.reply(protocol.hello(version=self.version, user=self.user))
        if drain.draining:  # accepted just before the listener closed: go elsewhere at once
            await self.drain_reconnect(drain.reconnect_delay_ms())

    async def _refuse_version(self) -> None:
        """An unknown protocol version: said in a frame, then closed with a code that says not to retry."""
        await self.accept()
        await self.reply(protocol.unsupported_version())
        await self._close(protocol.Close.UNSUPPORTED_VERSION)

    async def _join_user_group(self, user_id: int) -> None:
        group = user_group(user_id)
        self.groups.append(group)  # left by Channels on disconnect
        await self.channel_layer.group_add(group, self.channel_name)

    async def _leave_user_group(self, user_id: int) -> None:
        group = user_group(user_id)
        self.groups.remove(group)
        await self.channel_layer.group_discard(group, self.channel_name)

    @staticmethod
    def _reload_user(pk):
        from accounts.models import User

        return User.objects.select_related("subscription").filter(pk=pk, is_active=True).first()

    async def disconnect(self, code):
        drain.unregister(self)
        if self.expiry is not None:
            self.expiry.cancel()
        await self._leave_all()
        for content_id in self.studio_open:
            await database_sync_to_async(studio.editor_close)(content_id=content_id, socket=self.channel_name)
        if self.sending is not None:
            self.sending.cancel()
        if self.sessions:
            await database_sync_to_async(presence.presence_end)(session_ids=list(self.sessions.values()))
            self.sessions = {}

    async def _leave_all(self):
        self.gone = True
        self.queue.clear()
        topics, self.subscriptions = list(self.subscriptions), {}
        for topic in topics:
            await hub.leave(topic, self)

    # --- outgoing: the hub pushes; a frame is sent at once, or queued behind a send that suspended ---
    def hub_push(self, item: Item) -> None:
        subscription = self.subscriptions.get(item.topic)
        if subscription is None or self.gone:
            return
        if item.shed is not None and not self._sees_all(item):
            # Protocol 2 takes a run of shed events as one `skipped` note (docs/protocol.md).
            item = item.shed if self.version == 1 else item.shed_coalesced
        if subscription.holding is not None:
            subscription.holding.append(item)
            return
        if subscription.aligned and (item := aligned_item(item, subscription)) is None:
            return
        self._enqueue(item)

    def _sees_all(self, item: Item) -> bool:
        """Under load this socket still gets every event of `item`: a moderator's, or its author's."""
        return self.sees_all_chat or (self.user is not None and self.user.pk in item.shed_authors)

    def _enqueue(self, item: Item) -> None:
        if self.sending is None and not self.queue:
            for sent, message in item.parts:
                self._send_now(message)
                if self.sending is not None:  # it suspended: the item's other frames wait behind it
                    if sent < len(item.events):
                        self.queue.append(Item(item.topic, item.events[sent:], bulk=item.bulk))
                    return
            return
        if len(self.queue) >= settings.LIVE_SEND_QUEUE_MAX:
            # A slow reader: cut it off rather than hold an unbounded backlog for it.
            self.gone = True
            self.queue.clear()
            metrics.live_slow_reader_cutoffs.inc()
            asyncio.get_running_loop().create_task(self._close(CLOSE_SLOW_READER))
            return
        self.queue.append(item)

    async def _close(self, code: int) -> None:
        await self._leave_all()
        await self.close(code=code)

    def _send_now(self, message: dict) -> None:
        """Send without a task of its own. daphne's send never suspends (Twisted buffers the bytes), so
        the coroutine ends in its first step: no task and no wakeup per socket per frame, which were
        the largest cost of a fan-out pass after the write itself. A send that does suspend (a server
        that pushes back, a stuck peer) is finished by a task, and later frames queue behind it."""
        send = self.send_frame(message)
        try:
            blocker = send.send(None)
        except StopIteration:
            return
        except Exception:  # the frame is lost to this socket: say so where operations look
            logger.warning("live: send failed", exc_info=True)
            return
        self.sending = asyncio.get_running_loop().create_task(self._finish_sending(send, blocker))

    async def _finish_sending(self, send, blocker) -> None:
        queue = self.queue
        try:
            await _drive(send, blocker)
            while queue:
                if len(queue) == 1:
                    messages = [message for _, message in queue.popleft().parts]
                else:  # what piled up during the last send goes out as one frame (or more past the cap)
                    items = _urgent_first(queue)
                    queue.clear()
                    texts = [text for item in items for _, text in item.events]
                    messages = [{"type": "websocket.send", "text": text} for _, text in frames_of(texts)]
                for message in messages:
                    await self.send_frame(message)
        except asyncio.CancelledError:
            send.close()
        except Exception:
            logger.info("live: writer stopped", exc_info=True)
        finally:
            self.sending = None

    async def send_frame(self, message: dict) -> None:
        # Straight to the server: the frame is ready, skip the consumer's send wrappers.
        await self.base_send(message)

    async def reply(self, message: dict) -> None:
        if self.gone:
            return
        try:
            await self.send(text_data=_dumps(message))
        except Exception:  # the peer went away mid-request; disconnect() cleans up
            logger.debug("live: reply to a closed socket dropped", exc_info=True)

    async def error(self, code: str, message: str, ref=None, **extra) -> None:
        await self.reply({"type": "error", "status": "error", "code": code, "message": message, "ref": ref, **extra})

    async def ack(self, ref, **data) -> None:
        """The answer to a request that went well: every request gets one `ack` or one `error`."""
        await self.reply({"type": "ack", "status": "ok", "ref": ref, **data})

    # --- messages to this user's sockets, through Channels' layer (csn.realtime.sessions) -------
    async def sockets_revoke(self, event: dict) -> None:
        if self.gone or self.user is None:
            return
        if event["credential"] is not None and event["credential"] != self.credential:
            return
        await self.reply({"type": "notice", "name": "signed_out", "data": {"reason": event["reason"]}})
        await self._close(CLOSE_SIGNED_OUT)

    async def drain_reconnect(self, delay_ms: int) -> None:
        """This process is going away (csn.realtime.drain): reconnect after `delay_ms` and resume."""
        if self.gone:
            return
        await self.reply({"type": "reconnect", "delay_ms": delay_ms, "reason": "server_restart"})
        await self._close(CLOSE_SERVICE_RESTART)

    async def sockets_notice(self, event: dict) -> None:
        if self.user is not None:
            await self.reply({"type": "notice", "name": event["name"], "data": event["data"]})

    # --- incoming ---------------------------------------------------------------------------------
    async def receive(self, text_data=None, bytes_data=None):
        if self.gone:
            return
        now = asyncio.get_running_loop().time()
        recent = self.recent
        recent.append(now)
        while recent and recent[0] < now - 1.0:
            recent.popleft()
        if len(recent) > settings.LIVE_FLOOD_MESSAGES_PER_SECOND:
            await self.error("flood", "Too many messages; closing.")
            await self._close(CLOSE_FLOOD)
            return
        if text_data is None:
            await self.error("invalid_message", "Send JSON text frames.")
            return
        limit = settings.LIVE_MAX_MESSAGE_BYTES
        if len(text_data) > limit or len(text_data.encode()) > limit:
            await self.error("message_too_large", f"Messages are at most {limit} bytes.")
            return
        try:
            message = json.loads(text_data)
        except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested past the parser's depth
            await self.error("malformed_json", "The message is not valid JSON.")
            return
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            await self.error("invalid_message", "A message is a JSON object with a string `type`.")
            return
        # A frame is UTF-8 text, so a NUL or a lone surrogate can only arrive as a `\\u` escape: no escape,
        # nothing to look for. Such a string would fail in the database (a token, a chat text, a device).
        if "\\u" in text_data and not _strings_storable(message):
            await self.error("invalid_characters", "Strings may not contain NUL or lone surrogate characters.")
            return
        ref = message.get("ref")
        if ref is not None and not (isinstance(ref, (str, int)) and not isinstance(ref, bool) and len(str(ref)) <= 64):
            await self.error("invalid_message", "`ref` is a string or integer of at most 64 characters.")
            return
        handler = self.handlers.get(message["type"])
        if handler is None:
            await self.error("unknown_type", "Unknown message type.", ref)
            return
        if message["type"] in PIPELINED:
            # Chat sends are pipelined: the next one is read while this one is in the database
            # (writes still run one at a time, in order, on the database thread).
            if len(self.in_flight) >= MAX_IN_FLIGHT:
                await asyncio.wait(self.in_flight, return_when=asyncio.FIRST_COMPLETED)
            task = asyncio.get_running_loop().create_task(self._handle(handler, message, ref))
            self.in_flight.add(task)
            task.add_done_callback(self.in_flight.discard)
            return
        await self._handle(handler, message, ref)

    async def _handle(self, handler, message, ref):
        try:
            with requestid.bound(self.request_id):  # in every log line, also on the database thread
                await handler(self, message, ref)
        except ApplicationError as exc:
            extra = {"fields": exc.fields} if exc.fields else {}
            await self.error(exc.code, exc.message, ref, **exc.extra, **extra)
        except Exception:
            logger.exception("live: %s failed", message["type"])
            await self.error("server_error", "Something went wrong on our side.", ref)

    async def on_ping(self, message, ref):
        await self.reply({"type": "pong", "status": "ok", "ref": ref})

    async def on_auth(self, message, ref):
        key = message.get("token")
        if not isinstance(key, str) or not key or len(key) > 64:
            raise ApplicationError("`token` is required.", code="invalid_token")
        user, token = await database_sync_to_async(_token_user)(key)
        if self.user is not None and self.user.pk != user.pk:
            raise ApplicationError("This socket is signed in as someone else.", code="already_authenticated")
        if self.user is None:
            await self._join_user_group(user.pk)
            # A revocation sent between the lookup and the join reached no socket: look again.
            try:
                await database_sync_to_async(_token_user)(key)
            except ApplicationError:
                await self._leave_user_group(user.pk)
                raise
        self.user = user
        self.credential = token.credential
        self._expire_at(token.pk, token.expires_at)
        self.sees_all_chat = await database_sync_to_async(can_moderate)(user)
        await self.ack(ref, user={"id": user.pk, "name": user.display_name})

    def _expire_at(self, token_id: int, expires_at) -> None:
        """When the token's expiry comes, look again: a refreshed token lives on, an ended one closes."""
        if self.expiry is not None:
            self.expiry.cancel()
        loop = asyncio.get_running_loop()
        delay = max(0.0, (expires_at - timezone.now()).total_seconds())
        self.expiry = loop.call_later(delay, lambda: loop.create_task(self._token_expiry_check(token_id)))

    async def _token_expiry_check(self, token_id: int) -> None:
        if self.gone:
            return
        until = await database_sync_to_async(token_active_until)(token_id=token_id)
        if until is not None:
            self._expire_at(token_id, until)
            return
        await self.reply({"type": "notice", "name": "signed_out", "data": {"reason": "token_expired"}})
        await self._close(CLOSE_SIGNED_OUT)

    def _internal_topic(self, topic) -> tuple[str, str, int | None]:
        kind, ident = parse_topic(topic)
        if kind == USER_TOPIC:
            if self.user is None:
                raise ApplicationError("Sign in to follow your user topic.", code="auth_required")
            return user_topic(self.user.pk), kind, None
        return topic, kind, ident

    async def on_subscribe(self, message, ref):
        topic, kind, ident = self._internal_topic(message.get("topic"))
        since = message.get("since")
        if since is not None and (not isinstance(since, int) or isinstance(since, bool) or not 0 <= since <= MAX_ID):
            raise ApplicationError("`since` is a seq (integer >= 0).", code="invalid_message")
        if topic in self.subscriptions:
            # Subscribing again is how a client resyncs: start this topic over.
            del self.subscriptions[topic]
            await hub.leave(topic, self)
        elif len(self.subscriptions) >= settings.LIVE_MAX_SUBSCRIPTIONS:
            raise ApplicationError(
                f"At most {settings.LIVE_MAX_SUBSCRIPTIONS} subscriptions per connection.",
                code="too_many_subscriptions",
            )
        align = message.get("align", False)
        if not isinstance(align, bool):
            raise ApplicationError("`align` is true or false.", code="invalid_message")
        # Spoiler-safe viewers (content.spoilers) get a held game as their horizon has it, asked or not.
        align = align or await self.spoiler_align(kind, ident)
        subscription = Subscription()
        self.subscriptions[topic] = subscription
        if align:
            try:
                await self.subscribe_aligned(
                    topic=topic,
                    kind=kind,
                    ident=ident,
                    since=since,
                    ref=ref,
                    subscription=subscription,
                    message=message,
                )
            except BaseException:
                if self.subscriptions.get(topic) is subscription:
                    del self.subscriptions[topic]
                    await hub.leave(topic, self)
                raise
            return
        await hub.join(topic, self)
        try:
            how, seq, payload = await database_sync_to_async(_subscribe_read)(
                topic=topic, kind=kind, ident=ident, since=since, user=self.user
            )
        except BaseException:
            if self.subscriptions.get(topic) is subscription:
                del self.subscriptions[topic]
                await hub.leave(topic, self)
            raise
        public = public_topic(topic)
        if how == "replay":
            for event_seq, name, data in payload:
                await self.send(text_data=encode_event(topic=topic, seq=event_seq, name=name, data=data))
            await self.ack(ref, topic=public, seq=seq, replayed=len(payload))
        else:
            # The snapshot is this request's answer (the `ack` of a subscribe that was not resumed).
            snapshot = {"type": "snapshot", "status": "ok", "ref": ref, "topic": public, "seq": seq, "data": payload}
            if since is not None:
                snapshot["reset"] = True  # `since` was too old (or unknown): start over from here
            await self.reply(snapshot)
        if self.subscriptions.get(topic) is not subscription:
            return
        held, subscription.holding = subscription.holding, None
        for item in held:
            if item.last_seq <= seq:
                continue
            newer = [event for event in item.events if event[0] > seq]
            if len(newer) < len(item.events):
                item = Item(topic, newer, bulk=item.bulk)
            self._enqueue(item)

    async def on_unsubscribe(self, message, ref):
        topic, _, _ = self._internal_topic(message.get("topic"))
        if self.subscriptions.pop(topic, None) is None:
            raise ApplicationError("Not subscribed to this topic.", code="not_subscribed")
        await hub.leave(topic, self)
        await self.ack(ref, topic=public_topic(topic))

    @staticmethod
    def _game_id(message) -> int:
        game = message.get("game")
        if not isinstance(game, int) or isinstance(game, bool) or not 0 < game <= MAX_ID:
            raise ApplicationError("`game` is a game id.", code="invalid_message")
        return game

    async def on_chat_send(self, message, ref):
        game_id = self._game_id(message)
        if self.user is None:
            raise ApplicationError("Sign in to chat.", code="auth_required")
        posted = await database_sync_to_async(chat.chat_message_post)(
            user=self.user,
            game_id=game_id,
            text=message.get("text"),
            client_ref="" if ref is None else str(ref),
            reply_to=message.get("reply_to"),
        )
        await self.ack(ref, message=chat_message_data(posted))

    async def on_chat_report(self, message, ref):
        if self.user is None:
            raise ApplicationError("Sign in to report.", code="auth_required")
        report = await database_sync_to_async(moderation.chat_message_report)(
            user=self.user,
            message_id=message.get("message"),
            reason=message.get("reason"),
            note=message.get("note", ""),
        )
        await self.ack(ref, report=report.pk)

    async def on_reaction(self, message, ref):
        """Counted here; the game's counts frame (once a second) carries it."""
        game_id = self._game_id(message)
        if self.user is None:
            raise ApplicationError("Sign in to react.", code="auth_required")
        if game_topic(game_id) not in self.subscriptions:
            raise ApplicationError("Follow the game's topic to react to it.", code="not_subscribed")
        if self.reacted is None:
            self.reacted = reactions.SocketReactions()
        reactions.counter.add(socket=self.reacted, user_id=self.user.pk, game_id=game_id, emoji=message.get("emoji"))
        await self.ack(ref)

    async def on_poll_vote(self, message, ref):
        vote = await database_sync_to_async(engagement.poll_vote)(
            user=self.user, poll_id=message.get("poll"), option=message.get("option")
        )
        reactions.counter.poll_voted(vote.poll_id)
        await self.ack(ref, poll=vote.poll_id, option=vote.option)

    async def on_prediction_pick(self, message, ref):
        pick = await database_sync_to_async(engagement.prediction_pick)(
            user=self.user, prediction_id=message.get("prediction"), choice=message.get("choice")
        )
        await self.ack(ref, prediction=pick.prediction_id, choice=pick.choice)

    async def on_heartbeat(self, message, ref):
        game_id = self._game_id(message)
        if self.user is None:
            raise ApplicationError("Sign in to watch.", code="auth_required")
        replace, adopt = message.get("replace"), message.get("session")
        for value in (replace, adopt):
            if value is not None and not (isinstance(value, str) and len(value) <= 64):
                raise ApplicationError("`replace` and `session` are viewing session ids.", code="invalid_message")
        try:
            session = await database_sync_to_async(presence.presence_heartbeat)(
                user=self.user,
                game_id=game_id,
                # `session`: a playback session of this game (POST /playback/) that this socket keeps
                # alive, instead of opening a second one under the stream limit.
                session_id=self.sessions.get(game_id) or adopt,
                device=message.get("device", ""),
                replace=replace,
            )
        except ApplicationError as exc:
            if exc.code == "session_ended":  # said once; the next heartbeat starts afresh (or is refused)
                self.sessions.pop(game_id, None)
            raise
        self.sessions[game_id] = str(session.pk)
        aligned = {} if message.get("horizon") is None else await self.horizon_report(message["horizon"], {game_id})
        await self.ack(ref, session=str(session.pk), **aligned)

    def _content_id(self, message) -> int:
        content = message.get("content")
        if not isinstance(content, int) or isinstance(content, bool) or not 0 < content <= MAX_ID:
            raise ApplicationError("`content` is a content item id.", code="invalid_message")
        if self.user is None:
            raise ApplicationError("Sign in to the Studio.", code="auth_required")
        return content

    async def on_studio_open(self, message, ref):
        """A Studio item page is open on this socket (sent again every 20 s while it stays open)."""
        content_id = self._content_id(message)
        if content_id not in self.studio_open and len(self.studio_open) >= settings.LIVE_MAX_SUBSCRIPTIONS:
            raise ApplicationError("Too many items open on one connection.", code="too_many_subscriptions")
        editors = await database_sync_to_async(studio.editor_open)(
            user=self.user, content_id=content_id, socket=self.channel_name
        )
        self.studio_open.add(content_id)
        await self.ack(ref, content=content_id, editors=editors)

    async def on_studio_close(self, message, ref):
        content_id = self._content_id(message)
        if content_id in self.studio_open:
            self.studio_open.discard(content_id)
            await database_sync_to_async(studio.editor_close)(content_id=content_id, socket=self.channel_name)
        await self.ack(ref, content=content_id)

    handlers = {
        "ping": on_ping,
        "auth": on_auth,
        "subscribe": on_subscribe,
        "unsubscribe": on_unsubscribe,
        "chat.send": on_chat_send,
        "chat.report": on_chat_report,
        "reaction": on_reaction,
        "poll.vote": on_poll_vote,
        "prediction.pick": on_prediction_pick,
        "heartbeat": on_heartbeat,
        "align": AlignedSubscriptions.on_align,
        "studio.open": on_studio_open,
        "studio.close": on_studio_close,
    }
