"""/nominate and /poll through the loopback Discord: nominations merge, ballots stay secret, polls close once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from bot.jobs import PollClose
from tests.discord_double import ActionRefused
from tests.domain.discord_markdown import shown_text
from tests.e2e.helpers import SETTLE

BOOKS = (
    ("Alice", "Piranesi", "Susanna Clarke"),
    ("Bob", "Hamnet", "Maggie O'Farrell"),
    ("Carol", "Beloved", "Toni Morrison"),
)


async def run(bookclub: Any, member: str, command: str, **options: Any) -> str:
    """What the member sees in the reply, markdown rendered."""
    guild = bookclub.double.guild_a
    ix = await bookclub.double.slash(guild, guild.member(member), command, timeout=5.0, **options)
    return shown_text((await ix.reply(timeout=SETTLE)).text())


async def set_up_channels(bookclub: Any) -> None:
    guild = bookclub.double.guild_a
    await run(bookclub, "Mod", "config channels", polls=guild.channel("polls"),
              announcements=guild.channel("announcements"))


async def nominate_three(bookclub: Any) -> None:
    for member, title, author in BOOKS:
        assert (await run(bookclub, member, "nominate add", title=title, author=author)).startswith("You nominated")


def announcements(bookclub: Any) -> list[Any]:
    return bookclub.double.bot_messages(bookclub.double.guild_a.channel("announcements"))


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = SETTLE) -> bool:
    """Polls an async condition (store state the bot writes after Discord already shows the effect)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


def component(message: Any, kind: int) -> dict[str, Any]:
    return next(c for c in message.components_flat() if c.get("type") == kind)


async def fill_ballot(bookclub: Any, poll_message: Any, member_name: str, choices: list[str]) -> Any:
    """Press Vote and pick the books in order; returns the private ballot, not yet submitted."""
    double = bookclub.double
    member = double.guild_a.member(member_name)
    ballot = await (await double.press_button(poll_message, "Vote", member)).reply()
    assert ballot.ephemeral
    for choice in choices:
        await double.select(ballot, component(ballot, 3)["custom_id"], [choice], member)
    return ballot


async def rank(bookclub: Any, poll_message: Any, member_name: str, choices: list[str]) -> str:
    """Press Vote, pick the books in order, submit; returns what the member sees at the end."""
    ballot = await fill_ballot(bookclub, poll_message, member_name, choices)
    await bookclub.double.press_button(ballot, "Submit ballot", bookclub.double.guild_a.member(member_name))
    return shown_text(ballot.text())


async def test_members_nominate_duplicates_merge_and_the_limits_are_clear(bookclub: Any) -> None:
    await nominate_three(bookclub)
    merged = await run(bookclub, "Bob", "nominate add", title="piranesi", author="Clarke")
    assert merged == ("Piranesi by Susanna Clarke was already nominated; you are now credited as a nominator "
                      "too. (2 of your 3 nominations.)")
    assert "already nominated" in await run(bookclub, "Alice", "nominate add", title="Piranesi")
    assert (await run(bookclub, "Alice", "nominate add", title="Middlemarch", author="George Eliot")).endswith(
        "(2 of your 3 nominations.)")
    await run(bookclub, "Alice", "nominate add", title="Orlando", author="Virginia Woolf")
    fourth = await run(bookclub, "Alice", "nominate add", title="Emma", author="Jane Austen")
    assert fourth == "You already have 3 nominations; they clear when a poll picks a winner."
    assert await bookclub.store.books.find(bookclub.double.guild_a.id, "Emma", "Jane Austen") is None
    long_title = await run(bookclub, "Carol", "nominate add", title="x" * 257)
    assert long_title == "That title is 257 characters long; titles can have at most 256."
    await run(bookclub, "Mod", "club add", title="Never Let Me Go", author="Kazuo Ishiguro",
              started="2019-04-01", finished="2019-05-14")
    already_read = await run(bookclub, "Carol", "nominate add", title="never let me go", author="Ishiguro")
    assert already_read == "The club has already read Never Let Me Go by Kazuo Ishiguro (finished 14 May 2019)."
    nominations = await bookclub.store.polls.nominations(bookclub.double.guild_a.id)
    assert [(n.book.title, len(n.nominators)) for n in nominations] == [
        ("Piranesi", 2), ("Hamnet", 1), ("Beloved", 1), ("Middlemarch", 1), ("Orlando", 1)
    ]
    assert bookclub.double.pings() == []


