"""PollService over the real store, with a fake standing in for Discord: start, ballots, a close that is safe to run
twice, and crashes between a post and its record that never post twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from bot.app.polls import Poll, PollService, PostRefused
from bot.app.reading_now import ReadingNowChanges
from bot.clock import ManualClock
from bot.domain.shards import Shards
from bot.errors import UserError
from bot.jobs import PollClose, encode
from bot.scheduler import Scheduler
from bot.store import Store

GUILD = 111
POLLS, ANNOUNCEMENTS = 20, 21
ALICE, BOB, CAROL, MOD = 501, 502, 503, 500


class Crash(BaseException):
    """The process dies: Discord has taken the post, and nothing after it runs."""


@dataclass
class Posted:
    id: int
    channel_id: int
    kind: str  # "poll" or "result"
    poll_id: int
    note: str | None = None


class FakeDiscord:
    """Both ports: messages in a list with rising ids, Discord poll votes per message, switches for failures."""

    def __init__(self) -> None:
        self.posts: list[Posted] = []
        self.votes: dict[int, dict[int, int]] = {}
        self.ended: set[int] = set()
        self.retired: list[int] = []
        self.last_id = 1000
        self.crash_after_post = False
        self.refused_channels: set[int] = set()

    def _next(self) -> int:
        self.last_id += 1
        return self.last_id

    def checkpoint(self) -> int:
        return self.last_id

    def _post(self, channel_id: int, kind: str, poll: Poll, note: str | None = None) -> int:
        if channel_id in self.refused_channels:
            raise PostRefused("Missing Permissions")
        posted = Posted(self._next(), channel_id, kind, poll.id, note)
        self.posts.append(posted)
        if self.crash_after_post:
            self.crash_after_post = False
            raise Crash
        return posted.id

    def _find(self, channel_id: int, kind: str, poll: Poll, after: int) -> int | None:
        return next((p.id for p in self.posts if p.id > after and p.channel_id == channel_id and p.kind == kind
                     and p.poll_id == poll.id), None)

    async def post_poll(self, poll: Poll, duration: timedelta) -> int:
        return self._post(poll.channel_id, "poll", poll)

    async def find_poll_message(self, poll: Poll, after: int) -> int | None:
        return self._find(poll.channel_id, "poll", poll, after)

    async def native_counts(self, poll: Poll, message_id: int, *, exact: bool) -> dict[int, int] | None:
        if exact:
            self.ended.add(message_id)
        return dict(self.votes.get(message_id, {}))

    async def retire(self, poll: Poll, message_id: int) -> None:
        self.retired.append(message_id)

    async def post_result(self, channel_id: int, poll: Poll, note: str | None) -> int:
        return self._post(channel_id, "result", poll, note)

    async def find_result(self, channel_id: int, poll: Poll, after: int) -> int | None:
        return self._find(channel_id, "result", poll, after)

    def of_kind(self, kind: str) -> list[Posted]:
        return [p for p in self.posts if p.kind == kind]


@pytest.fixture
def discord_side() -> FakeDiscord:
    return FakeDiscord()


@pytest.fixture
async def service(store: Store, clock: ManualClock, discord_side: FakeDiscord) -> PollService:
    await store.config.set_channels(GUILD, {"polls": POLLS, "announcements": ANNOUNCEMENTS})
    return PollService(store, clock, Scheduler(store.jobs, clock), discord_side, discord_side,
                       ReadingNowChanges(store, clock, Scheduler(store.jobs, clock)))


async def nominate(store: Store, clock: ManualClock, *books: tuple[str, int]) -> None:
    for title, member in books:
        book, _ = await store.books.find_or_create(GUILD, title, "Author")
        assert await store.polls.nominate(GUILD, book.id, member, now=clock.now()) == "created"
        clock.advance(timedelta(minutes=1))


async def start(service: PollService, mode: str = "ranked") -> Poll:
    return await service.start(GUILD, mode=mode, channel_id=POLLS, started_by=MOD,  # type: ignore[arg-type]
                               duration=timedelta(days=1))


async def test_a_ranked_poll_starts_takes_ballots_and_closes_twice_with_one_announcement(
    store: Store, clock: ManualClock, service: PollService, discord_side: FakeDiscord
) -> None:
    await nominate(store, clock, ("Piranesi", ALICE), ("Hamnet", BOB), ("Beloved", CAROL))
    poll = await start(service)
    (message,) = discord_side.of_kind("poll")
    assert poll.message_id == message.id
    job = await store.jobs.get(GUILD, *encode(PollClose(poll.id))[:2])
    assert job is not None and job.due_at == poll.closes_at

    assert not (await service.cast_ballot(GUILD, poll.id, ALICE, [1])).replaced
    assert (await service.cast_ballot(GUILD, poll.id, ALICE, [1, 1, 7, 0])).ranking == [1, 0]
    await service.cast_ballot(GUILD, poll.id, BOB, [1])
    await service.cast_ballot(GUILD, poll.id, CAROL, [2])
    assert (await service.results(GUILD)).ballots == 3

    first = await service.close(GUILD, poll.id)
    again = await service.close(GUILD, poll.id)
    (result,) = discord_side.of_kind("result")
    assert result.channel_id == ANNOUNCEMENTS
    assert first.announcement_message_id == again.announcement_message_id == result.id
    assert first.winner is not None and first.winner.title == "Hamnet"
    assert discord_side.retired == [message.id]
    reads = await store.history.reads(GUILD)
    assert [(read.book.title, read.status, read.source) for read in reads] == [("Hamnet", "planned", "poll")]
    assert await store.polls.nominations(GUILD) == []
    with pytest.raises(UserError, match="has closed"):
        await service.cast_ballot(GUILD, poll.id, ALICE, [0])


async def test_a_tie_goes_to_the_earliest_nomination(
    store: Store, clock: ManualClock, service: PollService, discord_side: FakeDiscord
) -> None:
    await nominate(store, clock, ("Piranesi", ALICE), ("Hamnet", BOB), ("Beloved", CAROL))
    poll = await start(service, "native")
    assert poll.message_id is not None
    discord_side.votes[poll.message_id] = {0: 1, 1: 2, 2: 2}
    closed = await service.close(GUILD, poll.id)
    assert closed.winner is not None and closed.winner.title == "Hamnet"
    assert closed.outcome is not None and closed.outcome.tie_broken
    assert discord_side.ended == {poll.message_id}


async def test_a_crash_after_the_result_is_posted_and_before_it_is_recorded_never_posts_it_again(
    store: Store, clock: ManualClock, service: PollService, discord_side: FakeDiscord
) -> None:
    await nominate(store, clock, ("Piranesi", ALICE), ("Hamnet", BOB))
    poll = await start(service)
    await service.cast_ballot(GUILD, poll.id, ALICE, [0])
    discord_side.crash_after_post = True
    with pytest.raises(Crash):
        await service.close(GUILD, poll.id)
    interrupted = await store.polls.get(GUILD, poll.id)
    assert interrupted is not None and interrupted.announcement_message_id is None

    # The restarted process runs the close again with a fresh service (no lock or memory kept).
    restarted = PollService(store, clock, Scheduler(store.jobs, clock), discord_side, discord_side,
                       ReadingNowChanges(store, clock, Scheduler(store.jobs, clock)))
    closed = await restarted.close(GUILD, poll.id)
    (result,) = discord_side.of_kind("result")
    assert closed.announcement_message_id == result.id
    assert len(await store.history.reads(GUILD)) == 1


async def test_a_crash_after_the_poll_is_posted_still_counts_its_votes(
    store: Store, clock: ManualClock, service: PollService, discord_side: FakeDiscord
) -> None:
    await nominate(store, clock, ("Piranesi", ALICE), ("Hamnet", BOB))
    discord_side.crash_after_post = True
    with pytest.raises(Crash):
        await start(service, "native")
    (message,) = discord_side.of_kind("poll")
    discord_side.votes[message.id] = {1: 3}
    running = await store.polls.running(GUILD)
    assert running is not None and running.message_id is None

    closed = await service.close(GUILD, running.id)
    assert closed.message_id == message.id
    assert closed.winner is not None and closed.winner.title == "Hamnet"
    assert len(discord_side.of_kind("poll")) == 1


async def test_a_poll_never_posted_closes_without_adopting_another_post(
    store: Store, clock: ManualClock, service: PollService, discord_side: FakeDiscord
) -> None:
    await nominate(store, clock, ("Piranesi", ALICE), ("Hamnet", BOB))
    # Started straight in the store (the process died before posting): there is no poll message to find.
    poll = await store.polls.start(GUILD, mode="native", channel_id=POLLS, started_by=MOD, now=clock.now(),
                                   closes_at=clock.now())
    closed = await service.close(GUILD, poll.id)
    assert closed.winner is None and closed.outcome is not None
    assert "deleted" in closed.outcome.reason
    assert len(await store.polls.nominations(GUILD, waiting_only=True)) == 2


async def test_a_refused_poll_message_starts_nothing(
    store: Store, clock: ManualClock, service: PollService, discord_side: FakeDiscord
) -> None:
    await nominate(store, clock, ("Piranesi", ALICE), ("Hamnet", BOB))
    discord_side.refused_channels.add(POLLS)
    with pytest.raises(UserError, match=r"refused the poll message.*nothing was started"):
        await start(service)
    assert await store.polls.running(GUILD) is None
    assert await store.jobs.list_for_guild(GUILD) == []
    assert len(await store.polls.nominations(GUILD, waiting_only=True)) == 2
    discord_side.refused_channels.clear()
    assert (await start(service)).message_id is not None
    with pytest.raises(UserError, match="already running"):
        await start(service)


async def test_a_refused_announcements_channel_sends_the_result_to_the_polls_channel(
    store: Store, clock: ManualClock, service: PollService, discord_side: FakeDiscord
) -> None:
    await nominate(store, clock, ("Piranesi", ALICE), ("Hamnet", BOB))
    poll = await start(service)
    discord_side.refused_channels.add(ANNOUNCEMENTS)
    closed = await service.close_now(GUILD, poll.id)
    (result,) = discord_side.of_kind("result")
    assert result.channel_id == POLLS and closed.announcement_channel_id == POLLS
    assert result.note is not None and "check my permissions" in result.note
    assert await store.jobs.get(GUILD, *encode(PollClose(poll.id))[:2]) is None


async def test_too_few_nominations_are_told_in_member_words(store: Store, clock: ManualClock,
                                                            service: PollService) -> None:
    await nominate(store, clock, ("Piranesi", ALICE))
    with pytest.raises(UserError, match="needs 2 to 10 nominations and there is 1"):
        await start(service)


async def test_start_up_arms_the_poll_closes_of_the_process_shards_guilds_only(
    store: Store, clock: ManualClock, service: PollService
) -> None:
    # Discord puts these on shards 0 and 1 of 2; this process runs shard 1.
    on_0, on_1 = 10 << 22, 11 << 22
    for guild in (on_0, on_1):
        await store.config.set_channels(guild, {"polls": POLLS})
        for title, member in (("Piranesi", ALICE), ("Hamnet", BOB)):
            book, _ = await store.books.find_or_create(guild, title, "Author")
            await store.polls.nominate(guild, book.id, member, now=clock.now())
        # Started by a process that died before it scheduled the close.
        await store.polls.start(guild, mode="ranked", channel_id=POLLS, started_by=ALICE, now=clock.now(),
                                closes_at=clock.now() + timedelta(hours=1))
    await service.arm_closes(Shards(2, (1,)))
    assert await store.jobs.list_for_guild(on_0) == []
    assert [job.kind for job in await store.jobs.list_for_guild(on_1)] == ["poll_close"]
