"""Guild isolation over the whole store: every repository method is scoped by guild, and one guild's data is
invisible to, and untouched by, another guild's reads and writes — even when the other guild names its ids."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.domain.goodreads import GoodreadsBook
from bot.domain.polls import Outcome
from bot.domain.sections import parse_sections
from bot.domain.shards import Shards
from bot.store import Store
from bot.store.config import GuildConfig
from bot.store.history import HistoryVersions
from bot.store.jobs import Job
from bot.store.meetings import ClubPosts
from bot.store.reviews import FeedReview
from tests.databases import table_names

GUILD_A, GUILD_B = 111, 222
ALICE, BOB = 501, 502
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# Methods that do not take a guild, and why that is right.
CROSS_GUILD = {
    "config.guild_ids": "which guilds (of the process's shards) have settings, so that start-up can arm each "
                        "guild's weekly slot",
    "jobs.claim_due": "the scheduler claims due jobs of every guild of its shards; each job carries its guild",
    "jobs.next_due_at": "the scheduler sleeps until the earliest job of any guild of its shards",
    "jobs.release_interrupted": "after a crash every interrupted job of the process's shards runs again",
    "jobs.finish": "scoped by the job's own guild_id (proved below with a job naming another guild)",
    "jobs.fail": "scoped by the job's own guild_id (proved below with a job naming another guild)",
    "state.get": "the bot's own key-value state (the command tree hash), not guild data",
    "state.set": "the bot's own key-value state (the command tree hash), not guild data",
    "state.delete": "the bot's own key-value state (the former development guild), not guild data",
    "catalogue_cache.get": "public Open Library answers shared by every guild; nothing a guild wrote",
    "catalogue_cache.put": "public Open Library answers shared by every guild; nothing a guild wrote",
    "meetings.guilds_with_meetings": "start-up re-arms the jobs of every scheduled meeting of the process's shards",
}


def repository_methods(store: Store) -> dict[str, inspect.Signature]:
    """Every public async method of every repository on the Store, as `repository.method`."""
    found: dict[str, inspect.Signature] = {}
    for attribute, repository in vars(store).items():
        if attribute == "db":
            continue
        for name, method in inspect.getmembers(type(repository), inspect.iscoroutinefunction):
            if not name.startswith("_"):
                found[f"{attribute}.{name}"] = inspect.signature(method)
    return found


@dataclass
class Seeded:
    """Ids of everything one guild wrote, for the other guild to name."""

    book_id: int
    other_book_id: int
    feed_id: int
    feed_url: str
    job: Job
    review_id: int
    poll_id: int
    discussion_id: int
    meeting_id: int


async def seed(store: Store, guild_id: int) -> Seeded:
    """One guild with something in every table: settings, books, history, reviews, a feed, a discussion, a poll."""
    await store.config.set_channels(guild_id, {"reviews": 10, "discussions": 11, "polls": 12, "announcements": 13})
    await store.config.set_schedule(guild_id, 4, "18:00", "Europe/London")
    await store.config.set_moderator_role(guild_id, 77)
    book, _ = await store.books.find_or_create(guild_id, "Never Let Me Go", "Kazuo Ishiguro")
    other, _ = await store.books.find_or_create(guild_id, "Piranesi", "Susanna Clarke")
    await store.history.add_read(guild_id, book.id, status="finished", started_on=date(2026, 1, 5),
                                 finished_on=date(2026, 2, 1), now=NOW)
    await store.history.rate(guild_id, book.id, ALICE, "Alice", 5, now=NOW)
    imported = GoodreadsBook(title="The Remains of the Day", author="Kazuo Ishiguro", rating=4,
                             date_read=date(2025, 6, 1), review="Quietly devastating.", line=2)
    await store.history.import_goodreads(guild_id, [imported], member_id=ALICE, member_name="Alice", now=NOW)
    review = await store.reviews.queue_review(guild_id, book.id, member_id=ALICE, reviewer_name="Alice", rating=5,
                                              body="Heartbreaking and calm.", spoilers="Tommy", now=NOW)
    await store.reviews.mark_announcing(guild_id, review.id, 10)
    await store.reviews.record_messages(guild_id, review.id, [900])
    await store.reviews.mark_announced(guild_id, review.id, [900], NOW)
    feed = await store.feeds.add(guild_id, "https://club.example/feed")
    assert feed is not None
    await store.feeds.record_success(guild_id, feed.id, title="Club blog", etag="e1", last_modified=None,
                                     polled_at=NOW)
    post = FeedReview(entry_key="post-1", book_id=book.id, reviewer_name="Club blog", body="Loved it")
    await store.reviews.take_feed_entries(guild_id, feed.id, [post], ["post-0"], NOW)
    job = await store.jobs.schedule(guild_id, "review_slot", "weekly", NOW + timedelta(days=3), {"n": 1})
    discussion = await store.discussions.create(
        guild_id, book.id, channel_id=11, thread_id=20,
        sections=[(section, 100 + index) for index, section in enumerate(parse_sections("Part 1, Part 2"))],
        started_by=ALICE, at=NOW,
    )
    assert discussion is not None
    await store.discussions.set_terms(guild_id, discussion.id, ["Tommy", "donations"])
    await store.discussions.record_progress(guild_id, discussion.id, ALICE, 1, NOW)
    await store.discussions.remember_webhook(guild_id, 11, 950, NOW)
    await store.discussions.first_notice(guild_id, ALICE, NOW)
    third, _ = await store.books.find_or_create(guild_id, "Hamnet", "Maggie O'Farrell")
    for nominated in (other.id, third.id):
        await store.polls.nominate(guild_id, nominated, ALICE, now=NOW)
    poll = await store.polls.start(guild_id, mode="ranked", channel_id=12, started_by=BOB, now=NOW,
                                   closes_at=NOW + timedelta(days=2))
    await store.polls.set_message(guild_id, poll.id, 960)
    await store.polls.cast_ballot(guild_id, poll.id, ALICE, [1, 0], now=NOW)
    meeting = await store.meetings.create(
        guild_id, starts_at=NOW + timedelta(days=3), ends_at=NOW + timedelta(days=3, hours=2), timezone="UTC",
        channel_id=None, location="Library", book_id=book.id, section="Part 1", repeat="weekly", created_by=BOB,
        now=NOW)
    await store.meetings.set_event(guild_id, meeting.id, 970 + guild_id)
    await store.meetings.create(
        guild_id, starts_at=NOW + timedelta(days=10), ends_at=NOW + timedelta(days=10, hours=2), timezone="UTC",
        channel_id=None, location="Library", book_id=None, section=None, repeat="weekly", created_by=BOB, now=NOW,
        previous_id=meeting.id)
    await store.meetings.record_reminder(guild_id, meeting.id, "day", meeting.starts_at, 13, 980, NOW)
    await store.meetings.set_reminder_role(guild_id, 990)
    await store.meetings.set_reading_now(guild_id, 13, 991)
    return Seeded(book_id=book.id, other_book_id=other.id, feed_id=feed.id, feed_url=feed.url, job=job,
                  review_id=review.id, poll_id=poll.id, discussion_id=discussion.id, meeting_id=meeting.id)


Call = Callable[[Store, int, Seeded], Awaitable[Any]]


async def opinions(store: Store, guild_id: int, seeded: Seeded) -> list[Any]:
    """A book's ratings and quotes, read together, as one list."""
    ratings, quotes = await store.history.opinions(guild_id, seeded.book_id, quotes=3)
    return [*ratings, *quotes]

