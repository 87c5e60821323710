"""/config: moderators set the club's channels, weekly slot, time zone, moderator role and blog feeds."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.app.config import CHANNEL_KINDS, GuildConfig
from bot.domain.slots import WEEKDAYS, timezone_choices
from bot.errors import UserError
from cogs._shared.checks import moderator_check
from cogs._shared.replies import COLOUR, NO_PINGS, guild_of, missing_permissions, reply

if TYPE_CHECKING:
    from bot.bot import BookClubBot

# What the bot must be allowed to do in each kind of channel.
REQUIRED_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "reviews": ("view_channel", "send_messages", "embed_links", "read_message_history"),
    "discussions": ("view_channel", "send_messages", "embed_links", "read_message_history", "create_public_threads",
                    "create_private_threads", "send_messages_in_threads", "manage_threads"),
    # Send Polls: the default, native poll is a Discord poll message.
    "polls": ("view_channel", "send_messages", "embed_links", "read_message_history", "send_polls"),
    "announcements": ("view_channel", "send_messages", "embed_links", "attach_files"),
}
# Not needed to post, but Hide as spoiler and the spoiler guard depend on them.
RECOMMENDED_PERMISSIONS: dict[str, tuple[str, ...]] = {"discussions": ("manage_messages", "manage_webhooks")}

WEEKDAY_CHOICES = [app_commands.Choice(name=name, value=index) for index, name in enumerate(WEEKDAYS)]


def describe_slot(config: GuildConfig) -> str:
    if not config.has_schedule or config.schedule_weekday is None:
        return "not set: reviews are posted as soon as they are written"
    return f"{WEEKDAYS[config.schedule_weekday]}s at {config.schedule_time} ({config.timezone})"


def channel_mention(channel_id: int | None) -> str:
    return f"<#{channel_id}>" if channel_id else "not set"


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class ConfigCog(commands.GroupCog, group_name="config", group_description="Set up the book club (moderators)"):
    """Moderators configure channels, the weekly review slot, the moderator role and the blog feeds."""

    def __init__(self, bot: BookClubBot) -> None:
        self.bot = bot
        self.service = bot.services.config
        super().__init__()

    @app_commands.command(name="channels", description="Choose where reviews, discussions, polls and news go")
    @app_commands.describe(
        reviews="Where scheduled reviews are posted",
        discussions="Text channel that holds the discussion threads",
        polls="Where next-read polls run",
        announcements="Where poll winners and club news are announced",
    )
    @moderator_check()
    async def channels(
        self,
        interaction: discord.Interaction[BookClubBot],
        reviews: discord.TextChannel | None = None,
        discussions: discord.TextChannel | None = None,
        polls: discord.TextChannel | None = None,
        announcements: discord.TextChannel | None = None,
    ) -> None:
        guild = guild_of(interaction)
        chosen = {"reviews": reviews, "discussions": discussions, "polls": polls, "announcements": announcements}
        chosen = {kind: channel for kind, channel in chosen.items() if channel is not None}
        if not chosen:
            raise UserError("Pick at least one channel: reviews, discussions, polls or announcements.")
        me = guild.me
        problems, notes = [], []
        for kind, channel in chosen.items():
            if kind == "discussions" and channel.type is not discord.ChannelType.text:
                problems.append(f"{channel.mention} ({kind}): private threads need a plain text channel.")
                continue
            missing = missing_permissions(channel, me, REQUIRED_PERMISSIONS[kind])
            if missing:
                problems.append(f"{channel.mention} ({kind}): I'm missing {', '.join(missing)}.")
            recommended = missing_permissions(channel, me, RECOMMENDED_PERMISSIONS.get(kind, ()))
            if recommended:
                notes.append(f"{channel.mention}: without {', '.join(recommended)}, Hide as spoiler cannot work.")
        if problems:
            raise UserError("Nothing was changed.\n" + "\n".join(problems))
        config = await self.service.set_channels(
            guild.id, {kind: channel.id for kind, channel in chosen.items()}
        )
        lines = [f"{kind.capitalize()}: {channel_mention(config.channel_id(kind))}" for kind in CHANNEL_KINDS]
        await reply(interaction, "Saved.\n" + "\n".join(lines + notes))

    @app_commands.command(name="schedule", description="Set the weekly slot when queued reviews are posted")
    @app_commands.describe(
        weekday="Day of the week",
        time="Local time as HH:MM, 24-hour (e.g. 18:00)",
        timezone="Time zone, e.g. Europe/London or America/New_York",
    )
    @app_commands.choices(weekday=WEEKDAY_CHOICES)
    @moderator_check()
    async def schedule(self, interaction: discord.Interaction[BookClubBot], weekday: app_commands.Choice[int],
                       time: str, timezone: str = "UTC") -> None:
        guild = guild_of(interaction)
        config, upcoming = await self.service.set_schedule(guild.id, weekday.value, time, timezone)
        await self.bot.services.reviews.slot_changed(guild.id)
        await reply(
            interaction,
            f"Queued reviews will be posted on {describe_slot(config)}. "
            f"Next slot: {discord.utils.format_dt(upcoming, 'F')}.",
        )

    @schedule.autocomplete("timezone")
    async def timezone_autocomplete(self, interaction: discord.Interaction[BookClubBot],
                                    current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=name, value=name) for name in timezone_choices(current, limit=25)]

    @app_commands.command(name="moderator-role", description="Role that counts as moderator besides Manage Server")
    @app_commands.describe(role="The moderator role; leave empty to clear it")
    @moderator_check()
    async def moderator_role(self, interaction: discord.Interaction[BookClubBot],
                             role: discord.Role | None = None) -> None:
        guild = guild_of(interaction)
        if role is not None and role.is_default():
            raise UserError("@everyone can't be the moderator role.")
        await self.service.set_moderator_role(guild.id, role.id if role else None)
        if role is None:
            await reply(interaction, "Moderator role cleared: only members with Manage Server count as moderators.")
        else:
            await reply(interaction, f"Members with {role.mention} now count as moderators.")

    @app_commands.command(name="feed-add", description="Bring a blog's RSS/Atom feed into the review queue")
    @app_commands.describe(url="The feed's address, e.g. https://club.blog/feed")
    @moderator_check()
    async def feed_add(self, interaction: discord.Interaction[BookClubBot], url: str) -> None:
        guild = guild_of(interaction)
        feed = await self.service.add_feed(guild.id, url)
        await self.bot.services.reviews.feed_added(guild.id, feed.id)
        await reply(interaction, f"Added the feed <{feed.url}>. Its newest post joins the review queue at the next "
                                 "check; older posts are left out.", suppress_embeds=True)

    @app_commands.command(name="feed-remove", description="Stop following a blog feed")
    @app_commands.describe(url="The feed to remove")
    @moderator_check()
    async def feed_remove(self, interaction: discord.Interaction[BookClubBot], url: str) -> None:
        guild = guild_of(interaction)
        removed = await self.service.remove_feed(guild.id, url)
        await reply(interaction, f"Removed the feed <{removed}>.", suppress_embeds=True)

    @feed_remove.autocomplete("url")
    async def feed_autocomplete(self, interaction: discord.Interaction[BookClubBot],
                                current: str) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        feeds = await self.service.feeds(interaction.guild_id)
        return [
            app_commands.Choice(name=feed.url[:100], value=feed.url)
            for feed in feeds if current.lower() in feed.url.lower() and len(feed.url) <= 100
        ][:25]

    @app_commands.command(name="show", description="Everything configured for this server")
    @moderator_check()
    async def show(self, interaction: discord.Interaction[BookClubBot]) -> None:
        guild = guild_of(interaction)
        shown = await self.service.show(guild.id)
        config, feeds = shown.config, shown.feeds
        embed = discord.Embed(title="Book club settings", colour=COLOUR)
        for kind in CHANNEL_KINDS:
            embed.add_field(name=kind.capitalize(), value=channel_mention(config.channel_id(kind)))
        embed.add_field(name="Review schedule", value=describe_slot(config), inline=False)
        if shown.next_slot is not None:
            embed.add_field(name="Next slot", value=discord.utils.format_dt(shown.next_slot, "F"), inline=False)
        embed.add_field(name="Time zone", value=config.timezone)
        role = f"<@&{config.moderator_role_id}>" if config.moderator_role_id else "Manage Server only"
        embed.add_field(name="Moderator role", value=role)
        feed_lines = []
        for feed in feeds:
            status = f" · failing: {feed.last_error[:80]}" if feed.consecutive_failures and feed.last_error else ""
            feed_lines.append(f"<{feed.url}>{status}")
        embed.add_field(name="Feeds", value="\n".join(feed_lines)[:1024] or "none", inline=False)
        await reply(interaction, embed=embed, allowed_mentions=NO_PINGS)


async def setup(bot: BookClubBot) -> None:
    await bot.add_cog(ConfigCog(bot))
