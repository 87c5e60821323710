"""One loop over the persisted jobs table: claim what is due, run its handler, record the outcome."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from bot.clock import Clock
from bot.domain.shards import Shards
from bot.jobs import AnyJob, J, Run, UnknownJob, decode, encode
from bot.store.jobs import Job, JobRepository

log = logging.getLogger(__name__)

# A handler runs one job. It returns the next due time for recurring work, or None when the job is done.
JobHandler = Callable[[Run[J]], Awaitable[datetime | None]]


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … capped at one hour."""
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


class PermanentJobError(Exception):
    """A job that cannot succeed by retrying (say, a permission the bot lacks): recorded as failed at once."""


class Scheduler:
    """Owns scheduled work: `schedule` stores a typed job and wakes the loop, which runs due jobs once each (a
    guild's in order, guilds side by side, so one guild's slow Discord calls never hold up another's work) with the
    handler registered for the job's class. A failing job is retried with backoff and never stops the loop. With
    `shards`, only the jobs of guilds on those shards are this process's: other processes run the rest."""

    MAX_ATTEMPTS = 8

    def __init__(self, jobs: JobRepository, clock: Clock, *, idle_seconds: float = 30.0,
                 shards: Shards | None = None) -> None:
        self._jobs = jobs
        # Only these shards' guilds' jobs are this process's to claim, wait for and release (None: every guild's).
        self.shards = shards
        self._clock = clock
        self._handlers: dict[type[Any], JobHandler[Any]] = {}
        self._idle_seconds = idle_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # One worker per guild with claimed jobs; its guild gets no more claimed until it is done.
        self._workers: dict[int, asyncio.Task[int]] = {}
        self._in_flight: set[int] = set()
        self._stranded = False

    def register(self, job_type: type[J], handler: JobHandler[J]) -> None:
        if job_type in self._handlers:
            raise ValueError(f"a handler for {job_type.__name__} is already registered")
        self._handlers[job_type] = handler

    async def schedule(self, guild_id: int, job: AnyJob, due_at: datetime) -> None:
        """Creates the job, or moves it (pending again, attempts reset) to `due_at`; the loop looks at it in time."""
        kind, key, payload = encode(job)
        await self._jobs.schedule(guild_id, kind, key, due_at, payload)
        self._wake.set()

    async def cancel(self, guild_id: int, job: AnyJob) -> bool:
        """Drops the job unless it is running right now; whether there was one to drop."""
        kind, key, _ = encode(job)
        return await self._jobs.cancel(guild_id, kind, key)

    async def find(self, guild_id: int, job: AnyJob) -> Job | None:
        """The job's row (its status, due time and attempts), or None when it was never scheduled or was cancelled."""
        kind, key, _ = encode(job)
        return await self._jobs.get(guild_id, kind, key)

    async def start(self) -> None:
        released = await self._jobs.release_interrupted(shards=self.shards)
        if released:
            log.warning("%d job(s) were interrupted by the last shutdown and will run again", released)
        self._task = asyncio.create_task(self._loop(), name="scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        workers = list(self._workers.values())
        for worker in workers:
            worker.cancel()
        # Their jobs stay 'running' and are released at the next start, as after a crash.
        await asyncio.gather(*workers, return_exceptions=True)

    async def run_due(self) -> int:
        """Claims and runs everything due now, waiting for it; returns how many jobs ran."""
        ran = 0
        while await self._dispatch():
            ran += sum(await asyncio.gather(*self._workers.values()))
        return ran

    async def _dispatch(self) -> int:
        """Claims the due jobs of every guild not busy with earlier ones and starts a worker for each such guild."""
        if self._stranded:
            if released := await self._jobs.release_interrupted(still_running=self._in_flight, shards=self.shards):
                log.warning("%d job(s) whose outcome could not be recorded will run again", released)
            self._stranded = False
        batch = await self._jobs.claim_due(self._clock.now(), busy_guilds=set(self._workers), shards=self.shards)
        by_guild: dict[int, list[Job]] = {}
        for job in batch:
            by_guild.setdefault(job.guild_id, []).append(job)
            self._in_flight.add(job.id)
        for guild_id, jobs in by_guild.items():
            worker = asyncio.create_task(self._work(jobs), name=f"jobs of guild {guild_id}")
            self._workers[guild_id] = worker
            worker.add_done_callback(lambda _, guild_id=guild_id: self._worker_done(guild_id))
        return len(batch)

    def _worker_done(self, guild_id: int) -> None:
        del self._workers[guild_id]
        self._wake.set()  # more of the guild's work may have come due meanwhile

    async def _work(self, jobs: list[Job]) -> int:
        for job in jobs:
            try:
                await self._run(job)
            except Exception:
                # Its outcome could not be written (say, to a busy database): it would stay 'running' and never come
                # round again, so the next round releases it.
                log.exception("could not record the outcome of job %s/%s in guild %d", job.kind, job.key,
                              job.guild_id)
                self._stranded = True
            finally:
                self._in_flight.discard(job.id)
        return len(jobs)

    async def _run(self, job: Job) -> None:
        try:
            typed = decode(job.kind, job.key, job.payload)
        except UnknownJob as error:
            log.error("job %d (%s/%s) cannot run: %s; giving up on it", job.id, job.kind, job.key, error)
            await self._jobs.fail(job, str(error), None, self._clock.now())
            return
        handler = self._handlers.get(type(typed))
        if handler is None:
            log.error("no handler for %s (job %d); giving up on it", type(typed).__name__, job.id)
            await self._jobs.fail(job, f"no handler for {job.kind}", None, self._clock.now())
            return
        run = Run(guild_id=job.guild_id, job=typed, due_at=job.due_at, attempts=job.attempts,
                  last_attempt=job.attempts >= self.MAX_ATTEMPTS)
        try:
            next_due = await handler(run)
        except PermanentJobError as error:
            log.warning("job %s/%s in guild %d failed for good: %s", job.kind, job.key, job.guild_id, error)
            await self._jobs.fail(job, str(error), None, self._clock.now())
        except Exception as error:
            now = self._clock.now()
            retry_at = None if run.last_attempt else now + backoff(job.attempts)
            log.exception("job %s/%s in guild %d failed (attempt %d)", job.kind, job.key, job.guild_id, job.attempts)
            await self._jobs.fail(job, f"{type(error).__name__}: {error}", retry_at, now)
        else:
            await self._jobs.finish(job, self._clock.now(), next_due)

    async def _loop(self) -> None:
        while True:
            # Cleared before looking, so a wake-up that arrives while the table is read is not lost.
            self._wake.clear()
            try:
                await self._dispatch()
                delay = self._idle_seconds
                next_due = await self._jobs.next_due_at(busy_guilds=set(self._workers), shards=self.shards)
                if next_due is not None:
                    delay = max(0.01, min(delay, (next_due - self._clock.now()).total_seconds()))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the scheduler loop hit an error; carrying on")
                delay = self._idle_seconds
            sleeper = asyncio.create_task(self._clock.sleep(delay))
            waker = asyncio.create_task(self._wake.wait())
            try:
                await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                waker.cancel()
