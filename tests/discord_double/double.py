"""The loopback Discord a test starts: an aiohttp server on 127.0.0.1 that the real discord.py client talks to.

Tests act as members and moderators through its async methods and read back what Discord would show.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self, TypeVar

from aiohttp import BodyPartReader, web

from .gateway import GatewayConnection, GatewaySession
from .interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    WAIT_SECONDS,
    ActionRefused,
    Interaction,
    Resolver,
    command_options,
    find_component,
    modal_submission,
)
from .limits import ApiError
from .model import (
    CHANNEL_FORUM,
    THREAD_PRIVATE,
    THREAD_PUBLIC,
    Channel,
    Guild,
    Member,
    Message,
    P,
    Role,
    Thread,
    Upload,
    User,
)
from .rest import Answer, ApiRequest, RestApi
from .scheduled_events import ScheduledEvents
from .schema import request_schemas
from .world import DEFAULT_TOKEN, SYSTEM_TYPES, World

log = logging.getLogger(__name__)

API_PATH = re.compile(r"^/api/v(?:9|10)(/.*)$")
FILE_PART = re.compile(r"^files\[(\d+)\]$")
# How long a test helper waits for the bot to register a command it is about to use.
COMMAND_WAIT_SECONDS = 5.0


@dataclass
class FormPart:
    name: str
    data: bytes
    filename: str | None = None
    content_type: str | None = None


@dataclass
class RecordedRequest:
    """One REST request the bot made, as the double received it (the Authorization header is left out)."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    form: list[FormPart]
    headers: dict[str, str]
    status: int = 0
    response: Any = None
    fault: bool = False
    held: bool = False

    @property
    def files(self) -> list[FormPart]:
        return [p for p in self.form if p.filename is not None]

    def __repr__(self) -> str:
        return f"<{self.method} {self.path} → {self.status}>"


@dataclass(eq=False)
class Fault:
    """A canned failure answered instead of the next matching requests."""

    method: str
    pattern: re.Pattern[str]
    status: int
    body: Any
    headers: dict[str, str]
    times: int
    hits: int = 0

    @property
    def exhausted(self) -> bool:
        return self.hits >= self.times


@dataclass(eq=False)
class Hold:
    """Matching requests take effect, but their answers wait until `release()`."""

    method: str
    pattern: re.Pattern[str]
    times: int
    requests: list[RecordedRequest] = field(default_factory=list)
    _released: asyncio.Event = field(default_factory=asyncio.Event)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def exhausted(self) -> bool:
        return len(self.requests) >= self.times

    def release(self) -> None:
        self._released.set()

    async def withhold(self, record: RecordedRequest) -> None:
        """Called by the server once the request took effect; returns when the answer may go out."""
        record.held = True
        self.requests.append(record)
        self._arrived.set()
        await self._released.wait()

    @property
    def released(self) -> bool:
        return self._released.is_set()

    async def wait_hit(self, timeout: float = WAIT_SECONDS) -> RecordedRequest:
        """Wait until a held request has taken effect (its answer still withheld)."""
        try:
            await asyncio.wait_for(self._arrived.wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"no {self.method} matching {self.pattern.pattern!r} arrived in {timeout}s") from None
        return self.requests[0]


Pending = TypeVar("Pending", Fault, Hold)


def _json_response(status: int, body: Any) -> web.Response:
    if body is None:
        return web.Response(status=204)
    # discord.py only parses JSON when the content type is exactly this, without a charset.
    return web.Response(status=status, body=json.dumps(body).encode(), headers={"Content-Type": "application/json"})


