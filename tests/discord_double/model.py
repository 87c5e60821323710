"""World state of the loopback Discord: snowflakes, users, guilds, channels, messages and their wire payloads."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import discord

DISCORD_EPOCH_MS = 1420070400000

CHANNEL_TEXT = 0
CHANNEL_VOICE = 2
CHANNEL_STAGE = 13
CHANNEL_CATEGORY = 4
CHANNEL_NEWS = 5
THREAD_NEWS = 10
THREAD_PUBLIC = 11
THREAD_PRIVATE = 12
CHANNEL_FORUM = 15
THREAD_TYPES = (THREAD_NEWS, THREAD_PUBLIC, THREAD_PRIVATE)

FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7

ALL_PERMISSIONS = discord.Permissions.all().value
P = discord.Permissions

USER_MENTION = re.compile(r"<@!?(\d+)>")
ROLE_MENTION = re.compile(r"<@&(\d+)>")
EVERYONE_MENTION = re.compile(r"@(everyone|here)")


def perm_value(permissions: discord.Permissions | int) -> int:
    return permissions.value if isinstance(permissions, discord.Permissions) else int(permissions)


class Snowflakes:
    """Time-based ids that always increase, so ordering by id is ordering by creation as on Discord."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        now = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last = max(self._last + 1, now)
        return self._last

    def next_on_shard(self, shard: int, count: int) -> int:
        """The next id that Discord routes to `shard` of `count` (a guild's id decides its shard)."""
        candidate = self.next()
        while shard_of(candidate, count) != shard:
            candidate = ((candidate >> 22) + 1) << 22
        self._last = candidate
        return candidate


def shard_of(guild_id: int, count: int) -> int:
    """Discord's rule: guild g's events go to shard (g >> 22) % count."""
    return (guild_id >> 22) % count


def snowflake_time(snowflake: int) -> datetime:
    return datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, tz=UTC)


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(eq=False)
class User:
    id: int
    name: str
    bot: bool = False
    locale: str = "en-US"

    @property
    def username(self) -> str:
        # Humans have lowercase unique usernames and a display name; bots show their username.
        return self.name if self.bot else re.sub(r"\W", "", self.name.lower())

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": None if self.bot else self.name,
            "avatar": None,
            "bot": self.bot,
            "system": False,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
        }


@dataclass(eq=False)
class Role:
    id: int
    guild_id: int
    name: str
    permissions: int
    position: int = 0
    managed: bool = False
    bot_id: int | None = None
    color: int = 0
    hoist: bool = False
    mentionable: bool = False

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "name": self.name,
            "color": self.color,
            "colors": {"primary_color": self.color, "secondary_color": None, "tertiary_color": None},
            "hoist": self.hoist,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data


@dataclass
class Overwrite:
    target_id: int
    type: int  # 0 = role, 1 = member
    allow: int = 0
    deny: int = 0

    def payload(self) -> dict[str, Any]:
        return {"id": str(self.target_id), "type": self.type, "allow": str(self.allow), "deny": str(self.deny)}