WEEK = (date(2026, 1, 1), date(2026, 3, 1))

# Reads: for the guild that wrote, something; for any other guild naming the same ids, nothing.
READS: dict[str, Call] = {
    "config.get": lambda s, g, x: s.config.get(g),
    "config.timezone": lambda s, g, x: s.config.timezone(g),
    "books.get": lambda s, g, x: s.books.get(g, x.book_id),
    "books.find": lambda s, g, x: s.books.find(g, "Never Let Me Go", "Kazuo Ishiguro"),
    "books.list_all": lambda s, g, x: s.books.list_all(g),
    "books.suggest": lambda s, g, x: s.books.suggest(g, "Never"),
    "feeds.get": lambda s, g, x: s.feeds.get(g, x.feed_id),
    "feeds.list": lambda s, g, x: s.feeds.list(g),
    "jobs.get": lambda s, g, x: s.jobs.get(g, "review_slot", "weekly"),
    "jobs.list_for_guild": lambda s, g, x: s.jobs.list_for_guild(g),
    "history.get_read": lambda s, g, x: s.history.get_read(g, x.book_id),
    "history.reads": lambda s, g, x: s.history.reads(g),
    "history.count_reads": lambda s, g, x: s.history.count_reads(g),
    "history.finished_between": lambda s, g, x: s.history.finished_between(g, *WEEK),
    "history.count_finished_between": lambda s, g, x: s.history.count_finished_between(g, *WEEK),
    "history.last_finished": lambda s, g, x: s.history.last_finished(g),
    "history.read_statuses": lambda s, g, x: s.history.read_statuses(g),
    "history.read_rows": lambda s, g, x: s.history.read_rows(g),
    "history.versions": lambda s, g, x: s.history.versions(g),
    "history.book_names": lambda s, g, x: s.history.book_names(g),
    "history.books": lambda s, g, x: s.history.books(g, [x.book_id, x.other_book_id]),
    "history.scores": lambda s, g, x: s.history.scores(g),
    "history.rated_book_ids": lambda s, g, x: s.history.rated_book_ids(g, ALICE),
    "history.star_stats": lambda s, g, x: s.history.star_stats(g),
    "history.member_names": lambda s, g, x: s.history.member_names(g),
    "history.member_stars": lambda s, g, x: s.history.member_stars(g, ALICE),
    "history.reads_next_to": lambda s, g, x: s.history.reads_next_to(g, x.book_id, after=False),
    "history.reads_from_to": lambda s, g, x: s.history.reads_from_to(g, x.book_id, x.book_id),
    "history.member_ratings": lambda s, g, x: s.history.member_ratings(g, x.book_id),
    "history.quotes": lambda s, g, x: s.history.quotes(g, x.book_id),
    "history.opinions": lambda s, g, x: opinions(s, g, x),
    "history.export_books": lambda s, g, x: s.history.export_books(g),
    "reviews.get": lambda s, g, x: s.reviews.get(g, x.review_id),
    "reviews.queued": lambda s, g, x: s.reviews.queued(g),
    "reviews.published": lambda s, g, x: s.reviews.published(g),
    "reviews.latest": lambda s, g, x: s.reviews.latest(g),
    "reviews.count_published": lambda s, g, x: s.reviews.count_published(g),
    "reviews.seen_entries": lambda s, g, x: s.reviews.seen_entries(g, x.feed_id, ["post-0", "post-1"]),
    "discussions.get": lambda s, g, x: s.discussions.get(g, x.discussion_id),
    "discussions.for_book": lambda s, g, x: s.discussions.for_book(g, x.book_id),
    "discussions.list": lambda s, g, x: s.discussions.list(g),
    "discussions.guard_version": lambda s, g, x: s.discussions.guard_version(g),
    "discussions.progress": lambda s, g, x: s.discussions.progress(g, ALICE),
    "discussions.terms": lambda s, g, x: s.discussions.terms(g, x.discussion_id),
    "discussions.all_terms": lambda s, g, x: s.discussions.all_terms(g),
    "discussions.webhook_id": lambda s, g, x: s.discussions.webhook_id(g, 11),
    "polls.nominations": lambda s, g, x: s.polls.nominations(g),
    "polls.count_for_member": lambda s, g, x: s.polls.count_for_member(g, ALICE),
    "polls.get": lambda s, g, x: s.polls.get(g, x.poll_id),
    "polls.running": lambda s, g, x: s.polls.running(g),
    "polls.latest": lambda s, g, x: s.polls.latest(g),
    "polls.ballot_of": lambda s, g, x: s.polls.ballot_of(g, x.poll_id, ALICE),
    "polls.ballot_count": lambda s, g, x: s.polls.ballot_count(g, x.poll_id),
    "meetings.get": lambda s, g, x: s.meetings.get(g, x.meeting_id),
    "meetings.by_event": lambda s, g, x: s.meetings.by_event(g, 970 + GUILD_A),
    "meetings.next_of": lambda s, g, x: s.meetings.next_of(g, x.meeting_id),
    "meetings.scheduled": lambda s, g, x: s.meetings.scheduled(g),
    "meetings.reminder": lambda s, g, x: s.meetings.reminder(g, x.meeting_id, "day", NOW + timedelta(days=3)),
    "meetings.club_posts": lambda s, g, x: s.meetings.club_posts(g),
}


