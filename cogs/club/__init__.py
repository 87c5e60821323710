"""/club, /rate and /ask: the club's reading history, members' ratings, and answers about them (also on a mention)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.club.ask import SLOW_DOWN, AskCog
from cogs.club.history import CONFIRM_SECONDS, ClubCog

if TYPE_CHECKING:
    from bot.bot import BookClubBot

__all__ = ["CONFIRM_SECONDS", "SLOW_DOWN", "AskCog", "ClubCog"]


async def setup(bot: BookClubBot) -> None:
    await bot.add_cog(ClubCog(bot))
    await bot.add_cog(AskCog(bot))
