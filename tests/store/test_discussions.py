"""Discussions, reading progress, spoiler terms and webhooks on a real SQLite file, each guild seeing only its own."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import ManualClock
from bot.domain.sections import parse_sections
from bot.store import Store
from bot.store.discussions import Discussion

GUILD_A, GUILD_B = 111, 222
ALICE, BOB = 501, 502


async def start(store: Store, clock: ManualClock, guild_id: int = GUILD_A, title: str = "Never Let Me Go",
                sections: str = "Part 1, Part 2: 9-15, Part 3") -> Discussion:
    book, _ = await store.books.find_or_create(guild_id, title, "Kazuo Ishiguro")
    parsed = parse_sections(sections)
    discussion = await store.discussions.create(
        guild_id, book.id, channel_id=10, thread_id=20,
        sections=[(section, 100 + index) for index, section in enumerate(parsed)], started_by=1, at=clock.now(),
    )
    assert discussion is not None
    return discussion


async def test_a_discussion_keeps_its_threads_and_sections_in_reading_order(store: Store, clock: ManualClock) -> None:
    discussion = await start(store, clock)
    assert (discussion.title, discussion.channel_id, discussion.thread_id) == ("Never Let Me Go", 10, 20)
    assert [(s.position, s.name, s.thread_id) for s in discussion.sections] == [
        (1, "Part 1", 100), (2, "Part 2", 101), (3, "Part 3", 102)
    ]
    assert discussion.sections[1].section.scope == "spoilers up to ch. 15"
    assert discussion.created_at == clock.now()
    again = await store.discussions.for_book(GUILD_A, discussion.book_id)
    assert again == discussion


async def test_a_second_discussion_of_the_same_book_is_not_recorded(store: Store, clock: ManualClock) -> None:
    first = await start(store, clock)
    second = await store.discussions.create(GUILD_A, first.book_id, channel_id=11, thread_id=21,
                                            sections=[], started_by=2, at=clock.now())
    assert second is None
    assert [d.thread_id for d in await store.discussions.list(GUILD_A)] == [20]


async def test_progress_moves_forward_and_never_back(store: Store, clock: ManualClock) -> None:
    discussion = await start(store, clock)
    first = await store.discussions.record_progress(GUILD_A, discussion.id, ALICE, 2, clock.now())
    assert first is not None and (first.previous, first.current) == (None, 2)
    clock.advance(timedelta(days=1))
    back = await store.discussions.record_progress(GUILD_A, discussion.id, ALICE, 1, clock.now())
    assert back is not None and (back.previous, back.current) == (2, 2)
    on = await store.discussions.record_progress(GUILD_A, discussion.id, ALICE, 3, clock.now())
    assert on is not None and (on.previous, on.current) == (2, 3)
    [alice] = await store.discussions.progress(GUILD_A, ALICE)
    assert (alice.position, alice.updated_at) == (3, clock.now())
    assert await store.discussions.progress(GUILD_A, BOB) == []


async def test_spoiler_terms_are_replaced_as_a_whole(store: Store, clock: ManualClock) -> None:
    first = await start(store, clock)
    other = await start(store, clock, title="Klara and the Sun", sections="1-5, 6-10")
    assert await store.discussions.set_terms(GUILD_A, first.id, ["Tommy", "donations"])
    assert await store.discussions.set_terms(GUILD_A, other.id, ["the Sun"])
    assert await store.discussions.set_terms(GUILD_A, first.id, ["Ruth dies", "completes"])
    assert await store.discussions.terms(GUILD_A, first.id) == ["Ruth dies", "completes"]
    assert await store.discussions.all_terms(GUILD_A) == {first.id: ["Ruth dies", "completes"], other.id: ["the Sun"]}
    assert await store.discussions.set_terms(GUILD_A, first.id, [])
    assert await store.discussions.all_terms(GUILD_A) == {other.id: ["the Sun"]}


async def test_a_webhook_is_remembered_per_channel_and_forgotten_only_if_it_is_the_same(store: Store,
                                                                                        clock: ManualClock) -> None:
    await store.discussions.remember_webhook(GUILD_A, 10, 900, clock.now())
    await store.discussions.remember_webhook(GUILD_A, 11, 901, clock.now())
    assert await store.discussions.webhook_id(GUILD_A, 10) == 900
    await store.discussions.remember_webhook(GUILD_A, 10, 902, clock.now())
    await store.discussions.forget_webhook(GUILD_A, 10, 900)
    assert await store.discussions.webhook_id(GUILD_A, 10) == 902
    await store.discussions.forget_webhook(GUILD_A, 10, 902)
    assert await store.discussions.webhook_id(GUILD_A, 10) is None
    assert await store.discussions.webhook_id(GUILD_A, 11) == 901


async def test_a_member_is_told_about_the_guard_once(store: Store, clock: ManualClock) -> None:
    assert await store.discussions.first_notice(GUILD_A, ALICE, clock.now())
    assert not await store.discussions.first_notice(GUILD_A, ALICE, clock.now())
    assert await store.discussions.first_notice(GUILD_A, BOB, clock.now())
    assert await store.discussions.first_notice(GUILD_B, ALICE, clock.now())


async def test_one_guild_never_sees_or_changes_another_guilds_discussions(store: Store, clock: ManualClock) -> None:
    discussion = await start(store, clock)
    await store.discussions.set_terms(GUILD_A, discussion.id, ["Tommy"])
    await store.discussions.record_progress(GUILD_A, discussion.id, ALICE, 1, clock.now())
    await store.discussions.remember_webhook(GUILD_A, 10, 900, clock.now())
    assert await store.discussions.list(GUILD_B) == []
    assert await store.discussions.get(GUILD_B, discussion.id) is None
    assert await store.discussions.for_book(GUILD_B, discussion.book_id) is None
    assert await store.discussions.record_progress(GUILD_B, discussion.id, ALICE, 3, clock.now()) is None
    assert await store.discussions.progress(GUILD_B, ALICE) == []
    assert not await store.discussions.set_terms(GUILD_B, discussion.id, ["spoiled"])
    assert await store.discussions.terms(GUILD_B, discussion.id) == []
    assert await store.discussions.all_terms(GUILD_B) == {}
    assert await store.discussions.webhook_id(GUILD_B, 10) is None
    assert await store.discussions.terms(GUILD_A, discussion.id) == ["Tommy"]
    [progress] = await store.discussions.progress(GUILD_A, ALICE)
    assert progress.position == 1


async def test_removing_the_book_removes_its_discussion(store: Store, clock: ManualClock) -> None:
    discussion = await start(store, clock)
    await store.discussions.set_terms(GUILD_A, discussion.id, ["Tommy"])
    async with store.db.transaction() as conn:
        await conn.execute("DELETE FROM books WHERE guild_id = ? AND id = ?", (GUILD_A, discussion.book_id))
    assert await store.discussions.list(GUILD_A) == []
    assert await store.discussions.all_terms(GUILD_A) == {}
