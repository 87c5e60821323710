"""The kinds of scheduled work as small typed values, and the one codec between them and a jobs-table row.

A row is (kind, key, payload), unique per guild, kind and key: scheduling the same job again moves it. The row layout
is the one earlier versions wrote, so a database keeps its pending jobs across an upgrade.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Literal, Protocol, TypeVar

from bot.store.db import from_db_time, to_db_time
from bot.store.jobs import Job


@dataclass(frozen=True)
class ReviewSlot:
    """The guild's weekly review slot: announce the queue, then come round again at the next slot."""


@dataclass(frozen=True)
class AnnounceReviews:
    """Announce the queue once, right away. `cause` tells the runs apart: `review:<id>` after a review was written
    without a weekly slot, `feed:<feed id>:<review id>` after a feed brought posts in, `review:left-queued` at
    start-up, `now:<interaction id>` for /review announce-now."""

    cause: str

    @property
    def waits_for_slot(self) -> bool:
        """Written work (a review, a feed post) waits for the weekly slot when one was set meanwhile."""
        return self.cause.startswith(("review:", "feed:"))


@dataclass(frozen=True)
class FeedPoll:
    """Poll one blog feed; recurring."""

    feed_id: int


@dataclass(frozen=True)
class PollClose:
    """Close a poll at its closing time (or sooner, when a /poll close failed half-way)."""

    poll_id: int


@dataclass(frozen=True)
class MeetingReminder:
    """A meeting's reminder a day or an hour before `starts_at` (a moved meeting gets a new one)."""

    meeting_id: int
    which: Literal["day", "hour"]
    starts_at: datetime | None = None


@dataclass(frozen=True)
class MeetingEnd:
    """A meeting is over; a repeating one gets its next occurrence."""

    meeting_id: int


@dataclass(frozen=True)
class ReadingNow:
    """Refresh the guild's pinned Reading now message."""


AnyJob = ReviewSlot | AnnounceReviews | FeedPoll | PollClose | MeetingReminder | MeetingEnd | ReadingNow
J = TypeVar("J", bound=AnyJob)

REVIEW_SLOT = "review_slot"
WEEKLY = "weekly"


class UnknownJob(Exception):
    """A row no job kind reads (an unknown kind, or a key that does not fit its kind): it cannot run."""


def encode(job: AnyJob) -> tuple[str, str, dict[str, Any]]:
    """The (kind, key, payload) row of a job."""
    match job:
        case ReviewSlot():
            return REVIEW_SLOT, WEEKLY, {}
        case AnnounceReviews(cause=cause):
            return REVIEW_SLOT, cause, {}
        case FeedPoll(feed_id=feed_id):
            return "feed_poll", f"feed:{feed_id}", {"feed_id": feed_id}
        case PollClose(poll_id=poll_id):
            return "poll_close", str(poll_id), {}
        case MeetingReminder(meeting_id=meeting_id, which=which, starts_at=starts_at):
            payload = {"starts_at": to_db_time(starts_at)} if starts_at is not None else {}
            return "meeting_reminder", f"{meeting_id}:{which}", payload
        case MeetingEnd(meeting_id=meeting_id):
            return "meeting_end", str(meeting_id), {}
        case ReadingNow():
            return "reading_now", "pinned", {}


def decode(kind: str, key: str, payload: dict[str, Any]) -> AnyJob:
    """The job a row holds; raises UnknownJob when it holds none."""
    if kind == REVIEW_SLOT:
        return ReviewSlot() if key == WEEKLY else AnnounceReviews(key)
    if kind == "feed_poll":
        feed_id = payload.get("feed_id")
        if isinstance(feed_id, int):
            return FeedPoll(feed_id)
        return FeedPoll(_number(kind, key.removeprefix("feed:")))
    if kind == "poll_close":
        return PollClose(_number(kind, key))
    if kind == "meeting_reminder":
        meeting_id, _, which = key.partition(":")
        if which in ("day", "hour"):
            starts_at = payload.get("starts_at")
            return MeetingReminder(_number(kind, meeting_id), which,
                                   from_db_time(starts_at) if isinstance(starts_at, str) and starts_at else None)
        raise UnknownJob(f"bad {kind} key {key!r}")
    if kind == "meeting_end":
        return MeetingEnd(_number(kind, key))
    if kind == "reading_now":
        return ReadingNow()
    raise UnknownJob(f"no job kind {kind!r}")


def _number(kind: str, text: str) -> int:
    if not text.isdigit():
        raise UnknownJob(f"bad {kind} key {text!r}")
    return int(text)


@dataclass(frozen=True)
class Run(Generic[J]):
    """One run of a job, as its handler sees it. `last_attempt`: a failure now is not retried (the scheduler's
    retry policy says so), so recurring work may prefer to give up on this round only."""

    guild_id: int
    job: J
    due_at: datetime
    attempts: int
    last_attempt: bool


class Schedules(Protocol):
    """The scheduler as the use cases see it (`bot.scheduler.Scheduler`)."""

    async def schedule(self, guild_id: int, job: AnyJob, due_at: datetime) -> None:
        """Creates the job, or moves it to `due_at`; it runs in time without anything else to call."""
        ...

    async def cancel(self, guild_id: int, job: AnyJob) -> bool:
        ...

    async def find(self, guild_id: int, job: AnyJob) -> Job | None:
        ...
