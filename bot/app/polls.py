"""Next-read polls as one workflow: start, ballots, results, and the close that records and announces the winner.

The close runs as the `poll_close` job (key: the poll id) and is safe to run again after a crash: the outcome is
stored once, the winner is added to the history only if it has no read yet, and each post is recorded by id —
before posting, an id that the post's own id will exceed; after, the post's id — so a re-run finds an earlier
post by ids alone and never posts twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.app.reading_now import ReadingNowChanges
from bot.clock import Clock
from bot.domain.ids import parse_id
from bot.domain.polls import MAX_CANDIDATES, MIN_CANDIDATES, Outcome, PollMode, count_native
from bot.domain.shards import Shards
from bot.errors import StoreUnavailable, UserError
from bot.jobs import PollClose, Run
from bot.scheduler import PermanentJobError, Scheduler
from bot.store import Store
from bot.store.polls import Poll, PollAlreadyRunning, WrongNominationCount

__all__ = ["Announcements", "Ballot", "Poll", "PollChannels", "PollMessages", "PollMode", "PollService",
           "PostRefused", "Results"]

log = logging.getLogger(__name__)

RETRY_AFTER_FAILED_CLOSE = timedelta(minutes=1)
CLOSED = "This poll has closed; ballots are no longer taken."


class PostRefused(Exception):
    """Discord refused a post for good (a missing permission, a channel gone): retrying cannot help."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PollMessages(Protocol):
    """The poll's own message on Discord: a Discord poll (native) or the embed with the Vote button (ranked)."""

    def checkpoint(self) -> int:
        """An id that every message posted from now on exceeds."""
        ...

    async def post_poll(self, poll: Poll, duration: timedelta) -> int:
        """Posts the poll in its channel and returns the message id; raises PostRefused when Discord refuses."""
        ...

    async def find_poll_message(self, poll: Poll, after: int) -> int | None:
        """The bot's message of this poll posted after the id `after`, if an earlier run posted it."""
        ...

    async def native_counts(self, poll: Poll, message_id: int, *, exact: bool) -> dict[int, int] | None:
        """Votes per candidate position; `exact` ends the Discord poll and counts its voters. None: message gone."""
        ...

    async def retire(self, poll: Poll, message_id: int) -> None:
        """Shows the closed poll without its Vote button; a failure is logged, not raised."""
        ...


class Announcements(Protocol):
    """Where the result is posted."""

    def checkpoint(self) -> int:
        """An id that every message posted from now on exceeds."""
        ...

    async def post_result(self, channel_id: int, poll: Poll, note: str | None) -> int:
        """Posts the closed poll's result and returns its id; raises PostRefused when the channel refuses it."""
        ...

    async def find_result(self, channel_id: int, poll: Poll, after: int) -> int | None:
        """The bot's result post in the channel just after the id `after`, if an earlier run posted it."""
        ...


@dataclass
class PollChannels:
    polls: int | None
    announcements: int | None


@dataclass
class Results:
    """The last poll, and a running ranked poll's ballot count."""

    poll: Poll
    ballots: int | None = None


@dataclass
class Ballot:
    poll: Poll
    ranking: list[int]
    replaced: bool