@dataclass(eq=False)
class Member:
    user: User
    guild_id: int
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: datetime = field(default_factory=utcnow)

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def name(self) -> str:
        return self.nick or self.user.name

    @property
    def mention(self) -> str:
        return self.user.mention

    def payload(self, *, with_user: bool = True, permissions: int | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "roles": [str(r) for r in self.roles],
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "joined_at": iso(self.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.payload()
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data

    def __repr__(self) -> str:
        return f"<Member {self.name} id={self.id}>"


@dataclass(eq=False)
class Channel:
    id: int
    guild_id: int
    name: str
    type: int = CHANNEL_TEXT
    position: int = 0
    topic: str | None = None
    parent_id: int | None = None
    overwrites: dict[int, Overwrite] = field(default_factory=dict)
    nsfw: bool = False
    rate_limit_per_user: int = 0
    last_message_id: int | None = None

    @property
    def is_thread(self) -> bool:
        return False

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "guild_id": str(self.guild_id),
            "name": self.name,
            "type": self.type,
            "position": self.position,
            "permission_overwrites": [o.payload() for o in self.overwrites.values()],
            "nsfw": self.nsfw,
            "parent_id": None if self.parent_id is None else str(self.parent_id),
            "flags": 0,
        }
        if self.type != CHANNEL_CATEGORY:
            data.update(
                topic=self.topic,
                last_message_id=None if self.last_message_id is None else str(self.last_message_id),
                rate_limit_per_user=self.rate_limit_per_user,
                default_auto_archive_duration=1440,
                default_thread_rate_limit_per_user=0,
            )
        if self.type in (CHANNEL_VOICE, CHANNEL_STAGE):
            data.update(bitrate=64000, user_limit=0, rtc_region=None)
        if self.type == CHANNEL_FORUM:
            data.update(
                available_tags=[],
                default_reaction_emoji=None,
                default_sort_order=None,
                default_forum_layout=0,
            )
        return data

    def __repr__(self) -> str:
        return f"<Channel #{self.name} id={self.id} type={self.type}>"


@dataclass(eq=False)
class Thread(Channel):
    owner_id: int = 0
    invitable: bool = True
    archived: bool = False
    locked: bool = False
    auto_archive_duration: int = 1440
    created_at: datetime = field(default_factory=utcnow)
    archive_timestamp: datetime = field(default_factory=utcnow)
    members: dict[int, datetime] = field(default_factory=dict)
    message_count: int = 0
    total_message_sent: int = 0

    @property
    def is_thread(self) -> bool:
        return True

    @property
    def is_private(self) -> bool:
        return self.type == THREAD_PRIVATE

    def member_payload(self, user_id: int, *, member: Member | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "user_id": str(user_id),
            "join_timestamp": iso(self.members.get(user_id, utcnow())),
            "flags": 0,
        }
        if member is not None:
            data["member"] = member.payload()
        return data

    def payload(self) -> dict[str, Any]:
        metadata: dict[str, Any] = {
            "archived": self.archived,
            "auto_archive_duration": self.auto_archive_duration,
            "archive_timestamp": iso(self.archive_timestamp),
            "locked": self.locked,
            "create_timestamp": iso(self.created_at),
        }
        if self.is_private:
            metadata["invitable"] = self.invitable
        return {
            "id": str(self.id),
            "guild_id": str(self.guild_id),
            "parent_id": str(self.parent_id),
            "owner_id": str(self.owner_id),
            "name": self.name,
            "type": self.type,
            "last_message_id": None if self.last_message_id is None else str(self.last_message_id),
            "member_count": min(len(self.members), 50),
            "message_count": self.message_count,
            "total_message_sent": self.total_message_sent,
            "rate_limit_per_user": self.rate_limit_per_user,
            "flags": 0,
            "applied_tags": [],
            "thread_metadata": metadata,
        }

    def __repr__(self) -> str:
        return f"<Thread {self.name!r} id={self.id} type={self.type}>"


@dataclass
class Upload:
    """A file a test member attaches (to a message or an attachment option)."""

    filename: str
    data: bytes
    content_type: str = "application/octet-stream"
    description: str | None = None


@dataclass(eq=False)
class StoredAttachment:
    id: int
    filename: str
    data: bytes
    url: str
    content_type: str = "application/octet-stream"
    description: str | None = None
    ephemeral: bool = False

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "filename": self.filename,
            "size": len(self.data),
            "url": self.url,
            "proxy_url": self.url,
            "content_type": self.content_type,
        }
        if self.description is not None:
            data["description"] = self.description
        if self.ephemeral:
            data["ephemeral"] = True
        return data


@dataclass(eq=False)
class Poll:
    question: str
    answers: list[dict[str, Any]]
    expiry: datetime
    allow_multiselect: bool = False
    layout_type: int = 1
    votes: dict[int, list[int]] = field(default_factory=dict)
    finalized: bool = False

    def answer_text(self, answer_id: int) -> str:
        for answer in self.answers:
            if answer["answer_id"] == answer_id:
                return str(answer["poll_media"].get("text", ""))
        raise KeyError(answer_id)

    def count(self, answer_id: int) -> int:
        return len(self.votes.get(answer_id, []))

    def payload(self, viewer_id: int) -> dict[str, Any]:
        return {
            "question": {"text": self.question},
            "answers": self.answers,
            "expiry": iso(self.expiry),
            "allow_multiselect": self.allow_multiselect,
            "layout_type": self.layout_type,
            "results": {
                "is_finalized": self.finalized,
                "answer_counts": [
                    {
                        "id": a["answer_id"],
                        "count": self.count(a["answer_id"]),
                        "me_voted": viewer_id in self.votes.get(a["answer_id"], []),
                    }
                    for a in self.answers
                    if self.count(a["answer_id"])
                ],
            },
        }


