"""How the discussions cog reaches threads: finding one, opening one, and Discord's side of ending a discussion."""

from __future__ import annotations

import contextlib
import logging

import discord

from bot.app.discussion_texts import thread_mention
from bot.errors import UserError
from cogs._shared.replies import NO_PINGS

log = logging.getLogger(__name__)


async def fetch_thread(guild: discord.Guild, thread_id: int) -> discord.Thread | None:
    thread = guild.get_thread(thread_id)
    if thread is not None:
        return thread
    try:
        fetched = await guild.fetch_channel(thread_id)
    except discord.NotFound:
        return None
    return fetched if isinstance(fetched, discord.Thread) else None


# A week: the longest Discord allows, so quiet section threads stay in the channel list between meetings.
ARCHIVE_AFTER_MINUTES = 10080


class ChannelThreads:
    """Opening a discussion's threads in the discussions channel (the use case's ThreadOpener)."""

    def __init__(self, channel: discord.TextChannel, reason: str) -> None:
        self.channel = channel
        self.reason = reason
        self.threads: dict[int, discord.Thread] = {}

    async def open_thread(self, name: str, rules: str, *, private: bool) -> int:
        try:
            if private:
                thread = await self.channel.create_thread(
                    name=name, type=discord.ChannelType.private_thread, invitable=False,
                    auto_archive_duration=ARCHIVE_AFTER_MINUTES, reason=self.reason)
            else:
                thread = await self.channel.create_thread(
                    name=name, type=discord.ChannelType.public_thread, auto_archive_duration=ARCHIVE_AFTER_MINUTES,
                    reason=self.reason)
            self.threads[thread.id] = thread
            try:
                await thread.send(rules, allowed_mentions=NO_PINGS)
            except BaseException:
                # Not yet the use case's to delete: it only learns of a thread once its rules are up.
                await self.delete_thread(thread.id)
                raise
        except discord.Forbidden:
            raise UserError(f"Discord refused to let me open the threads in {self.channel.mention} (a permission is "
                            "missing: Create Private Threads or Manage Threads). Nothing was created.") from None
        return thread.id

    async def delete_thread(self, thread_id: int) -> None:
        thread = self.threads.pop(thread_id, None)
        if thread is not None:
            with contextlib.suppress(discord.HTTPException):
                await thread.delete(reason="/discuss start failed part-way")


class ThreadMembers:
    """Adding a member to a discussion's section threads (the use case's ThreadMembers)."""

    def __init__(self, guild: discord.Guild) -> None:
        self.guild = guild

    async def add_member(self, thread_id: int, member_id: int) -> bool:
        thread = await fetch_thread(self.guild, thread_id)
        if thread is None:
            return False
        if thread.archived:
            await thread.edit(archived=False)
        await thread.add_user(discord.Object(id=member_id))
        return True


class DiscordThreads:
    """Ending a discussion on Discord: a closing note, then each thread archived and locked (still readable)."""

    def __init__(self, guild: discord.Guild, reason: str) -> None:
        self.guild = guild
        self.reason = reason

    async def post_note(self, thread_id: int, text: str) -> None:
        thread = await fetch_thread(self.guild, thread_id)
        if thread is None or thread.locked:
            return
        try:
            await thread.send(text, allowed_mentions=NO_PINGS)
        except discord.HTTPException as error:
            log.warning("could not post the closing note in thread %s of guild %s: %s", thread_id, self.guild.id,
                        error)

    async def archive_and_lock(self, thread_id: int) -> bool:
        thread = await fetch_thread(self.guild, thread_id)
        if thread is None:
            return False
        try:
            await thread.edit(archived=True, locked=True, reason=self.reason)
        except discord.NotFound:
            return False
        except discord.Forbidden:
            raise UserError(f"Discord refused to lock {thread_mention(thread_id)}: I need Manage Threads in the "
                            "discussions channel. The discussion stays open (threads locked so far stay locked); "
                            "run `/discuss end` again once that is fixed.") from None
        return True