def other_guilds_job(job: Job) -> Job:
    return job.model_copy(update={"guild_id": GUILD_B})


# Writes made for another guild with the ids of the guild that wrote first; they must leave its rows alone.
WRITES: dict[str, Call] = {
    "config.set_channels": lambda s, g, x: s.config.set_channels(g, {"reviews": 99}),
    "config.set_schedule": lambda s, g, x: s.config.set_schedule(g, 0, "07:00", "UTC"),
    "config.set_moderator_role": lambda s, g, x: s.config.set_moderator_role(g, None),
    "books.find_or_create": lambda s, g, x: s.books.find_or_create(g, "Never Let Me Go", "Kazuo Ishiguro",
                                                                   year=2005, isbn13="9781571310880"),
    "feeds.add": lambda s, g, x: s.feeds.add(g, x.feed_url),
    "feeds.remove": lambda s, g, x: s.feeds.remove(g, x.feed_url),
    "feeds.record_success": lambda s, g, x: s.feeds.record_success(g, x.feed_id, title="Hijacked", etag="x",
                                                                   last_modified="y", polled_at=NOW),
    "feeds.record_failure": lambda s, g, x: s.feeds.record_failure(g, x.feed_id, "boom", NOW),
    "feeds.mark_failure_reported": lambda s, g, x: s.feeds.mark_failure_reported(g, x.feed_id),
    "jobs.schedule": lambda s, g, x: s.jobs.schedule(g, "review_slot", "weekly", NOW),
    "jobs.cancel": lambda s, g, x: s.jobs.cancel(g, "review_slot", "weekly"),
    "jobs.finish": lambda s, g, x: s.jobs.finish(other_guilds_job(x.job), NOW),
    "jobs.fail": lambda s, g, x: s.jobs.fail(other_guilds_job(x.job), "boom", None, NOW),
    "history.add_read": lambda s, g, x: s.history.add_read(g, x.book_id, status="planned", now=NOW),
    "history.rate": lambda s, g, x: s.history.rate(g, x.book_id, ALICE, "Alice", 1, now=NOW),
    "history.import_goodreads": lambda s, g, x: s.history.import_goodreads(
        g, [GoodreadsBook(title="Never Let Me Go", author="Kazuo Ishiguro", rating=1, line=2)],
        member_id=ALICE, member_name="Alice", now=NOW),
    "reviews.queue_review": lambda s, g, x: s.reviews.queue_review(
        g, x.book_id, member_id=ALICE, reviewer_name="Alice", rating=1, body="x", spoilers=None, now=NOW),
    "reviews.take_feed_entries": lambda s, g, x: s.reviews.take_feed_entries(
        g, x.feed_id, [FeedReview(entry_key="post-2", book_id=x.book_id, reviewer_name="b", body="x")],
        ["post-1"], NOW),
    "reviews.mark_announcing": lambda s, g, x: s.reviews.mark_announcing(g, x.review_id, 99),
    "reviews.record_messages": lambda s, g, x: s.reviews.record_messages(g, x.review_id, [1, 2]),
    "reviews.mark_announced": lambda s, g, x: s.reviews.mark_announced(g, x.review_id, [1], NOW),
    "discussions.create": lambda s, g, x: s.discussions.create(g, x.book_id, channel_id=1, thread_id=2,
                                                               sections=[], started_by=BOB, at=NOW),
    "discussions.set_terms": lambda s, g, x: s.discussions.set_terms(g, x.discussion_id, []),
    "discussions.record_progress": lambda s, g, x: s.discussions.record_progress(g, x.discussion_id, ALICE, 2, NOW),
    "discussions.remember_webhook": lambda s, g, x: s.discussions.remember_webhook(g, 11, 951, NOW),
    "discussions.forget_webhook": lambda s, g, x: s.discussions.forget_webhook(g, 11, 950),
    "discussions.first_notice": lambda s, g, x: s.discussions.first_notice(g, ALICE, NOW),
    "polls.nominate": lambda s, g, x: s.polls.nominate(g, x.book_id, ALICE, now=NOW),
    "polls.start": lambda s, g, x: s.polls.start(g, mode="native", channel_id=1, started_by=BOB, now=NOW,
                                                 closes_at=NOW + timedelta(hours=1)),
    "polls.abandon": lambda s, g, x: s.polls.abandon(g, x.poll_id),
    "polls.set_message": lambda s, g, x: s.polls.set_message(g, x.poll_id, 1),
    "polls.cast_ballot": lambda s, g, x: s.polls.cast_ballot(g, x.poll_id, ALICE, [0, 1], now=NOW),
    "polls.close": lambda s, g, x: s.polls.close(g, x.poll_id, now=NOW,
                                                 outcome=Outcome(winner=0, tie_broken=False, reason="forced")),
    "polls.mark_announced": lambda s, g, x: s.polls.mark_announced(g, x.poll_id, 1, 2),
    "polls.announcing": lambda s, g, x: s.polls.announcing(g, x.poll_id, 1, 2),
    "meetings.create": lambda s, g, x: s.meetings.create(
        g, starts_at=NOW, ends_at=NOW + timedelta(hours=1), timezone="UTC", channel_id=None, location="x",
        book_id=x.book_id, section=None, repeat="none", created_by=BOB, now=NOW, previous_id=x.meeting_id),
    "meetings.set_event": lambda s, g, x: s.meetings.set_event(g, x.meeting_id, 1),
    "meetings.move": lambda s, g, x: s.meetings.move(g, x.meeting_id, starts_at=NOW, ends_at=NOW, channel_id=1,
                                                     location=None),
    "meetings.set_status": lambda s, g, x: s.meetings.set_status(g, x.meeting_id, "cancelled"),
    "meetings.delete": lambda s, g, x: s.meetings.delete(g, x.meeting_id),
    "meetings.record_reminder": lambda s, g, x: s.meetings.record_reminder(
        g, x.meeting_id, "day", NOW + timedelta(days=3), 1, 2, NOW),
    "meetings.set_reminder_role": lambda s, g, x: s.meetings.set_reminder_role(g, 1),
    "meetings.set_reading_now": lambda s, g, x: s.meetings.set_reading_now(g, 1, 2),
    "books.rename": lambda s, g, x: s.books.rename(g, x.book_id, "Hijacked", "Nobody"),
    "history.start_read": lambda s, g, x: s.history.start_read(g, x.other_book_id, on=date(2026, 3, 1), now=NOW),
    "history.finish_read": lambda s, g, x: s.history.finish_read(g, x.book_id, on=date(2026, 3, 1)),
    "history.remove_read": lambda s, g, x: s.history.remove_read(g, x.book_id),
    "reviews.delete": lambda s, g, x: s.reviews.delete(g, x.review_id, statuses=("queued", "announcing", "announced")),
    "discussions.end": lambda s, g, x: s.discussions.end(g, x.discussion_id, ended_by=BOB, at=NOW),
    "polls.withdraw": lambda s, g, x: s.polls.withdraw(g, x.other_book_id, ALICE, any_member=True),
}


