"""How polls look on Discord: the ranked poll's message, the result announcement and its rounds chart."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Mapping, Sequence
from datetime import datetime

import discord

from bot.app.polls import Poll
from bot.domain.polls import Outcome, round_lines, tally_lines
from bot.domain.text import md, titled, truncate
from bot.domain.voting import Round
from cogs._shared.replies import COLOUR

QUESTION = "What should the club read next?"


def mentions(member_ids: Sequence[int]) -> str:
    shown = [f"<@{member_id}>" for member_id in member_ids]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def when(moment: datetime) -> str:
    """A time every member reads in their own time zone, with how far off it is."""
    return f"{discord.utils.format_dt(moment, 'F')} ({discord.utils.format_dt(moment, 'R')})"


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def poll_embed(poll: Poll, *, closed: bool = False) -> discord.Embed:
    """The ranked poll's message: the books in nomination order and how to vote."""
    lines = [f"{candidate.position + 1}. {titled(candidate.title, candidate.author)}"
             for candidate in poll.candidates]
    embed = discord.Embed(title=QUESTION, colour=COLOUR, description="\n".join(lines))
    if closed:
        embed.add_field(name="Closed", value="Voting has ended; the result has been announced.", inline=False)
    else:
        embed.add_field(
            name="How to vote",
            value=("Press **Vote** to rank the books in a private ballot; voting again replaces your ballot. "
                   f"Nobody sees how anyone voted, and counts stay hidden until the close, {when(poll.closes_at)}."),
            inline=False,
        )
    embed.set_footer(text=f"Ranked choice, counted by instant runoff · poll #{poll.id}")
    return embed


def result_embed(poll: Poll) -> discord.Embed:
    """The announcement: the winner, why it won, and the count behind it."""
    outcome = poll.outcome or Outcome(winner=None, tie_broken=False, reason="Nobody voted.")
    names = {candidate.position: candidate.title for candidate in poll.candidates}
    winner = poll.winner
    if winner is None:
        embed = discord.Embed(
            title="The poll closed without a winner", colour=COLOUR,
            description=f"{md(outcome.reason)}\nThe nominations stay open for the next poll.",
        )
    else:
        lines = [f"{titled(winner.title, winner.author)} won the poll and is the club's next read.",
                 md(outcome.reason)]
        if winner.nominators:
            lines.append(f"Nominated by {mentions(winner.nominators)}.")
        embed = discord.Embed(title=truncate(f"Next read: {winner.title}", 256), colour=COLOUR,
                              description="\n".join(lines))
    if outcome.rounds:
        embed.add_field(name="Rounds", value=truncate("\n".join(md(line) for line in round_lines(
            outcome.rounds, names)), 1024), inline=False)
    elif outcome.votes and outcome.ballots:
        embed.add_field(name="Votes", value=truncate("\n".join(md(line) for line in tally_lines(
            outcome.votes, names)), 1024), inline=False)
    counted = plural(outcome.ballots, "ballot" if poll.mode == "ranked" else "vote")
    embed.set_footer(text=f"Result of poll #{poll.id} · {counted}")
    return embed


def tally_embed(poll: Poll, counts: Mapping[int, int], closes: str) -> discord.Embed:
    """A running Discord poll's counts so far."""
    names = {candidate.position: candidate.title for candidate in poll.candidates}
    embed = discord.Embed(title=f"Poll #{poll.id} so far", colour=COLOUR,
                          description=truncate("\n".join(md(line) for line in tally_lines(counts, names)), 4096))
    embed.add_field(name="Closes", value=closes, inline=False)
    return embed


async def chart_files(poll: Poll) -> list[discord.File]:
    outcome = poll.outcome
    if outcome is None or not outcome.rounds:
        return []
    names = {candidate.position: candidate.title for candidate in poll.candidates}
    title = f"Poll #{poll.id}: instant-runoff rounds"
    png = await asyncio.to_thread(draw_rounds, outcome.rounds, names, title)
    description = truncate("; ".join(round_lines(outcome.rounds, names)), 1024)
    return [discord.File(io.BytesIO(png), filename=f"poll-{poll.id}-rounds.png", description=description)]


def draw_rounds(rounds: Sequence[Round], names: Mapping[int, str], title: str) -> bytes:
    """The rounds chart, drawn in a worker thread."""
    # matplotlib is imported here, in the thread, at the first chart: importing it at start-up adds ~0.3 s and
    # ~40 MB to every start, and importing it on the event loop would stall every guild for as long.
    from bot.services.charts import render_rounds_png

    return render_rounds_png(rounds, names, title)
