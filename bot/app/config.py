"""/config's workflows: a server's channels, weekly review slot, moderator role and blog feeds, without Discord."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from datetime import time as time_of_day
from urllib.parse import urlsplit

from bot.clock import Clock
from bot.domain.slots import is_valid_timezone, next_slot, parse_hhmm, timezone_choices
from bot.domain.text import clip, md
from bot.errors import UserError
from bot.services.feeds import FeedAddressError, check_feed_address
from bot.store import Store
from bot.store.config import CHANNEL_KINDS, Feed, FeedRepository, GuildConfig

MAX_URL_LENGTH = 500

__all__ = ["CHANNEL_KINDS", "ConfigService", "Feed", "GuildConfig", "Settings", "validate_feed_url"]


@dataclass
class Settings:
    """Everything /config show lists."""

    config: GuildConfig
    feeds: list[Feed]
    next_slot: datetime | None


def validate_feed_url(url: str) -> str:
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise UserError(f"That URL is too long (at most {MAX_URL_LENGTH} characters).")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in url:
        raise UserError("A feed must be a web address starting with http:// or https://, like https://club.blog/feed.")
    if parts.username is not None or parts.password is not None:
        raise UserError("A feed address must not contain a user name or password. Nothing was added.")
    return url


class ConfigService:
    """Reads and changes one server's settings; refuses bad input before changing anything."""

    def __init__(self, store: Store, clock: Clock, *, allow_private_feeds: bool = False) -> None:
        self.store = store
        self.clock = clock
        self.allow_private_feeds = allow_private_feeds

    async def get(self, guild_id: int) -> GuildConfig:
        return await self.store.config.get(guild_id)

    async def is_moderator_role(self, guild_id: int, role_ids: list[int]) -> bool:
        """Whether one of the roles is the server's moderator role."""
        role_id = (await self.store.config.get(guild_id)).moderator_role_id
        return role_id is not None and role_id in role_ids

    async def set_channels(self, guild_id: int, channels: dict[str, int]) -> GuildConfig:
        """The chosen channels by kind (reviews, discussions, polls, announcements); the others stay as they are."""
        return await self.store.config.set_channels(guild_id, channels)

    async def set_schedule(self, guild_id: int, weekday: int, time: str, timezone: str) -> tuple[GuildConfig,
                                                                                                   datetime]:
        """The weekly slot for queued reviews; returns the settings and the next slot."""
        try:
            at: time_of_day = parse_hhmm(time)
        except ValueError as error:
            raise UserError(str(error)) from None
        timezone = timezone.strip()
        if not is_valid_timezone(timezone):
            suggestions = ", ".join(timezone_choices(timezone, limit=3))
            hint = f" Did you mean {suggestions}?" if suggestions else ""
            raise UserError(f"{md(clip(timezone, 60))} isn't a time zone I know.{hint}")
        config = await self.store.config.set_schedule(guild_id, weekday, at.strftime("%H:%M"), timezone)
        return config, next_slot(self.clock.now(), weekday, at, timezone)

    async def set_moderator_role(self, guild_id: int, role_id: int | None) -> None:
        await self.store.config.set_moderator_role(guild_id, role_id)

    async def add_feed(self, guild_id: int, url: str) -> Feed:
        """A blog feed to follow, once its address is checked to be public and not followed already."""
        url = validate_feed_url(url)
        try:
            await check_feed_address(url, allow_private=self.allow_private_feeds)
        except FeedAddressError as error:
            raise UserError(f"I can't follow that feed: {error}. Nothing was added.") from None
        feeds = await self.store.feeds.list(guild_id)
        if len(feeds) >= FeedRepository.MAX_PER_GUILD:
            raise UserError(f"This server already has {FeedRepository.MAX_PER_GUILD} feeds; remove one first.")
        feed = await self.store.feeds.add(guild_id, url)
        if feed is None:
            raise UserError("That feed is already added.")
        return feed

    async def remove_feed(self, guild_id: int, url: str) -> str:
        url = url.strip()
        if not await self.store.feeds.remove(guild_id, url):
            raise UserError("That feed isn't in this server's list; `/config show` lists them.")
        return url

    async def feeds(self, guild_id: int) -> list[Feed]:
        return await self.store.feeds.list(guild_id)

    async def show(self, guild_id: int) -> Settings:
        config = await self.store.config.get(guild_id)
        upcoming = None
        if config.has_schedule and config.schedule_weekday is not None and config.schedule_time:
            upcoming = next_slot(self.clock.now(), config.schedule_weekday, parse_hhmm(config.schedule_time),
                                 config.timezone)
        return Settings(config=config, feeds=await self.store.feeds.list(guild_id), next_slot=upcoming)