def is_empty(value: Any, guild_id: int) -> bool:
    """What a guild that never wrote anything reads back."""
    if isinstance(value, GuildConfig):
        return value == GuildConfig(guild_id=guild_id)
    if isinstance(value, ClubPosts):
        return value == ClubPosts(guild_id=guild_id)
    if isinstance(value, HistoryVersions):
        return value == HistoryVersions(0, 0)
    if isinstance(value, list | dict | set):
        return len(value) == 0
    return value is None or value == 0


async def guild_rows(store: Store, guild_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the guild, table by table: what must not change when another guild writes."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    for name in await table_names(store.db, with_column="guild_id"):
        found = await store.db.fetch_all(f'SELECT * FROM "{name}" WHERE guild_id = ? ORDER BY rowid',  # noqa: S608
                                         (guild_id,))
        rows[name] = [tuple(row) for row in found]
    return rows


def test_every_repository_method_takes_the_guild_first_or_says_why_not(tmp_path: Any) -> None:
    methods = repository_methods(Store(tmp_path / "unopened.db"))
    assert len(methods) > 60
    unscoped = {
        name for name, signature in methods.items()
        if list(signature.parameters)[1:2] != ["guild_id"]
    }
    assert unscoped == set(CROSS_GUILD), "take guild_id first, or add the method to CROSS_GUILD with the reason"


def test_every_guild_scoped_method_has_an_isolation_case(tmp_path: Any) -> None:
    methods = set(repository_methods(Store(tmp_path / "unopened.db")))
    scoped_by_job = {"jobs.finish", "jobs.fail"}
    assert set(READS).isdisjoint(WRITES)
    assert set(READS) | set(WRITES) == (methods - set(CROSS_GUILD)) | scoped_by_job


async def test_another_guild_reads_nothing_of_a_guilds_data_even_naming_its_ids(store: Store) -> None:
    seeded = await seed(store, GUILD_A)
    leaks = []
    for name, read in READS.items():
        own = await read(store, GUILD_A, seeded)
        assert not is_empty(own, GUILD_A), f"{name}: the seed left nothing for this read to find"
        seen = await read(store, GUILD_B, seeded)
        if not is_empty(seen, GUILD_B):
            leaks.append(f"{name}: {seen!r}")
    assert leaks == []


async def test_another_guilds_writes_never_touch_a_guilds_rows(store: Store) -> None:
    seeded = await seed(store, GUILD_A)
    before = await guild_rows(store, GUILD_A)
    assert all(before.values()), [table for table, rows in before.items() if not rows]
    touched = []
    for name, write in WRITES.items():
        # A write refused outright (another guild's id does not resolve) is as good as one that misses.
        with contextlib.suppress(Exception):
            await write(store, GUILD_B, seeded)
        if await guild_rows(store, GUILD_A) != before:
            touched.append(name)
            before = await guild_rows(store, GUILD_A)
    assert touched == []
    for name, read in READS.items():
        assert not is_empty(await read(store, GUILD_A, seeded), GUILD_A), f"{name}: guild A lost its data"


async def test_scheduler_claims_carry_their_guild(store: Store) -> None:
    await store.jobs.schedule(GUILD_A, "poll_close", "1", NOW)
    await store.jobs.schedule(GUILD_B, "poll_close", "1", NOW)
    claimed = await store.jobs.claim_due(NOW)
    assert sorted(job.guild_id for job in claimed) == [GUILD_A, GUILD_B]
    mine = next(job for job in claimed if job.guild_id == GUILD_A)
    await store.jobs.finish(mine, NOW)
    a_job, b_job = await store.jobs.get(GUILD_A, "poll_close", "1"), await store.jobs.get(GUILD_B, "poll_close", "1")
    assert a_job is not None and b_job is not None
    assert (a_job.status, b_job.status) == ("done", "running")


# Discord puts guild g on shard (g >> 22) % count: these two are on shards 0 and 1 of 2.
ON_SHARD_0, ON_SHARD_1 = 10 << 22, 11 << 22
SHARD_0, SHARD_1 = Shards(2, (0,)), Shards(2, (1,))


async def test_a_process_claims_and_waits_for_the_jobs_of_its_own_shards_only(store: Store) -> None:
    await store.jobs.schedule(ON_SHARD_0, "poll_close", "1", NOW)
    await store.jobs.schedule(ON_SHARD_1, "poll_close", "1", NOW - timedelta(minutes=1))
    assert await store.jobs.next_due_at(shards=SHARD_0) == NOW
    assert await store.jobs.next_due_at(shards=SHARD_1) == NOW - timedelta(minutes=1)
    assert [job.guild_id for job in await store.jobs.claim_due(NOW, shards=SHARD_0)] == [ON_SHARD_0]
    assert [job.guild_id for job in await store.jobs.claim_due(NOW, shards=SHARD_1)] == [ON_SHARD_1]
    assert await store.jobs.claim_due(NOW, shards=Shards.all_of(2)) == []


async def test_a_process_releases_only_its_own_shards_interrupted_jobs(store: Store) -> None:
    await store.jobs.schedule(ON_SHARD_0, "poll_close", "1", NOW)
    await store.jobs.schedule(ON_SHARD_1, "poll_close", "1", NOW)
    await store.jobs.claim_due(NOW)
    # The process of shard 1 starts again while shard 0's process is in the middle of its job.
    assert await store.jobs.release_interrupted(shards=SHARD_1) == 1
    on_0, on_1 = [await store.jobs.get(guild, "poll_close", "1") for guild in (ON_SHARD_0, ON_SHARD_1)]
    assert on_0 is not None and on_0.status == "running"
    assert on_1 is not None and on_1.status == "pending"
    # Shard 0's process, checking its own interrupted work during its loop, keeps the job it is running.
    assert await store.jobs.release_interrupted(still_running=[on_0.id], shards=SHARD_0) == 0


async def test_start_up_arms_only_the_guilds_of_the_process_shards(store: Store) -> None:
    for guild in (ON_SHARD_0, ON_SHARD_1):
        await store.config.set_channels(guild, {"reviews": 10})
        await store.meetings.create(guild, starts_at=NOW, ends_at=NOW + timedelta(hours=1), timezone="UTC",
                                    channel_id=None, location="Library", book_id=None, section=None, repeat="none",
                                    created_by=ALICE, now=NOW)
    assert await store.config.guild_ids(shards=SHARD_0) == [ON_SHARD_0]
    assert await store.config.guild_ids(shards=SHARD_1) == [ON_SHARD_1]
    assert await store.config.guild_ids() == [ON_SHARD_0, ON_SHARD_1]
    assert await store.meetings.guilds_with_meetings(shards=SHARD_1) == [ON_SHARD_1]
    assert await store.meetings.guilds_with_meetings() == [ON_SHARD_0, ON_SHARD_1]
