"""Ending a discussion and dating its sections, on a real store with Discord's side played by a fake."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.app.discussions import DiscussionService
from bot.app.reading_now import ReadingNowChanges
from bot.clock import ManualClock
from bot.domain.sections import parse_sections
from bot.errors import StoreBusy, UserError
from bot.scheduler import Scheduler
from bot.store import Store
from bot.store.discussions import Discussion, ProgressChange

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


async def test_the_spoiler_guard_sees_new_terms_and_an_ended_discussion_without_being_told(
        store: Store, clock: ManualClock) -> None:
    service = DiscussionService(store, clock, ReadingNowChanges(store, clock, Scheduler(store.jobs, clock)))
    other = DiscussionService(store, clock, ReadingNowChanges(store, clock, Scheduler(store.jobs, clock)))
    book, _ = await store.books.find_or_create(GUILD_A, "Klara and the Sun", "Kazuo Ishiguro")
    sections = [(section, 900 + number) for number, section in enumerate(parse_sections(SECTIONS))]
    discussion = await service.record_start(GUILD_A, book, channel_id=10, thread_id=20, sections=sections,
                                            started_by=MOD, target_dates=[None] * len(sections))
    assert (await service.guard_for(GUILD_A)).check(20, "Josie gets better") is None

    # Another process (a second service here) changes the terms: the first one's guard follows.
    assert await other.set_terms(GUILD_A, discussion.id, "Josie gets better") == ["Josie gets better"]
    hit = await service.spoiler_in(GUILD_A, 20, "so Josie gets better in the end?")
    assert hit is not None and (hit.discussion_id, hit.title) == (discussion.id, "Klara and the Sun")
    assert await service.spoiler_in(GUILD_A, 900, "so Josie gets better in the end?") is None
    assert (await service.guard_for(GUILD_B)).check(20, "so Josie gets better in the end?") is None

    await other.end(GUILD_A, "Klara and the Sun", MOD, FakeThreads())
    assert (await service.guard_for(GUILD_A)).check(20, "so Josie gets better in the end?") is None


async def test_a_typed_title_becomes_a_club_book_and_a_stale_choice_is_refused(store: Store,
                                                                              clock: ManualClock) -> None:
    service = DiscussionService(store, clock, ReadingNowChanges(store, clock, Scheduler(store.jobs, clock)))
    book = await service.book_to_discuss(GUILD_A, "  Piranesi by Susanna Clarke ")
    assert (book.title, book.author) == ("Piranesi", "Susanna Clarke")
    assert await service.book_to_discuss(GUILD_A, f"book:{book.id}") == book
    with pytest.raises(UserError, match="no longer in the club's list"):
        await service.book_to_discuss(GUILD_B, f"book:{book.id}")


class FakeOpener:
    """Threads made in the discussions channel; Discord refuses the one numbered `refuse_at`, if any."""

    def __init__(self, refuse_at: int | None = None) -> None:
        self.refuse_at = refuse_at
        self.opened: list[tuple[int, str, bool]] = []
        self.deleted: list[int] = []

    async def open_thread(self, name: str, rules: str, *, private: bool) -> int:
        if len(self.opened) == self.refuse_at:
            raise UserError("Discord refused to let me open the threads.")
        thread_id = 700 + len(self.opened)
        self.opened.append((thread_id, rules, private))
        return thread_id

    async def delete_thread(self, thread_id: int) -> None:
        self.deleted.append(thread_id)


async def test_a_start_opens_every_thread_or_none_and_a_second_start_is_refused(store: Store,
                                                                               clock: ManualClock) -> None:
    service = DiscussionService(store, clock, ReadingNowChanges(store, clock, Scheduler(store.jobs, clock)))
    with pytest.raises(UserError):
        await service.plan_start(GUILD_A, "Piranesi", SECTIONS, "someday")
    plan = await service.plan_start(GUILD_A, "Piranesi by Susanna Clarke", SECTIONS, "2026-03-10, -, 2026-03-24")
    refusing = FakeOpener(refuse_at=2)
    with pytest.raises(UserError, match="refused"):
        await service.start(GUILD_A, plan, channel_id=10, moderator_id=MOD, threads=refusing, guarded=True)
    assert refusing.deleted == [701, 700] and await service.discussions(GUILD_A) == []

    opener = FakeOpener()
    started = await service.start(GUILD_A, plan, channel_id=10, moderator_id=MOD, threads=opener, guarded=True)
    assert [private for _, _, private in opener.opened] == [False, True, True, True]
    assert started.thread_id == 700 and [s.thread_id for s in started.sections] == [701, 702, 703]
    assert "hidden automatically" in opener.opened[0][1] and "by 10 March 2026" in opener.opened[0][1]
    assert [s.target_date for s in started.sections] == [date(2026, 3, 10), None, date(2026, 3, 24)]
    with pytest.raises(UserError, match="already under discussion"):
        await service.plan_start(GUILD_A, "piranesi", SECTIONS, None)
    with pytest.raises(UserError, match="just started by another moderator"):
        await service.start(GUILD_A, plan, channel_id=10, moderator_id=MOD, threads=FakeOpener(), guarded=True)
    assert await service.discussions(GUILD_B) == []


class FakeMembers:
    def __init__(self, gone: frozenset[int] = frozenset()) -> None:
        self.gone = gone
        self.added: list[tuple[int, int]] = []

    async def add_member(self, thread_id: int, member_id: int) -> bool:
        if thread_id in self.gone:
            return False
        self.added.append((thread_id, member_id))
        return True


async def test_progress_opens_the_threads_up_to_the_section_and_never_goes_back(store: Store,
                                                                                clock: ManualClock) -> None:
    service = DiscussionService(store, clock, ReadingNowChanges(store, clock, Scheduler(store.jobs, clock)))
    plan = await service.plan_start(GUILD_A, "Piranesi", SECTIONS, None)
    await service.start(GUILD_A, plan, channel_id=10, moderator_id=MOD, threads=FakeOpener(), guarded=False)
    with pytest.raises(UserError, match="isn't a section of"):
        await service.plan_progress(GUILD_A, None, "Part 9")
    with pytest.raises(UserError, match="No book is under discussion yet"):
        await service.plan_progress(GUILD_B, None, "Part 1")

    discussion, index = await service.plan_progress(GUILD_A, "piranesi", "part 2")
    members = FakeMembers(gone=frozenset({701}))
    advanced = await service.advance(GUILD_A, discussion, index, ALICE, members)
    assert (advanced.opened, advanced.gone, members.added) == ([702], ["Part 1"], [(702, ALICE)])
    assert advanced.change is not None and advanced.change.previous is None
    back = await service.advance(GUILD_A, discussion, 0, ALICE, FakeMembers())
    assert back.change is not None and back.change.previous == 2
    assert "read up to **Part 2**" in await service.describe_progress(GUILD_A, ALICE, None)


async def test_progress_the_records_cannot_take_still_leaves_the_member_in_the_threads(store: Store,
                                                                                       clock: ManualClock) -> None:
    class BusyRecords(DiscussionService):
        async def record_progress(self, guild_id: int, discussion: Discussion, member_id: int,
                                  position: int) -> ProgressChange:
            raise StoreBusy("database is locked")

    service = BusyRecords(store, clock, ReadingNowChanges(store, clock, Scheduler(store.jobs, clock)))
    plan = await service.plan_start(GUILD_A, "Piranesi", SECTIONS, None)
    await service.start(GUILD_A, plan, channel_id=10, moderator_id=MOD, threads=FakeOpener(), guarded=False)
    discussion, index = await service.plan_progress(GUILD_A, None, "Part 1")
    advanced = await service.advance(GUILD_A, discussion, index, ALICE, FakeMembers())
    assert (advanced.opened, advanced.change) == ([701], None)
