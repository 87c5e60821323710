"""The loopback gateway: HELLO/IDENTIFY/READY/RESUME over an aiohttp websocket, with zlib-stream and intents."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import zlib
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from .model import shard_of

if TYPE_CHECKING:
    from .world import World

log = logging.getLogger(__name__)

OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE = 3
OP_VOICE_STATE = 4
OP_RESUME = 6
OP_RECONNECT = 7
OP_REQUEST_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_WEBHOOKS = 1 << 5
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_GUILD_MESSAGE_REACTIONS = 1 << 10
INTENT_MESSAGE_CONTENT = 1 << 15
INTENT_GUILD_SCHEDULED_EVENTS = 1 << 16
INTENT_GUILD_MESSAGE_POLLS = 1 << 24
PRIVILEGED_INTENTS = INTENT_GUILD_MEMBERS | INTENT_GUILD_PRESENCES | INTENT_MESSAGE_CONTENT

EVENT_INTENTS: dict[str, int] = {
    "GUILD_UPDATE": INTENT_GUILDS,
    "GUILD_DELETE": INTENT_GUILDS,
    "GUILD_ROLE_CREATE": INTENT_GUILDS,
    "GUILD_ROLE_UPDATE": INTENT_GUILDS,
    "GUILD_ROLE_DELETE": INTENT_GUILDS,
    "CHANNEL_CREATE": INTENT_GUILDS,
    "CHANNEL_UPDATE": INTENT_GUILDS,
    "CHANNEL_DELETE": INTENT_GUILDS,
    "THREAD_CREATE": INTENT_GUILDS,
    "THREAD_UPDATE": INTENT_GUILDS,
    "THREAD_DELETE": INTENT_GUILDS,
    "THREAD_MEMBER_UPDATE": INTENT_GUILDS,
    "THREAD_MEMBERS_UPDATE": INTENT_GUILDS,
    "CHANNEL_PINS_UPDATE": INTENT_GUILDS,
    "GUILD_MEMBER_ADD": INTENT_GUILD_MEMBERS,
    "GUILD_MEMBER_UPDATE": INTENT_GUILD_MEMBERS,
    "GUILD_MEMBER_REMOVE": INTENT_GUILD_MEMBERS,
    "WEBHOOKS_UPDATE": INTENT_GUILD_WEBHOOKS,
    "MESSAGE_CREATE": INTENT_GUILD_MESSAGES,
    "MESSAGE_UPDATE": INTENT_GUILD_MESSAGES,
    "MESSAGE_DELETE": INTENT_GUILD_MESSAGES,
    "MESSAGE_DELETE_BULK": INTENT_GUILD_MESSAGES,
    "MESSAGE_REACTION_ADD": INTENT_GUILD_MESSAGE_REACTIONS,
    "MESSAGE_REACTION_REMOVE": INTENT_GUILD_MESSAGE_REACTIONS,
    "MESSAGE_POLL_VOTE_ADD": INTENT_GUILD_MESSAGE_POLLS,
    "MESSAGE_POLL_VOTE_REMOVE": INTENT_GUILD_MESSAGE_POLLS,
    "GUILD_SCHEDULED_EVENT_CREATE": INTENT_GUILD_SCHEDULED_EVENTS,
    "GUILD_SCHEDULED_EVENT_UPDATE": INTENT_GUILD_SCHEDULED_EVENTS,
    "GUILD_SCHEDULED_EVENT_DELETE": INTENT_GUILD_SCHEDULED_EVENTS,
    "GUILD_SCHEDULED_EVENT_USER_ADD": INTENT_GUILD_SCHEDULED_EVENTS,
    "GUILD_SCHEDULED_EVENT_USER_REMOVE": INTENT_GUILD_SCHEDULED_EVENTS,
}

# Events older than this many sequence numbers can no longer be replayed; RESUME then fails like on Discord.
REPLAY_BUFFER = 5000


# Events whose own id is their guild's (the others carry `guild_id`).
GUILD_EVENTS = ("GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE")


def event_guild_id(event: str, data: dict[str, Any]) -> int | None:
    """The guild an event belongs to, which decides its shard; None for events of no guild."""
    found = data.get("id") if event in GUILD_EVENTS else data.get("guild_id")
    return int(found) if found is not None else None


def valid_shard(shard: Any) -> bool:
    """IDENTIFY's `shard` is `[shard_id, shard_count]` with 0 <= shard_id < shard_count."""
    return (isinstance(shard, list) and len(shard) == 2 and all(isinstance(n, int) for n in shard)
            and 0 <= shard[0] < shard[1])


