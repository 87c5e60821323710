"""The scheduler over a real jobs table: run once, overdue at start-up, failure and retry, recurring work, typed jobs
and rows in the format earlier versions wrote."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import ManualClock
from bot.jobs import (
    AnnounceReviews,
    FeedPoll,
    MeetingEnd,
    MeetingReminder,
    PollClose,
    ReadingNow,
    ReviewSlot,
    Run,
    UnknownJob,
    decode,
    encode,
)
from bot.scheduler import PermanentJobError, Scheduler
from bot.store import Store

GUILD = 1


async def test_a_due_job_runs_exactly_once(store: Store, clock: ManualClock) -> None:
    ran: list[int] = []

    async def handler(run: Run[PollClose]) -> None:
        ran.append(run.job.poll_id)

    scheduler = Scheduler(store.jobs, clock)
    scheduler.register(PollClose, handler)
    await scheduler.schedule(GUILD, PollClose(3), clock.now() + timedelta(minutes=5))
    assert await scheduler.run_due() == 0
    clock.advance(timedelta(minutes=5))
    assert await scheduler.run_due() == 1
    assert await scheduler.run_due() == 0
    assert ran == [3]
    job = await scheduler.find(GUILD, PollClose(3))
    assert job is not None and job.status == "done"


async def test_a_job_overdue_at_start_up_runs_once_even_if_interrupted_mid_run(store: Store,
                                                                               clock: ManualClock) -> None:
    # Written as earlier versions wrote rows: kind, key and payload by hand.
    await store.jobs.schedule(GUILD, "poll_close", "7", clock.now() - timedelta(days=2))
    # A previous process claimed it and died before recording the outcome.
    claimed = await store.jobs.claim_due(clock.now())
    assert [job.key for job in claimed] == ["7"]
    ran: list[int] = []

    async def handler(run: Run[PollClose]) -> None:
        ran.append(run.job.poll_id)

    scheduler = Scheduler(store.jobs, clock, idle_seconds=0.01)
    scheduler.register(PollClose, handler)
    await scheduler.start()
    try:
        # Until its outcome is recorded (a moment after the handler returns), however busy the machine: 1 s is little
        # for the start-up, the claim and the run on a loaded CI machine.
        deadline = asyncio.get_running_loop().time() + 20.0
        while (job := await store.jobs.get(GUILD, "poll_close", "7")) is None or job.status != "done":
            assert asyncio.get_running_loop().time() < deadline, f"the overdue job did not run: {job}"
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
    finally:
        await scheduler.stop()
    assert ran == [7]


async def test_scheduling_wakes_the_loop_without_waiting_for_its_idle_time(store: Store, clock: ManualClock) -> None:
    ran = asyncio.Event()

    async def handler(run: Run[ReadingNow]) -> None:
        ran.set()

    scheduler = Scheduler(store.jobs, clock, idle_seconds=3600)
    scheduler.register(ReadingNow, handler)
    await scheduler.start()
    try:
        # The loop went to sleep for an hour with nothing to do; only scheduling can bring it back in time.
        await scheduler.schedule(GUILD, ReadingNow(), clock.now())
        await asyncio.wait_for(ran.wait(), timeout=20.0)
    finally:
        await scheduler.stop()


async def test_a_failing_job_is_retried_with_backoff_and_does_not_stop_others(store: Store,
                                                                              clock: ManualClock) -> None:
    calls: list[str] = []

    async def flaky(run: Run[FeedPoll]) -> None:
        calls.append("flaky")
        if len(calls) == 1:
            raise RuntimeError("discord is down")

    async def steady(run: Run[MeetingEnd]) -> None:
        calls.append("steady")

    scheduler = Scheduler(store.jobs, clock)
    scheduler.register(FeedPoll, flaky)
    scheduler.register(MeetingEnd, steady)
    await scheduler.schedule(GUILD, FeedPoll(1), clock.now())
    await scheduler.schedule(GUILD, MeetingEnd(2), clock.now())
    assert await scheduler.run_due() == 2
    job = await scheduler.find(GUILD, FeedPoll(1))
    assert job is not None and job.status == "pending" and "discord is down" in (job.last_error or "")
    assert job.due_at > clock.now()
    clock.advance(timedelta(minutes=1))
    await scheduler.run_due()
    assert calls == ["flaky", "steady", "flaky"]
    job = await scheduler.find(GUILD, FeedPoll(1))
    assert job is not None and job.status == "done"


async def test_the_last_attempt_is_told_to_the_handler_and_then_the_job_gives_up(store: Store,
                                                                                 clock: ManualClock) -> None:
    last: list[bool] = []

    async def failing(run: Run[PollClose]) -> None:
        last.append(run.last_attempt)
        raise RuntimeError("still down")

    scheduler = Scheduler(store.jobs, clock)
    scheduler.register(PollClose, failing)
    await scheduler.schedule(GUILD, PollClose(1), clock.now())
    for _ in range(Scheduler.MAX_ATTEMPTS + 2):
        await scheduler.run_due()
        clock.advance(timedelta(hours=1))
    assert last == [False] * (Scheduler.MAX_ATTEMPTS - 1) + [True]
    job = await scheduler.find(GUILD, PollClose(1))
    assert job is not None and job.status == "failed"


async def test_a_permanent_failure_is_not_retried(store: Store, clock: ManualClock) -> None:
    async def forbidden(run: Run[ReadingNow]) -> None:
        raise PermanentJobError("missing Send Messages")

    scheduler = Scheduler(store.jobs, clock)
    scheduler.register(ReadingNow, forbidden)
    await scheduler.schedule(GUILD, ReadingNow(), clock.now())
    await scheduler.run_due()
    clock.advance(timedelta(days=1))
    assert await scheduler.run_due() == 0
    job = await scheduler.find(GUILD, ReadingNow())
    assert job is not None and job.status == "failed"


async def test_recurring_work_is_rescheduled_by_its_handler(store: Store, clock: ManualClock) -> None:
    seen: list[datetime] = []

    async def weekly(run: Run[ReviewSlot]) -> datetime:
        seen.append(clock.now())
        return clock.now() + timedelta(days=7)

    scheduler = Scheduler(store.jobs, clock)
    scheduler.register(ReviewSlot, weekly)
    await scheduler.schedule(GUILD, ReviewSlot(), clock.now())
    await scheduler.run_due()
    clock.advance(timedelta(days=6))
    assert await scheduler.run_due() == 0
    clock.advance(timedelta(days=1))
    assert await scheduler.run_due() == 1
    assert len(seen) == 2


@pytest.mark.parametrize(("kind", "key"), [("nobody", "k"), ("poll_close", "seven"), ("meeting_reminder", "4:week")])
async def test_a_row_no_job_kind_reads_is_given_up_without_stopping_the_loop(store: Store, clock: ManualClock,
                                                                            kind: str, key: str) -> None:
    ran: list[int] = []

    async def handler(run: Run[PollClose]) -> None:
        ran.append(run.job.poll_id)

    scheduler = Scheduler(store.jobs, clock)
    scheduler.register(PollClose, handler)
    await store.jobs.schedule(GUILD, kind, key, clock.now())
    await scheduler.schedule(GUILD, PollClose(2), clock.now())
    assert await scheduler.run_due() == 2
    job = await store.jobs.get(GUILD, kind, key)
    assert job is not None and job.status == "failed"
    assert ran == [2]


STARTS = datetime(2026, 3, 5, 19, 0, tzinfo=UTC)
# Rows exactly as earlier versions of the bot wrote them, and the job each one is.
OLD_ROWS = [
    (("review_slot", "weekly", {}), ReviewSlot()),
    (("review_slot", "review:12", {}), AnnounceReviews("review:12")),
    (("review_slot", "feed:3:45", {}), AnnounceReviews("feed:3:45")),
    (("review_slot", "review:left-queued", {}), AnnounceReviews("review:left-queued")),
    (("review_slot", "now:998877", {}), AnnounceReviews("now:998877")),
    (("feed_poll", "feed:3", {"feed_id": 3}), FeedPoll(3)),
    (("poll_close", "9", {}), PollClose(9)),
    (("meeting_reminder", "4:day", {"starts_at": "2026-03-05T19:00:00.000000+00:00"}),
     MeetingReminder(4, "day", STARTS)),
    (("meeting_end", "4", {}), MeetingEnd(4)),
    (("reading_now", "pinned", {}), ReadingNow()),
]


@pytest.mark.parametrize(("row", "job"), OLD_ROWS, ids=[str(job) for _, job in OLD_ROWS])
def test_rows_in_the_old_format_are_the_same_jobs_and_the_codec_writes_them_back_unchanged(
        row: tuple[str, str, dict[str, object]], job: object) -> None:
    assert decode(*row) == job
    kind, key, payload = encode(decode(*row))
    assert (kind, key, decode(kind, key, payload)) == (row[0], row[1], job)


def test_an_unreadable_row_is_an_unknown_job() -> None:
    with pytest.raises(UnknownJob):
        decode("poll_close", "", {})