class DiscordDouble(World):
    """Discord's REST API and gateway on loopback, plus the actions of the members using it."""

    def __init__(self, *, token: str = DEFAULT_TOKEN, bot_name: str = "Bookclub", check_bodies: bool = True) -> None:
        super().__init__(token=token, bot_name=bot_name)
        # Tests always check bodies against Discord's schema. Benchmarks turn it off: the check runs in their process
        # and caches verdicts per body, so a bot whose answers vary (/ask) would pay for it and the bare bot's
        # identical "pong" would not.
        self.check_bodies = check_bodies
        self.rest = RestApi(self)
        self.events = ScheduledEvents(self)
        self.events.register(self.rest)
        self.requests: list[RecordedRequest] = []
        # Bodies Discord's schema refuses, as "METHOD path: errors"; the bot may swallow the 400, tests must not.
        self.invalid_bodies: list[str] = []
        self.faults: list[Fault] = []
        self.holds: list[Hold] = []
        self._runner: web.AppRunner | None = None

    # ----- the default world ---------------------------------------------------------------------------------

    @classmethod
    def with_default_world(cls, *, shards: int | None = None, **kwargs: Any) -> DiscordDouble:
        """Two guilds, each with @everyone, Moderator and the bot's role, the club's channels and four members.
        With `shards`, Guild A is on shard 0 and Guild B on shard 1 (of that many), and `GET /gateway/bot`
        recommends that many."""
        double = cls(**kwargs)
        for number, name in enumerate(("Guild A", "Guild B")):
            guild = double.add_guild(name, shard=None if shards is None else (number % shards, shards))
            moderator = double.add_role(guild, "Moderator", P(manage_guild=True))
            for channel in ("general", "reviews", "discussions", "polls", "announcements", "locked"):
                double.add_channel(guild, channel)
            double.add_channel(guild, "forum", type=CHANNEL_FORUM)
            bot_role = double.bot_role(guild)
            double.set_overwrite(guild.channel("locked"), bot_role, deny=P(send_messages=True))
            double.add_member(guild, "Mod", [moderator])
            for member in ("Alice", "Bob", "Carol"):
                double.add_member(guild, member)
        if shards is not None:
            double.gateway.recommended_shards = shards
        return double

    @property
    def guild_a(self) -> Guild:
        return self.guild("Guild A")

    @property
    def guild_b(self) -> Guild:
        return self.guild("Guild B")

    def guild(self, name: str) -> Guild:
        for guild in self.guilds.values():
            if guild.name == name:
                return guild
        raise KeyError(f"no guild {name!r}; known: {[g.name for g in self.guilds.values()]}")

    def bot_role(self, guild: Guild) -> Role:
        return next(r for r in guild.roles.values() if r.bot_id == self.bot_user.id)

    def guild_create_payload(self, guild: Guild, session: GatewaySession) -> dict[str, Any]:
        return {**super().guild_create_payload(guild, session), "guild_scheduled_events": self.events.payloads(guild)}

    # ----- lifecycle -----------------------------------------------------------------------------------------

    async def start(self, port: int = 0) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        bound = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{bound}"
        log.debug("discord double listening on %s", self.base_url)

    async def close(self) -> None:
        for hold in self.holds:
            hold.release()
        await self.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/api/v10"

    def env(self) -> dict[str, str]:
        """Environment for a bot subprocess pointed at this double."""
        return {"DISCORD_API_BASE": self.api_base, "DISCORD_TOKEN": self.token}

    # ----- gateway helpers -----------------------------------------------------------------------------------

    @property
    def sessions(self) -> list[GatewaySession]:
        return self.gateway.sessions

    @property
    def connections(self) -> list[GatewayConnection]:
        return self.gateway.connections

    @property
    def heartbeat_interval_ms(self) -> int:
        return self.gateway.heartbeat_interval_ms

    @heartbeat_interval_ms.setter
    def heartbeat_interval_ms(self, value: int) -> None:
        self.gateway.heartbeat_interval_ms = value

    def is_ready(self) -> bool:
        return any(c.alive and c.ready for c in self.gateway.connections)

    async def wait_ready(self, timeout: float = 10.0) -> GatewaySession:
        """Wait until a bot connection has READY and every GUILD_CREATE (or its RESUMED) queued."""
        if not await self.wait_until(self.is_ready, timeout):
            raise AssertionError(f"no bot identified or resumed on the gateway within {timeout}s")
        connection = next(c for c in reversed(self.gateway.connections) if c.alive and c.ready)
        assert connection.session is not None
        return connection.session

    def drop_gateway(self, *, code: int = 4000, resumable: bool = True) -> None:
        """Close every bot websocket; with `resumable` the bot may RESUME and gets the missed events replayed."""
        self.gateway.drop(code=code, resumable=resumable)

    # ----- HTTP plumbing -------------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.path in ("/gateway", "/gateway-resume"):
            return await self.gateway.handle(request)
        if request.method == "GET" and request.path.startswith("/attachments/"):
            return self._serve_attachment(request)
        found = API_PATH.match(request.path)
        if found is None:
            self.note_unhandled(f"{request.method} {request.path} (not an API path)")
            return _json_response(404, {"message": "404: Not Found", "code": 0})
        path = found.group(1)
        body, files, form = await self._read_body(request)
        record = RecordedRequest(
            method=request.method,
            path=path,
            query=dict(request.query),
            json=body,
            form=form,
            headers={k: v for k, v in request.headers.items() if k.lower() != "authorization"},
        )
        self.requests.append(record)
        status, answer, headers = await self._answer(
            request, record, ApiRequest(request.method, path, record.query, body, files)
        )
        record.status, record.response = status, answer
        self.notify()
        response = _json_response(status, answer)
        response.headers.update(headers)
        return response

    async def _answer(
        self, request: web.Request, record: RecordedRequest, api: ApiRequest
    ) -> tuple[int, Any, dict[str, str]]:
        refused = request_schemas().check(api.method, api.path, api.json) if self.check_bodies else None
        if refused is not None:
            log.warning("discord double refused the body of %s %s: %s", api.method, api.path, refused.body["errors"])
            self.invalid_bodies.append(f"{api.method} {api.path}: {json.dumps(refused.body['errors'])}")
            return refused.status, refused.body, {}
        fault = self._take(self.faults, record)
        if fault is not None:
            fault.hits += 1
            record.fault = True
            return fault.status, fault.body, fault.headers
        matched = self.rest.match(api.method, api.path)
        if matched is None:
            self.note_unhandled(f"{api.method} {api.path}")
            return 404, {"message": "404: Not Found", "code": 0}, {}
        route, api.params = matched
        if route.needs_auth and request.headers.get("Authorization") != f"Bot {self.token}":
            return 401, {"message": "401: Unauthorized", "code": 0}, {}
        try:
            result = route.handler(api)
        except ApiError as error:
            return error.status, error.body, {}
        except Exception:
            log.exception("discord double failed on %s %s", api.method, api.path)
            self.note_unhandled(f"double crashed on {api.method} {api.path}")
            return 500, {"message": "500: Internal Server Error", "code": 0}, {}
        hold = self._take(self.holds, record)
        if hold is not None:
            self.notify()
            await hold.withhold(record)
        if isinstance(result, Answer):
            return result.status, result.body, {}
        return (200 if result is not None else 204), result, {}

    def _take(self, candidates: list[Pending], record: RecordedRequest) -> Pending | None:
        for candidate in candidates:
            if candidate.exhausted or candidate.method != record.method:
                continue
            if candidate.pattern.search(record.path):
                return candidate
        return None

    async def _read_body(self, request: web.Request) -> tuple[Any, dict[int, Upload], list[FormPart]]:
        files: dict[int, Upload] = {}
        form: list[FormPart] = []
        if request.content_type.startswith("multipart/"):
            body: Any = None
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader):
                    continue
                data = bytes(await part.read(decode=False))
                name = part.name or ""
                content_type = part.headers.get("Content-Type")
                form.append(FormPart(name, data, part.filename, content_type))
                index = FILE_PART.match(name)
                if name == "payload_json":
                    body = json.loads(data)
                elif index is not None:
                    files[int(index.group(1))] = Upload(part.filename or "file", data, content_type or "")
            return body, files, form
        raw = await request.read()
        if not raw:
            return None, files, form
        try:
            return json.loads(raw), files, form
        except ValueError:
            return raw.decode(errors="replace"), files, form

    def _serve_attachment(self, request: web.Request) -> web.Response:
        parts = request.path.split("/")
        stored = self.attachments.get(int(parts[2])) if len(parts) > 2 and parts[2].isdigit() else None
        if stored is None:
            return web.Response(status=404)
        return web.Response(
            body=stored.data, headers={"Content-Type": stored.content_type or "application/octet-stream"}
        )

    # ----- recording, faults, holds --------------------------------------------------------------------------

    def find_requests(self, method: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        """Requests by method and a regex searched in the path (which has no /api/v10 prefix and no query)."""
        pattern = re.compile(path) if path is not None else None
        return [
            r
            for r in self.requests
            if (method is None or r.method == method) and (pattern is None or pattern.search(r.path))
        ]

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int,
        json_body: Any,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> Fault:
        """Answer the next `times` matching requests with this failure, without doing them.

        A 429 gets Discord's `Via` header (discord.py treats a 429 without it as a Cloudflare ban) and a
        `Retry-After` taken from the body's `retry_after`, unless `headers` says otherwise.
        """
        all_headers = dict(headers or {})
        if status == 429 and isinstance(json_body, dict):
            all_headers.setdefault("Via", "1.1 google")
            all_headers.setdefault("Retry-After", str(json_body.get("retry_after", 1)))
        fault = Fault(method.upper(), re.compile(path_regex), status, json_body, all_headers, times)
        self.faults.append(fault)
        return fault

    def hold(self, method: str, path_regex: str, times: int = 1) -> Hold:
        """Let matching requests take effect but keep their answers until `hold.release()`."""
        hold = Hold(method.upper(), re.compile(path_regex), times)
        self.holds.append(hold)
        return hold

    # ----- acting as members: slash commands and context menus -----------------------------------------------

    def commands_for(self, guild: Guild) -> list[dict[str, Any]]:
        return [*self.guild_commands.get(guild.id, []), *self.global_commands]

    async def _command(self, guild: Guild, name: str, kind: int) -> dict[str, Any]:
        def lookup() -> dict[str, Any] | None:
            for command in self.commands_for(guild):
                if command["name"] == name and command.get("type", 1) == kind:
                    return command
            return None

        await self.wait_until(lambda: lookup() is not None, COMMAND_WAIT_SECONDS)
        command = lookup()
        if command is None:
            known = [c["name"] for c in self.commands_for(guild)]
            raise ActionRefused(f"no command {name!r} (type {kind}) registered for {guild.name}; known: {known}")
        return command

    def _check_can_use(self, guild: Guild, member: Member, channel: Channel, command: dict[str, Any]) -> None:
        permissions = guild.permissions_for(member, channel)
        if not permissions & P.view_channel.flag:
            raise ActionRefused(f"{member.name} cannot see #{channel.name}")
        if not permissions & P.use_application_commands.flag:
            raise ActionRefused(f"{member.name} may not use application commands in #{channel.name}")
        contexts = command.get("contexts")
        if contexts is not None and 0 not in contexts:
            raise ActionRefused(f"/{command['name']} is not available in servers")
        required = command.get("default_member_permissions")
        if required is not None and (permissions & int(required)) != int(required):
            raise ActionRefused(f"{member.name} cannot see /{command['name']}: it needs permissions {required}")

    def _interaction(
        self,
        kind: int,
        guild: Guild,
        channel: Channel,
        member: Member,
        data: dict[str, Any],
        *,
        name: str,
        source: Message | None = None,
        timeout: float | None = None,
    ) -> Interaction:
        if member.guild_id != guild.id:
            raise ActionRefused(f"{member.name} is not a member of {guild.name}")
        interaction_id = self.ids.next()
        token = self.new_token()
        permissions = guild.permissions_for(member, channel)
        channel_payload = {**channel.payload(), "permissions": str(permissions)}
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": kind,
            "data": data,
            "guild_id": str(guild.id),
            "guild": {"id": str(guild.id), "locale": guild.locale, "features": []},
            "channel_id": str(channel.id),
            "channel": channel_payload,
            "member": member.payload(permissions=permissions),
            "token": token,
            "version": 1,
            "app_permissions": str(self.bot_permissions(channel)),
            "locale": member.user.locale,
            "guild_locale": guild.locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "authorizing_integration_owners": {"0": str(guild.id)},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if source is not None:
            payload["message"] = self.message_payload(source)
        loop = asyncio.get_running_loop()
        interaction = Interaction(
            world=self,
            id=interaction_id,
            token=token,
            type=kind,
            payload=payload,
            guild=guild,
            channel=channel,
            member=member,
            name=name,
            deadline=loop.time() + max(self.ack_window, timeout or 0.0),
            source_message=source,
        )
        self.interactions[interaction_id] = interaction
        self.emit("INTERACTION_CREATE", payload)
        return interaction

    async def slash(
        self,
        guild: Guild,
        member: Member,
        command: str,
        *,
        in_channel: Channel | None = None,
        options: dict[str, Any] | None = None,
        timeout: float | None = None,
        **values: Any,
    ) -> Interaction:
        """Run `/command sub ...` as `member` in `in_channel` (default #general); waits for the acknowledgement.

        Options come as keyword arguments (dashes in names become underscores) or in `options`; channels,
        members, roles and `Upload`s are sent with their resolved data as the Discord client does.
        """
        channel = in_channel or guild.channel("general")
        words = command.strip().lstrip("/").split()
        definition = await self._command(guild, words[0], 1)
        self._check_can_use(guild, member, channel, definition)
        resolver = Resolver(self, guild, member, channel)
        built = command_options(definition, words[1:], {**(options or {}), **values}, resolver)
        data = self._command_data(definition, guild, resolver)
        data["options"] = built
        interaction = self._interaction(
            APPLICATION_COMMAND, guild, channel, member, data, name=" ".join(words), timeout=timeout
        )
        await interaction.wait_acknowledged(timeout)
        return interaction

    def _command_data(self, definition: dict[str, Any], guild: Guild, resolver: Resolver) -> dict[str, Any]:
        data: dict[str, Any] = {"id": definition["id"], "name": definition["name"], "type": definition.get("type", 1)}
        if definition.get("guild_id"):
            data["guild_id"] = str(guild.id)
        if resolver.data:
            data["resolved"] = resolver.data
        return data

    async def autocomplete(
        self,
        guild: Guild,
        member: Member,
        command: str,
        *,
        focused: str,
        in_channel: Channel | None = None,
        options: dict[str, Any] | None = None,
        timeout: float | None = None,
        **values: Any,
    ) -> list[dict[str, Any]]:
        """Type into option `focused` of `/command` and return the choices the bot offers."""
        channel = in_channel or guild.channel("general")
        words = command.strip().lstrip("/").split()
        definition = await self._command(guild, words[0], 1)
        self._check_can_use(guild, member, channel, definition)
        resolver = Resolver(self, guild, member, channel)
        built = command_options(definition, words[1:], {**(options or {}), **values}, resolver, focused=focused)
        data = self._command_data(definition, guild, resolver)
        data["options"] = built
        interaction = self._interaction(
            AUTOCOMPLETE, guild, channel, member, data, name=" ".join(words), timeout=timeout
        )
        await interaction.wait_acknowledged(timeout)
        return interaction.choices or []

    async def message_command(
        self, guild: Guild, member: Member, name: str, target: Message, *, timeout: float | None = None
    ) -> Interaction:
        """Use the message context-menu command `name` on `target`."""
        channel = self.find_channel(target.channel_id)
        definition = await self._command(guild, name, 3)
        self._check_can_use(guild, member, channel, definition)
        resolver = Resolver(self, guild, member, channel)
        resolver.message(target)
        data = self._command_data(definition, guild, resolver)
        data["target_id"] = str(target.id)
        interaction = self._interaction(APPLICATION_COMMAND, guild, channel, member, data, name=name, timeout=timeout)
        await interaction.wait_acknowledged(timeout)
        return interaction

    async def user_command(
        self,
        guild: Guild,
        member: Member,
        name: str,
        target: Member,
        *,
        in_channel: Channel | None = None,
        timeout: float | None = None,
    ) -> Interaction:
        """Use the user context-menu command `name` on `target`."""
        channel = in_channel or guild.channel("general")
        definition = await self._command(guild, name, 2)
        self._check_can_use(guild, member, channel, definition)
        resolver = Resolver(self, guild, member, channel)
        resolver.user(target)
        data = self._command_data(definition, guild, resolver)
        data["target_id"] = str(target.id)
        interaction = self._interaction(APPLICATION_COMMAND, guild, channel, member, data, name=name, timeout=timeout)
        await interaction.wait_acknowledged(timeout)
        return interaction

    # ----- acting as members: components and modals ---------------------------------------------------------

    def _component_context(self, message: Message, member: Member) -> tuple[Guild, Channel]:
        channel = self.find_channel(message.channel_id)
        guild = self.guild_of(channel)
        if message.deleted:
            raise ActionRefused(f"{message!r} was deleted")
        if message.ephemeral:
            owner = next(
                (
                    i.member
                    for i in self.interactions.values()
                    if message.id in i.answer_ids or message.id == i.original_id
                ),
                None,
            )
            if owner is not None and owner.id != member.id:
                raise ActionRefused(f"only {owner.name} can see that ephemeral message")
        elif not guild.permissions_for(member, channel) & P.view_channel.flag:
            raise ActionRefused(f"{member.name} cannot see #{channel.name}")
        return guild, channel

    async def press_button(
        self, message: Message, button: str, member: Member, *, timeout: float | None = None
    ) -> Interaction:
        """Press the button with this custom_id or label (works on ephemeral messages from interactions too)."""
        guild, channel = self._component_context(message, member)
        component = find_component(message, button, (2,))
        if component.get("disabled"):
            raise ActionRefused(f"button {button!r} is disabled")
        if component.get("custom_id") is None:
            raise ActionRefused(f"button {button!r} is a link or premium button; pressing it does not reach the bot")
        data = {"custom_id": component["custom_id"], "component_type": 2}
        if "id" in component:
            data["id"] = component["id"]
        interaction = self._interaction(
            MESSAGE_COMPONENT,
            guild,
            channel,
            member,
            data,
            name=component["custom_id"],
            source=message,
            timeout=timeout,
        )
        await interaction.wait_acknowledged(timeout)
        return interaction

    async def select(
        self,
        message: Message,
        custom_id: str,
        values: Iterable[Any],
        member: Member,
        *,
        timeout: float | None = None,
    ) -> Interaction:
        """Pick `values` in a select menu: option values or labels for string selects, objects for the others."""
        guild, channel = self._component_context(message, member)
        component = find_component(message, custom_id, (3, 5, 6, 7, 8))
        if component.get("disabled"):
            raise ActionRefused(f"select {custom_id!r} is disabled")
        chosen = list(values)
        low, high = component.get("min_values", 1), component.get("max_values", 1)
        if not low <= len(chosen) <= high:
            raise ActionRefused(f"select {custom_id!r} takes {low}–{high} values, got {len(chosen)}")
        resolver = Resolver(self, guild, member, channel)
        wire: list[str] = []
        for value in chosen:
            if component["type"] == 3:
                option = next(
                    (o for o in component.get("options") or [] if value in (o.get("value"), o.get("label"))), None
                )
                if option is None:
                    offered = [o.get("label") for o in component.get("options") or []]
                    raise ActionRefused(f"select {custom_id!r} offers {offered}, not {value!r}")
                wire.append(str(option["value"]))
            elif isinstance(value, Role):
                wire.append(resolver.role(value))
            elif isinstance(value, Member | User):
                wire.append(resolver.user(value))
            elif isinstance(value, Channel):
                wire.append(resolver.channel(value))
            else:
                raise ActionRefused(f"select {custom_id!r} cannot take {value!r}")
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component["type"], "values": wire}
        if resolver.data:
            data["resolved"] = resolver.data
        interaction = self._interaction(
            MESSAGE_COMPONENT, guild, channel, member, data, name=custom_id, source=message, timeout=timeout
        )
        await interaction.wait_acknowledged(timeout)
        return interaction

    async def submit_modal(
        self, opened: Interaction, values: dict[str, Any], *, timeout: float | None = None
    ) -> Interaction:
        """Fill the modal the bot opened (fields by custom_id or label) and submit it."""
        if opened.modal is None:
            await opened.wait_acknowledged(timeout)
        modal = opened.modal
        if modal is None:
            raise ActionRefused(
                f"the bot did not open a modal for {opened.name!r} (response type {opened.response_type})"
            )
        data = {"custom_id": modal["custom_id"], "components": modal_submission(modal, values)}
        interaction = self._interaction(
            MODAL_SUBMIT,
            opened.guild,
            opened.channel,
            opened.member,
            data,
            name=modal["custom_id"],
            source=opened.source_message,
            timeout=timeout,
        )
        await interaction.wait_acknowledged(timeout)
        return interaction

    # ----- acting as members: messages, reactions, polls ----------------------------------------------------

    async def post_message(
        self,
        channel: Channel,
        member: Member,
        content: str = "",
        *,
        mentions_bot: bool = False,
        files: Iterable[Upload] = (),
        reply_to: Message | None = None,
        embeds: list[dict[str, Any]] | None = None,
    ) -> Message:
        """Post as `member`; the bot gets MESSAGE_CREATE (content only with the message-content intent or a mention)."""
        guild = self.guild_of(channel)
        permissions = guild.permissions_for(member, channel)
        uploads = dict(enumerate(files))
        if not permissions & P.view_channel.flag:
            raise ActionRefused(f"{member.name} cannot see #{channel.name}")
        if channel.type == CHANNEL_FORUM:
            raise ActionRefused("messages in a forum go into its posts (threads)")
        if not permissions & self.send_flag(channel) or (uploads and not permissions & P.attach_files.flag):
            raise ActionRefused(f"{member.name} may not post that in #{channel.name}")
        if mentions_bot and self.bot_user.mention not in content:
            content = f"{self.bot_user.mention} {content}".strip()
        body: dict[str, Any] = {"content": content, "embeds": embeds or []}
        if reply_to is not None:
            body["message_reference"] = {"message_id": str(reply_to.id), "channel_id": str(reply_to.channel_id)}
        if isinstance(channel, Thread) and member.id not in channel.members:
            self.add_thread_member(channel, member, by=member.user)
        try:
            return self.create_message(channel, member.user, body, uploads)
        except ApiError as error:
            raise ActionRefused(f"Discord would refuse this message: {error.body}") from error

    async def edit_post(self, message: Message, member: Member, content: str) -> Message:
        """Edit a message `member` wrote; the bot gets MESSAGE_UPDATE."""
        if message.author.id != member.id or message.deleted:
            raise ActionRefused(f"{member.name} can only edit their own messages")
        try:
            return self.edit_message(message, {"content": content})
        except ApiError as error:
            raise ActionRefused(f"Discord would refuse this edit: {error.body}") from error

    async def delete_post(self, message: Message, member: Member) -> None:
        """Delete a message as `member` (their own, or any with Manage Messages)."""
        channel = self.find_channel(message.channel_id)
        may_manage = self.guild_of(channel).permissions_for(member, channel) & P.manage_messages.flag
        if message.deleted or (message.author.id != member.id and not may_manage):
            raise ActionRefused(f"{member.name} may not delete {message!r}")
        self.delete_message(message)

    async def start_thread(
        self,
        channel: Channel,
        member: Member,
        name: str,
        *,
        private: bool = False,
        message: Message | None = None,
        content: str = "",
    ) -> Thread:
        """Start a thread as `member`: from `message`, a private one, or a forum post with `content`."""
        guild = self.guild_of(channel)
        permissions = guild.permissions_for(member, channel)
        needed = P.create_private_threads if private else P.create_public_threads
        if channel.type == CHANNEL_FORUM:
            needed = P.send_messages
        if not permissions & P.view_channel.flag or not permissions & needed.flag:
            raise ActionRefused(f"{member.name} may not start threads in #{channel.name}")
        kind = THREAD_PRIVATE if private else THREAD_PUBLIC
        try:
            thread = self.create_thread(channel, member.user, name=name, type=kind, starter=message)
            if channel.type == CHANNEL_FORUM:
                self.create_message(thread, member.user, {"content": content}, message_id=thread.id)
        except ApiError as error:
            raise ActionRefused(f"Discord would refuse this thread: {error.body}") from error
        return thread

    async def react(self, message: Message, emoji: str, member: Member) -> None:
        channel = self.find_channel(message.channel_id)
        guild = self.guild_of(channel)
        permissions = guild.permissions_for(member, channel)
        users = message.reactions.setdefault(emoji, [])
        if not permissions & P.view_channel.flag or (not users and not permissions & P.add_reactions.flag):
            raise ActionRefused(f"{member.name} may not react in #{channel.name}")
        if member.id in users:
            return
        users.append(member.id)
        event = self.rest.reaction_event(message, emoji, member.id)
        event["member"] = member.payload()
        self.emit("MESSAGE_REACTION_ADD", event)

    async def vote_native(self, message: Message, answer_id: int, member: Member) -> None:
        """Vote in a Discord poll as `member`; the bot gets MESSAGE_POLL_VOTE_ADD."""
        self._component_context(message, member)
        try:
            self.vote(message, answer_id, member)
        except KeyError:
            raise ActionRefused(f"the poll has no answer {answer_id}") from None

    async def unvote_native(self, message: Message, answer_id: int, member: Member) -> None:
        self._component_context(message, member)
        self.vote(message, answer_id, member, add=False)

    async def expire_poll(self, message: Message) -> None:
        """End a poll as if its duration ran out."""
        try:
            self.finalize_poll(message)
        except ApiError as error:
            raise ActionRefused(str(error.body)) from error

    # ----- reading what Discord shows ------------------------------------------------------------------------

    def messages(self, channel: Channel, *, system: bool = True) -> list[Message]:
        """What members see in a channel or thread, oldest first (ephemeral messages never appear here)."""
        return [m for m in self.visible_messages(channel) if system or m.type not in SYSTEM_TYPES]

    def bot_messages(self, channel: Channel) -> list[Message]:
        return [m for m in self.visible_messages(channel) if self.bot_authored(m)]

    async def wait_for_message(
        self,
        channel: Channel,
        predicate: Callable[[Message], bool] | None = None,
        *,
        by_bot: bool = True,
        after: Message | None = None,
        timeout: float = WAIT_SECONDS,
    ) -> Message:
        """The first (bot) message in the channel after `after` that satisfies `predicate`."""

        def find() -> Message | None:
            for message in self.visible_messages(channel):
                if after is not None and message.id <= after.id:
                    continue
                if by_bot and not self.bot_authored(message):
                    continue
                if message.loading or (predicate is not None and not predicate(message)):
                    continue
                return message
            return None

        if not await self.wait_until(lambda: find() is not None, timeout):
            shown = [m.text()[:80] for m in self.visible_messages(channel)[-5:]]
            raise AssertionError(f"no matching message in #{channel.name} within {timeout}s; last ones: {shown}")
        found = find()
        assert found is not None
        return found

    def thread_members(self, thread: Channel) -> list[Member]:
        if not isinstance(thread, Thread):
            raise TypeError(f"{thread!r} is not a thread")
        guild = self.guild_of(thread)
        return [guild.members[uid] for uid in thread.members if uid in guild.members]

    def threads(self, parent: Channel) -> list[Thread]:
        guild = self.guild_of(parent)
        return [t for t in guild.threads.values() if t.parent_id == parent.id]

    def ephemeral_messages(self, member: Member) -> list[Message]:
        """Ephemeral answers only `member` saw, oldest first."""
        return [
            m
            for i in self.interactions.values()
            if i.member is member
            for m in i.answers()
            if m.ephemeral and not m.deleted
        ]

    def interactions_of(self, member: Member) -> list[Interaction]:
        return [i for i in self.interactions.values() if i.member is member]
