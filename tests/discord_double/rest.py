"""Discord's REST routes as the double serves them: permission checks, limits, effects and the answers."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import limits
from .gateway import INTENT_GUILD_MEMBERS
from .limits import ApiError
from .model import (
    CHANNEL_FORUM,
    CHANNEL_NEWS,
    CHANNEL_TEXT,
    THREAD_NEWS,
    THREAD_PRIVATE,
    THREAD_PUBLIC,
    THREAD_TYPES,
    Channel,
    Guild,
    Message,
    P,
    Thread,
    Upload,
    Webhook,
)
from .world import World

COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")
MAX_WEBHOOKS_PER_CHANNEL = 15


@dataclass
class ApiRequest:
    """A REST request as a handler sees it."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    files: dict[int, Upload] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)

    @property
    def body(self) -> dict[str, Any]:
        return self.json if isinstance(self.json, dict) else {}

    def id(self, name: str) -> int:
        return int(self.params[name])

    def flag(self, name: str) -> bool:
        return self.query.get(name, "").lower() in ("1", "true")


@dataclass
class Answer:
    status: int
    body: Any = None


Handler = Callable[[ApiRequest], Any]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    needs_auth: bool


class RestApi:
    """The route table and its handlers; each handler returns a JSON body, an `Answer`, or None for 204."""

    def __init__(self, world: World) -> None:
        self.w = world
        self.routes: list[Route] = []
        snow = r"(?P<{}>\d+)"
        c, m, g, u, t = (snow.format(n) for n in ("channel", "message", "guild", "user", "thread"))
        app, cmd, wh = snow.format("app"), snow.format("command"), snow.format("webhook")
        token = r"(?P<token>[^/]+)"
        emoji = r"(?P<emoji>[^/]+)"
        table: list[tuple[str, str, Handler, bool]] = [
            ("GET", "/gateway", self.gateway, False),
            ("GET", "/gateway/bot", self.gateway_bot, True),
            ("GET", "/users/@me", self.users_me, True),
            ("GET", f"/users/{u}", self.get_user, True),
            ("GET", "/oauth2/applications/@me", self.application, True),
            ("GET", "/applications/@me", self.application, True),
            ("GET", f"/applications/{app}/commands", self.list_commands, True),
            ("PUT", f"/applications/{app}/commands", self.put_commands, True),
            ("POST", f"/applications/{app}/commands", self.post_command, True),
            ("GET", f"/applications/{app}/commands/{cmd}", self.get_command, True),
            ("PATCH", f"/applications/{app}/commands/{cmd}", self.patch_command, True),
            ("DELETE", f"/applications/{app}/commands/{cmd}", self.delete_command, True),
            ("GET", f"/applications/{app}/guilds/{g}/commands", self.list_commands, True),
            ("PUT", f"/applications/{app}/guilds/{g}/commands", self.put_commands, True),
            ("POST", f"/applications/{app}/guilds/{g}/commands", self.post_command, True),
            ("GET", f"/applications/{app}/guilds/{g}/commands/{cmd}", self.get_command, True),
            ("PATCH", f"/applications/{app}/guilds/{g}/commands/{cmd}", self.patch_command, True),
            ("DELETE", f"/applications/{app}/guilds/{g}/commands/{cmd}", self.delete_command, True),
            ("GET", f"/guilds/{g}", self.get_guild, True),
            ("GET", f"/guilds/{g}/channels", self.guild_channels, True),
            ("GET", f"/guilds/{g}/members", self.guild_members, True),
            ("GET", f"/guilds/{g}/members/{u}", self.guild_member, True),
            ("GET", f"/guilds/{g}/roles", self.guild_roles, True),
            ("GET", f"/guilds/{g}/threads/active", self.active_threads, True),
            ("GET", f"/guilds/{g}/webhooks", self.guild_webhooks, True),
            ("GET", f"/channels/{c}", self.get_channel, True),
            ("PATCH", f"/channels/{c}", self.patch_channel, True),
            ("DELETE", f"/channels/{c}", self.delete_channel, True),
            ("POST", f"/channels/{c}/typing", self.typing, True),
            ("GET", f"/channels/{c}/messages", self.list_messages, True),
            ("POST", f"/channels/{c}/messages", self.post_message, True),
            ("POST", f"/channels/{c}/messages/bulk-delete", self.bulk_delete, True),
            ("GET", f"/channels/{c}/messages/{m}", self.get_message, True),
            ("PATCH", f"/channels/{c}/messages/{m}", self.patch_message, True),
            ("DELETE", f"/channels/{c}/messages/{m}", self.delete_message, True),
            ("PUT", f"/channels/{c}/messages/{m}/reactions/{emoji}/@me", self.add_reaction, True),
            ("DELETE", f"/channels/{c}/messages/{m}/reactions/{emoji}/@me", self.remove_own_reaction, True),
            ("DELETE", f"/channels/{c}/messages/{m}/reactions/{emoji}/{u}", self.remove_reaction, True),
            ("GET", f"/channels/{c}/messages/{m}/reactions/{emoji}", self.list_reactions, True),
            ("POST", f"/channels/{c}/threads", self.start_thread, True),
            ("POST", f"/channels/{c}/messages/{m}/threads", self.start_thread_from_message, True),
            ("GET", f"/channels/{t}/thread-members", self.thread_members, True),
            ("GET", f"/channels/{t}/thread-members/{u}", self.thread_member, True),
            ("PUT", f"/channels/{t}/thread-members/@me", self.join_thread, True),
            ("PUT", f"/channels/{t}/thread-members/{u}", self.add_thread_member, True),
            ("DELETE", f"/channels/{t}/thread-members/@me", self.leave_thread, True),
            ("DELETE", f"/channels/{t}/thread-members/{u}", self.remove_thread_member, True),
            ("GET", f"/channels/{c}/webhooks", self.channel_webhooks, True),
            ("POST", f"/channels/{c}/webhooks", self.create_webhook, True),
            ("POST", f"/channels/{c}/polls/{m}/expire", self.expire_poll, True),
            ("GET", f"/channels/{c}/polls/{m}/answers/(?P<answer>\\d+)", self.poll_voters, True),
            ("GET", f"/webhooks/{wh}", self.get_webhook, True),
            ("PATCH", f"/webhooks/{wh}", self.patch_webhook, True),
            ("DELETE", f"/webhooks/{wh}", self.delete_webhook, True),
            ("GET", f"/webhooks/{wh}/{token}", self.get_webhook_with_token, False),
            ("PATCH", f"/webhooks/{wh}/{token}", self.patch_webhook_with_token, False),
            ("DELETE", f"/webhooks/{wh}/{token}", self.delete_webhook_with_token, False),
            ("POST", f"/webhooks/{wh}/{token}", self.execute_webhook, False),
            ("GET", f"/webhooks/{wh}/{token}/messages/(?P<target>@original|\\d+)", self.get_webhook_message, False),
            ("PATCH", f"/webhooks/{wh}/{token}/messages/(?P<target>@original|\\d+)", self.edit_webhook_message, False),
            (
                "DELETE",
                f"/webhooks/{wh}/{token}/messages/(?P<target>@original|\\d+)",
                self.delete_webhook_message,
                False,
            ),
            ("POST", f"/interactions/(?P<interaction>\\d+)/{token}/callback", self.interaction_callback, False),
        ]
        for method, path, handler, needs_auth in table:
            self.routes.append(Route(method, re.compile(f"^{path}$"), handler, needs_auth))

    def add_routes(self, table: list[tuple[str, str, Handler]]) -> None:
        """More routes (from a feature's own module of the double), each needing the bot's token."""
        for method, path, handler in table:
            self.routes.append(Route(method, re.compile(f"^{path}$"), handler, True))

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            if route.method == method:
                found = route.pattern.match(path)
                if found is not None:
                    return route, found.groupdict()
        return None

    # ----- helpers -------------------------------------------------------------------------------------------

    def channel(self, r: ApiRequest, name: str = "channel") -> Channel:
        return self.w.find_channel(r.id(name))

    def thread(self, r: ApiRequest) -> Thread:
        channel = self.w.find_channel(r.id("thread"))
        if not isinstance(channel, Thread):
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        return channel

    def guild(self, r: ApiRequest) -> Guild:
        guild = self.w.guilds.get(r.id("guild"))
        if guild is None:
            raise limits.unknown("Guild", limits.UNKNOWN_GUILD)
        return guild

    def check_app(self, r: ApiRequest) -> None:
        if r.id("app") != self.w.application_id:
            raise ApiError(403, 50001, "Missing Access")

    def require_message_perms(self, channel: Channel, body: dict[str, Any], files: dict[int, Upload]) -> None:
        needed = [self.w.send_flag(channel)]
        if body.get("embeds"):
            needed.append(P.embed_links.flag)
        if files:
            needed.append(P.attach_files.flag)
        if body.get("poll"):
            needed.append(P.send_polls.flag)
        if body.get("message_reference"):
            needed.append(P.read_message_history.flag)
        self.w.require(channel, *needed)

    def postable(self, channel: Channel) -> None:
        if channel.type not in (CHANNEL_TEXT, CHANNEL_NEWS, *THREAD_TYPES):
            raise ApiError(400, 50008, "Cannot send messages in a non-text channel")
        if isinstance(channel, Thread):
            if channel.locked:
                raise ApiError(400, 50083, "Thread is locked")
            if channel.archived:
                self.w.update_thread(channel, {"archived": False})

    # ----- gateway, users, application -----------------------------------------------------------------------

    def gateway(self, r: ApiRequest) -> Any:
        return {"url": self.w.gateway_url}

    def gateway_bot(self, r: ApiRequest) -> Any:
        return {
            "url": self.w.gateway_url,
            "shards": self.w.gateway.recommended_shards,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1},
        }

    def users_me(self, r: ApiRequest) -> Any:
        return {**self.w.bot_user.payload(), "verified": True, "mfa_enabled": False, "email": None, "locale": "en-US"}

    def get_user(self, r: ApiRequest) -> Any:
        user = self.w.users.get(r.id("user"))
        if user is None:
            raise limits.unknown("User", limits.UNKNOWN_USER)
        return user.payload()

    def application(self, r: ApiRequest) -> Any:
        bot = self.w.bot_user
        return {
            "id": str(self.w.application_id),
            "name": bot.name,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "verify_key": "0" * 64,
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": self.w.owner_user.payload(),
            "team": None,
            "flags": self.w.application_flags,
            "rpc_origins": [],
            "redirect_uris": [],
            "tags": [],
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "approximate_guild_count": len(self.w.guilds),
            "bot": bot.payload(),
            "integration_types_config": {"0": {}},
        }

    # ----- application commands ------------------------------------------------------------------------------

    def commands_of(self, r: ApiRequest) -> list[dict[str, Any]]:
        self.check_app(r)
        if "guild" in r.params:
            return self.w.guild_commands.setdefault(self.guild(r).id, [])
        return self.w.global_commands

    def command(self, r: ApiRequest) -> dict[str, Any]:
        for command in self.commands_of(r):
            if command["id"] == r.params["command"]:
                return command
        raise limits.unknown("application command", limits.UNKNOWN_COMMAND)

    def stored_command(self, r: ApiRequest, body: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        command = {
            "type": 1,
            "name_localizations": None,
            "description_localizations": None,
            "default_member_permissions": None,
            "dm_permission": True,
            "contexts": None,
            "integration_types": [0],
            "nsfw": False,
            **body,
        }
        command.setdefault("description", "")
        command["id"] = existing["id"] if existing is not None else str(self.w.ids.next())
        command["application_id"] = str(self.w.application_id)
        command["version"] = str(self.w.ids.next())
        if "guild" in r.params:
            command["guild_id"] = r.params["guild"]
        return command

    def check_command(self, errors: limits.FormErrors, at: tuple[str | int, ...], command: dict[str, Any]) -> None:
        name = command.get("name") or ""
        if command.get("type", 1) == 1:
            if not COMMAND_NAME.match(name) or name != name.lower():
                errors.add((*at, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
            errors.length_between((*at, "description"), command.get("description"), 1, 100)
        else:
            errors.length_between((*at, "name"), name, 1, 32)
        self.check_options(errors, at, command.get("options") or [])

    def check_options(
        self, errors: limits.FormErrors, at: tuple[str | int, ...], options: list[dict[str, Any]]
    ) -> None:
        errors.max_length((*at, "options"), options, 25)
        seen_optional = False
        for index, option in enumerate(options):
            where = (*at, "options", index)
            name = option.get("name") or ""
            if not COMMAND_NAME.match(name) or name != name.lower():
                errors.add((*where, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
            errors.length_between((*where, "description"), option.get("description"), 1, 100)
            errors.max_length((*where, "choices"), option.get("choices") or [], 25)
            if option.get("required"):
                if seen_optional:
                    errors.add(
                        (*at, "options"),
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options",
                    )
            else:
                seen_optional = True
            if option.get("type") in (1, 2):
                self.check_options(errors, where, option.get("options") or [])
        names = [o.get("name") for o in options]
        if len(names) != len(set(names)):
            errors.add(
                (*at, "options"), "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS", "Option names must be unique"
            )

    def list_commands(self, r: ApiRequest) -> Any:
        return self.commands_of(r)

    def put_commands(self, r: ApiRequest) -> Any:
        current = self.commands_of(r)
        bodies = r.json if isinstance(r.json, list) else []
        errors = limits.FormErrors()
        for index, body in enumerate(bodies):
            self.check_command(errors, (index,), body)
        keys = [(b.get("type", 1), b.get("name")) for b in bodies]
        if len(keys) != len(set(keys)):
            errors.add((), "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique")
        errors.raise_if_any()
        by_key = {(c["type"], c["name"]): c for c in current}
        stored = [self.stored_command(r, b, by_key.get((b.get("type", 1), b.get("name")))) for b in bodies]
        current[:] = stored
        self.w.notify()
        return stored

    def post_command(self, r: ApiRequest) -> Any:
        current = self.commands_of(r)
        errors = limits.FormErrors()
        self.check_command(errors, (), r.body)
        errors.raise_if_any()
        key = (r.body.get("type", 1), r.body.get("name"))
        existing = next((c for c in current if (c["type"], c["name"]) == key), None)
        stored = self.stored_command(r, r.body, existing)
        if existing is not None:
            current[current.index(existing)] = stored
            self.w.notify()
            return stored
        current.append(stored)
        self.w.notify()
        return Answer(201, stored)

    def get_command(self, r: ApiRequest) -> Any:
        return self.command(r)

    def patch_command(self, r: ApiRequest) -> Any:
        command = self.command(r)
        updated = self.stored_command(r, {**command, **r.body}, command)
        errors = limits.FormErrors()
        self.check_command(errors, (), updated)
        errors.raise_if_any()
        commands = self.commands_of(r)
        commands[commands.index(command)] = updated
        self.w.notify()
        return updated

    def delete_command(self, r: ApiRequest) -> Any:
        command = self.command(r)
        self.commands_of(r).remove(command)
        self.w.notify()
        return None

    # ----- guilds --------------------------------------------------------------------------------------------

    def get_guild(self, r: ApiRequest) -> Any:
        guild = self.guild(r)
        data = guild.payload()
        if r.flag("with_counts"):
            data.update(approximate_member_count=len(guild.members), approximate_presence_count=0)
        return data

    def guild_channels(self, r: ApiRequest) -> Any:
        return [c.payload() for c in self.guild(r).channels.values()]

    def guild_members(self, r: ApiRequest) -> Any:
        guild = self.guild(r)
        if not self.w.gateway.allowed_privileged_intents & INTENT_GUILD_MEMBERS:
            raise limits.missing_access()
        limit = min(int(r.query.get("limit", 1)), 1000)
        after = int(r.query.get("after", 0))
        members = sorted((m for m in guild.members.values() if m.id > after), key=lambda m: m.id)
        return [m.payload() for m in members[:limit]]

    def guild_member(self, r: ApiRequest) -> Any:
        member = self.guild(r).members.get(r.id("user"))
        if member is None:
            raise limits.unknown("Member", limits.UNKNOWN_MEMBER)
        return member.payload()

    def guild_roles(self, r: ApiRequest) -> Any:
        return [role.payload() for role in self.guild(r).roles.values()]

    def active_threads(self, r: ApiRequest) -> Any:
        guild = self.guild(r)
        bot_id = self.w.bot_user.id
        threads = [t for t in guild.threads.values() if not t.archived and self.w.bot_can_view(t)]
        return {
            "threads": [t.payload() for t in threads],
            "members": [t.member_payload(bot_id) for t in threads if bot_id in t.members],
        }

    def guild_webhooks(self, r: ApiRequest) -> Any:
        guild = self.guild(r)
        if not guild.base_permissions(self.w.bot_member(guild)) & P.manage_webhooks.flag:
            raise limits.missing_permissions()
        return [w.payload() for w in self.w.webhooks.values() if w.guild_id == guild.id]

    # ----- channels ------------------------------------------------------------------------------------------

    def get_channel(self, r: ApiRequest) -> Any:
        channel = self.channel(r)
        self.w.require(channel)
        return channel.payload()

    def patch_channel(self, r: ApiRequest) -> Any:
        channel = self.channel(r)
        if isinstance(channel, Thread):
            permissions = self.w.require(channel)
            moderates = bool(permissions & P.manage_threads.flag)
            owner_changes = set(r.body) <= {"name", "archived", "auto_archive_duration"}
            if not moderates and not (channel.owner_id == self.w.bot_user.id and owner_changes):
                raise limits.missing_permissions()
            self.w.update_thread(channel, r.body)
            return channel.payload()
        self.w.require(channel, P.manage_channels.flag)
        if "name" in r.body:
            channel.name = str(r.body["name"])
        if "topic" in r.body:
            channel.topic = r.body["topic"]
        self.w.emit("CHANNEL_UPDATE", channel.payload())
        return channel.payload()

    def delete_channel(self, r: ApiRequest) -> Any:
        channel = self.channel(r)
        flag = P.manage_threads.flag if isinstance(channel, Thread) else P.manage_channels.flag
        self.w.require(channel, flag)
        payload = channel.payload()
        self.w.delete_channel(channel)
        return payload

    def typing(self, r: ApiRequest) -> Any:
        channel = self.channel(r)
        self.w.require(channel, self.w.send_flag(channel))
        return None

    # ----- messages ------------------------------------------------------------------------------------------

    def list_messages(self, r: ApiRequest) -> Any:
        channel = self.channel(r)
        permissions = self.w.require(channel)
        if not permissions & P.read_message_history.flag:
            return []
        limit = int(r.query.get("limit", 50))
        if not 1 <= limit <= 100:
            errors = limits.FormErrors()
            errors.add(("limit",), "NUMBER_TYPE_MAX", "int value should be less than or equal to 100.")
            errors.raise_if_any()
        messages = self.w.visible_messages(channel)
        if "around" in r.query:
            pivot = int(r.query["around"])
            older = [m for m in messages if m.id <= pivot][-((limit + 1) // 2) :]
            newer = [m for m in messages if m.id > pivot][: limit // 2]
            chosen = older + newer
        elif "after" in r.query:
            chosen = [m for m in messages if m.id > int(r.query["after"])][:limit]
        elif "before" in r.query:
            chosen = [m for m in messages if m.id < int(r.query["before"])][-limit:]
        else:
            chosen = messages[-limit:]
        return [self.w.message_payload(m) for m in reversed(chosen)]

    def post_message(self, r: ApiRequest) -> Any:
        channel = self.channel(r)
        self.require_message_perms(channel, r.body, r.files)
        self.postable(channel)
        message = self.w.create_message(channel, self.w.bot_user, r.body, r.files)
        return self.w.message_payload(message)

    def get_message(self, r: ApiRequest) -> Any:
        channel = self.channel(r)
        self.w.require(channel, P.read_message_history.flag)
        return self.w.message_payload(self.w.find_message(channel, r.id("message")))

    def patch_message(self, r: ApiRequest) -> Any:
        channel = self.channel(r)
        permissions = self.w.require(channel)
        message = self.w.find_message(channel, r.id("message"))
        if message.author.id != self.w.bot_user.id or message.webhook_name is not None:
            if set(r.body) - {"flags"}:
                raise ApiError(403, 50005, "Cannot edit a message authored by another user")
            if not permissions & P.manage_messages.flag:
                raise limits.missing_permissions()
        if r.body.get("embeds"):
            self.w.require(channel, P.embed_links.flag)
        self.w.edit_message(message, r.body, r.files)
        return self.w.message_payload(message)

    def delete_message(self, r: ApiRequest) -> Any:
        channel = self.channel(r)
        permissions = self.w.require(channel)
        message = self.w.find_message(channel, r.id("message"))
        if message.author.id != self.w.bot_user.id and not permissions & P.manage_messages.flag:
            raise limits.missing_permissions()
        self.w.delete_message(message)
        return None

    def bulk_delete(self, r: ApiRequest) -> Any:
        channel = self.channel(r)
        self.w.require(channel, P.manage_messages.flag)
        ids = [int(i) for i in r.body.get("messages") or []]
        errors = limits.FormErrors()
        errors.length_between(("messages",), ids, 2, 100)
        errors.raise_if_any()
        deleted = []
        for message_id in ids:
            message = self.w.messages_by_id.get(message_id)
            if message is not None and message.channel_id == channel.id and not message.deleted:
                message.deleted = True
                deleted.append(str(message_id))
        self.w.emit(
            "MESSAGE_DELETE_BULK", {"ids": deleted, "channel_id": str(channel.id), "guild_id": str(channel.guild_id)}
        )
        return None

    # ----- reactions -----------------------------------------------------------------------------------------

    def reaction_target(self, r: ApiRequest) -> tuple[Channel, Message, str]:
        channel = self.channel(r)
        self.w.require(channel, P.read_message_history.flag)
        return channel, self.w.find_message(channel, r.id("message")), r.params["emoji"]

    def add_reaction(self, r: ApiRequest) -> Any:
        channel, message, emoji = self.reaction_target(r)
        users = message.reactions.setdefault(emoji, [])
        if not users:
            self.w.require(channel, P.add_reactions.flag)
        if self.w.bot_user.id not in users:
            users.append(self.w.bot_user.id)
            self.w.emit("MESSAGE_REACTION_ADD", self.reaction_event(message, emoji, self.w.bot_user.id))
        return None

    def remove_own_reaction(self, r: ApiRequest) -> Any:
        _, message, emoji = self.reaction_target(r)
        self.drop_reaction(message, emoji, self.w.bot_user.id)
        return None

    def remove_reaction(self, r: ApiRequest) -> Any:
        channel, message, emoji = self.reaction_target(r)
        self.w.require(channel, P.manage_messages.flag)
        self.drop_reaction(message, emoji, r.id("user"))
        return None

    def drop_reaction(self, message: Message, emoji: str, user_id: int) -> None:
        users = message.reactions.get(emoji, [])
        if user_id in users:
            users.remove(user_id)
            self.w.emit("MESSAGE_REACTION_REMOVE", self.reaction_event(message, emoji, user_id))

    def reaction_event(self, message: Message, emoji: str, user_id: int) -> dict[str, Any]:
        name, _, emoji_id = emoji.partition(":")
        return {
            "user_id": str(user_id),
            "channel_id": str(message.channel_id),
            "message_id": str(message.id),
            "guild_id": str(message.guild_id),
            "emoji": {"id": emoji_id or None, "name": name},
            "burst": False,
            "type": 0,
            "message_author_id": str(message.author.id),
        }

    def list_reactions(self, r: ApiRequest) -> Any:
        _, message, emoji = self.reaction_target(r)
        return [self.w.users[u].payload() for u in message.reactions.get(emoji, []) if u in self.w.users]

    # ----- threads -------------------------------------------------------------------------------------------

    def start_thread(self, r: ApiRequest) -> Any:
        parent = self.channel(r)
        if isinstance(parent, Thread) or parent.type not in (CHANNEL_TEXT, CHANNEL_NEWS, CHANNEL_FORUM):
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        body = r.body
        bot = self.w.bot_user
        if parent.type == CHANNEL_FORUM:
            first = body.get("message")
            if not isinstance(first, dict):
                errors = limits.FormErrors()
                errors.add(("message",), "BASE_TYPE_REQUIRED", "This field is required")
                errors.raise_if_any()
                return None
            self.w.require(parent, P.send_messages.flag)
            limits.check_message(first, file_count=len(r.files), prefix=("message",))
            thread = self.w.create_thread(parent, bot, name=body.get("name"), type=THREAD_PUBLIC)
            starter = self.w.create_message(thread, bot, first, r.files, message_id=thread.id)
            data = {**thread.payload(), "message": self.w.message_payload(starter)}
            data["member"] = thread.member_payload(bot.id)
            return Answer(201, data)
        kind = int(body.get("type") or THREAD_PRIVATE)
        if kind == THREAD_PRIVATE:
            if parent.type == CHANNEL_NEWS:
                raise ApiError(400, 50024, "Cannot execute action on this channel type")
            self.w.require(parent, P.create_private_threads.flag)
        elif kind in (THREAD_PUBLIC, THREAD_NEWS):
            self.w.require(parent, P.create_public_threads.flag)
        else:
            errors = limits.FormErrors()
            errors.add(("type",), "BASE_TYPE_CHOICES", "Value must be one of {10, 11, 12}.")
            errors.raise_if_any()
        thread = self.w.create_thread(
            parent,
            bot,
            name=body.get("name"),
            type=kind,
            invitable=bool(body.get("invitable", True)),
            auto_archive_duration=int(body.get("auto_archive_duration") or 1440),
        )
        return Answer(201, {**thread.payload(), "member": thread.member_payload(bot.id)})

    def start_thread_from_message(self, r: ApiRequest) -> Any:
        parent = self.channel(r)
        if isinstance(parent, Thread) or parent.type not in (CHANNEL_TEXT, CHANNEL_NEWS):
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        self.w.require(parent, P.create_public_threads.flag, P.read_message_history.flag)
        starter = self.w.find_message(parent, r.id("message"))
        if starter.thread_id is not None:
            raise ApiError(400, 160004, "A thread has already been created for this message")
        kind = THREAD_NEWS if parent.type == CHANNEL_NEWS else THREAD_PUBLIC
        thread = self.w.create_thread(
            parent,
            self.w.bot_user,
            name=r.body.get("name"),
            type=kind,
            auto_archive_duration=int(r.body.get("auto_archive_duration") or 1440),
            starter=starter,
        )
        return Answer(201, {**thread.payload(), "member": thread.member_payload(self.w.bot_user.id)})

    def thread_members(self, r: ApiRequest) -> Any:
        thread = self.thread(r)
        self.w.require(thread)
        if not self.w.gateway.allowed_privileged_intents & INTENT_GUILD_MEMBERS:
            raise limits.missing_access()
        guild = self.w.guild_of(thread)
        with_member = r.flag("with_member")
        return [
            thread.member_payload(uid, member=guild.members.get(uid) if with_member else None) for uid in thread.members
        ]

    def thread_member(self, r: ApiRequest) -> Any:
        thread = self.thread(r)
        self.w.require(thread)
        user_id = r.id("user")
        if user_id not in thread.members:
            raise limits.unknown("Member", limits.UNKNOWN_MEMBER)
        guild = self.w.guild_of(thread)
        return thread.member_payload(user_id, member=guild.members.get(user_id) if r.flag("with_member") else None)

    def join_thread(self, r: ApiRequest) -> Any:
        thread = self.thread(r)
        self.w.require(thread)
        guild = self.w.guild_of(thread)
        self.w.add_thread_member(thread, self.w.bot_member(guild), by=self.w.bot_user)
        return None

    def add_thread_member(self, r: ApiRequest) -> Any:
        thread = self.thread(r)
        permissions = self.w.require(thread, P.send_messages_in_threads.flag)
        guild = self.w.guild_of(thread)
        member = guild.members.get(r.id("user"))
        if member is None:
            raise limits.unknown("Member", limits.UNKNOWN_MEMBER)
        moderates = bool(permissions & P.manage_threads.flag)
        if thread.is_private and not moderates:
            inside = self.w.bot_user.id in thread.members
            may_invite = thread.invitable or thread.owner_id == self.w.bot_user.id
            if not inside or not may_invite:
                raise limits.missing_permissions()
        self.w.add_thread_member(thread, member, by=self.w.bot_user)
        return None

    def leave_thread(self, r: ApiRequest) -> Any:
        thread = self.thread(r)
        self.w.remove_thread_member(thread, self.w.bot_user.id, by=self.w.bot_user)
        return None

    def remove_thread_member(self, r: ApiRequest) -> Any:
        thread = self.thread(r)
        permissions = self.w.require(thread)
        owns_private = thread.is_private and thread.owner_id == self.w.bot_user.id
        if not permissions & P.manage_threads.flag and not owns_private:
            raise limits.missing_permissions()
        if thread.archived:
            raise ApiError(400, 50083, "Thread is archived")
        self.w.remove_thread_member(thread, r.id("user"), by=self.w.bot_user)
        return None

    # ----- webhooks ------------------------------------------------------------------------------------------

    def channel_webhooks(self, r: ApiRequest) -> Any:
        channel = self.channel(r)
        self.w.require(channel, P.manage_webhooks.flag)
        return [w.payload() for w in self.w.webhooks.values() if w.channel_id == channel.id]

    def create_webhook(self, r: ApiRequest) -> Any:
        channel = self.channel(r)
        if isinstance(channel, Thread) or channel.type not in (CHANNEL_TEXT, CHANNEL_NEWS, CHANNEL_FORUM):
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        self.w.require(channel, P.manage_webhooks.flag)
        name = r.body.get("name")
        errors = limits.FormErrors()
        errors.required(("name",), name)
        errors.raise_if_any()
        limits.check_webhook_name(name)
        if sum(1 for w in self.w.webhooks.values() if w.channel_id == channel.id) >= MAX_WEBHOOKS_PER_CHANNEL:
            raise ApiError(400, 30007, "Maximum number of webhooks reached (15)")
        webhook = Webhook(
            id=self.w.ids.next(),
            token=self.w.new_token(),
            name=str(name),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            creator=self.w.bot_user,
        )
        self.w.webhooks[webhook.id] = webhook
        self.w.emit("WEBHOOKS_UPDATE", {"guild_id": str(channel.guild_id), "channel_id": str(channel.id)})
        return webhook.payload()

    def webhook(self, r: ApiRequest, *, token: bool) -> Webhook:
        webhook = self.w.webhooks.get(r.id("webhook"))
        if webhook is None or (token and webhook.token != r.params["token"]):
            raise limits.unknown("Webhook", limits.UNKNOWN_WEBHOOK)
        if not token:
            self.w.require(self.w.find_channel(webhook.channel_id), P.manage_webhooks.flag)
        return webhook

    def get_webhook(self, r: ApiRequest) -> Any:
        return self.webhook(r, token=False).payload()

    def get_webhook_with_token(self, r: ApiRequest) -> Any:
        return self.webhook(r, token=True).payload(with_token=False)

    def patch_webhook(self, r: ApiRequest) -> Any:
        return self.rename_webhook(self.webhook(r, token=False), r)

    def patch_webhook_with_token(self, r: ApiRequest) -> Any:
        return self.rename_webhook(self.webhook(r, token=True), r)

    def rename_webhook(self, webhook: Webhook, r: ApiRequest) -> Any:
        if "name" in r.body:
            limits.check_webhook_name(r.body["name"])
            webhook.name = str(r.body["name"])
        self.w.emit("WEBHOOKS_UPDATE", {"guild_id": str(webhook.guild_id), "channel_id": str(webhook.channel_id)})
        return webhook.payload()

    def delete_webhook(self, r: ApiRequest) -> Any:
        self.forget_webhook(self.webhook(r, token=False))
        return None

    def delete_webhook_with_token(self, r: ApiRequest) -> Any:
        self.forget_webhook(self.webhook(r, token=True))
        return None

    def forget_webhook(self, webhook: Webhook) -> None:
        self.w.webhooks.pop(webhook.id)
        self.w.emit("WEBHOOKS_UPDATE", {"guild_id": str(webhook.guild_id), "channel_id": str(webhook.channel_id)})

    def webhook_target(self, webhook: Webhook, r: ApiRequest) -> Channel:
        channel = self.w.find_channel(webhook.channel_id)
        if "thread_id" in r.query:
            thread = self.w.find_channel(int(r.query["thread_id"]))
            if not isinstance(thread, Thread) or thread.parent_id != channel.id:
                raise limits.unknown("Channel", limits.UNKNOWN_CHANNEL)
            return thread
        return channel

    def execute_webhook(self, r: ApiRequest) -> Any:
        if r.id("webhook") == self.w.application_id:
            interaction = self.w.interaction_by_token(r.params["token"])
            message = self.w.followup(interaction, r.body, r.files)
            return self.w.message_payload(message)
        webhook = self.webhook(r, token=True)
        limits.check_webhook_name(r.body.get("username"), "username")
        channel = self.webhook_target(webhook, r)
        if channel.type == CHANNEL_FORUM:
            if not r.body.get("thread_name"):
                raise ApiError(400, 220001, "Webhooks posted to forum channels must have a thread_name or thread_id")
            limits.check_message(r.body, file_count=len(r.files))
            thread = self.w.create_thread(channel, self.w.bot_user, name=r.body["thread_name"], type=THREAD_PUBLIC)
            message = self.w.create_message(
                thread, webhook.creator, r.body, r.files, webhook=webhook, message_id=thread.id
            )
        else:
            message = self.w.create_message(channel, webhook.creator, r.body, r.files, webhook=webhook)
        return self.w.message_payload(message) if r.flag("wait") else None

    def webhook_message(self, r: ApiRequest) -> Message:
        target = r.params["target"]
        if r.id("webhook") == self.w.application_id:
            interaction = self.w.interaction_by_token(r.params["token"])
            if target == "@original":
                message = interaction.original
            else:
                allowed = {*interaction.followup_ids, interaction.original_id}
                message = self.w.messages_by_id.get(int(target)) if int(target) in allowed else None
        else:
            webhook = self.webhook(r, token=True)
            message = None if target == "@original" else self.w.messages_by_id.get(int(target))
            if message is not None and message.webhook_id != webhook.id:
                message = None
        if message is None or message.deleted:
            raise limits.unknown("Message", limits.UNKNOWN_MESSAGE)
        return message

    def get_webhook_message(self, r: ApiRequest) -> Any:
        return self.w.message_payload(self.webhook_message(r))

    def edit_webhook_message(self, r: ApiRequest) -> Any:
        message = self.webhook_message(r)
        if r.id("webhook") == self.w.application_id:
            interaction = self.w.interaction_by_token(r.params["token"])
            if message.id == interaction.original_id:
                return self.w.message_payload(self.w.edit_original(interaction, r.body, r.files))
        self.w.edit_message(message, r.body, r.files)
        return self.w.message_payload(message)

    def delete_webhook_message(self, r: ApiRequest) -> Any:
        self.w.delete_message(self.webhook_message(r))
        return None

    # ----- interactions and polls ----------------------------------------------------------------------------

    def interaction_callback(self, r: ApiRequest) -> Any:
        interaction = self.w.interactions.get(r.id("interaction"))
        if interaction is None or interaction.token != r.params["token"]:
            raise limits.unknown("interaction", limits.UNKNOWN_INTERACTION)
        result = self.w.interaction_callback(interaction, r.body, r.files)
        return result if r.flag("with_response") else None

    def poll_message(self, r: ApiRequest) -> Message:
        channel = self.channel(r)
        self.w.require(channel, P.read_message_history.flag)
        message = self.w.find_message(channel, r.id("message"))
        if message.poll is None:
            raise limits.unknown("Message", limits.UNKNOWN_MESSAGE)
        return message

    def expire_poll(self, r: ApiRequest) -> Any:
        message = self.poll_message(r)
        if message.author.id != self.w.bot_user.id:
            raise limits.missing_permissions()
        self.w.finalize_poll(message)
        return self.w.message_payload(message)

    def poll_voters(self, r: ApiRequest) -> Any:
        message = self.poll_message(r)
        poll = message.poll
        answer_id = r.id("answer")
        if poll is None or answer_id not in {a["answer_id"] for a in poll.answers}:
            raise limits.unknown("Message", limits.UNKNOWN_MESSAGE)
        after = int(r.query.get("after", 0))
        limit = min(int(r.query.get("limit", 25)), 100)
        voters = sorted(u for u in poll.votes.get(answer_id, []) if u > after)[:limit]
        return {"users": [self.w.users[u].payload() for u in voters]}
