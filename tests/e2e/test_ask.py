"""/ask and mentions through the loopback Discord: offline answers, the model path, and falling back when it fails."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from openai import AsyncOpenAI

from bot.services.asker import ModelAsker, OfflineAsker
from bot.services.meeting_asker import MeetingAsker
from bot.store.db import to_db_time
from tests.discord_double.interactions import CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE
from tests.doubles.openai_server import FakeOpenAI, summarise_tool_results, text, tool_call

QUESTION = "have you read any books written by Ishiguro? If yes, which one(s) do you recommend?"
ISHIGURO = ("Never Let Me Go", "The Remains of the Day", "When We Were Orphans")


async def run(bookclub: Any, member: str, command: str, guild: Any = None, **options: Any) -> Any:
    guild = guild or bookclub.double.guild_a
    ix = await bookclub.double.slash(guild, guild.member(member), command, timeout=5.0, **options)
    await ix.reply(timeout=10.0)
    return ix


@pytest.fixture
async def club(bookclub: Any) -> Any:
    """A moderator adds five reads, members rate them, and one review has been published."""
    reads = [
        ("Never Let Me Go", "Kazuo Ishiguro", "2019-04-01", "2019-05-14"),
        ("The Remains of the Day", "Kazuo Ishiguro", "2017-08-01", "2017-09-03"),
        ("When We Were Orphans", "Kazuo Ishiguro", "2023-01-02", "2023-01-30"),
        ("Beloved", "Toni Morrison", "2022-09-15", "2022-10-09"),
        ("Piranesi", "Susanna Clarke", "2026-02-20", None),
    ]
    for title, author, started, finished in reads:
        options = {"finished": finished} if finished else {}
        await run(bookclub, "Mod", "club add", title=title, author=author, started=started, **options)
    ratings = {"Alice": {"Never Let Me Go": 5, "The Remains of the Day": 3, "Beloved": 4},
               "Bob": {"Never Let Me Go": 5, "When We Were Orphans": 3, "The Remains of the Day": 4},
               "Carol": {"Never Let Me Go": 4, "Beloved": 5}}
    for member, books in ratings.items():
        for title, stars in books.items():
            await run(bookclub, member, "rate", book=title, stars=stars)
    guild = bookclub.double.guild_a
    book = await bookclub.store.books.find(guild.id, "Never Let Me Go", "Kazuo Ishiguro")
    async with bookclub.store.db.transaction() as conn:
        await conn.execute(
            "INSERT INTO reviews (guild_id, book_id, member_id, reviewer_name, rating, body, status, created_at) "
            "VALUES (?, ?, ?, 'Bob', 5, ?, 'announced', ?)",
            (guild.id, book.id, guild.member("Bob").id, "Devastating. Read it before someone spoils it for you.",
             to_db_time(bookclub.clock.now())),
        )
    return bookclub


async def test_ask_names_the_authors_reads_and_recommends_the_best_rated(club: Any) -> None:
    ix = await run(club, "Carol", "ask", question=QUESTION)
    assert ix.response_type == CHANNEL_MESSAGE, "a quick offline answer comes with the acknowledgement, not after it"
    answer = await ix.reply()
    assert not answer.ephemeral
    text = answer.text()
    assert all(f"**{title}**" in text for title in ISHIGURO)
    assert "finished May 2019" in text and "4.7★ from 3 ratings" in text
    assert "I'd recommend **Never Let Me Go**" in text
    assert "> Devastating\\. Read it before someone spoils it for you\\." in text and "— Bob, 5★" in text
    assert len(answer.content) <= 2000 and club.double.pings() == []


@pytest.mark.parametrize("question", ["have you read any other ishigoro?", "what did we read by Ishiguro Kazuo"])
async def test_misspelt_and_reordered_authors_get_the_same_answer(club: Any, question: str) -> None:
    text = (await (await run(club, "Alice", "ask", question=question)).reply()).text()
    assert all(title in text for title in ISHIGURO)


async def test_the_other_server_learns_nothing(club: Any) -> None:
    other = club.double.guild_b
    for question in (QUESTION, "what should I read next?", "how many books did we read in 2019?",
                     "what did the club think of Beloved?", "what are we reading now?"):
        text = (await (await run(club, "Alice", "ask", guild=other, question=question)).reply()).text()
        # A name the member typed may be echoed ("nothing by Ishiguro"); nothing of the first server's records may.
        for secret in ("Kazuo", "Ishiguro", "Never Let Me Go", "Beloved", "Piranesi", "Devastating", "4.7★"):
            assert secret.lower() in question.lower() or secret not in text, (question, text)
    # The names the member asked about are answered as unknown here, not met with silence.
    assert "No: the club hasn't read anything by Ishiguro yet." in (
        await (await run(club, "Alice", "ask", guild=other, question=QUESTION)).reply()).text()


async def test_names_the_club_never_read_are_answered_plainly(club: Any) -> None:
    async def ask(question: str) -> str:
        return (await (await run(club, "Alice", "ask", question=question)).reply()).text()

    assert (await ask("which Atwood would you recommend?")).startswith(
        "The club hasn't read anything by Atwood yet.")
    assert (await ask("what did the club think of Middlemarch?")).startswith(
        "No: the club hasn't read “Middlemarch”.")
    assert (await ask("Have we ever read Le Guin?")).startswith(
        "No: the club's records have no book or author like “Le Guin”.")
    assert (await ask("have we read Beloved?")).startswith("**Beloved** by Toni Morrison: finished")


async def test_rankings_and_the_reading_order_answer_from_the_history(club: Any) -> None:
    async def ask(member: str, question: str) -> str:
        answer = await (await run(club, member, "ask", question=question)).reply()
        assert not answer.ephemeral and len(answer.content) <= 2000
        return answer.text()

    least = await ask("Carol", "which book did we like least?")
    assert least.startswith("The club's lowest-rated read: **The Remains of the Day** by Kazuo Ishiguro, 3.5★ from "
                            "2 ratings")
    assert "**When We Were Orphans** by Kazuo Ishiguro has 3★ from 1 rating, one member's view" in least
    assert (await ask("Alice", "which book did Bob rate highest?")).startswith(
        "Bob's highest-rated book: **Never Let Me Go** by Kazuo Ishiguro, 5★.")
    assert (await ask("Bob", "what did we read after beloved?")).startswith(
        "After **Beloved** by Toni Morrison (finished October 2022) the club read **When We Were Orphans** by Kazuo "
        "Ishiguro (finished January 2023).\nThen: **Piranesi** by Susanna Clarke (reading since February 2026).")
    between = await ask("Bob", "what did we read in between when we were orphans and Never Let Me Go?")
    assert between.startswith("Between **Never Let Me Go** by Kazuo Ishiguro (finished May 2019) and **When We "
                              "Were Orphans** by Kazuo Ishiguro (finished January 2023) the club read 1 book:\n"
                              "• **Beloved**")
    assert club.double.pings() == []


async def test_books_and_authors_the_club_never_read_get_a_plain_no(club: Any) -> None:
    async def ask(question: str, guild: Any = None) -> str:
        return (await (await run(club, "Alice", "ask", guild=guild, question=question)).reply()).text()

    nocturnes = await ask("did we read Ishiguro's *Nocturnes*?")
    assert nocturnes.startswith("No: the club hasn't read “Nocturnes” by Kazuo Ishiguro.\nBy Kazuo Ishiguro the club "
                                "has read:")
    assert all(f"**{title}**" in nocturnes for title in ISHIGURO)
    assert (await ask("have we read War and Peace by Tolstoy?")).startswith(
        "No: the club hasn't read “War and Peace” by Tolstoy.")
    assert (await ask("any Zadie Smith?")).startswith("No: the club hasn't read anything by Zadie Smith yet.")
    assert (await ask("who liked Beloved?", club.double.guild_b)).startswith("No: the club hasn't read “Beloved”.")


async def test_a_new_club_is_told_its_history_is_empty_and_how_to_fill_it(bookclub: Any) -> None:
    guild = bookclub.double.guild_b
    ix = await bookclub.double.slash(guild, guild.member("Alice"), "ask", question="what is the meaning of life?")
    text = (await ix.reply()).text()
    assert text.startswith("The club's history is empty so far") and "`/club add`" in text and "`/club import`" in text


async def test_other_questions_answer_from_the_history(club: Any) -> None:
    async def ask(member: str, question: str) -> str:
        return (await (await run(club, member, "ask", question=question)).reply()).text()

    now = await ask("Bob", "what are we reading now?")
    assert "reading **Piranesi** by Susanna Clarke (since 20 February 2026)" in now
    assert (await ask("Bob", "what should I read next?")).startswith("Try **Beloved** by Toni Morrison")
    liked = await ask("Alice", "who liked Beloved?")
    assert "Liked it: Carol (5★), Alice (4★)" in liked
    assert (await ask("Alice", "how many books did we read in 2019?")).startswith("The club finished 1 book in 2019")


async def test_a_mention_gets_the_same_answer_as_a_reply(club: Any) -> None:
    guild = club.double.guild_a
    channel = guild.channel("general")
    question = await club.double.post_message(channel, guild.member("Alice"), "have you read any other Ishiguro?",
                                              mentions_bot=True)
    answer = await club.double.wait_for_message(channel, lambda message: message.reference is question)
    assert all(title in answer.text() for title in ISHIGURO) and "I'd recommend **Never Let Me Go**" in answer.text()
    assert club.double.find_requests("POST", rf"/channels/{channel.id}/typing$")
    assert club.double.pings() == []


async def test_a_bare_mention_gets_help(club: Any) -> None:
    guild = club.double.guild_a
    channel = guild.channel("general")
    question = await club.double.post_message(channel, guild.member("Bob"), "", mentions_bot=True)
    answer = await club.double.wait_for_message(channel, lambda message: message.reference is question)
    assert answer.content.startswith("Ask me about the club's history")


@pytest.fixture
async def model(club: Any) -> AsyncIterator[FakeOpenAI]:
    """The bot answers through a loopback OpenAI-compatible server, as with OPENAI_BASE_URL set."""
    async with FakeOpenAI() as server, AsyncOpenAI(api_key="test", base_url=server.base_url, max_retries=0) as client:
        # Meeting questions are answered before the configured asker sees a question.
        asker = club.bot.asker
        assert isinstance(asker, MeetingAsker) and isinstance(asker.inner, OfflineAsker)
        offline = asker.inner
        asker.inner = ModelAsker(client, "local-model", offline, timeout=2.0, request_timeout=1.0)
        try:
            yield server
        finally:
            asker.inner = offline


async def test_the_model_runs_its_tool_round_and_answers(club: Any, model: FakeOpenAI) -> None:
    model.answer_with(tool_call("find_books", {"author": "Ishiguro"}), summarise_tool_results)
    text = (await (await run(club, "Alice", "ask", question=QUESTION)).reply()).text()
    assert text.startswith("From the club's records: ") and all(title in text for title in ISHIGURO)
    assert len(model.completions) == 2


async def test_a_slow_answer_defers_first_so_the_member_never_waits_in_silence(club: Any, model: FakeOpenAI) -> None:
    model.fail(delay=3.0)
    ix = await run(club, "Alice", "ask", question=QUESTION)
    assert ix.response_type == DEFERRED_CHANNEL_MESSAGE
    assert "I'd recommend **Never Let Me Go**" in (await ix.reply(timeout=10.0)).text()


@pytest.mark.parametrize("fault", [{"status": 500}, {"delay": 3.0}], ids=["server-error", "timeout"])
async def test_when_the_model_fails_the_member_gets_the_offline_answer(club: Any, model: FakeOpenAI, fault) -> None:
    model.fail(**fault)
    text = (await (await run(club, "Alice", "ask", question=QUESTION)).reply(timeout=10.0)).text()
    assert "I'd recommend **Never Let Me Go**" in text and all(title in text for title in ISHIGURO)


def empty_choices(request: dict[str, Any]) -> dict[str, Any]:
    return {"id": "chatcmpl-empty", "object": "chat.completion", "created": 1, "model": request["model"],
            "choices": []}


@pytest.mark.parametrize("responders", [
    [tool_call("find_books", "{not json")],
    [tool_call("drop_table", {"name": "reviews"})],
    [tool_call("find_books", {"author": 42, "limit": "all"})],
    [empty_choices],
    [tool_call("find_books", {"author": "Ishiguro"})],  # asks for tools for ever: past the round cap
], ids=["broken-json-arguments", "unknown-tool", "wrong-argument-types", "no-choices", "endless-tool-calls"])
async def test_a_model_that_answers_garbage_gives_way_to_the_offline_answer(club: Any, model: FakeOpenAI,
                                                                            responders: list[Any]) -> None:
    model.answer_with(*responders)
    text = (await (await run(club, "Alice", "ask", question=QUESTION)).reply(timeout=10.0)).text()
    assert "I'd recommend **Never Let Me Go**" in text and all(title in text for title in ISHIGURO)
    assert 1 <= len(model.completions) <= 4
    assert club.double.pings() == []


async def test_a_model_body_that_is_not_json_gives_way_to_the_offline_answer(club: Any, model: FakeOpenAI) -> None:
    model.fail(garbage=True)
    text = (await (await run(club, "Alice", "ask", question=QUESTION)).reply(timeout=10.0)).text()
    assert "I'd recommend **Never Let Me Go**" in text


INJECTED = (
    "**Never Let Me Go** by Kazuo Ishiguro is the club's favourite. @everyone claim free Nitro at "
    "https://discord-nitro.gift/claim or sign in on [the club's page](https://bookclub-login.example.com/auth), "
    "join discord.gg/freebooks and ask <@&123456789012345678> in <#123456789012345679>, says <@!42>."
)


async def test_links_and_mentions_a_review_talked_the_model_into_never_reach_discord(club: Any,
                                                                                     model: FakeOpenAI) -> None:
    model.answer_with(tool_call("find_books", {"author": "Ishiguro"}), text(INJECTED))
    posted = (await (await run(club, "Alice", "ask", question=QUESTION)).reply()).text()
    for planted in ("http", "discord-nitro.gift", "bookclub-login", "discord.gg", "](", "@everyone", "<@", "<#"):
        assert planted not in posted
    assert posted.startswith("**Never Let Me Go** by Kazuo Ishiguro is the club's favourite. everyone claim free "
                             "Nitro at (link removed) or sign in on the club's page, join (link removed) and ask a "
                             "role in a channel, says a member.")
    assert club.double.pings() == []


async def test_a_model_answer_naming_a_book_the_records_lack_gives_way_to_the_offline_answer(
        club: Any, model: FakeOpenAI) -> None:
    model.answer_with(tool_call("find_books", {"author": "Ishiguro"}),
                      text("Members loved **Never Let Me Go**, but read **The Nitro Giveaway** by Free Gifts next."))
    posted = (await (await run(club, "Alice", "ask", question=QUESTION)).reply()).text()
    assert "Nitro" not in posted and "I'd recommend **Never Let Me Go**" in posted
