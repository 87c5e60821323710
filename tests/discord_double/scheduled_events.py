"""Guild scheduled events as Discord documents them (REST, gateway, the Interested RSVP), plus the REST the
meeting reminders need around them: creating a role, giving it to a member, and pinning a message.

Tests act as members and moderators through `double.events`: mark Interested, edit, end or delete an event the
way Discord's own UI does, and read back the events the bot made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import limits
from .model import CHANNEL_STAGE, CHANNEL_VOICE, P, Role, iso

if TYPE_CHECKING:
    from .model import Guild, Member
    from .rest import ApiRequest, RestApi
    from .world import World

ENTITY_STAGE, ENTITY_VOICE, ENTITY_EXTERNAL = 1, 2, 3
STATUS_SCHEDULED, STATUS_ACTIVE, STATUS_COMPLETED, STATUS_CANCELED = 1, 2, 3, 4
PRIVACY_GUILD_ONLY = 2
UNKNOWN_SCHEDULED_EVENT = 10070
# Creating an event needs Create Events (1 << 44) or Manage Events; changing another's needs Manage Events.
CREATE_EVENTS = 1 << 44


def _time(text: Any, path: str, errors: limits.FormErrors) -> datetime | None:
    if not isinstance(text, str):
        errors.add((path,), "BASE_TYPE_REQUIRED", "This field is required")
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        errors.add((path,), "DATE_TIME_TYPE_PARSE", "Could not parse date-time")
        return None


@dataclass(eq=False)
class ScheduledEvent:
    id: int
    guild_id: int
    name: str
    start: datetime
    entity_type: int
    creator_id: int
    description: str | None = None
    end: datetime | None = None
    channel_id: int | None = None
    location: str | None = None
    status: int = STATUS_SCHEDULED
    privacy_level: int = PRIVACY_GUILD_ONLY
    interested: list[int] = field(default_factory=list)

    def payload(self, world: World, *, with_user_count: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "guild_id": str(self.guild_id),
            "channel_id": None if self.channel_id is None else str(self.channel_id),
            "creator_id": str(self.creator_id),
            "creator": world.users[self.creator_id].payload(),
            "name": self.name,
            "description": self.description,
            "scheduled_start_time": iso(self.start),
            "scheduled_end_time": None if self.end is None else iso(self.end),
            "privacy_level": self.privacy_level,
            "status": self.status,
            "entity_type": self.entity_type,
            "entity_id": None,
            "entity_metadata": {"location": self.location} if self.entity_type == ENTITY_EXTERNAL else None,
            "image": None,
            "recurrence_rule": None,
        }
        if with_user_count:
            data["user_count"] = len(self.interested)
        return data


class ScheduledEvents:
    """Every guild's scheduled events, their REST routes, and the member actions around them."""

    def __init__(self, world: World) -> None:
        self.w = world
        self.events: dict[int, ScheduledEvent] = {}

    def register(self, rest: RestApi) -> None:
        g, e, u, r = r"(?P<guild>\d+)", r"(?P<event>\d+)", r"(?P<user>\d+)", r"(?P<role>\d+)"
        c, m = r"(?P<channel>\d+)", r"(?P<message>\d+)"
        rest.add_routes([
            ("GET", f"/guilds/{g}/scheduled-events", self.list_events),
            ("POST", f"/guilds/{g}/scheduled-events", self.create_event),
            ("GET", f"/guilds/{g}/scheduled-events/{e}", self.get_event),
            ("PATCH", f"/guilds/{g}/scheduled-events/{e}", self.modify_event),
            ("DELETE", f"/guilds/{g}/scheduled-events/{e}", self.delete_event_route),
            ("GET", f"/guilds/{g}/scheduled-events/{e}/users", self.event_users),
            ("POST", f"/guilds/{g}/roles", self.create_role),
            ("PUT", f"/guilds/{g}/members/{u}/roles/{r}", self.add_member_role),
            ("DELETE", f"/guilds/{g}/members/{u}/roles/{r}", self.remove_member_role),
            ("PUT", f"/channels/{c}/messages/pins/{m}", self.pin),
            ("PUT", f"/channels/{c}/pins/{m}", self.pin),
        ])

    # ----- reading (tests) -----------------------------------------------------------------------------------

    def of(self, guild: Guild) -> list[ScheduledEvent]:
        """The guild's live events (not deleted), oldest first."""
        return sorted((ev for ev in self.events.values() if ev.guild_id == guild.id), key=lambda ev: ev.id)

    def payloads(self, guild: Guild) -> list[dict[str, Any]]:
        return [event.payload(self.w) for event in self.of(guild) if event.status in (STATUS_SCHEDULED,
                                                                                     STATUS_ACTIVE)]

    # ----- member and moderator actions in Discord's UI ----------------------------------------------------------

    def mark_interested(self, event: ScheduledEvent, member: Member) -> None:
        if member.id not in event.interested:
            event.interested.append(member.id)
            self.w.emit("GUILD_SCHEDULED_EVENT_USER_ADD", self._rsvp(event, member.id))

    def unmark_interested(self, event: ScheduledEvent, member: Member) -> None:
        if member.id in event.interested:
            event.interested.remove(member.id)
            self.w.emit("GUILD_SCHEDULED_EVENT_USER_REMOVE", self._rsvp(event, member.id))

    def edit(self, event: ScheduledEvent, *, start: datetime | None = None, end: datetime | None = None,
             location: str | None = None, status: int | None = None) -> None:
        """A moderator changes the event in Discord."""
        if start is not None:
            event.start = start
        if end is not None:
            event.end = end
        if location is not None:
            event.location = location
        if status is not None:
            event.status = status
        self.w.emit("GUILD_SCHEDULED_EVENT_UPDATE", event.payload(self.w))

    def delete(self, event: ScheduledEvent) -> None:
        """A moderator deletes the event in Discord."""
        self.events.pop(event.id, None)
        self.w.emit("GUILD_SCHEDULED_EVENT_DELETE", event.payload(self.w))

    def _rsvp(self, event: ScheduledEvent, user_id: int) -> dict[str, Any]:
        return {"guild_scheduled_event_id": str(event.id), "user_id": str(user_id), "guild_id": str(event.guild_id)}

    # ----- REST ------------------------------------------------------------------------------------------------

    def _guild(self, r: ApiRequest) -> Guild:
        guild = self.w.guilds.get(r.id("guild"))
        if guild is None:
            raise limits.unknown("Guild", limits.UNKNOWN_GUILD)
        return guild

    def _event(self, r: ApiRequest) -> ScheduledEvent:
        event = self.events.get(r.id("event"))
        if event is None or event.guild_id != r.id("guild"):
            raise limits.unknown("Guild Scheduled Event", UNKNOWN_SCHEDULED_EVENT)
        return event

    def _guild_permissions(self, guild: Guild) -> int:
        member = self.w.bot_member(guild)
        permissions = 0
        for role_id in [guild.id, *member.roles]:
            role = guild.roles.get(role_id)
            if role is not None:
                permissions |= role.permissions
        return -1 if permissions & P.administrator.flag else permissions

    def _require(self, guild: Guild, flags: int) -> None:
        if not self._guild_permissions(guild) & flags:
            raise limits.missing_permissions()

    def list_events(self, r: ApiRequest) -> Any:
        guild = self._guild(r)
        counts = r.flag("with_user_count")
        return [event.payload(self.w, with_user_count=counts) for event in self.of(guild)]

    def get_event(self, r: ApiRequest) -> Any:
        self._guild(r)
        return self._event(r).payload(self.w, with_user_count=r.flag("with_user_count"))

    def _check_place(self, guild: Guild, body: dict[str, Any], entity_type: int, errors: limits.FormErrors) -> None:
        if entity_type == ENTITY_EXTERNAL:
            location = (body.get("entity_metadata") or {}).get("location")
            if not location:
                errors.add(("entity_metadata", "location"), "BASE_TYPE_REQUIRED", "This field is required")
            else:
                errors.max_length(("entity_metadata", "location"), location, 100)
            if body.get("channel_id") is not None:
                errors.add(("channel_id",), "GUILD_SCHEDULED_EVENT_CHANNEL_ID_INVALID", "Must be null for external")
            if not body.get("scheduled_end_time"):
                errors.add(("scheduled_end_time",), "BASE_TYPE_REQUIRED", "This field is required")
            return
        channel = guild.channels.get(int(body.get("channel_id") or 0))
        wanted = CHANNEL_VOICE if entity_type == ENTITY_VOICE else CHANNEL_STAGE
        if channel is None or channel.type != wanted:
            errors.add(("channel_id",), "GUILD_SCHEDULED_EVENT_CHANNEL_INVALID", "Invalid channel for this event type")

    def create_event(self, r: ApiRequest) -> Any:
        guild = self._guild(r)
        self._require(guild, P.manage_events.flag | CREATE_EVENTS)
        body = r.body
        errors = limits.FormErrors()
        name = body.get("name")
        if not isinstance(name, str) or not name:
            errors.add(("name",), "BASE_TYPE_REQUIRED", "This field is required")
        else:
            errors.max_length(("name",), name, 100)
        errors.max_length(("description",), body.get("description"), 1000)
        start = _time(body.get("scheduled_start_time"), "scheduled_start_time", errors)
        ending = body.get("scheduled_end_time")
        end = _time(ending, "scheduled_end_time", errors) if ending else None
        if start is not None and end is not None and end <= start:
            errors.add(("scheduled_end_time",), "GUILD_SCHEDULED_EVENT_END_BEFORE_START", "End must be after start")
        if body.get("privacy_level") != PRIVACY_GUILD_ONLY:
            errors.add(("privacy_level",), "BASE_TYPE_CHOICES", "Value must be one of {2}.")
        entity_type = body.get("entity_type")
        if entity_type not in (ENTITY_STAGE, ENTITY_VOICE, ENTITY_EXTERNAL):
            errors.add(("entity_type",), "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3}.")
        else:
            self._check_place(guild, body, entity_type, errors)
        errors.raise_if_any()
        assert start is not None and isinstance(name, str) and isinstance(entity_type, int)
        event = ScheduledEvent(
            id=self.w.ids.next(), guild_id=guild.id, name=name, start=start, end=end, entity_type=entity_type,
            creator_id=self.w.bot_user.id, description=body.get("description"),
            channel_id=int(body["channel_id"]) if body.get("channel_id") else None,
            location=(body.get("entity_metadata") or {}).get("location") if entity_type == ENTITY_EXTERNAL else None,
        )
        self.events[event.id] = event
        self.w.emit("GUILD_SCHEDULED_EVENT_CREATE", event.payload(self.w))
        return event.payload(self.w)

    def modify_event(self, r: ApiRequest) -> Any:
        guild = self._guild(r)
        self._require(guild, P.manage_events.flag)
        event = self._event(r)
        body = r.body
        errors = limits.FormErrors()
        if "scheduled_start_time" in body:
            event.start = _time(body["scheduled_start_time"], "scheduled_start_time", errors) or event.start
        if body.get("scheduled_end_time"):
            event.end = _time(body["scheduled_end_time"], "scheduled_end_time", errors)
        errors.raise_if_any()
        for key in ("name", "description", "status"):
            if key in body:
                setattr(event, key, body[key])
        if "entity_metadata" in body:
            event.location = (body["entity_metadata"] or {}).get("location")
        self.w.emit("GUILD_SCHEDULED_EVENT_UPDATE", event.payload(self.w))
        return event.payload(self.w)

    def delete_event_route(self, r: ApiRequest) -> Any:
        guild = self._guild(r)
        self._require(guild, P.manage_events.flag)
        self.delete(self._event(r))
        return None

    def event_users(self, r: ApiRequest) -> Any:
        guild = self._guild(r)
        event = self._event(r)
        limit = min(int(r.query.get("limit", "100")), 100)
        users = []
        for user_id in sorted(event.interested):
            if "before" in r.query and user_id >= int(r.query["before"]):
                continue
            if "after" in r.query and user_id <= int(r.query["after"]):
                continue
            entry: dict[str, Any] = {"guild_scheduled_event_id": str(event.id),
                                     "user": self.w.users[user_id].payload()}
            if r.flag("with_member") and user_id in guild.members:
                entry["member"] = guild.members[user_id].payload(with_user=False)
            users.append(entry)
        return users[:limit]

    # ----- roles and pins --------------------------------------------------------------------------------------

    def _top_position(self, guild: Guild) -> int:
        member = self.w.bot_member(guild)
        return max((guild.roles[role_id].position for role_id in member.roles if role_id in guild.roles), default=0)

    def create_role(self, r: ApiRequest) -> Any:
        guild = self._guild(r)
        self._require(guild, P.manage_roles.flag)
        body = r.body
        name = body.get("name") or "new role"
        role = self.w.add_role(guild, name, int(body.get("permissions") or 0),
                               mentionable=bool(body.get("mentionable")))
        # Discord puts a new role at the bottom, just above @everyone.
        for other in guild.roles.values():
            if other is not role and other.id != guild.id:
                other.position += 1
        role.position = 1
        return role.payload()

    def _member_role(self, r: ApiRequest) -> tuple[Member, Role]:
        guild = self._guild(r)
        self._require(guild, P.manage_roles.flag)
        member = guild.members.get(r.id("user"))
        if member is None:
            raise limits.unknown("Member", limits.UNKNOWN_MEMBER)
        role = guild.roles.get(r.id("role"))
        if role is None:
            raise limits.unknown("Role", limits.UNKNOWN_ROLE)
        if role.position >= self._top_position(guild) or role.managed:
            raise limits.missing_permissions()
        return member, role

    def add_member_role(self, r: ApiRequest) -> Any:
        member, role = self._member_role(r)
        self.w.assign_role(member, role)
        return None

    def remove_member_role(self, r: ApiRequest) -> Any:
        member, role = self._member_role(r)
        self.w.unassign_role(member, role)
        return None

    def pin(self, r: ApiRequest) -> Any:
        channel = self.w.find_channel(r.id("channel"))
        self.w.require(channel, P.read_message_history.flag)
        permissions = self.w.bot_permissions(channel)
        if not permissions & (P.manage_messages.flag | P.pin_messages.flag):
            raise limits.missing_permissions()
        message = self.w.find_message(channel, r.id("message"))
        message.pinned = True
        self.w.emit("CHANNEL_PINS_UPDATE", {"guild_id": str(channel.guild_id), "channel_id": str(channel.id),
                                            "last_pin_timestamp": iso(datetime.now(tz=message.created_at.tzinfo))})
        return None
