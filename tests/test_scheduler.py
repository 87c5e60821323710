"""The scheduler over a real jobs table: run once, overdue at start-up, failure and retry, recurring work."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from bot.clock import ManualClock
from bot.scheduler import PermanentJobError, Scheduler
from bot.store import Store
from bot.store.jobs import Job

GUILD = 1


async def test_a_due_job_runs_exactly_once(store: Store, clock: ManualClock) -> None:
    ran: list[str] = []

    async def handler(job: Job) -> None:
        ran.append(job.key)

    scheduler = Scheduler(store.jobs, clock)
    scheduler.register("ping", handler)
    await store.jobs.schedule(GUILD, "ping", "a", clock.now() + timedelta(minutes=5))
    assert await scheduler.run_due() == 0
    clock.advance(timedelta(minutes=5))
    assert await scheduler.run_due() == 1
    assert await scheduler.run_due() == 0
    assert ran == ["a"]
    job = await store.jobs.get(GUILD, "ping", "a")
    assert job is not None and job.status == "done"


async def test_a_job_overdue_at_start_up_runs_once_even_if_interrupted_mid_run(store: Store,
                                                                               clock: ManualClock) -> None:
    await store.jobs.schedule(GUILD, "ping", "late", clock.now() - timedelta(days=2))
    # A previous process claimed it and died before recording the outcome.
    claimed = await store.jobs.claim_due(clock.now())
    assert [job.key for job in claimed] == ["late"]
    ran: list[str] = []

    async def handler(job: Job) -> None:
        ran.append(job.key)

    scheduler = Scheduler(store.jobs, clock, idle_seconds=0.01)
    scheduler.register("ping", handler)
    await scheduler.start()
    try:
        # Until its outcome is recorded (a moment after the handler returns), however busy the machine: 1 s is little
        # for the start-up, the claim and the run on a loaded CI machine.
        deadline = asyncio.get_running_loop().time() + 20.0
        while (job := await store.jobs.get(GUILD, "ping", "late")) is None or job.status != "done":
            assert asyncio.get_running_loop().time() < deadline, f"the overdue job did not run: {job}"
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
    finally:
        await scheduler.stop()
    assert ran == ["late"]


async def test_a_failing_job_is_retried_with_backoff_and_does_not_stop_others(store: Store,
                                                                              clock: ManualClock) -> None:
    calls: list[str] = []

    async def flaky(job: Job) -> None:
        calls.append("flaky")
        if len(calls) == 1:
            raise RuntimeError("discord is down")

    async def steady(job: Job) -> None:
        calls.append("steady")

    scheduler = Scheduler(store.jobs, clock)
    scheduler.register("flaky", flaky)
    scheduler.register("steady", steady)
    await store.jobs.schedule(GUILD, "flaky", "x", clock.now())
    await store.jobs.schedule(GUILD, "steady", "y", clock.now())
    assert await scheduler.run_due() == 2
    job = await store.jobs.get(GUILD, "flaky", "x")
    assert job is not None and job.status == "pending" and "discord is down" in (job.last_error or "")
    assert job.due_at > clock.now()
    clock.advance(timedelta(minutes=1))
    await scheduler.run_due()
    assert calls == ["flaky", "steady", "flaky"]
    job = await store.jobs.get(GUILD, "flaky", "x")
    assert job is not None and job.status == "done"


async def test_a_permanent_failure_is_not_retried(store: Store, clock: ManualClock) -> None:
    async def forbidden(job: Job) -> None:
        raise PermanentJobError("missing Send Messages")

    scheduler = Scheduler(store.jobs, clock)
    scheduler.register("post", forbidden)
    await store.jobs.schedule(GUILD, "post", "p", clock.now())
    await scheduler.run_due()
    clock.advance(timedelta(days=1))
    assert await scheduler.run_due() == 0
    job = await store.jobs.get(GUILD, "post", "p")
    assert job is not None and job.status == "failed"


async def test_recurring_work_is_rescheduled_by_its_handler(store: Store, clock: ManualClock) -> None:
    seen: list[datetime] = []

    async def weekly(job: Job) -> datetime:
        seen.append(clock.now())
        return clock.now() + timedelta(days=7)

    scheduler = Scheduler(store.jobs, clock)
    scheduler.register("weekly", weekly)
    await store.jobs.schedule(GUILD, "weekly", "slot", clock.now())
    await scheduler.run_due()
    clock.advance(timedelta(days=6))
    assert await scheduler.run_due() == 0
    clock.advance(timedelta(days=1))
    assert await scheduler.run_due() == 1
    assert len(seen) == 2


async def test_a_job_of_an_unknown_kind_is_given_up_without_stopping_the_loop(store: Store,
                                                                             clock: ManualClock) -> None:
    scheduler = Scheduler(store.jobs, clock)
    await store.jobs.schedule(GUILD, "nobody", "k", clock.now())
    assert await scheduler.run_due() == 1
    job = await store.jobs.get(GUILD, "nobody", "k")
    assert job is not None and job.status == "failed"