@dataclass(eq=False)
class GatewaySession:
    """One IDENTIFY: its sequence numbers survive reconnects so a RESUME can replay what was missed."""

    id: str
    intents: int
    shard: list[int] | None
    presence: dict[str, Any] | None = None
    seq: int = 0
    buffer: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=REPLAY_BUFFER))
    connection: GatewayConnection | None = None
    resumable: bool = True
    resumes: int = 0

    def has(self, intent: int) -> bool:
        return bool(self.intents & intent)

    def serves(self, guild_id: int | None) -> bool:
        """Whether Discord sends this guild's events here: every guild without sharding, else the guild's shard's;
        events of no guild (DMs) go to shard 0."""
        if self.shard is None:
            return True
        shard_id, count = self.shard
        return shard_id == (0 if guild_id is None else shard_of(guild_id, count))

    def send(self, event: str, data: Any) -> None:
        self.seq += 1
        frame = {"op": OP_DISPATCH, "t": event, "s": self.seq, "d": data}
        self.buffer.append(frame)
        if self.connection is not None:
            self.connection.enqueue(frame)


@dataclass(eq=False)
class GatewayConnection:
    """One websocket; frames go out through a single writer so the zlib stream stays in order."""

    ws: web.WebSocketResponse
    path: str
    compress: bool
    session: GatewaySession | None = None
    alive: bool = True
    ready: bool = False
    heartbeats: int = 0
    close_code: int | None = None
    received_ops: list[int] = field(default_factory=list)
    queue: asyncio.Queue[dict[str, Any] | None] = field(default_factory=asyncio.Queue)
    zlib_stream: Any = None

    def __post_init__(self) -> None:
        if self.compress:
            self.zlib_stream = zlib.compressobj()

    def enqueue(self, frame: dict[str, Any]) -> None:
        if self.alive:
            self.queue.put_nowait(frame)

    async def write_forever(self) -> None:
        while True:
            frame = await self.queue.get()
            if frame is None:
                return
            raw = json.dumps(frame, separators=(",", ":"), ensure_ascii=False)
            try:
                if self.zlib_stream is not None:
                    data = self.zlib_stream.compress(raw.encode()) + self.zlib_stream.flush(zlib.Z_SYNC_FLUSH)
                    await self.ws.send_bytes(data)
                else:
                    await self.ws.send_str(raw)
            except (ConnectionError, RuntimeError):
                return