async def test_a_ranked_poll_closes_on_time_and_announces_the_runoff_winner_once(bookclub: Any) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    await set_up_channels(bookclub)
    await nominate_three(bookclub)
    started = await run(bookclub, "Mod", "poll start", closes_in="2d", mode="ranked")
    assert started.startswith("Poll #") and "with 3 books" in started
    [poll_message] = double.bot_messages(guild.channel("polls"))
    assert "Piranesi" in poll_message.text() and "Beloved" in poll_message.text()

    # Round 1: Piranesi 1, Hamnet 1, Beloved 1 → Beloved (latest nomination) out, Carol's ballot moves to Hamnet.
    await rank(bookclub, poll_message, "Alice", ["Beloved by Toni Morrison"])
    changed = await rank(bookclub, poll_message, "Alice", ["Piranesi by Susanna Clarke"])
    assert changed.startswith("Your new ballot replaces your earlier one:")
    await rank(bookclub, poll_message, "Bob", ["Hamnet by Maggie O'Farrell", "Piranesi by Susanna Clarke"])
    done = await rank(bookclub, poll_message, "Carol", ["Beloved by Toni Morrison", "Hamnet by Maggie O'Farrell"])
    assert done.startswith("Your ballot is in:\n1. Beloved by Toni Morrison\n2. Hamnet")
    so_far = await run(bookclub, "Alice", "poll results")
    assert so_far.startswith("Poll #") and "3 ballots cast so far" in so_far and "Hamnet" not in so_far
    assert announcements(bookclub) == []
    unsent = await fill_ballot(bookclub, poll_message, "Mod", ["Piranesi by Susanna Clarke"])

    bookclub.clock.advance(timedelta(days=2))
    announcement = await double.wait_for_message(guild.channel("announcements"), timeout=SETTLE)
    text = shown_text(announcement.text())
    assert announcement.embeds[0]["title"] == "Next read: Hamnet"
    assert "Hamnet by Maggie O'Farrell won the poll" in text and "round 2" in text
    assert f"Nominated by <@{guild.member('Bob').id}>." in text
    assert "Round 1: Piranesi 1, Hamnet 1, Beloved 1; Beloved out" in text
    [chart] = announcement.attachments
    assert chart.filename.endswith(".png") and chart.data.startswith(b"\x89PNG")
    # Who voted for what is never shown, not even in the result.
    assert "Alice" not in text and "Carol" not in text

    history = await run(bookclub, "Alice", "club history")
    assert "Hamnet by Maggie O'Farrell: planned" in history
    assert await bookclub.store.polls.nominations(guild.id) == []
    assert poll_message.components == [] and "Voting has ended" in poll_message.text()
    late = await double.press_button(unsent, "Submit ballot", guild.member("Mod"))
    assert shown_text((await late.reply()).text()) == "This poll has closed; ballots are no longer taken."
    closed = await run(bookclub, "Mod", "poll close")
    assert closed == "No poll is running."
    assert len(announcements(bookclub)) == 1
    assert double.pings() == []


async def test_a_native_poll_is_ended_by_the_bot_and_announces_the_top_answer(bookclub: Any) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    await set_up_channels(bookclub)
    await nominate_three(bookclub)
    await run(bookclub, "Mod", "poll start", closes_in="90m")
    [poll_message] = double.bot_messages(guild.channel("polls"))
    assert poll_message.poll is not None
    assert [a["poll_media"]["text"] for a in poll_message.poll.answers] == [
        "Piranesi — Susanna Clarke", "Hamnet — Maggie O'Farrell", "Beloved — Toni Morrison"
    ]
    for member, answer in (("Alice", 3), ("Bob", 3), ("Carol", 1), ("Mod", 2)):
        await double.vote_native(poll_message, answer, guild.member(member))
    so_far = await run(bookclub, "Carol", "poll results")
    assert "Beloved: 2 votes" in so_far and "Piranesi: 1 vote" in so_far

    bookclub.clock.advance(timedelta(minutes=90))
    announcement = await double.wait_for_message(guild.channel("announcements"), timeout=SETTLE)
    assert announcement.embeds[0]["title"] == "Next read: Beloved"
    assert "Won with 2 votes of 4." in shown_text(announcement.text()) and announcement.attachments == []
    assert poll_message.poll.finalized
    assert len(double.find_requests("POST", r"/polls/\d+/expire$")) == 1
    assert "Beloved by Toni Morrison: planned" in await run(bookclub, "Bob", "club history")
    assert len(announcements(bookclub)) == 1


async def test_a_winner_nominated_without_an_author_reads_as_its_title_everywhere(bookclub: Any) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    await set_up_channels(bookclub)
    # Open Library is away in these tests: the books are kept as typed, with no author.
    for member, title in (("Alice", "Piranesi"), ("Bob", "Hamnet")):
        assert (await run(bookclub, member, "nominate add", title=title)).startswith("You nominated")
    await run(bookclub, "Mod", "poll start", closes_in="1h")
    [poll_message] = double.bot_messages(guild.channel("polls"))
    await double.vote_native(poll_message, 1, guild.member("Carol"))
    assert "the winner is Piranesi" in await run(bookclub, "Mod", "poll close")
    current = await run(bookclub, "Alice", "club current")
    assert "Next up\nPiranesi" in current and " by " not in current, current
    assert "Piranesi: planned" in await run(bookclub, "Alice", "club history")
    asked = bookclub.double.slash(guild, guild.member("Alice"), "ask", question="what are we reading now?")
    answer = shown_text((await (await asked).reply()).text())
    assert answer.endswith("Next up: Piranesi.") and " by " not in answer, answer


