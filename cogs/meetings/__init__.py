"""/meeting: club meetings as Discord scheduled events, their reminders and the opt-in reminder role; and the
pinned "Reading now" message. Translates interactions and gateway events to `bot.app.meetings` and back; the
ports below are the only place these workflows touch Discord."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, cast

import discord
from discord import app_commands
from discord.ext import commands

from bot.app.meetings import EventState, Meeting
from bot.app.reading_now import timestamp, where
from bot.domain.ids import parse_id
from bot.domain.meetings import REPEAT_LABELS, RepeatKind, local_time
from bot.domain.text import md, truncate
from bot.errors import NotConfigured, UserError
from bot.jobs import MeetingEnd, MeetingReminder, ReadingNow
from cogs._shared.checks import moderator_check
from cogs._shared.choices import club_book_choices
from cogs._shared.replies import COLOUR, guild_of, missing_permissions, reply
from cogs.meetings.ports import EVENT_STATUSES, REMINDER_ROLE, DiscordPorts

if TYPE_CHECKING:
    from bot.bot import BookClubBot

log = logging.getLogger(__name__)

COG_NAME = "Meetings"
CHANNEL_CHOICE = re.compile(r"^(?:channel:|<#)(\d+)>?$")
MEETING_CHOICE = re.compile(r"^(?:meeting:|#)?(\d+)$")
REPEAT_CHOICES = [app_commands.Choice(name=label, value=value) for value, label in
                  (("none", "none"), ("weekly", "weekly"), ("biweekly", "every 2 weeks"), ("monthly", "monthly"))]
def meeting_line(meeting: Meeting) -> str:
    line = f"#{meeting.id} · {timestamp(meeting.starts_at)} in {where(meeting)}"
    if meeting.book is not None:
        line += f" · **{md(meeting.book.title)}**"
    if meeting.section:
        line += f", up to {md(meeting.section)}"
    if meeting.repeat != "none":
        line += f" · repeats {REPEAT_LABELS[meeting.repeat]}"
    return line


class MeetingsCog(commands.Cog, name=COG_NAME):
    """Meetings, their reminders and the opt-in role; the pinned Reading now message."""

    meeting = app_commands.Group(name="meeting", description="The club's meetings", guild_only=True)
    notify_group = app_commands.Group(name="notify", description="Meeting reminder pings: on or off",
                                      parent=meeting)

    def __init__(self, bot: BookClubBot) -> None:
        self.bot = bot
        ports = DiscordPorts(bot)
        self.service, self.reading_now = bot.services.meetings(ports, ports, ports)

    async def cog_load(self) -> None:
        self.bot.scheduler.register(MeetingReminder, self.service.run_reminder)
        self.bot.scheduler.register(MeetingEnd, self.service.run_end)
        self.bot.scheduler.register(ReadingNow, self.reading_now.run)
        await self.service.arm_all(self.bot.shard_range)

    # -- /meeting schedule ----------------------------------------------------------------------------

    @meeting.command(name="schedule", description="Schedule a club meeting as a Discord event (moderators)")
    @app_commands.describe(
        when="Date and time on the club's clock (/config schedule time zone), e.g. 2026-03-26 19:30",
        where="A voice or stage channel (pick one), or a place or link (type it)",
        book="The club read the meeting is about",
        repeat="Create the next meeting after each one ends",
        section="The reading the meeting covers, e.g. Part 2",
    )
    @app_commands.choices(repeat=REPEAT_CHOICES)
    @moderator_check()
    async def schedule(self, interaction: discord.Interaction[BookClubBot], when: str, where: str,
                       book: str | None = None, repeat: app_commands.Choice[str] | None = None,
                       section: str | None = None) -> None:
        guild = guild_of(interaction)
        me = guild.me
        if not me.guild_permissions.manage_events:
            raise UserError("I need the **Manage Events** permission to create the meeting's event; "
                            "nothing was scheduled.")
        channel_id, location = self.place(guild, where)
        book_id = (await self.service.resolve_book(guild.id, book)).id if book and book.strip() else None
        kind = cast(RepeatKind, repeat.value if repeat is not None else "none")
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            meeting = await self.service.schedule(guild.id, interaction.user.id, when=when, channel_id=channel_id,
                                                  location=location, book_id=book_id, section=section, repeat=kind)
        except discord.HTTPException as error:
            raise UserError(f"Discord refused the event ({error.text or error.status}); nothing was scheduled.") \
                from error
        config = await self.service.settings(guild.id)
        zone = config.timezone
        lines = [f"Scheduled meeting #{meeting.id}: {meeting_line(meeting)}.",
                 f"That is {local_time(meeting.starts_at, zone):%Y-%m-%d %H:%M} in {zone}"
                 + (" (UTC: no time zone is set; `/config schedule` sets one)." if zone == "UTC" else ".")]
        if config.announcements_channel_id is None:
            lines.append("Reminders need an announcements channel: set one with `/config channels announcements:`.")
        else:
            lines.append(f"Reminders go to <#{config.announcements_channel_id}> the day before and an hour before; "
                         "members get pinged with `/meeting notify on`.")
        await reply(interaction, "\n".join(lines))

    def place(self, guild: discord.Guild, where: str) -> tuple[int | None, str | None]:
        """A voice/stage channel (an autocomplete pick or a #mention), or a place or link typed as text."""
        text = where.strip()
        picked = CHANNEL_CHOICE.match(text)
        if picked:
            channel = guild.get_channel(int(picked.group(1)))
            if not isinstance(channel, discord.VoiceChannel | discord.StageChannel):
                raise UserError("`where` must be a voice or stage channel, or a place or link.")
            missing = missing_permissions(channel, guild.me, ("view_channel", "connect"))
            if missing:
                raise UserError(f"I can't host the event in {channel.mention}: I'm missing {', '.join(missing)}.")
            return channel.id, None
        named = [channel for channel in [*guild.voice_channels, *guild.stage_channels]
                 if channel.name.casefold() == text.lstrip("#").casefold()]
        if named:
            return self.place(guild, f"channel:{named[0].id}")
        if not text or text.startswith("<#") or (text.startswith("#") and " " not in text):
            raise UserError("`where` must be a voice or stage channel, or a place or link.")
        return None, text

    @schedule.autocomplete("where")
    async def where_autocomplete(self, interaction: discord.Interaction[BookClubBot],
                                 current: str) -> list[app_commands.Choice[str]]:
        guild = interaction.guild
        if guild is None:
            return []
        needle = current.strip().lstrip("#").casefold()
        choices = [app_commands.Choice(name=f"🔊 {channel.name}"[:100], value=f"channel:{channel.id}")
                   for channel in [*guild.voice_channels, *guild.stage_channels]
                   if needle in channel.name.casefold()]
        if current.strip() and not current.strip().startswith("#"):
            choices.insert(0, app_commands.Choice(name=f"📍 {current.strip()}"[:100], value=current.strip()[:100]))
        return choices[:25]

    @schedule.autocomplete("book")
    async def book_autocomplete(self, interaction: discord.Interaction[BookClubBot],
                                current: str) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        return club_book_choices(await self.service.club_books(interaction.guild_id, current))

    # -- /meeting list, next, cancel ----------------------------------------------------------------------

    @meeting.command(name="list", description="Upcoming club meetings")
    async def list_(self, interaction: discord.Interaction[BookClubBot]) -> None:
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        upcoming = await self.service.upcoming_with_interest(guild.id)
        if not upcoming:
            await reply(interaction, "No meeting is scheduled. Moderators schedule one with `/meeting schedule`.")
            return
        lines = [meeting_line(meeting) + (f" · {count} interested" if count is not None else "")
                 for meeting, count in upcoming]
        embed = discord.Embed(title="Upcoming meetings", colour=COLOUR, description=truncate("\n".join(lines), 4096))
        await reply(interaction, embed=embed)

    @meeting.command(name="next", description="The next meeting: when, where, which book and who is interested")
    async def next_(self, interaction: discord.Interaction[BookClubBot]) -> None:
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        found = await self.service.next(guild.id)
        if found is None:
            await reply(interaction, "No meeting is scheduled. Moderators schedule one with `/meeting schedule`.")
            return
        meeting = found.meeting
        embed = discord.Embed(title=f"Next meeting (#{meeting.id})", colour=COLOUR,
                              description=f"{timestamp(meeting.starts_at)} ({timestamp(meeting.starts_at, 'R')})")
        embed.add_field(name="Where", value=where(meeting), inline=False)
        if meeting.book is not None:
            embed.add_field(name="Book", value=md(meeting.book.label), inline=False)
        if meeting.section:
            embed.add_field(name="Read up to", value=md(meeting.section), inline=False)
        if found.interested is None:
            interested = "Discord's event is gone."
        elif found.interested:
            interested = f"{len(found.interested)}: " + ", ".join(md(name) for name in found.interested)
        else:
            interested = "Nobody yet: mark yourself Interested on the event."
        embed.add_field(name="Interested", value=truncate(interested, 1024), inline=False)
        await reply(interaction, embed=embed)

    @meeting.command(name="cancel", description="Cancel a meeting, its event and its reminders (moderators)")
    @app_commands.describe(meeting="The meeting to cancel")
    @moderator_check()
    async def cancel(self, interaction: discord.Interaction[BookClubBot], meeting: str) -> None:
        guild = guild_of(interaction)
        picked = MEETING_CHOICE.match(meeting.strip())
        if picked is None:
            raise UserError("Pick the meeting from the list (`/meeting list` shows their numbers).")
        await interaction.response.defer(ephemeral=True, thinking=True)
        meeting_id = parse_id(picked.group(1))
        if meeting_id is None:
            raise UserError("Pick the meeting from the list (`/meeting list` shows their numbers).")
        cancelled = await self.service.cancel(guild.id, meeting_id)
        await reply(interaction, f"Cancelled meeting #{cancelled.id} ({timestamp(cancelled.starts_at)}); "
                                 "its event and reminders are gone.")

    @cancel.autocomplete("meeting")
    async def meeting_autocomplete(self, interaction: discord.Interaction[BookClubBot],
                                   current: str) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        choices = []
        for meeting in await self.service.upcoming(interaction.guild_id):
            local = local_time(meeting.starts_at, meeting.timezone)
            name = f"#{meeting.id} {local:%a %d %b %Y %H:%M}" + (f" · {meeting.book.title}" if meeting.book else "")
            if current.strip().casefold() in name.casefold():
                choices.append(app_commands.Choice(name=name[:100], value=f"meeting:{meeting.id}"))
        return choices[:25]

    # -- /meeting notify -----------------------------------------------------------------------------------

    @notify_group.command(name="on", description="Get pinged by meeting reminders")
    async def notify_on(self, interaction: discord.Interaction[BookClubBot]) -> None:
        await self.notify(interaction, on=True)

    @notify_group.command(name="off", description="Stop being pinged by meeting reminders")
    async def notify_off(self, interaction: discord.Interaction[BookClubBot]) -> None:
        await self.notify(interaction, on=False)

    async def notify(self, interaction: discord.Interaction[BookClubBot], *, on: bool) -> None:
        guild = guild_of(interaction)
        if not guild.me.guild_permissions.manage_roles:
            raise UserError("I need the **Manage Roles** permission to manage the meeting reminders role.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        role_id, changed = await self.service.notify(guild.id, interaction.user.id, on=on, role_name=REMINDER_ROLE)
        if on:
            text = (f"You'll be pinged by meeting reminders (role <@&{role_id}>)." if changed
                    else f"You already get meeting reminders (role <@&{role_id}>).")
        else:
            text = "You won't be pinged by meeting reminders any more." if changed else (
                "You weren't getting meeting reminders.")
        await reply(interaction, text)

    # -- Reading now ------------------------------------------------------------------------------------------

    async def post_reading_now(self, interaction: discord.Interaction[BookClubBot]) -> None:
        """`/club current post:True`: the Reading now message, pinned in the announcements channel."""
        guild = guild_of(interaction)
        channel_id = await self.service.announcements_channel(guild.id)
        channel = guild.get_channel(channel_id)
        if not isinstance(channel, discord.TextChannel):
            raise NotConfigured("The announcements channel is gone; choose one with `/config channels`.")
        granted = channel.permissions_for(guild.me)
        missing = [name for name, ok in (("Send Messages", granted.send_messages), ("Embed Links", granted.embed_links),
                                         ("Pin Messages", granted.manage_messages or granted.pin_messages))
                   if not ok]
        if missing:
            raise UserError(f"I can't keep a pinned message in {channel.mention}: I'm missing {', '.join(missing)}.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        message_id, new = await self.reading_now.publish(guild.id, channel.id)
        link = f"https://discord.com/channels/{guild.id}/{channel.id}/{message_id}"
        await reply(interaction, (f"Posted and pinned Reading now in {channel.mention}" if new
                                  else f"Updated the pinned Reading now in {channel.mention}")
                    + f" ({link}); I keep it up to date.")

    # -- the gateway: Discord is the source of truth for events -------------------------------------------------

    @commands.Cog.listener()
    async def on_scheduled_event_update(self, before: discord.ScheduledEvent, after: discord.ScheduledEvent) -> None:
        location = after.location if after.entity_type == discord.EntityType.external else None
        state = EventState(event_id=after.id, starts_at=after.start_time, ends_at=after.end_time,
                           channel_id=after.channel_id if location is None else None, location=location,
                           status=cast(Any, EVENT_STATUSES.get(after.status, "scheduled")))
        try:
            await self.service.event_changed(after.guild_id, state)
        except Exception:
            log.exception("guild %d: could not follow the change of event %d", after.guild_id, after.id)

    @commands.Cog.listener()
    async def on_scheduled_event_delete(self, event: discord.ScheduledEvent) -> None:
        try:
            await self.service.event_deleted(event.guild_id, event.id)
        except Exception:
            log.exception("guild %d: could not follow the deletion of event %d", event.guild_id, event.id)


async def setup(bot: BookClubBot) -> None:
    await bot.add_cog(MeetingsCog(bot))
