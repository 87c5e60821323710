"""The double's state and the effects every request or member action has on it, with the gateway events they cause."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import discord

from . import limits
from .gateway import INTENT_GUILD_PRESENCES, Gateway, GatewaySession
from .interactions import (
    ALLOWED_CALLBACKS,
    APPLICATION_COMMAND,
    AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    MODAL,
    UPDATE_MESSAGE,
    WAIT_SECONDS,
    ActionRefused,
    Interaction,
)
from .limits import ApiError
from .model import (
    CHANNEL_FORUM,
    CHANNEL_TEXT,
    EVERYONE_MENTION,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    ROLE_MENTION,
    THREAD_PUBLIC,
    USER_MENTION,
    Channel,
    Guild,
    Member,
    Mentions,
    Message,
    Overwrite,
    P,
    Poll,
    Role,
    Snowflakes,
    StoredAttachment,
    Thread,
    Upload,
    User,
    Webhook,
    iso,
    perm_value,
    utcnow,
)

log = logging.getLogger(__name__)

EVERYONE_DEFAULT = discord.Permissions(
    view_channel=True,
    send_messages=True,
    read_message_history=True,
    create_public_threads=True,
    send_messages_in_threads=True,
    add_reactions=True,
    embed_links=True,
    attach_files=True,
    use_application_commands=True,
    send_polls=True,
).value
BOT_ROLE_DEFAULT = discord.Permissions(
    view_channel=True,
    send_messages=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
    manage_messages=True,
    manage_threads=True,
    create_public_threads=True,
    create_private_threads=True,
    send_messages_in_threads=True,
    manage_webhooks=True,
).value
MODERATOR_DEFAULT = discord.Permissions(manage_guild=True).value

MESSAGE_REPLY = 19
MESSAGE_CHAT_INPUT = 20
MESSAGE_CONTEXT_MENU = 23
MESSAGE_THREAD_CREATED = 18
MESSAGE_RECIPIENT_ADD = 1
MESSAGE_RECIPIENT_REMOVE = 2
MESSAGE_POLL_RESULT = 46
FLAG_HAS_THREAD = 1 << 5
# Flags a bot may set on a message it sends (suppress embeds, ephemeral, silent, components v2).
SETTABLE_FLAGS = 4 | FLAG_EPHEMERAL | 4096 | 32768
ACK_WINDOW_SECONDS = 3.0
DEFAULT_TOKEN = "double-bot-token"
POLL_SECONDS = 0.02


@dataclass
class Ping:
    """A bot message that notified someone."""

    message: Message
    mentions: Mentions


class World:
    """Everything the double knows; REST handlers and member actions change it through these methods."""

    def __init__(self, *, token: str = DEFAULT_TOKEN, bot_name: str = "Bookclub") -> None:
        self.token = token
        self.ids = Snowflakes()
        self.application_id = self.ids.next()
        # Applications created since 2019 share their id with their bot user.
        self.bot_user = User(self.application_id, bot_name, bot=True)
        self.owner_user = User(self.ids.next(), "Owner")
        self.users: dict[int, User] = {u.id: u for u in (self.bot_user, self.owner_user)}
        self.guilds: dict[int, Guild] = {}
        self.messages_by_id: dict[int, Message] = {}
        self.channel_log: dict[int, list[Message]] = {}
        self.webhooks: dict[int, Webhook] = {}
        self.interactions: dict[int, Interaction] = {}
        self.global_commands: list[dict[str, Any]] = []
        self.guild_commands: dict[int, list[dict[str, Any]]] = {}
        self.attachments: dict[int, StoredAttachment] = {}
        self.unhandled: list[str] = []
        self.gateway = Gateway(self)
        self.base_url = "http://127.0.0.1:0"
        self.ack_window = ACK_WINDOW_SECONDS
        self._changed: asyncio.Event | None = None
        self._tokens = itertools.count(1)

    # ----- waiting -------------------------------------------------------------------------------------------

    def notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    async def wait_until(self, predicate: Callable[[], object], timeout: float = WAIT_SECONDS) -> bool:
        """Wait until `predicate()` holds; False on timeout.

        Re-checks on every change in the double and also every few milliseconds, so predicates about the
        bot's own state (its cache, its recorded events) work too.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            if self._changed is None:
                self._changed = asyncio.Event()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, POLL_SECONDS))
        return True

    def note_unhandled(self, what: str) -> None:
        log.warning("discord double cannot handle: %s", what)
        self.unhandled.append(what)
        self.notify()

    def emit(self, event: str, data: dict[str, Any]) -> None:
        self.gateway.dispatch(event, data)
        self.notify()

    # ----- world building ------------------------------------------------------------------------------------

    def user_named(self, name: str) -> User:
        for user in self.users.values():
            if user.name == name and not user.bot:
                return user
        user = User(self.ids.next(), name)
        self.users[user.id] = user
        return user

    def add_guild(self, name: str, *, shard: tuple[int, int] | None = None) -> Guild:
        """A new guild the bot is in; `shard=(shard_id, shard_count)` picks an id that Discord routes there."""
        guild_id = self.ids.next() if shard is None else self.ids.next_on_shard(*shard)
        guild = Guild(id=guild_id, name=name, owner_id=self.owner_user.id)
        guild.roles[guild_id] = Role(guild_id, guild_id, "@everyone", EVERYONE_DEFAULT)
        bot_role = Role(
            self.ids.next(),
            guild_id,
            self.bot_user.name,
            BOT_ROLE_DEFAULT,
            position=1,
            managed=True,
            bot_id=self.bot_user.id,
        )
        guild.roles[bot_role.id] = bot_role
        guild.members[self.bot_user.id] = Member(self.bot_user, guild_id, [bot_role.id])
        guild.members[self.owner_user.id] = Member(self.owner_user, guild_id)
        self.guilds[guild_id] = guild
        if self.gateway.live_sessions:
            for session in self.gateway.live_sessions:
                if session.serves(guild_id):
                    session.send("GUILD_CREATE", self.guild_create_payload(guild, session))
            self.notify()
        return guild

    def add_channel(
        self,
        guild: Guild,
        name: str,
        *,
        type: int = CHANNEL_TEXT,
        topic: str | None = None,
        parent: Channel | None = None,
    ) -> Channel:
        channel = Channel(
            self.ids.next(),
            guild.id,
            name,
            type=type,
            topic=topic,
            position=len(guild.channels),
            parent_id=None if parent is None else parent.id,
        )
        guild.channels[channel.id] = channel
        self.emit("CHANNEL_CREATE", channel.payload())
        return channel

    def delete_channel(self, channel: Channel) -> None:
        guild = self.guilds[channel.guild_id]
        if isinstance(channel, Thread):
            guild.threads.pop(channel.id, None)
            self.emit(
                "THREAD_DELETE",
                {
                    "id": str(channel.id),
                    "guild_id": str(guild.id),
                    "parent_id": str(channel.parent_id),
                    "type": channel.type,
                },
            )
            return
        guild.channels.pop(channel.id, None)
        for thread in [t for t in guild.threads.values() if t.parent_id == channel.id]:
            guild.threads.pop(thread.id)
        self.emit("CHANNEL_DELETE", channel.payload())

    def set_overwrite(
        self,
        channel: Channel,
        target: Role | Member,
        *,
        allow: discord.Permissions | int = 0,
        deny: discord.Permissions | int = 0,
    ) -> None:
        """Set (or with allow=deny=0, remove) a permission overwrite, as a server admin would."""
        if isinstance(channel, Thread):
            raise ActionRefused("threads take their permissions from the parent channel")
        if perm_value(allow) == 0 and perm_value(deny) == 0:
            channel.overwrites.pop(target.id, None)
        else:
            kind = 0 if isinstance(target, Role) else 1
            channel.overwrites[target.id] = Overwrite(target.id, kind, perm_value(allow), perm_value(deny))
        self.emit("CHANNEL_UPDATE", channel.payload())

    def add_role(
        self,
        guild: Guild,
        name: str,
        permissions: discord.Permissions | int = 0,
        *,
        mentionable: bool = False,
    ) -> Role:
        role = Role(
            self.ids.next(), guild.id, name, perm_value(permissions), position=len(guild.roles), mentionable=mentionable
        )
        guild.roles[role.id] = role
        self.emit("GUILD_ROLE_CREATE", {"guild_id": str(guild.id), "role": role.payload()})
        return role

    def set_role_permissions(self, role: Role, permissions: discord.Permissions | int) -> None:
        role.permissions = perm_value(permissions)
        self.emit("GUILD_ROLE_UPDATE", {"guild_id": str(role.guild_id), "role": role.payload()})

    def delete_role(self, role: Role) -> None:
        guild = self.guilds[role.guild_id]
        guild.roles.pop(role.id)
        for member in guild.members.values():
            if role.id in member.roles:
                member.roles.remove(role.id)
        self.emit("GUILD_ROLE_DELETE", {"guild_id": str(guild.id), "role_id": str(role.id)})

    def add_member(self, guild: Guild, name: str, roles: Iterable[Role] = ()) -> Member:
        user = self.user_named(name)
        if user.id in guild.members:
            raise ActionRefused(f"{name} is already in {guild.name}")
        member = Member(user, guild.id, [r.id for r in roles])
        guild.members[user.id] = member
        self.emit("GUILD_MEMBER_ADD", {**member.payload(), "guild_id": str(guild.id)})
        return member

    def remove_member(self, member: Member) -> None:
        guild = self.guilds[member.guild_id]
        guild.members.pop(member.id)
        for thread in guild.threads.values():
            thread.members.pop(member.id, None)
        self.emit("GUILD_MEMBER_REMOVE", {"guild_id": str(guild.id), "user": member.user.payload()})

    def assign_role(self, member: Member, role: Role) -> None:
        if role.id not in member.roles:
            member.roles.append(role.id)
        self._member_updated(member)

    def unassign_role(self, member: Member, role: Role) -> None:
        if role.id in member.roles:
            member.roles.remove(role.id)
        self._member_updated(member)

    def _member_updated(self, member: Member) -> None:
        self.emit("GUILD_MEMBER_UPDATE", {**member.payload(), "guild_id": str(member.guild_id)})

    # ----- lookups -------------------------------------------------------------------------------------------

    def bot_member(self, guild: Guild) -> Member:
        return guild.members[self.bot_user.id]

    def guild_of(self, channel: Channel) -> Guild:
        return self.guilds[channel.guild_id]

    def bot_permissions(self, channel: Channel) -> int:
        guild = self.guild_of(channel)
        return guild.permissions_for(self.bot_member(guild), channel)

    def bot_can_view(self, channel: Channel) -> bool:
        return bool(self.bot_permissions(channel) & P.view_channel.flag)

    def find_channel(self, channel_id: int) -> Channel:
        for guild in self.guilds.values():
            channel = guild.find_channel(channel_id)
            if channel is not None:
                return channel
        raise limits.unknown("Channel", limits.UNKNOWN_CHANNEL)

    def find_message(self, channel: Channel, message_id: int) -> Message:
        message = self.messages_by_id.get(message_id)
        if message is None or message.deleted or message.ephemeral or message.channel_id != channel.id:
            raise limits.unknown("Message", limits.UNKNOWN_MESSAGE)
        return message

    def require(self, channel: Channel, *flags: int) -> int:
        """The bot's permissions in the channel, answering 403 the way Discord does when one is missing."""
        permissions = self.bot_permissions(channel)
        if not permissions & P.view_channel.flag:
            raise limits.missing_access()
        for flag in flags:
            if not permissions & flag:
                raise limits.missing_permissions()
        return permissions

    def send_flag(self, channel: Channel) -> int:
        return P.send_messages_in_threads.flag if isinstance(channel, Thread) else P.send_messages.flag

    def visible_messages(self, channel: Channel) -> list[Message]:
        return [m for m in self.channel_log.get(channel.id, []) if not m.deleted]

    # ----- payloads ------------------------------------------------------------------------------------------

    def ready_payload(self, session: GatewaySession) -> dict[str, Any]:
        user = {**self.bot_user.payload(), "verified": True, "mfa_enabled": False, "email": None}
        data: dict[str, Any] = {
            "v": 10,
            "user": user,
            "guilds": [{"id": str(g), "unavailable": True} for g in self.guilds if session.serves(g)],
            "session_id": session.id,
            "resume_gateway_url": self.resume_gateway_url,
            "application": {"id": str(self.application_id), "flags": self.application_flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "user_settings": {},
            "session_type": "normal",
            "auth": {},
            "geo_ordered_rtc_regions": [],
            "_trace": ['["loopback-double",{"micros":0}]'],
        }
        if session.shard is not None:
            data["shard"] = session.shard
        return data

    @property
    def gateway_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/gateway"

    @property
    def resume_gateway_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/gateway-resume"

    @property
    def application_flags(self) -> int:
        # The "limited" intent flags Discord sets for unverified bots whose privileged intents are switched on.
        allowed = self.gateway.allowed_privileged_intents
        flags = 1 << 23  # APPLICATION_COMMAND_BADGE
        for intent, flag in ((1 << 8, 1 << 13), (1 << 1, 1 << 15), (1 << 15, 1 << 19)):
            if allowed & intent:
                flags |= flag
        return flags

    def guild_create_payloads(self, session: GatewaySession) -> list[dict[str, Any]]:
        return [self.guild_create_payload(g, session) for g in self.guilds.values() if session.serves(g.id)]

    def guild_create_payload(self, guild: Guild, session: GatewaySession) -> dict[str, Any]:
        bot = self.bot_member(guild)
        # Without the presences intent Discord only sends the bot's own member (and voice members) here.
        members = list(guild.members.values()) if session.has(INTENT_GUILD_PRESENCES) else [bot]
        threads = []
        for thread in guild.threads.values():
            if thread.archived or not self.bot_can_view(thread):
                continue
            payload = thread.payload()
            if bot.id in thread.members:
                payload["member"] = thread.member_payload(bot.id)
            threads.append(payload)
        data = guild.payload()
        data.update(
            joined_at=iso(bot.joined_at),
            large=False,
            unavailable=False,
            lazy=True,
            member_count=len(guild.members),
            voice_states=[],
            members=[m.payload() for m in members],
            channels=[c.payload() for c in guild.channels.values()],
            threads=threads,
            presences=[],
            stage_instances=[],
            guild_scheduled_events=[],
            soundboard_sounds=[],
            embedded_activities=[],
        )
        return data

    def member_chunk(self, guild_id: int, request: dict[str, Any]) -> dict[str, Any]:
        guild = self.guilds.get(guild_id)
        members = list(guild.members.values()) if guild is not None else []
        user_ids = {int(u) for u in request.get("user_ids") or []}
        query = (request.get("query") or "").lower()
        limit = request.get("limit") or 0
        if user_ids:
            members = [m for m in members if m.id in user_ids]
        elif query:
            members = [m for m in members if m.user.username.startswith(query) or m.name.lower().startswith(query)]
        if limit:
            members = members[:limit]
        data: dict[str, Any] = {
            "guild_id": str(guild_id),
            "members": [m.payload() for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [str(u) for u in user_ids - {m.id for m in members}],
        }
        if request.get("nonce") is not None:
            data["nonce"] = request["nonce"]
        return data

    def message_payload(self, message: Message, *, gateway: bool = False, nested: bool = False) -> dict[str, Any]:
        guild = self.guilds.get(message.guild_id or 0)
        if message.webhook_name is not None:
            author: dict[str, Any] = {
                "id": str(message.webhook_id),
                "username": message.webhook_name,
                "avatar": None,
                "discriminator": "0000",
                "global_name": None,
                "bot": True,
            }
        else:
            author = message.author.payload()
        flags = message.flags | (FLAG_HAS_THREAD if message.thread_id in (guild.threads if guild else {}) else 0)
        data: dict[str, Any] = {
            "id": str(message.id),
            "channel_id": str(message.channel_id),
            "type": message.type,
            "author": author,
            "content": message.content,
            "timestamp": iso(message.created_at),
            "edited_timestamp": iso(message.edited_at),
            "tts": message.tts,
            "mention_everyone": message.pinged.everyone,
            "mentions": [
                self._mention_payload(guild, uid) for uid in sorted(message.pinged.users) if uid in self.users
            ],
            "mention_roles": [str(r) for r in sorted(message.pinged.roles)],
            "attachments": [a.payload() for a in message.attachments],
            "embeds": message.embeds,
            "components": message.components,
            "pinned": message.pinned,
            "flags": flags,
        }
        if message.guild_id is not None:
            data["guild_id"] = str(message.guild_id)
        if gateway and message.member is not None and message.webhook_name is None:
            data["member"] = message.member.payload(with_user=False)
        if message.webhook_id is not None:
            data["webhook_id"] = str(message.webhook_id)
        if message.application_id is not None:
            data["application_id"] = str(message.application_id)
        if message.nonce is not None:
            data["nonce"] = message.nonce
        if message.poll is not None:
            data["poll"] = message.poll.payload(self.bot_user.id)
        if message.position is not None:
            data["position"] = message.position
        if message.reactions:
            data["reactions"] = [
                {
                    "emoji": _emoji_payload(emoji),
                    "count": len(users),
                    "count_details": {"burst": 0, "normal": len(users)},
                    "me": self.bot_user.id in users,
                    "me_burst": False,
                    "burst_colors": [],
                }
                for emoji, users in message.reactions.items()
                if users
            ]
        if message.reference is not None:
            ref = message.reference
            data["message_reference"] = {
                "type": 0,
                "message_id": str(ref.id),
                "channel_id": str(ref.channel_id),
                "guild_id": None if ref.guild_id is None else str(ref.guild_id),
            }
            if not nested:
                data["referenced_message"] = None if ref.deleted else self.message_payload(ref, nested=True)
        if message.interaction_metadata is not None:
            data["interaction_metadata"] = message.interaction_metadata
        if message.interaction_legacy is not None:
            data["interaction"] = message.interaction_legacy
        if guild is not None and message.thread_id in guild.threads and not nested:
            data["thread"] = guild.threads[message.thread_id].payload()
        return data

    def _mention_payload(self, guild: Guild | None, user_id: int) -> dict[str, Any]:
        data = self.users[user_id].payload()
        member = guild.members.get(user_id) if guild is not None else None
        if member is not None:
            data["member"] = member.payload(with_user=False)
        return data

    def mentions_of(self, message: Message) -> Mentions:
        """Who the message notifies, applying allowed_mentions like Discord (absent = everything pings)."""
        guild = self.guilds.get(message.guild_id or 0)
        users = {int(u) for u in USER_MENTION.findall(message.content) if int(u) in self.users}
        roles = {int(r) for r in ROLE_MENTION.findall(message.content) if guild is not None and int(r) in guild.roles}
        everyone = bool(EVERYONE_MENTION.search(message.content))
        allowed = message.allowed_mentions
        replied = message.reference.author.id if message.reference is not None else None
        if allowed is not None:
            parse = allowed.get("parse") or []
            if "users" not in parse:
                users &= {int(u) for u in allowed.get("users") or []}
            if "roles" not in parse:
                roles &= {int(r) for r in allowed.get("roles") or []}
            everyone = everyone and "everyone" in parse
            if not allowed.get("replied_user"):
                replied = None
        if everyone and message.member is not None and guild is not None:
            channel = guild.find_channel(message.channel_id)
            if channel is None or not guild.permissions_for(message.member, channel) & P.mention_everyone.flag:
                everyone = False
        if replied is not None and message.reference is not None and message.reference.webhook_id is None:
            users.add(replied)
        return Mentions(users, roles, everyone)

    # ----- messages ------------------------------------------------------------------------------------------

    def store_upload(self, upload: Upload, *, ephemeral: bool = False) -> StoredAttachment:
        attachment_id = self.ids.next()
        stored = StoredAttachment(
            id=attachment_id,
            filename=upload.filename,
            data=upload.data,
            url=f"{self.base_url}/attachments/{attachment_id}/{upload.filename}",
            content_type=upload.content_type,
            description=upload.description,
            ephemeral=ephemeral,
        )
        self.attachments[attachment_id] = stored
        return stored

    def _uploads_for(self, body: dict[str, Any], files: dict[int, Upload]) -> list[StoredAttachment]:
        """New attachments: files[n] parts, named and described by the body's `attachments` entries."""
        described = {}
        for entry in body.get("attachments") or []:
            try:
                index = int(entry["id"])
            except (KeyError, TypeError, ValueError):
                continue
            if index in files:
                described[index] = entry
        stored = []
        for index, upload in sorted(files.items()):
            entry = described.get(index, {})
            named = Upload(
                entry.get("filename") or upload.filename,
                upload.data,
                upload.content_type,
                entry.get("description"),
            )
            stored.append(self.store_upload(named))
        return stored

    def create_message(
        self,
        channel: Channel,
        author: User,
        body: dict[str, Any],
        files: dict[int, Upload] | None = None,
        *,
        webhook: Webhook | None = None,
        interaction: Interaction | None = None,
        loading: bool = False,
        type: int = 0,
        message_id: int | None = None,
    ) -> Message:
        """Validate and post a message, dispatching MESSAGE_CREATE to the bot unless it is ephemeral."""
        files = files or {}
        if not loading:
            limits.check_message(body, file_count=len(files))
        guild = self.guild_of(channel)
        flags = int(body.get("flags") or 0) & SETTABLE_FLAGS
        if interaction is None:
            flags &= ~FLAG_EPHEMERAL
        if loading:
            flags |= FLAG_LOADING
        reference = self._reference(channel, body.get("message_reference"))
        message = Message(
            id=message_id or self.ids.next(),
            channel_id=channel.id,
            guild_id=guild.id,
            author=author,
            member=None if webhook is not None else guild.members.get(author.id),
            content=str(body.get("content") or ""),
            embeds=[{"type": "rich", **e} for e in body.get("embeds") or []],
            components=list(body.get("components") or []),
            flags=flags,
            type=MESSAGE_REPLY if reference is not None and type == 0 else type,
            tts=bool(body.get("tts")),
            webhook_id=webhook.id if webhook is not None else None,
            webhook_name=(body.get("username") or webhook.name) if webhook is not None else None,
            webhook_avatar_url=body.get("avatar_url") if webhook is not None else None,
            allowed_mentions=body.get("allowed_mentions"),
            reference=reference,
            nonce=body.get("nonce"),
        )
        message.attachments = self._uploads_for(body, files)
        if message.ephemeral:
            for attachment in message.attachments:
                attachment.ephemeral = True
        if body.get("poll"):
            message.poll = self._new_poll(body["poll"])
        if interaction is not None:
            self._mark_interaction_message(message, interaction)
        if not loading:
            message.pinged = self.mentions_of(message)
        self._post(channel, message)
        return message

    def _new_poll(self, data: dict[str, Any]) -> Poll:
        answers = [{"answer_id": n, "poll_media": a["poll_media"]} for n, a in enumerate(data["answers"], start=1)]
        return Poll(
            question=data["question"]["text"],
            answers=answers,
            expiry=utcnow() + timedelta(hours=float(data.get("duration", 24))),
            allow_multiselect=bool(data.get("allow_multiselect")),
            layout_type=int(data.get("layout_type") or 1),
        )

    def _reference(self, channel: Channel, reference: Any) -> Message | None:
        if not isinstance(reference, dict) or reference.get("message_id") is None:
            return None
        target = self.messages_by_id.get(int(reference["message_id"]))
        if target is None or target.deleted:
            if reference.get("fail_if_not_exists", True):
                errors = limits.FormErrors()
                errors.add(("message_reference",), "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message")
                errors.raise_if_any()
            return None
        return target

    def _mark_interaction_message(self, message: Message, interaction: Interaction) -> None:
        message.webhook_id = self.application_id
        message.application_id = self.application_id
        user = interaction.member.user.payload()
        metadata: dict[str, Any] = {
            "id": str(interaction.id),
            "type": interaction.type,
            "user": user,
            "authorizing_integration_owners": {"0": str(interaction.guild.id)},
        }
        if interaction.type == APPLICATION_COMMAND:
            command_type = interaction.payload["data"].get("type", 1)
            message.type = MESSAGE_CHAT_INPUT if command_type == 1 else MESSAGE_CONTEXT_MENU
            metadata["name"] = interaction.name
            metadata["command_type"] = command_type
        if interaction.source_message is not None:
            metadata["interacted_message_id"] = str(interaction.source_message.id)
        if interaction.original_id is not None and interaction.original_id != message.id:
            metadata["original_response_message_id"] = str(interaction.original_id)
        message.interaction_metadata = metadata
        message.interaction_legacy = {
            "id": str(interaction.id),
            "type": interaction.type,
            "name": interaction.name,
            "user": user,
            "member": interaction.member.payload(with_user=False),
        }

    def _post(self, channel: Channel, message: Message) -> None:
        self.messages_by_id[message.id] = message
        if message.ephemeral:
            self.notify()
            return
        self.channel_log.setdefault(channel.id, []).append(message)
        channel.last_message_id = message.id
        if isinstance(channel, Thread):
            message.position = channel.total_message_sent
            channel.message_count += 1
            channel.total_message_sent += 1
        if self.bot_can_view(channel):
            self.emit("MESSAGE_CREATE", self.message_payload(message, gateway=True))
        else:
            self.notify()

    def edit_message(self, message: Message, body: dict[str, Any], files: dict[int, Upload] | None = None) -> Message:
        """Apply a PATCH the way Discord does: fields present replace, `attachments` lists what is kept."""
        files = files or {}
        limits.check_message(body, file_count=len(files), editing=True)
        content = str(body["content"] or "") if "content" in body else message.content
        embeds = [{"type": "rich", **e} for e in body.get("embeds") or []] if "embeds" in body else message.embeds
        components = list(body.get("components") or []) if "components" in body else message.components
        attachments = message.attachments
        if "attachments" in body:
            keep = {int(a["id"]) for a in body["attachments"] or [] if "id" in a}
            attachments = [a for a in message.attachments if a.id in keep]
        attachments = attachments + self._uploads_for(body, files)
        if not (content or embeds or components or attachments or message.poll):
            raise ApiError(400, 50006, "Cannot send an empty message")
        was_loading = message.loading
        message.content, message.embeds, message.components, message.attachments = (
            content,
            embeds,
            components,
            attachments,
        )
        if "flags" in body and body["flags"] is not None:
            suppress = int(body["flags"]) & 4
            message.flags = (message.flags & ~4) | suppress
        if "allowed_mentions" in body:
            message.allowed_mentions = body["allowed_mentions"]
        if was_loading:
            # Filling a deferred "thinking" message notifies like a new message would.
            message.flags &= ~FLAG_LOADING
            message.pinged = self.mentions_of(message)
        else:
            message.edited_at = utcnow()
        message.edits += 1
        self._announce_update(message)
        return message

    def _announce_update(self, message: Message) -> None:
        channel = self.find_channel(message.channel_id)
        if not message.ephemeral and self.bot_can_view(channel):
            self.emit("MESSAGE_UPDATE", self.message_payload(message, gateway=True))
        else:
            self.notify()

    def delete_message(self, message: Message) -> None:
        message.deleted = True
        channel = self.find_channel(message.channel_id)
        if isinstance(channel, Thread):
            channel.message_count = max(0, channel.message_count - 1)
        if not message.ephemeral and self.bot_can_view(channel):
            self.emit(
                "MESSAGE_DELETE",
                {"id": str(message.id), "channel_id": str(message.channel_id), "guild_id": str(message.guild_id)},
            )
        else:
            self.notify()

    def system_message(self, channel: Channel, author: User, type: int, **fields: Any) -> Message:
        guild = self.guild_of(channel)
        message = Message(
            id=self.ids.next(),
            channel_id=channel.id,
            guild_id=guild.id,
            author=author,
            member=guild.members.get(author.id),
        )
        message.type = type
        for name, value in fields.items():
            setattr(message, name, value)
        self._post(channel, message)
        return message

    # ----- threads -------------------------------------------------------------------------------------------

    def create_thread(
        self,
        parent: Channel,
        owner: User,
        *,
        name: Any,
        type: int,
        invitable: bool = True,
        auto_archive_duration: int = 1440,
        starter: Message | None = None,
    ) -> Thread:
        limits.check_thread_name(name)
        guild = self.guild_of(parent)
        thread = Thread(
            # A thread started from a message shares the message's id, as on Discord.
            id=starter.id if starter is not None else self.ids.next(),
            guild_id=guild.id,
            name=str(name),
            type=type,
            parent_id=parent.id,
            owner_id=owner.id,
            invitable=invitable,
            auto_archive_duration=auto_archive_duration,
        )
        thread.members[owner.id] = utcnow()
        guild.threads[thread.id] = thread
        if starter is not None:
            starter.thread_id = thread.id
        if self.bot_can_view(thread):
            payload = {**thread.payload(), "newly_created": True}
            if self.bot_user.id in thread.members:
                payload["member"] = thread.member_payload(self.bot_user.id)
            self.emit("THREAD_CREATE", payload)
            self._members_update(thread, added=[owner.id])
        if starter is not None:
            self._announce_update(starter)
        elif type == THREAD_PUBLIC and parent.type != CHANNEL_FORUM:
            self.system_message(parent, owner, MESSAGE_THREAD_CREATED, content=thread.name)
        return thread

    def _members_update(self, thread: Thread, *, added: Iterable[int] = (), removed: Iterable[int] = ()) -> None:
        guild = self.guild_of(thread)
        data: dict[str, Any] = {
            "id": str(thread.id),
            "guild_id": str(guild.id),
            "member_count": min(len(thread.members), 50),
        }
        added, removed = list(added), list(removed)
        if added:
            data["added_members"] = [
                {**thread.member_payload(uid, member=guild.members.get(uid)), "presence": None} for uid in added
            ]
        if removed:
            data["removed_member_ids"] = [str(uid) for uid in removed]
        self.emit("THREAD_MEMBERS_UPDATE", data)

    def add_thread_member(self, thread: Thread, member: Member, *, by: User) -> None:
        if thread.archived or thread.locked:
            raise ApiError(400, 50083, "Thread is archived")
        if member.id in thread.members:
            return
        bot_saw_it = self.bot_can_view(thread)
        thread.members[member.id] = utcnow()
        if member.id == self.bot_user.id:
            if not bot_saw_it:
                self.emit("THREAD_CREATE", {**thread.payload(), "member": thread.member_payload(member.id)})
            self.emit("THREAD_MEMBER_UPDATE", {**thread.member_payload(member.id), "guild_id": str(thread.guild_id)})
        if self.bot_can_view(thread):
            self._members_update(thread, added=[member.id])
        if by.id != member.id:
            self.system_message(thread, by, MESSAGE_RECIPIENT_ADD, pinged=Mentions({member.id}))

    def remove_thread_member(self, thread: Thread, member_id: int, *, by: User) -> None:
        if member_id not in thread.members:
            return
        thread.members.pop(member_id)
        if self.bot_can_view(thread) or member_id == self.bot_user.id:
            self._members_update(thread, removed=[member_id])
        if by.id != member_id:
            self.system_message(thread, by, MESSAGE_RECIPIENT_REMOVE, pinged=Mentions({member_id}))

    def update_thread(self, thread: Thread, changes: dict[str, Any]) -> None:
        if "name" in changes:
            limits.check_thread_name(changes["name"])
            thread.name = str(changes["name"])
        for key in ("archived", "locked", "invitable"):
            if key in changes and changes[key] is not None:
                setattr(thread, key, bool(changes[key]))
                if key == "archived":
                    thread.archive_timestamp = utcnow()
        if changes.get("auto_archive_duration"):
            thread.auto_archive_duration = int(changes["auto_archive_duration"])
        self.emit("THREAD_UPDATE", thread.payload())

    # ----- polls ---------------------------------------------------------------------------------------------

    def vote(self, message: Message, answer_id: int, member: Member, *, add: bool = True) -> None:
        poll = message.poll
        if poll is None:
            raise ActionRefused(f"{message!r} has no poll")
        if poll.finalized:
            raise ActionRefused("the poll has ended")
        poll.answer_text(answer_id)
        voters = poll.votes.setdefault(answer_id, [])
        if add:
            if member.id in voters:
                raise ActionRefused(f"{member.name} already voted for answer {answer_id}")
            if not poll.allow_multiselect and any(member.id in v for v in poll.votes.values()):
                raise ActionRefused(f"{member.name} already voted in this single-choice poll; remove that vote first")
            voters.append(member.id)
        else:
            if member.id not in voters:
                raise ActionRefused(f"{member.name} has not voted for answer {answer_id}")
            voters.remove(member.id)
        self.emit(
            "MESSAGE_POLL_VOTE_ADD" if add else "MESSAGE_POLL_VOTE_REMOVE",
            {
                "user_id": str(member.id),
                "channel_id": str(message.channel_id),
                "message_id": str(message.id),
                "guild_id": str(message.guild_id),
                "answer_id": answer_id,
            },
        )

    def finalize_poll(self, message: Message) -> None:
        """End the poll: results become final, the message updates, and Discord posts its result notice."""
        poll = message.poll
        if poll is None or poll.finalized:
            raise ApiError(400, 520001, "Poll expired" if poll is not None else "Message has no poll")
        poll.finalized = True
        poll.expiry = min(poll.expiry, utcnow())
        self._announce_update(message)
        counts = {a["answer_id"]: poll.count(a["answer_id"]) for a in poll.answers}
        total = sum(counts.values())
        fields = [{"name": "poll_question_text", "value": poll.question, "inline": False}]
        best = max(counts.values(), default=0)
        winners = [a for a, c in counts.items() if c == best]
        if best and len(winners) == 1:
            fields += [
                {"name": "victor_answer_votes", "value": str(best), "inline": False},
                {"name": "victor_answer_id", "value": str(winners[0]), "inline": False},
                {"name": "victor_answer_text", "value": poll.answer_text(winners[0]), "inline": False},
            ]
        fields.append({"name": "total_votes", "value": str(total), "inline": False})
        channel = self.find_channel(message.channel_id)
        self.system_message(
            channel,
            message.author,
            MESSAGE_POLL_RESULT,
            embeds=[{"type": "poll_result", "fields": fields}],
            reference=message,
        )

    # ----- interactions --------------------------------------------------------------------------------------

    def new_token(self) -> str:
        return f"aW50ZXJhY3Rpb24{next(self._tokens)}{secrets.token_urlsafe(24)}"

    def interaction_by_token(self, token: str) -> Interaction:
        for interaction in self.interactions.values():
            if interaction.token == token:
                return interaction
        raise limits.unknown("Webhook", limits.UNKNOWN_WEBHOOK)

    def interaction_callback(
        self, interaction: Interaction, body: dict[str, Any], files: dict[int, Upload]
    ) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        if interaction.response_type is not None:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        if loop.time() > interaction.deadline:
            raise limits.unknown("interaction", limits.UNKNOWN_INTERACTION)
        kind = body.get("type")
        if kind not in ALLOWED_CALLBACKS.get(interaction.type, set()):
            errors = limits.FormErrors()
            errors.add(("type",), "INTERACTION_RESPONSE_TYPE_INVALID", f"Invalid interaction response type {kind}")
            errors.raise_if_any()
        data = body.get("data") or {}
        resource: dict[str, Any] | None = None
        source = interaction.source_message
        if kind == CHANNEL_MESSAGE:
            message = self.create_message(interaction.channel, self.bot_user, data, files, interaction=interaction)
            interaction.original_id = message.id
            interaction.answer_ids.append(message.id)
            resource = {"type": kind, "message": self.message_payload(message)}
        elif kind == DEFERRED_CHANNEL_MESSAGE:
            message = self.create_message(
                interaction.channel, self.bot_user, data, files, interaction=interaction, loading=True
            )
            interaction.original_id = message.id
            resource = {"type": kind, "message": self.message_payload(message)}
        elif kind in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE):
            if source is None:
                raise ApiError(400, 40004, "Interaction has no message to update")
            interaction.original_id = source.id
            if kind == UPDATE_MESSAGE:
                self.edit_message(source, data, files)
                interaction.answer_ids.append(source.id)
                resource = {"type": kind, "message": self.message_payload(source)}
        elif kind == AUTOCOMPLETE_RESULT:
            limits.check_choices(data)
            interaction.choices = list(data.get("choices") or [])
        elif kind == MODAL:
            limits.check_modal(data)
            interaction.modal = data
        interaction.response_type = kind
        interaction.callbacks.append(body)
        self.notify()
        original = interaction.original
        answer: dict[str, Any] = {"id": str(interaction.id), "type": interaction.type}
        if original is not None and kind in (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, UPDATE_MESSAGE):
            answer["response_message_id"] = str(original.id)
            answer["response_message_loading"] = original.loading
            answer["response_message_ephemeral"] = original.ephemeral
        result: dict[str, Any] = {"interaction": answer}
        if resource is not None:
            result["resource"] = resource
        return result

    def followup(self, interaction: Interaction, body: dict[str, Any], files: dict[int, Upload]) -> Message:
        if interaction.response_type is None:
            raise limits.unknown("Webhook", limits.UNKNOWN_WEBHOOK)
        original = interaction.original
        if interaction.response_type == DEFERRED_CHANNEL_MESSAGE and original is not None and original.loading:
            # The first follow-up after a deferral replaces the "thinking" message, keeping its visibility.
            body = {k: v for k, v in body.items() if k != "flags"}
            message = self.edit_message(original, body, files)
        else:
            message = self.create_message(interaction.channel, self.bot_user, body, files, interaction=interaction)
            if message.type in (MESSAGE_CHAT_INPUT, MESSAGE_CONTEXT_MENU):
                message.type = 0
        interaction.followup_ids.append(message.id)
        interaction.answer_ids.append(message.id)
        self.notify()
        return message

    def edit_original(self, interaction: Interaction, body: dict[str, Any], files: dict[int, Upload]) -> Message:
        original = interaction.original
        if original is None or original.deleted:
            raise limits.unknown("Message", limits.UNKNOWN_MESSAGE)
        message = self.edit_message(original, body, files)
        if (
            interaction.response_type in (DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE)
            and not interaction.answer_ids
        ):
            interaction.answer_ids.append(message.id)
        self.notify()
        return message

    # ----- reading -------------------------------------------------------------------------------------------

    def bot_authored(self, message: Message) -> bool:
        if message.author.id == self.bot_user.id and message.webhook_name is None:
            return True
        webhook = self.webhooks.get(message.webhook_id or 0)
        return webhook is not None and webhook.creator.id == self.bot_user.id

    def pings(self) -> list[Ping]:
        """Every message the bot (or its webhooks) posted that notified someone."""
        return [
            Ping(m, m.pinged)
            for m in sorted(self.messages_by_id.values(), key=lambda m: m.id)
            if m.pinged and not m.ephemeral and m.type not in SYSTEM_TYPES and self.bot_authored(m)
        ]


SYSTEM_TYPES = {MESSAGE_RECIPIENT_ADD, MESSAGE_RECIPIENT_REMOVE, MESSAGE_THREAD_CREATED, MESSAGE_POLL_RESULT}


def _emoji_payload(emoji: str) -> dict[str, Any]:
    if ":" in emoji:
        name, emoji_id = emoji.split(":", 1)
        return {"id": emoji_id, "name": name}
    return {"id": None, "name": emoji}
