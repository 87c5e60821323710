"""Ending a discussion and dating its sections, on a real store with Discord's side played by a fake."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.app.discussions import DiscussionService
from bot.app.reading_now import ReadingNowChanges
from bot.clock import ManualClock
from bot.domain.sections import parse_sections
from bot.errors import UserError
from bot.scheduler import Scheduler
from bot.store import Store
from bot.store.discussions import Discussion

GUILD_A, GUILD_B = 111, 222
MOD, ALICE = 500, 501
SECTIONS = "Part 1, Part 2, Part 3"


def discussions_of(store: Store, clock: ManualClock) -> DiscussionService:
    return DiscussionService(store, clock, ReadingNowChanges(store, clock, Scheduler(store.jobs, clock)))


class FakeThreads:
    """Threads as Discord keeps them: open, archived and locked, or gone; a refusal on request."""

    def __init__(self, gone: frozenset[int] = frozenset(), refuse: frozenset[int] = frozenset()) -> None:
        self.gone, self.refuse = set(gone), set(refuse)
        self.locked: list[int] = []
        self.notes: list[tuple[int, str]] = []

    async def post_note(self, thread_id: int, text: str) -> None:
        self.notes.append((thread_id, text))

    async def archive_and_lock(self, thread_id: int) -> bool:
        if thread_id in self.refuse:
            raise UserError("Discord refused")
        if thread_id in self.gone:
            return False
        self.locked.append(thread_id)
        return True


async def started(store: Store, clock: ManualClock, guild_id: int = GUILD_A, dates: list[date | None] | None = None,
                  first_thread: int = 20) -> Discussion:
    book, _ = await store.books.find_or_create(guild_id, "Never Let Me Go", "Kazuo Ishiguro")
    sections = parse_sections(SECTIONS)
    discussion = await store.discussions.create(
        guild_id, book.id, channel_id=10, thread_id=first_thread,
        sections=[(section, first_thread + 1 + index) for index, section in enumerate(sections)], started_by=MOD,
        at=clock.now(), target_dates=dates or [],
    )
    assert discussion is not None
    return discussion


async def test_ending_locks_every_thread_and_lets_the_book_be_started_again(store: Store, clock: ManualClock) -> None:
    discussion = await started(store, clock)
    await store.discussions.record_progress(GUILD_A, discussion.id, ALICE, 2, clock.now())
    await store.discussions.set_terms(GUILD_A, discussion.id, ["Tommy"])
    threads = FakeThreads(gone=frozenset({22}))
    ended = await discussions_of(store, clock).end(GUILD_A, f"book:{discussion.book_id}", MOD, threads)
    assert threads.locked == [20, 21, 23] and ended.gone == [22]
    assert [thread for thread, _ in threads.notes] == [20] and "has ended" in threads.notes[0][1]
    assert ended.discussion.ended and ended.discussion.ended_by == MOD
    assert await store.discussions.record_progress(GUILD_A, discussion.id, ALICE, 3, clock.now()) is None

    with pytest.raises(UserError, match="already ended on 2 March 2026"):
        await discussions_of(store, clock).end(GUILD_A, "Never Let Me Go", MOD, FakeThreads())

    clock.advance(timedelta(days=30))
    again = await started(store, clock, first_thread=40)
    assert again.id == discussion.id and not again.ended
    assert [s.thread_id for s in again.sections] == [41, 42, 43] and again.thread_id == 40
    assert await store.discussions.progress(GUILD_A, ALICE) == []
    assert await store.discussions.terms(GUILD_A, again.id) == ["Tommy"]


async def test_a_refused_thread_records_nothing_and_a_second_run_finishes(store: Store, clock: ManualClock) -> None:
    discussion = await started(store, clock)
    service = discussions_of(store, clock)
    with pytest.raises(UserError, match="refused"):
        await service.end(GUILD_A, "Never Let Me Go", MOD, FakeThreads(refuse=frozenset({22})))
    assert not (await store.discussions.get(GUILD_A, discussion.id) or discussion).ended
    ended = await service.end(GUILD_A, "Never Let Me Go", MOD, FakeThreads())
    assert ended.discussion.ended


async def test_another_guilds_discussion_is_not_found(store: Store, clock: ManualClock) -> None:
    discussion = await started(store, clock, guild_id=GUILD_A)
    threads = FakeThreads()
    with pytest.raises(UserError, match="has no discussion to end"):
        await discussions_of(store, clock).end(GUILD_B, f"book:{discussion.book_id}", MOD, threads)
    assert threads.locked == [] and not (await store.discussions.get(GUILD_A, discussion.id) or discussion).ended


async def test_target_dates_match_the_sections_in_order(store: Store, clock: ManualClock) -> None:
    service = discussions_of(store, clock)
    sections = parse_sections(SECTIONS)
    assert await service.target_dates(GUILD_A, None, sections) == [None, None, None]
    dates = await service.target_dates(GUILD_A, "2026-03-10, -, 2026-03-24", sections)
    assert dates == [date(2026, 3, 10), None, date(2026, 3, 24)]
    for wrong, why in [("2026-03-10, 2026-03-17", "2 dates for 3 sections"),
                       ("2026-03-17, 2026-03-10, 2026-03-24", "before Part 1"),
                       ("2026-03-10, next week, 2026-03-24", "is not a date"),
                       ("2026-03-01, 2026-03-10, 2026-03-24", "has already passed")]:
        with pytest.raises(UserError, match=why):
            await service.target_dates(GUILD_A, wrong, sections)


async def test_the_section_to_have_read_by_a_day(store: Store, clock: ManualClock) -> None:
    discussion = await started(store, clock, dates=[date(2026, 3, 10), date(2026, 3, 17), None])
    assert [s.target_date for s in discussion.sections] == [date(2026, 3, 10), date(2026, 3, 17), None]
    assert discussion.section_due_by(date(2026, 3, 9)) is None
    due = discussion.section_due_by(date(2026, 3, 18))
    assert due is not None and due.name == "Part 2"
