"""The Discord side of the meeting workflows (`bot.app.meetings`' ports): scheduled events, messages and the
reminder role."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

import discord

from bot.app.meetings import EventSpec
from bot.app.posts import Post
from bot.domain.text import truncate
from bot.errors import UserError
from bot.scheduler import PermanentJobError
from cogs._shared.replies import COLOUR, NO_PINGS

if TYPE_CHECKING:
    from bot.bot import BookClubBot

log = logging.getLogger(__name__)

REMINDER_ROLE = "Meeting reminders"
HISTORY_SCAN = 50
MAX_INTERESTED_SHOWN = 30

EVENT_STATUSES = {
    discord.EventStatus.scheduled: "scheduled",
    discord.EventStatus.active: "active",
    discord.EventStatus.completed: "completed",
    discord.EventStatus.cancelled: "cancelled",
}


class DiscordPorts:
    """The Discord side of the meeting workflows: scheduled events, messages and the reminder role."""

    def __init__(self, bot: BookClubBot) -> None:
        self.bot = bot

    def guild(self, guild_id: int) -> discord.Guild:
        guild = self.bot.get_guild(guild_id)
        if guild is None:
            raise RuntimeError(f"guild {guild_id} is not available")
        return guild

    # -- events

    async def create_event(self, guild_id: int, spec: EventSpec) -> int:
        guild = self.guild(guild_id)
        common: dict[str, Any] = {
            "name": spec.name, "description": spec.description, "start_time": spec.starts_at,
            "end_time": spec.ends_at, "privacy_level": discord.PrivacyLevel.guild_only,
        }
        if spec.channel_id is not None:
            channel = guild.get_channel(spec.channel_id)
            if not isinstance(channel, discord.VoiceChannel | discord.StageChannel):
                raise UserError("That channel is no longer a voice or stage channel I can see.")
            event = await guild.create_scheduled_event(channel=channel, **common)
        else:
            event = await guild.create_scheduled_event(entity_type=discord.EntityType.external,
                                                       location=spec.location or "", **common)
        return event.id

    async def find_event(self, guild_id: int, spec: EventSpec) -> int | None:
        # Straight from the API: at start-up the guild is not cached yet.
        me = self.bot.user
        for event in await self.bot.http.get_scheduled_events(guild_id, False):
            if (event["name"] == spec.name and datetime.fromisoformat(event["scheduled_start_time"]) == spec.starts_at
                    and (me is None or event.get("creator_id") in (None, str(me.id)))):
                return int(event["id"])
        return None

    async def delete_event(self, guild_id: int, event_id: int) -> None:
        try:
            await self.bot.http.delete_scheduled_event(guild_id, event_id)
        except discord.NotFound:
            log.info("guild %d: event %d was already gone", guild_id, event_id)

    async def interested(self, guild_id: int, event_id: int) -> list[str] | None:
        guild = self.guild(guild_id)
        try:
            event = await guild.fetch_scheduled_event(event_id)
            users = [user async for user in event.users(limit=MAX_INTERESTED_SHOWN)]
        except discord.NotFound:
            return None
        names = []
        for user in users:
            member = guild.get_member(user.id)
            names.append(member.display_name if member is not None else user.display_name)
        return names

    async def interest_counts(self, guild_id: int) -> dict[int, int]:
        try:
            events = await self.guild(guild_id).fetch_scheduled_events(with_counts=True)
        except discord.HTTPException as error:
            log.info("guild %d: no interest counts from Discord: %s", guild_id, error)
            return {}
        return {event.id: event.user_count for event in events}

    # -- messages

    def embed(self, post: Post) -> discord.Embed:
        embed = discord.Embed(title=post.title, description=post.description, colour=COLOUR)
        for name, value in post.fields:
            embed.add_field(name=truncate(name, 256), value=truncate(value, 1024), inline=False)
        embed.set_footer(text=post.footer)
        if post.thumbnail_url:
            embed.set_thumbnail(url=post.thumbnail_url)
        return embed

    async def post(self, guild_id: int, channel_id: int, post: Post, *, ping_role_id: int | None = None) -> int:
        channel = self.bot.get_partial_messageable(channel_id, guild_id=guild_id)
        # The one ping the bot ever makes: the opt-in reminder role, and nothing else in the message.
        mentions = (discord.AllowedMentions(everyone=False, users=False, replied_user=False,
                                            roles=[discord.Object(ping_role_id)])
                    if ping_role_id is not None else NO_PINGS)
        try:
            message = await channel.send(post.content, embed=self.embed(post), allowed_mentions=mentions)
        except (discord.Forbidden, discord.NotFound) as error:
            # Retrying cannot help until a moderator fixes the channel or my permissions there.
            raise PermanentJobError(f"I cannot post in <#{channel_id}>: {error.text or error.status}") from error
        return message.id

    async def find_post(self, guild_id: int, channel_id: int, footer: str, after: datetime) -> int | None:
        me = self.bot.user
        channel = self.bot.get_partial_messageable(channel_id, guild_id=guild_id)
        try:
            async for message in channel.history(limit=HISTORY_SCAN, after=after, oldest_first=False):
                if me is not None and message.author.id == me.id and any(
                    embed.footer.text == footer for embed in message.embeds
                ):
                    return message.id
        except discord.Forbidden:
            log.warning("cannot read the history of channel %d to look for an earlier post", channel_id)
        return None

    async def edit(self, guild_id: int, channel_id: int, message_id: int, post: Post) -> bool:
        channel = self.bot.get_partial_messageable(channel_id, guild_id=guild_id)
        try:
            await channel.get_partial_message(message_id).edit(content=post.content, embed=self.embed(post),
                                                               allowed_mentions=NO_PINGS)
        except discord.NotFound:
            return False
        return True

    async def pin(self, guild_id: int, channel_id: int, message_id: int) -> None:
        channel = self.bot.get_partial_messageable(channel_id, guild_id=guild_id)
        try:
            await channel.get_partial_message(message_id).pin(reason="The club's Reading now message")
        except discord.Forbidden:
            log.warning("guild %d: cannot pin the Reading now message in channel %d", guild_id, channel_id)

    # -- the reminder role

    async def ensure_role(self, guild_id: int, role_id: int | None, name: str) -> int:
        guild = self.guild(guild_id)
        if role_id is not None and guild.get_role(role_id) is not None:
            return role_id
        try:
            role = await guild.create_role(name=name, mentionable=True,
                                           reason="Members opt in to meeting reminders with /meeting notify on")
        except discord.Forbidden:
            raise UserError("I need the Manage Roles permission to create the meeting reminders role.") from None
        return role.id

    async def set_member_role(self, guild_id: int, member_id: int, role_id: int, *, on: bool) -> bool:
        guild = self.guild(guild_id)
        member = guild.get_member(member_id) or await guild.fetch_member(member_id)
        has = any(role.id == role_id for role in member.roles)
        if has == on:
            return False
        role = discord.Object(role_id)
        try:
            if on:
                await member.add_roles(role, reason="/meeting notify on")
            else:
                await member.remove_roles(role, reason="/meeting notify off")
        except discord.Forbidden:
            raise UserError("I can't change that role: I need Manage Roles, and my role must be above "
                            f"**{REMINDER_ROLE}** in the server's role list.") from None
        return True