class PollService:
    """One bot's polls; Discord is reached only through the two ports."""

    def __init__(self, store: Store, clock: Clock, scheduler: Scheduler, messages: PollMessages,
                 announcements: Announcements, reading_now: ReadingNowChanges) -> None:
        self.store = store
        self.clock = clock
        self.scheduler = scheduler
        self.reading_now = reading_now
        self.messages = messages
        self.announcements = announcements
        # One lock per poll for the life of the process: the job and /poll close never close the same poll at once.
        self._closing: dict[int, asyncio.Lock] = {}

    async def arm_closes(self, shards: Shards | None = None) -> None:
        """Every running poll of the process's shards has its close job: the process may have died between starting
        one and scheduling it."""
        for guild_id in await self.store.config.guild_ids(shards=shards):
            poll = await self.store.polls.running(guild_id)
            if poll is not None and await self.scheduler.find(guild_id, PollClose(poll.id)) is None:
                log.warning("poll %d in guild %d had no close scheduled; it closes at %s", poll.id, guild_id,
                            poll.closes_at)
                await self.scheduler.schedule(guild_id, PollClose(poll.id), poll.closes_at)

    async def channels(self, guild_id: int) -> PollChannels:
        config = await self.store.config.get(guild_id)
        return PollChannels(polls=config.polls_channel_id, announcements=config.announcements_channel_id)

    # -- starting -----------------------------------------------------------------------------------

    async def start(self, guild_id: int, *, mode: PollMode, channel_id: int, started_by: int,
                    duration: timedelta) -> Poll:
        """Opens a poll of the waiting nominations, schedules its close and posts it; nothing stays when Discord
        refuses the post."""
        now = self.clock.now()
        try:
            poll = await self.store.polls.start(guild_id, mode=mode, channel_id=channel_id, started_by=started_by,
                                                now=now, closes_at=now + duration,
                                                message_after=self.messages.checkpoint())
        except PollAlreadyRunning:
            raise UserError("A poll is already running; close it with `/poll close` first.") from None
        except WrongNominationCount as error:
            raise UserError(
                f"A poll needs {MIN_CANDIDATES} to {MAX_CANDIDATES} nominations and there "
                f"{'is' if error.count == 1 else 'are'} {error.count}. Members nominate with `/nominate add`."
            ) from None
        await self.scheduler.schedule(guild_id, PollClose(poll.id), poll.closes_at)
        try:
            message_id = await self.messages.post_poll(poll, duration)
        except PostRefused as error:
            await self.scheduler.cancel(guild_id, PollClose(poll.id))
            await self.store.polls.abandon(guild_id, poll.id)
            log.warning("could not post poll %d in guild %d: %s", poll.id, guild_id, error.reason)
            raise UserError(f"Discord refused the poll message in <#{channel_id}> ({error.reason}); nothing was "
                            "started.") from error
        try:
            await self.store.polls.set_message(guild_id, poll.id, message_id)
        except StoreUnavailable as error:
            # The poll is up on Discord and its close is scheduled: the close finds the message after the recorded
            # id, so telling the moderator that nothing changed would be untrue (and a second start is refused).
            log.warning("poll %d in guild %d: could not record its message %d: %s", poll.id, guild_id, message_id,
                        error)
        return poll.model_copy(update={"message_id": message_id})

    # -- ballots ------------------------------------------------------------------------------------

    async def ballot_poll(self, guild_id: int, poll_id: int) -> Poll:
        """The ranked poll a ballot belongs to, while it takes ballots."""
        poll = await self.store.polls.get(guild_id, poll_id)
        if poll is None or poll.mode != "ranked" or not poll.is_open_at(self.clock.now()):
            raise UserError(CLOSED)
        return poll

    async def current_ballot(self, poll: Poll, member_id: int) -> list[int] | None:
        """The member's own submitted ranking, shown only to them."""
        return await self.store.polls.ballot_of(poll.guild_id, poll.id, member_id)

    @staticmethod
    def ranking(poll: Poll, ranked: Sequence[int], picked: Sequence[str] = ()) -> list[int]:
        """The ranking so far plus the picked choices: known positions only, each once, in order."""
        positions = {candidate.position for candidate in poll.candidates}
        ranking = [position for position in dict.fromkeys(ranked) if position in positions]
        for value in picked:
            # Menu values come back from the member's client: only plain digits name a position.
            position = parse_id(value, allow_zero=True)
            if position is not None and position in positions and position not in ranking:
                ranking.append(position)
        return ranking

    async def cast_ballot(self, guild_id: int, poll_id: int, member_id: int, ranked: Sequence[int]) -> Ballot:
        """Stores the member's ranking, replacing their earlier ballot."""
        poll = await self.ballot_poll(guild_id, poll_id)
        ranking = self.ranking(poll, ranked)
        if not ranking:
            raise UserError("Pick at least one book before submitting.")
        replaced = await self.store.polls.cast_ballot(guild_id, poll.id, member_id, ranking, now=self.clock.now())
        if replaced is None:
            raise UserError(CLOSED)
        return Ballot(poll=poll, ranking=ranking, replaced=replaced)

    # -- results so far -----------------------------------------------------------------------------

    async def results(self, guild_id: int) -> Results:
        """The last poll: its result once closed, a running ranked poll's ballot count (its counts stay hidden);
        a running Discord poll's counts are `counts_so_far`, which asks Discord."""
        poll = await self.store.polls.latest(guild_id)
        if poll is None:
            raise UserError("No poll has run yet; moderators start one with `/poll start`.")
        if poll.status == "closed":
            return Results(poll=poll)
        if poll.mode == "ranked":
            return Results(poll=poll, ballots=await self.store.polls.ballot_count(guild_id, poll.id))
        return Results(poll=poll)

    async def counts_so_far(self, poll: Poll) -> dict[int, int]:
        """A running Discord poll's votes per candidate position, as Discord shows them now."""
        counts = await self._native_counts(poll, exact=False)
        if counts is None:
            raise UserError("The poll message is gone, so there are no votes to show.")
        return counts

    # -- the close ----------------------------------------------------------------------------------

    async def running(self, guild_id: int) -> Poll:
        poll = await self.store.polls.running(guild_id)
        if poll is None:
            raise UserError("No poll is running.")
        return poll

    async def close_now(self, guild_id: int, poll_id: int) -> Poll:
        """/poll close: the close, with the scheduled job taking over (soon) when it fails."""
        try:
            poll = await self.close(guild_id, poll_id)
        except Exception as error:
            # The scheduled close takes over, soon rather than at the original time.
            retry_at = self.clock.now() + RETRY_AFTER_FAILED_CLOSE
            await self.scheduler.schedule(guild_id, PollClose(poll_id), retry_at)
            if isinstance(error, PermanentJobError):
                raise UserError(f"Poll #{poll_id} is closed and `/poll results` shows its result, but {error}. "
                                "Please check my permissions there.") from error
            raise
        await self.scheduler.cancel(guild_id, PollClose(poll_id))
        return poll

    async def run_close(self, run: Run[PollClose]) -> datetime | None:
        """The PollClose job: closes and announces once, however often it runs."""
        await self.close(run.guild_id, run.job.poll_id)
        return None

    async def close(self, guild_id: int, poll_id: int) -> Poll:
        """Closes the poll (counting it; the store clears its nominations when it has a winner), records the winner
        as the next read and announces the result, each once however often it runs."""
        async with self._closing.setdefault(poll_id, asyncio.Lock()):
            polls = self.store.polls
            poll = await polls.get(guild_id, poll_id)
            if poll is None:
                raise PermanentJobError(f"poll {poll_id} is gone")
            if poll.status == "open":
                outcome = await self._native_outcome(poll) if poll.mode == "native" else None
                poll = await polls.close(guild_id, poll_id, now=self.clock.now(), outcome=outcome)
                log.info("closed poll %d in guild %d", poll.id, guild_id)
            if poll.announcement_message_id is None:
                await self._retire(poll)
                await self._record_next_read(poll)
                await self.reading_now.changed(guild_id)
                poll = await self._announce(poll)
        return poll

    async def _message_id(self, poll: Poll) -> int | None:
        """The poll's message; looked for after its recorded id (and recorded) when the process died after
        posting it and before writing its id down, so the votes on it still count."""
        if poll.message_id is not None or poll.message_after is None:
            return poll.message_id
        message_id = await self.messages.find_poll_message(poll, poll.message_after)
        if message_id is not None:
            log.info("found the message of poll %d in guild %d after a restart", poll.id, poll.guild_id)
            await self.store.polls.set_message(poll.guild_id, poll.id, message_id)
        return message_id

    async def _native_counts(self, poll: Poll, *, exact: bool) -> dict[int, int] | None:
        message_id = await self._message_id(poll)
        if message_id is None:
            return None
        return await self.messages.native_counts(poll, message_id, exact=exact)

    async def _native_outcome(self, poll: Poll) -> Outcome:
        counts = await self._native_counts(poll, exact=True)
        if counts is None:
            return Outcome(winner=None, tie_broken=False,
                           reason="The poll message was deleted, so there were no votes to count.")
        return count_native(counts, len(poll.candidates))

    async def _retire(self, poll: Poll) -> None:
        """A closed ranked poll loses its Vote button; a Discord poll shows its own end."""
        if poll.mode != "ranked":
            return
        message_id = await self._message_id(poll)
        if message_id is not None:
            await self.messages.retire(poll, message_id)

    async def _record_next_read(self, poll: Poll) -> None:
        winner = poll.winner
        if winner is None:
            return
        history = self.store.history
        # A re-run, or a moderator who already added the book, must not be overwritten.
        if await history.get_read(poll.guild_id, winner.book_id) is None:
            await history.add_read(poll.guild_id, winner.book_id, status="planned", source="poll",
                                   now=self.clock.now())

    async def _announce(self, poll: Poll) -> Poll:
        if poll.announcement_after is not None and poll.announcement_channel_id is not None:
            # An earlier run recorded that it was posting, then stopped before recording the post.
            found = await self.announcements.find_result(poll.announcement_channel_id, poll, poll.announcement_after)
            if found is not None:
                log.info("found the result of poll %d in guild %d after a restart", poll.id, poll.guild_id)
                return await self._announced(poll, poll.announcement_channel_id, found)
        channel_id = (await self.channels(poll.guild_id)).announcements or poll.channel_id
        try:
            posted = await self._post_result(poll, channel_id)
        except PostRefused as error:
            problem = f"I could not post the result in <#{channel_id}>: {error.reason}"
            if channel_id == poll.channel_id:
                raise PermanentJobError(problem) from error
            # Retrying cannot help until a moderator acts: the result goes to the poll's own channel, saying why.
            log.warning("guild %d: poll %d's result goes to its own channel: %s", poll.guild_id, poll.id, problem)
            channel_id = poll.channel_id
            posted = await self._post_result(poll, channel_id, f"{problem}. Moderators, please check my permissions.")
        return await self._announced(poll, channel_id, posted)

    async def _post_result(self, poll: Poll, channel_id: int, note: str | None = None) -> int:
        await self.store.polls.announcing(poll.guild_id, poll.id, channel_id, self.announcements.checkpoint())
        posted = await self.announcements.post_result(channel_id, poll, note)
        log.info("announced poll %d in guild %d", poll.id, poll.guild_id)
        return posted

    async def _announced(self, poll: Poll, channel_id: int, message_id: int) -> Poll:
        await self.store.polls.mark_announced(poll.guild_id, poll.id, channel_id, message_id)
        return poll.model_copy(update={"announcement_channel_id": channel_id, "announcement_message_id": message_id})