async def test_a_tie_goes_to_the_earliest_nomination_and_says_so(bookclub: Any) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    await set_up_channels(bookclub)
    await nominate_three(bookclub)
    await run(bookclub, "Mod", "poll start", closes_in="1h")
    [poll_message] = double.bot_messages(guild.channel("polls"))
    await double.vote_native(poll_message, 3, guild.member("Alice"))
    await double.vote_native(poll_message, 2, guild.member("Bob"))
    closed = await run(bookclub, "Mod", "poll close")
    assert closed.startswith("Poll #") and "the winner is Hamnet" in closed
    [announcement] = announcements(bookclub)
    assert "Tied at 1 vote each; the earliest nomination wins." in shown_text(announcement.text())


async def test_a_poll_nobody_voted_in_keeps_the_nominations(bookclub: Any) -> None:
    await set_up_channels(bookclub)
    await nominate_three(bookclub)
    await run(bookclub, "Mod", "poll start", closes_in="30m", mode="ranked")
    bookclub.clock.advance(timedelta(minutes=30))
    announcement = await bookclub.double.wait_for_message(bookclub.double.guild_a.channel("announcements"),
                                                          timeout=SETTLE)
    assert announcement.embeds[0]["title"] == "The poll closed without a winner"
    assert "Nobody voted." in shown_text(announcement.text()) and announcement.attachments == []
    assert len(await bookclub.store.polls.nominations(bookclub.double.guild_a.id, waiting_only=True)) == 3
    assert "Nobody voted." in await run(bookclub, "Bob", "poll results")


async def test_poll_start_explains_what_is_wrong(bookclub: Any) -> None:
    guild = bookclub.double.guild_a
    assert "polls channel" in await run(bookclub, "Mod", "poll start")
    await set_up_channels(bookclub)
    await run(bookclub, "Alice", "nominate add", title="Piranesi", author="Susanna Clarke")
    assert await run(bookclub, "Mod", "poll start") == (
        "A poll needs 2 to 10 nominations and there is 1. Members nominate with /nominate add.")
    await run(bookclub, "Bob", "nominate add", title="Hamnet", author="Maggie O'Farrell")
    for bad in ("soon", "0m", "33d"):
        assert (await run(bookclub, "Mod", "poll start", closes_in=bad)).startswith("closes_in: Use a number")
    assert "Only moderators" in await run(bookclub, "Alice", "poll start")
    assert "Only moderators" in await run(bookclub, "Alice", "poll close")
    with pytest.raises(ActionRefused):
        await bookclub.double.slash(guild, guild.member("Alice"), "poll start", mode="secret")
    assert bookclub.double.bot_messages(guild.channel("polls")) == []
    assert await bookclub.store.polls.running(guild.id) is None


async def test_a_close_that_stopped_after_posting_finds_its_post_instead_of_posting_again(bookclub: Any) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    await set_up_channels(bookclub)
    await nominate_three(bookclub)
    await run(bookclub, "Mod", "poll start", closes_in="1h", mode="ranked")
    [poll_message] = double.bot_messages(guild.channel("polls"))
    await rank(bookclub, poll_message, "Alice", ["Hamnet by Maggie O'Farrell"])
    bookclub.clock.advance(timedelta(hours=1))
    announcement = await double.wait_for_message(guild.channel("announcements"), timeout=SETTLE)
    poll = await bookclub.store.polls.latest(guild.id)
    assert poll is not None

    async def recorded() -> bool:
        stored = await bookclub.store.polls.get(guild.id, poll.id)
        job = await bookclub.store.jobs.get(guild.id, "poll_close", str(poll.id))
        return bool(stored and stored.announcement_message_id == announcement.id and job and job.status == "done")

    assert await eventually(recorded)
    # As if the process died between Discord taking the post and the bot recording it: the job runs again.
    async with bookclub.store.db.transaction() as conn:
        await conn.execute("UPDATE polls SET announcement_message_id = NULL WHERE id = ?", (poll.id,))
    await bookclub.bot.scheduler.schedule(guild.id, PollClose(poll_id=poll.id), bookclub.clock.now())

    assert await eventually(recorded)
    assert announcements(bookclub) == [announcement]
    reads = await bookclub.store.history.reads(guild.id)
    assert [(read.book.title, read.status) for read in reads] == [("Hamnet", "planned")]


async def test_bidi_controls_in_a_nominated_title_are_not_echoed(bookclub: Any) -> None:
    guild = bookclub.double.guild_a
    ix = await bookclub.double.slash(guild, guild.member("Alice"), "nominate add", timeout=5.0,
                                     title="The \u202eRed\u202c House\u2066", author="Mark \u2067Haddon\u2069\u200f")
    echoed = (await ix.reply(timeout=SETTLE)).text()
    assert not any(char in echoed for char in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
    assert shown_text(echoed).startswith("You nominated The Red House by Mark Haddon")