class Gateway:
    """All gateway sessions of the double and the websocket endpoint that serves them."""

    def __init__(self, double: World) -> None:
        self.double = double
        self.sessions: list[GatewaySession] = []
        self.connections: list[GatewayConnection] = []
        self.heartbeat_interval_ms = 1500
        self.allowed_privileged_intents = PRIVILEGED_INTENTS
        # What `GET /gateway/bot` recommends; a bot given its own shard count does not ask.
        self.recommended_shards = 1
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def live_sessions(self) -> list[GatewaySession]:
        return [s for s in self.sessions if s.resumable]

    def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send an event to every session of the guild's shard whose intents ask for it, the way Discord filters."""
        guild_id = event_guild_id(event, data)
        for session in self.live_sessions:
            if not session.serves(guild_id):
                continue
            prepared = self._prepare_for(session, event, data)
            if prepared is not None:
                session.send(event, prepared)

    def _prepare_for(self, session: GatewaySession, event: str, data: dict[str, Any]) -> dict[str, Any] | None:
        needed = EVENT_INTENTS.get(event)
        if needed is not None and not session.has(needed):
            return None
        bot_id = str(self.double.bot_user.id)
        if event == "THREAD_MEMBERS_UPDATE" and not session.has(INTENT_GUILD_MEMBERS):
            touched = {m["user_id"] for m in data.get("added_members", [])} | set(data.get("removed_member_ids", []))
            if bot_id not in touched:
                return None
        if event in ("MESSAGE_CREATE", "MESSAGE_UPDATE") and not session.has(INTENT_MESSAGE_CONTENT):
            mentioned = any(u["id"] == bot_id for u in data.get("mentions", []))
            if data.get("author", {}).get("id") != bot_id and not mentioned and data.get("guild_id"):
                data = {**data, "content": "", "embeds": [], "attachments": [], "components": []}
                data.pop("poll", None)
        return json.loads(json.dumps(data))

    def drop(self, *, code: int = 4000, resumable: bool = True) -> None:
        for connection in list(self.connections):
            if connection.alive:
                if not resumable and connection.session is not None:
                    connection.session.resumable = False
                self._close(connection, code)

    def _close(self, connection: GatewayConnection, code: int) -> None:
        connection.alive = False
        connection.close_code = code
        if connection.session is not None and connection.session.connection is connection:
            connection.session.connection = None
        connection.queue.put_nowait(None)
        task = asyncio.create_task(connection.ws.close(code=code))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self.double.notify()

    async def close(self) -> None:
        for session in self.sessions:
            session.resumable = False
        for connection in self.connections:
            if connection.alive:
                self._close(connection, 1001)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        query = request.query
        if query.get("v") not in ("9", "10") or query.get("encoding", "json") != "json":
            self.double.note_unhandled(f"gateway query {dict(query)!r}")
            await ws.close(code=4012, message=b"Invalid API version")
            return ws
        compression = query.get("compress")
        if compression not in (None, "zlib-stream"):
            self.double.note_unhandled(f"gateway compression {compression!r} is not supported by the double")
            await ws.close(code=4000, message=b"Unsupported compression")
            return ws
        connection = GatewayConnection(ws=ws, path=request.path, compress=compression == "zlib-stream")
        self.connections.append(connection)
        writer = asyncio.create_task(connection.write_forever())
        connection.enqueue(
            {"op": OP_HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}, "s": None, "t": None}
        )
        try:
            async for message in ws:
                if not connection.alive:
                    break
                if message.type != WSMsgType.TEXT:
                    self._close(connection, 4002)
                    break
                await self._receive(connection, message.data)
        finally:
            if connection.alive:
                connection.alive = False
                connection.close_code = ws.close_code
                if connection.session is not None and connection.session.connection is connection:
                    connection.session.connection = None
                connection.queue.put_nowait(None)
            await writer
            self.double.notify()
        return ws

    async def _receive(self, connection: GatewayConnection, raw: str) -> None:
        try:
            frame = json.loads(raw)
            op, data = frame["op"], frame.get("d")
        except (ValueError, KeyError, TypeError):
            self._close(connection, 4002)
            return
        connection.received_ops.append(op)
        if op == OP_HEARTBEAT:
            connection.heartbeats += 1
            connection.enqueue({"op": OP_HEARTBEAT_ACK, "d": None, "s": None, "t": None})
            self.double.notify()
        elif op == OP_IDENTIFY:
            self._identify(connection, data)
        elif op == OP_RESUME:
            self._resume(connection, data)
        elif op == OP_PRESENCE:
            if connection.session is not None:
                connection.session.presence = data
        elif op == OP_REQUEST_MEMBERS:
            self._request_members(connection, data)
        else:
            self.double.note_unhandled(f"gateway op {op} {data!r}")

    def _authenticated(self, connection: GatewayConnection, token: Any) -> bool:
        if connection.session is not None:
            self._close(connection, 4005)
            return False
        if token != self.double.token:
            self._close(connection, 4004)
            return False
        return True

    def _identify(self, connection: GatewayConnection, data: dict[str, Any]) -> None:
        if not self._authenticated(connection, data.get("token")):
            return
        intents = data.get("intents")
        if not isinstance(intents, int):
            self._close(connection, 4013)
            return
        if intents & PRIVILEGED_INTENTS & ~self.allowed_privileged_intents:
            self._close(connection, 4014)
            return
        shard = data.get("shard")
        if shard is not None and not valid_shard(shard):
            self._close(connection, 4010)  # Discord's "Invalid shard"
            return
        session = GatewaySession(id=secrets.token_hex(16), intents=intents, shard=shard)
        session.presence = data.get("presence")
        self.sessions.append(session)
        connection.session = session
        session.connection = connection
        session.send("READY", self.double.ready_payload(session))
        for guild_payload in self.double.guild_create_payloads(session):
            session.send("GUILD_CREATE", guild_payload)
        connection.ready = True
        self.double.notify()

    def _resume(self, connection: GatewayConnection, data: dict[str, Any]) -> None:
        if not self._authenticated(connection, data.get("token")):
            return
        session = next((s for s in self.sessions if s.id == data.get("session_id")), None)
        last_seq = data.get("seq") or 0
        oldest = session.buffer[0]["s"] if session is not None and session.buffer else 1
        if session is None or not session.resumable or last_seq < oldest - 1:
            connection.enqueue({"op": OP_INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        if session.connection is not None:
            self._close(session.connection, 4000)
        connection.session = session
        session.connection = connection
        session.resumes += 1
        for frame in session.buffer:
            if frame["s"] > last_seq:
                connection.enqueue(frame)
        # Discord's RESUMED carries a trace object; discord.py writes into it, so it must not be null.
        session.send("RESUMED", {"_trace": ["loopback-double"]})
        connection.ready = True
        self.double.notify()

    def _request_members(self, connection: GatewayConnection, data: dict[str, Any]) -> None:
        session = connection.session
        if session is None:
            self._close(connection, 4003)
            return
        guild_ids = data.get("guild_id")
        for guild_id in guild_ids if isinstance(guild_ids, list) else [guild_ids]:
            if guild_id is not None and session.serves(int(guild_id)):
                session.send("GUILD_MEMBERS_CHUNK", self.double.member_chunk(int(guild_id), data))