@dataclass(eq=False)
class Webhook:
    id: int
    token: str
    name: str
    channel_id: int
    guild_id: int
    creator: User
    type: int = 1

    def payload(self, *, with_token: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "channel_id": str(self.channel_id),
            "name": self.name,
            "avatar": None,
            "application_id": None,
            "user": self.creator.payload(),
        }
        if with_token:
            data["token"] = self.token
        return data


@dataclass
class Mentions:
    """Who a message notifies: users, roles, and whether @everyone/@here."""

    users: set[int] = field(default_factory=set)
    roles: set[int] = field(default_factory=set)
    everyone: bool = False

    def __bool__(self) -> bool:
        return bool(self.users or self.roles or self.everyone)


@dataclass(eq=False)
class Message:
    """A message as Discord keeps it; `payload()` renders it the way the API shows it to the bot."""

    id: int
    channel_id: int
    guild_id: int | None
    author: User
    member: Member | None = None
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[StoredAttachment] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    flags: int = 0
    type: int = 0
    tts: bool = False
    webhook_id: int | None = None
    webhook_name: str | None = None
    webhook_avatar_url: str | None = None
    application_id: int | None = None
    poll: Poll | None = None
    allowed_mentions: dict[str, Any] | None = None
    reference: Message | None = None
    interaction_metadata: dict[str, Any] | None = None
    interaction_legacy: dict[str, Any] | None = None
    nonce: str | int | None = None
    edited_at: datetime | None = None
    deleted: bool = False
    pinned: bool = False
    reactions: dict[str, list[int]] = field(default_factory=dict)
    thread_id: int | None = None
    position: int | None = None
    edits: int = 0
    pinged: Mentions = field(default_factory=Mentions)

    @property
    def created_at(self) -> datetime:
        return snowflake_time(self.id)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & FLAG_EPHEMERAL)

    @property
    def loading(self) -> bool:
        return bool(self.flags & FLAG_LOADING)

    @property
    def author_name(self) -> str:
        """The name Discord shows above the message."""
        if self.webhook_name is not None:
            return self.webhook_name
        if self.member is not None:
            return self.member.name
        return self.author.name

    def text(self) -> str:
        """Everything a reader sees as text: content, embed author/title/description/fields/footer, poll."""
        parts: list[str] = [self.content] if self.content else []
        for embed in self.embeds:
            author = embed.get("author") or {}
            footer = embed.get("footer") or {}
            parts.extend(str(p) for p in (author.get("name"), embed.get("title"), embed.get("description")) if p)
            for embed_field in embed.get("fields") or []:
                parts.append(f"{embed_field.get('name', '')}\n{embed_field.get('value', '')}")
            if footer.get("text"):
                parts.append(str(footer["text"]))
        if self.poll is not None:
            parts.append(self.poll.question)
            parts.extend(str(a["poll_media"].get("text", "")) for a in self.poll.answers)
        return "\n".join(parts)

    def components_flat(self) -> list[dict[str, Any]]:
        return walk_components(self.components)

    def __repr__(self) -> str:
        return f"<Message id={self.id} by {self.author_name!r}: {self.text()[:60]!r}>"


