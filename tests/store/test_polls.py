"""Nominations, polls and ballots on a real SQLite file: limits, merging, closing once, anonymity, one guild each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.polls import Outcome
from bot.store import Store
from bot.store.polls import PollAlreadyRunning, WrongNominationCount

GUILD_A, GUILD_B = 111, 222
ALICE, BOB, CAROL, MOD = 1, 2, 3, 9
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=2)


async def nominate(store: Store, title: str, author: str, member: int, guild_id: int = GUILD_A) -> str:
    book, _ = await store.books.find_or_create(guild_id, title, author)
    return await store.polls.nominate(guild_id, book.id, member, now=NOW)


async def start(store: Store, mode: str = "ranked", guild_id: int = GUILD_A) -> int:
    poll = await store.polls.start(guild_id, mode=mode, channel_id=50, started_by=MOD, now=NOW,  # type: ignore[arg-type]
                                   closes_at=LATER)
    return poll.id


async def test_a_second_nominator_is_credited_and_the_limits_hold(store: Store) -> None:
    assert await nominate(store, "Piranesi", "Susanna Clarke", ALICE) == "created"
    assert await nominate(store, "Piranesi", "Susanna Clarke", BOB) == "merged"
    assert await nominate(store, "Piranesi", "Susanna Clarke", BOB) == "already_yours"
    assert await nominate(store, "Hamnet", "Maggie O'Farrell", ALICE) == "created"
    assert await nominate(store, "Beloved", "Toni Morrison", ALICE) == "created"
    assert await nominate(store, "Middlemarch", "George Eliot", ALICE) == "member_limit"
    [piranesi, hamnet, beloved] = await store.polls.nominations(GUILD_A)
    assert piranesi.book.title == "Piranesi" and piranesi.nominators == [ALICE, BOB]
    assert (hamnet.nominators, beloved.nominators) == ([ALICE], [ALICE])
    assert await store.polls.count_for_member(GUILD_A, ALICE) == 3


async def test_the_guild_holds_at_most_a_ballot_of_nominations(store: Store) -> None:
    for number in range(10):
        assert await nominate(store, f"Book {number}", "Author", 100 + number) == "created"
    assert await nominate(store, "Book 10", "Author", ALICE) == "full"
    # Seconding an existing nomination still works when the list is full.
    assert await nominate(store, "Book 3", "Author", ALICE) == "merged"


async def test_a_poll_takes_two_to_ten_waiting_nominations_in_order(store: Store) -> None:
    await nominate(store, "Piranesi", "Susanna Clarke", ALICE)
    with pytest.raises(WrongNominationCount) as too_few:
        await start(store)
    assert too_few.value.count == 1
    await nominate(store, "Hamnet", "Maggie O'Farrell", BOB)
    await nominate(store, "Piranesi", "Susanna Clarke", CAROL)
    poll_id = await start(store)
    poll = await store.polls.get(GUILD_A, poll_id)
    assert poll is not None and poll.status == "open" and poll.closes_at == LATER
    assert [(c.position, c.title, c.nominators) for c in poll.candidates] == [
        (0, "Piranesi", [ALICE, CAROL]), (1, "Hamnet", [BOB])
    ]
    assert [c.answer for c in poll.candidates] == ["Piranesi — Susanna Clarke", "Hamnet — Maggie O'Farrell"]
    with pytest.raises(PollAlreadyRunning):
        await start(store)
    # A book in the running poll cannot be nominated again; new nominations wait for the next poll.
    assert await nominate(store, "Hamnet", "Maggie O'Farrell", CAROL) == "in_poll"
    assert await nominate(store, "Beloved", "Toni Morrison", CAROL) == "created"
    assert [n.book.title for n in await store.polls.nominations(GUILD_A, waiting_only=True)] == ["Beloved"]


async def test_ballots_replace_each_other_and_stop_at_the_close(store: Store) -> None:
    for title, member in (("A", ALICE), ("B", BOB), ("C", CAROL)):
        await nominate(store, title, "Author", member)
    poll_id = await start(store)
    assert await store.polls.cast_ballot(GUILD_A, poll_id, ALICE, [2, 0], now=NOW) is False
    assert await store.polls.cast_ballot(GUILD_A, poll_id, ALICE, [1], now=NOW) is True
    assert await store.polls.cast_ballot(GUILD_A, poll_id, BOB, [1, 2], now=NOW) is False
    assert await store.polls.ballot_of(GUILD_A, poll_id, ALICE) == [1]
    assert await store.polls.ballot_count(GUILD_A, poll_id) == 2
    # Past closing time, even before the close has run, no ballot is taken.
    assert await store.polls.cast_ballot(GUILD_A, poll_id, CAROL, [0], now=LATER) is None

    closed = await store.polls.close(GUILD_A, poll_id, now=LATER)
    assert closed.status == "closed" and closed.outcome is not None and closed.outcome.ballots == 2
    assert closed.winner is not None and closed.winner.title == "B"
    assert await store.polls.cast_ballot(GUILD_A, poll_id, CAROL, [0], now=NOW) is None
    # Counted ballots are gone: nothing ties a member to a ranking any more.
    assert await store.polls.ballot_of(GUILD_A, poll_id, ALICE) is None
    rows = await store.db.fetch_all("SELECT * FROM ballots")
    assert rows == []


async def test_a_winner_clears_the_poll_nominations_but_keeps_later_ones(store: Store) -> None:
    for title, member in (("A", ALICE), ("B", BOB)):
        await nominate(store, title, "Author", member)
    poll_id = await start(store)
    await nominate(store, "C", "Author", CAROL)
    await store.polls.cast_ballot(GUILD_A, poll_id, ALICE, [0], now=NOW)
    closed = await store.polls.close(GUILD_A, poll_id, now=LATER)
    assert closed.winner is not None and closed.winner.title == "A"
    book = await store.books.find(GUILD_A, "A", "Author")
    assert book is not None and closed.winner_book_id == book.id
    assert [n.book.title for n in await store.polls.nominations(GUILD_A)] == ["C"]
    # Alice's nomination is cleared, so she may nominate three again.
    assert await store.polls.count_for_member(GUILD_A, ALICE) == 0


async def test_no_ballots_means_no_winner_and_the_nominations_stay(store: Store) -> None:
    for title, member in (("A", ALICE), ("B", BOB)):
        await nominate(store, title, "Author", member)
    poll_id = await start(store)
    closed = await store.polls.close(GUILD_A, poll_id, now=LATER)
    assert closed.outcome is not None and closed.outcome.winner is None and closed.winner is None
    assert closed.outcome.reason == "Nobody voted."
    assert [n.book.title for n in await store.polls.nominations(GUILD_A, waiting_only=True)] == ["A", "B"]
    assert (await start(store)) != poll_id


async def test_closing_twice_keeps_the_first_outcome(store: Store) -> None:
    for title, member in (("A", ALICE), ("B", BOB)):
        await nominate(store, title, "Author", member)
    poll_id = await start(store, mode="native")
    first = Outcome(winner=1, tie_broken=False, reason="Won with 2 votes of 3.", votes={0: 1, 1: 2}, ballots=3)
    closed = await store.polls.close(GUILD_A, poll_id, now=LATER, outcome=first)
    again = await store.polls.close(GUILD_A, poll_id, now=LATER + timedelta(hours=1),
                                    outcome=Outcome(winner=0, tie_broken=False, reason="other"))
    assert again.outcome == first and again.closed_at == closed.closed_at == LATER
    assert again.winner is not None and again.winner.title == "B"
    await store.polls.mark_announced(GUILD_A, poll_id, 60, 7000)
    announced = await store.polls.get(GUILD_A, poll_id)
    assert announced is not None and (announced.announcement_channel_id, announced.announcement_message_id) == (
        60, 7000)
    latest = await store.polls.latest(GUILD_A)
    assert latest is not None and latest.id == poll_id


async def test_an_abandoned_poll_gives_its_nominations_back(store: Store) -> None:
    for title, member in (("A", ALICE), ("B", BOB)):
        await nominate(store, title, "Author", member)
    poll_id = await start(store)
    await store.polls.abandon(GUILD_A, poll_id)
    assert await store.polls.get(GUILD_A, poll_id) is None and await store.polls.running(GUILD_A) is None
    assert len(await store.polls.nominations(GUILD_A, waiting_only=True)) == 2


async def test_each_guild_sees_only_its_own_nominations_polls_and_ballots(store: Store) -> None:
    for title, member in (("A", ALICE), ("B", BOB)):
        await nominate(store, title, "Author", member)
    poll_id = await start(store)
    await store.polls.cast_ballot(GUILD_A, poll_id, ALICE, [0], now=NOW)
    assert await store.polls.nominations(GUILD_B) == []
    assert await store.polls.running(GUILD_B) is None and await store.polls.latest(GUILD_B) is None
    assert await store.polls.get(GUILD_B, poll_id) is None
    assert await store.polls.ballot_count(GUILD_B, poll_id) == 0
    assert await store.polls.cast_ballot(GUILD_B, poll_id, BOB, [0], now=NOW) is None
    assert await store.polls.count_for_member(GUILD_B, ALICE) == 0
    # Guild B's members have their own limits and can run their own poll at the same time.
    for title, member in (("A", ALICE), ("B", ALICE), ("C", ALICE)):
        assert await nominate(store, title, "Author", member, guild_id=GUILD_B) == "created"
    assert (await start(store, guild_id=GUILD_B)) != poll_id
    with pytest.raises(LookupError):
        await store.polls.close(GUILD_B, poll_id, now=LATER)
