"""The ranked ballot: stateless components whose custom ids carry the poll and the ranking so far.

A ranking is the candidates' positions as digits ("201": third, then first, then second), so the ballot needs no
server-side draft and every button keeps working after a restart.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import discord

from bot.app.polls import Poll
from bot.domain.ids import parse_id
from bot.domain.text import md, titled, truncate
from bot.errors import UserError
from cogs._shared.replies import report_error

COG_NAME = "Polls"
ORDINALS = ("1st", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th", "9th", "10th")
_PREFIX = "bookclub:poll:(?P<poll>[0-9]{1,20})"


@runtime_checkable
class BallotBox(Protocol):
    """What the ballot's components call: the polls cog."""

    async def open_ballot(self, interaction: discord.Interaction[Any], poll_id: int) -> None: ...

    async def pick(self, interaction: discord.Interaction[Any], poll_id: int, ranked: str,
                   values: Sequence[str]) -> None: ...

    async def submit(self, interaction: discord.Interaction[Any], poll_id: int, ranked: str) -> None: ...


def _box(interaction: discord.Interaction[Any]) -> BallotBox:
    cog = interaction.client.get_cog(COG_NAME)
    if not isinstance(cog, BallotBox):
        raise UserError("Polls are not available right now; try again in a minute.")
    return cog


def ranking_of(text: str) -> list[int]:
    return [int(digit) for digit in text]


def _poll_id(match: re.Match[str]) -> int:
    """The poll a custom id names; 0 (no poll) when it is forged out of range, refused by the callback."""
    return parse_id(match["poll"]) or 0


class VoteButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=_PREFIX + ":vote"):
    """The Vote button under a ranked poll: opens the member's private ballot."""

    def __init__(self, poll_id: int) -> None:
        super().__init__(discord.ui.Button(label="Vote", style=discord.ButtonStyle.primary,
                                           custom_id=vote_custom_id(poll_id)))
        self.poll_id = poll_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> VoteButton:
        return cls(_poll_id(match))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await _box(interaction).open_ballot(interaction, self.poll_id)
        except Exception as error:
            await report_error(interaction, error)


def vote_custom_id(poll_id: int) -> str:
    """The Vote button's custom id: it names the poll, so the poll's message is found by it after a restart."""
    return f"bookclub:poll:{poll_id}:vote"


class RankSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=_PREFIX + ":pick:(?P<ranked>[0-9]{0,9})"):
    """Picks the next choice of a ballot; its custom id holds the choices made so far."""

    def __init__(self, poll_id: int, ranked: str, options: list[discord.SelectOption] | None = None) -> None:
        placeholder = f"Your {ORDINALS[len(ranked)]} choice" if len(ranked) < len(ORDINALS) else None
        super().__init__(discord.ui.Select(custom_id=f"bookclub:poll:{poll_id}:pick:{ranked}",
                                           placeholder=placeholder, options=options or []))
        self.poll_id = poll_id
        self.ranked = ranked

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> RankSelect:
        return cls(_poll_id(match), match["ranked"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await _box(interaction).pick(interaction, self.poll_id, self.ranked, self.item.values)
        except Exception as error:
            await report_error(interaction, error)


class SubmitButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                   template=_PREFIX + ":submit:(?P<ranked>[0-9]{1,10})"):
    """Casts the ranking its custom id holds, replacing the member's earlier ballot."""

    def __init__(self, poll_id: int, ranked: str) -> None:
        super().__init__(discord.ui.Button(label="Submit ballot", style=discord.ButtonStyle.success,
                                           custom_id=f"bookclub:poll:{poll_id}:submit:{ranked}"))
        self.poll_id = poll_id
        self.ranked = ranked

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> SubmitButton:
        return cls(_poll_id(match), match["ranked"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await _box(interaction).submit(interaction, self.poll_id, self.ranked)
        except Exception as error:
            await report_error(interaction, error)


class RestartButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=_PREFIX + ":restart"):
    """Clears the ranking being built (a submitted ballot stays until a new one is submitted)."""

    def __init__(self, poll_id: int) -> None:
        super().__init__(discord.ui.Button(label="Start over", style=discord.ButtonStyle.secondary,
                                           custom_id=f"bookclub:poll:{poll_id}:restart"))
        self.poll_id = poll_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> RestartButton:
        return cls(_poll_id(match))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await _box(interaction).pick(interaction, self.poll_id, "", [])
        except Exception as error:
            await report_error(interaction, error)


BALLOT_ITEMS = (VoteButton, RankSelect, SubmitButton, RestartButton)


def ballot_message(poll: Poll, ranked: Sequence[int], current: Sequence[int] | None) -> tuple[str, discord.ui.View]:
    """The private ballot: the ranking so far, a menu for the next choice, Submit and Start over."""
    by_position = {candidate.position: candidate for candidate in poll.candidates}
    lines = ["**Your ballot** (only you can see it). Rank as many books as you like, favourite first, "
             "then press **Submit ballot**."]
    if current and not ranked:
        lines.append("Your ballot now: " + ", ".join(
            f"{number}. {md(by_position[position].title)}"
            for number, position in enumerate(current, start=1) if position in by_position))
    if ranked:
        lines.append("")
        lines += [f"{number}. {titled(by_position[position].title, by_position[position].author)}"
                  for number, position in enumerate(ranked, start=1)]
    remaining = [candidate for candidate in poll.candidates if candidate.position not in ranked]
    view = discord.ui.View(timeout=None)
    encoded = "".join(str(position) for position in ranked)
    if remaining:
        options = [discord.SelectOption(label=truncate(candidate.label, 100), value=str(candidate.position))
                   for candidate in remaining]
        view.add_item(RankSelect(poll.id, encoded, options))
    if ranked:
        view.add_item(SubmitButton(poll.id, encoded))
        view.add_item(RestartButton(poll.id))
    return truncate("\n".join(lines), 2000), view


def vote_view(poll_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(VoteButton(poll_id))
    return view
