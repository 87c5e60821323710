"""Spoiler-safe discussions: /discuss start and spoiler-terms, /progress, /spoiler, Hide as spoiler, the guard."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.discussions.cog import DiscussionsCog
from cogs.discussions.spoilers import SpoilersCog

if TYPE_CHECKING:
    from bot.bot import BookClubBot

__all__ = ["DiscussionsCog", "SpoilersCog", "setup"]


async def setup(bot: BookClubBot) -> None:
    await bot.add_cog(DiscussionsCog(bot))
    await bot.add_cog(SpoilersCog(bot))
