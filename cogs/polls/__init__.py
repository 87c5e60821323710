"""/nominate and /poll: members nominate next reads (and withdraw them); moderators run Discord polls or secret
ranked ballots. The workflows live in `bot/app/polls.py` and `bot/app/nominations.py`; this package is their
Discord side: commands (`cog`), the ballot's components (`views`), embeds (`embeds`) and the ports (`ports`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.polls.cog import PollsCog

if TYPE_CHECKING:
    from bot.bot import BookClubBot

__all__ = ["PollsCog", "setup"]


async def setup(bot: BookClubBot) -> None:
    await bot.add_cog(PollsCog(bot))