def walk_components(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every component inside rows, sections, containers and labels, depth first."""
    found: list[dict[str, Any]] = []
    for component in components:
        found.append(component)
        found.extend(walk_components(component.get("components") or []))
        for key in ("accessory", "component"):
            inner = component.get(key)
            if isinstance(inner, dict):
                found.extend(walk_components([inner]))
    return found


@dataclass(eq=False)
class Guild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    threads: dict[int, Thread] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    locale: str = "en-US"

    @property
    def everyone(self) -> Role:
        return self.roles[self.id]

    def channel(self, name: str) -> Channel:
        """A channel or thread by name (with or without '#')."""
        wanted = name.lstrip("#").lower()
        for candidate in [*self.channels.values(), *self.threads.values()]:
            if candidate.name.lower() == wanted:
                return candidate
        known = ", ".join(c.name for c in [*self.channels.values(), *self.threads.values()])
        raise KeyError(f"no channel {name!r} in {self.name}; known: {known}")

    def thread(self, name: str) -> Thread:
        for candidate in self.threads.values():
            if candidate.name.lower() == name.lower():
                return candidate
        raise KeyError(f"no thread {name!r} in {self.name}; known: {[t.name for t in self.threads.values()]}")

    def member(self, name: str) -> Member:
        """A member by display name or username, case-insensitive."""
        wanted = name.lstrip("@").lower()
        for candidate in self.members.values():
            if wanted in (candidate.name.lower(), candidate.user.name.lower(), candidate.user.username):
                return candidate
        raise KeyError(f"no member {name!r} in {self.name}; known: {[m.name for m in self.members.values()]}")

    def role(self, name: str) -> Role:
        wanted = name.lstrip("@").lower()
        for candidate in self.roles.values():
            if candidate.name.lower() == wanted:
                return candidate
        raise KeyError(f"no role {name!r} in {self.name}; known: {[r.name for r in self.roles.values()]}")

    def find_channel(self, channel_id: int) -> Channel | None:
        return self.channels.get(channel_id) or self.threads.get(channel_id)

    def base_permissions(self, member: Member) -> int:
        if member.id == self.owner_id:
            return ALL_PERMISSIONS
        permissions = self.everyone.permissions
        for role_id in member.roles:
            role = self.roles.get(role_id)
            if role is not None:
                permissions |= role.permissions
        if permissions & P.administrator.flag:
            return ALL_PERMISSIONS
        return permissions

    def permissions_for(self, member: Member, channel: Channel) -> int:
        """Discord's permission algorithm: base roles, then @everyone, role and member overwrites."""
        if isinstance(channel, Thread):
            parent = self.channels[channel.parent_id or 0]
            permissions = self.permissions_for(member, parent)
            sees_private = member.id in channel.members or permissions & P.manage_threads.flag
            if channel.is_private and not sees_private:
                return 0
            return permissions
        base = self.base_permissions(member)
        if base == ALL_PERMISSIONS:
            return ALL_PERMISSIONS
        permissions = base
        everyone = channel.overwrites.get(self.id)
        if everyone is not None:
            permissions = (permissions & ~everyone.deny) | everyone.allow
        allow = deny = 0
        for role_id in member.roles:
            overwrite = channel.overwrites.get(role_id)
            if overwrite is not None and overwrite.type == 0:
                allow |= overwrite.allow
                deny |= overwrite.deny
        permissions = (permissions & ~deny) | allow
        own = channel.overwrites.get(member.id)
        if own is not None and own.type == 1:
            permissions = (permissions & ~own.deny) | own.allow
        if not permissions & P.view_channel.flag:
            return 0
        if not permissions & P.send_messages.flag:
            # Without Send Messages Discord also withholds what only makes sense when sending.
            permissions &= ~(
                P.send_tts_messages.flag | P.mention_everyone.flag | P.embed_links.flag | P.attach_files.flag
            )
        return permissions

    def payload(self) -> dict[str, Any]:
        """The REST guild object (no channels or members, as GET /guilds/{id} answers)."""
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "icon_hash": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(self.owner_id),
            "region": "deprecated",
            "afk_channel_id": None,
            "afk_timeout": 300,
            "widget_enabled": False,
            "widget_channel_id": None,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "roles": [r.payload() for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "max_presences": None,
            "max_members": 500000,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": self.locale,
            "public_updates_channel_id": None,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "safety_alerts_channel_id": None,
            "incidents_data": None,
        }

    def __repr__(self) -> str:
        return f"<Guild {self.name!r} id={self.id}>"
