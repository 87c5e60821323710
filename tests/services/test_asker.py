"""/ask's answerers: offline from this guild's rows, and a model through read-only tools that falls back offline."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, date, datetime
from typing import Any

import aiohttp
import pytest
from openai import AsyncOpenAI

from bot.__main__ import open_asker
from bot.clock import ManualClock
from bot.services.asker import Answer, ModelAsker, OfflineAsker, Question, readonly_history, tool_definitions
from bot.services.openlibrary import OpenLibraryCatalogue
from bot.settings import Settings
from bot.store import Store
from bot.store.db import to_db_time
from tests.doubles.openai_server import FakeOpenAI, summarise_tool_results, text, tool_call, tool_results
from tests.doubles.openlibrary_server import FakeOpenLibrary

GUILD_A, GUILD_B = 111, 222
MOD, ALICE, BOB, CAROL = 10, 11, 12, 13
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
DONE_WHEN = "have you read any books written by Ishiguro? If yes, which one(s) do you recommend?"


def question(text_: str, guild_id: int = GUILD_A, member_id: int = ALICE) -> Question:
    return Question(guild_id=guild_id, member_id=member_id, member_name="Alice", text=text_, today=TODAY)


async def add(store: Store, title: str, author: str, status: str, finished: date | None = None,
              started: date | None = None, ratings: dict[int, int] | None = None) -> int:
    book, _ = await store.books.find_or_create(GUILD_A, title, author)
    await store.history.add_read(GUILD_A, book.id, status=status, started_on=started, finished_on=finished,  # type: ignore[arg-type]
                                 now=NOW)
    names = {ALICE: "Alice", BOB: "Bob", CAROL: "Carol", MOD: "Mod"}
    for member_id, stars in (ratings or {}).items():
        await store.history.rate(GUILD_A, book.id, member_id, names[member_id], stars, now=NOW)
    return book.id


async def review(store: Store, book_id: int, member_id: int, name: str, stars: int, body: str) -> None:
    async with store.db.transaction() as conn:
        await conn.execute(
            "INSERT INTO reviews (guild_id, book_id, member_id, reviewer_name, rating, body, status, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, 'announced', ?)",
            (GUILD_A, book_id, member_id, name, stars, body, to_db_time(NOW)),
        )


@pytest.fixture
async def club(store: Store) -> Store:
    never = await add(store, "Never Let Me Go", "Kazuo Ishiguro", "finished", date(2019, 5, 14),
                      ratings={ALICE: 5, BOB: 5, CAROL: 4})
    await review(store, never, BOB, "Bob", 5, "Devastating. Read it before someone spoils it for you.")
    await add(store, "The Remains of the Day", "Kazuo Ishiguro", "finished", date(2017, 9, 3),
              ratings={BOB: 4, CAROL: 3})
    await add(store, "When We Were Orphans", "Kazuo Ishiguro", "finished", date(2023, 1, 20), ratings={CAROL: 3})
    await add(store, "Beloved", "Toni Morrison", "finished", date(2025, 2, 2), ratings={BOB: 5, CAROL: 5})
    await add(store, "Piranesi", "Susanna Clarke", "reading", started=date(2026, 3, 1))
    return store


@pytest.fixture
def offline(club: Store) -> OfflineAsker:
    return OfflineAsker(club.history)


async def test_the_offline_answer_names_the_authors_reads_and_recommends_one(offline: OfflineAsker) -> None:
    answer = await offline.answer(question(DONE_WHEN))
    assert answer.source == "offline"
    for title in ("Never Let Me Go", "The Remains of the Day", "When We Were Orphans"):
        assert f"**{title}**" in answer.text
    assert "I'd recommend **Never Let Me Go**" in answer.text and "4.7★ from 3 ratings" in answer.text
    assert "> Devastating\\. Read it before someone spoils it for you\\." in answer.text and "— Bob, 5★" in answer.text


@pytest.mark.parametrize("text_", ["any ishigoro?", "what did we read by Ishiguro Kazuo"])
async def test_misspelt_and_reordered_names_get_the_same_books(offline: OfflineAsker, text_: str) -> None:
    answer = await offline.answer(question(text_))
    assert all(title in answer.text for title in ("Never Let Me Go", "Remains of the Day", "When We Were Orphans"))


async def test_another_guild_learns_nothing_of_this_one(offline: OfflineAsker) -> None:
    for text_ in (DONE_WHEN, "what did the club think of Beloved?", "what should I read next?",
                  "how many books did we read in 2025?", "what are we reading now?", "what did we read last?"):
        answer = await offline.answer(question(text_, guild_id=GUILD_B))
        # A name the member typed may be echoed ("nothing by Ishiguro"); nothing of guild A's records may.
        for title in ("Never Let Me Go", "Remains", "Orphans", "Beloved", "Piranesi", "Ishiguro", "Kazuo"):
            assert title.lower() in text_.lower() or title not in answer.text, (text_, answer.text)


async def test_read_next_is_the_best_rated_club_read_the_member_has_not_rated(offline: OfflineAsker) -> None:
    answer = await offline.answer(question("what should I read next?", member_id=ALICE))
    assert answer.text.startswith("Try **Beloved** by Toni Morrison")
    answer = await offline.answer(question("what should I read next?", member_id=MOD))
    assert answer.text.startswith("Try **Beloved**")
    answer = await offline.answer(question("what should I read next?", member_id=CAROL))
    assert "nothing to suggest" in answer.text


async def test_current_last_and_period_answers_come_from_the_guilds_reads(offline: OfflineAsker) -> None:
    assert "reading **Piranesi** by Susanna Clarke (since 1 March 2026)" in (
        await offline.answer(question("what are we reading now?"))).text
    assert "last read was **Beloved**" in (await offline.answer(question("what did we read last?"))).text
    counted = (await offline.answer(question("how many books did we read in 2025?"))).text
    assert counted.startswith("The club finished 1 book in 2025:") and "**Beloved** by Toni Morrison" in counted
    assert "finished 4 books in all" in (await offline.answer(question("how many books have we read?"))).text


async def test_answers_follow_changes_to_the_history(club: Store, offline: OfflineAsker) -> None:
    await offline.answer(question(DONE_WHEN))
    klara = await add(club, "Klara and the Sun", "Kazuo Ishiguro", "finished", date(2021, 5, 2))
    assert "**Klara and the Sun**" in (await offline.answer(question(DONE_WHEN))).text
    await club.history.rate(GUILD_A, klara, ALICE, "Alice", 5, now=NOW)
    await club.history.rate(GUILD_A, klara, BOB, "Bob", 5, now=NOW)
    await club.history.rate(GUILD_A, klara, CAROL, "Carol", 5, now=NOW)
    assert "I'd recommend **Klara and the Sun**" in (await offline.answer(question(DONE_WHEN))).text


async def test_reads_begun_finished_and_removed_show_in_the_next_answer(club: Store, offline: OfflineAsker) -> None:
    # The guild's reads are held in the answerer's snapshot: each change must reach the very next answer.
    assert "**Klara and the Sun**" not in (await offline.answer(question("what are we reading now?"))).text
    klara = await add(club, "Klara and the Sun", "Kazuo Ishiguro", "planned")
    await club.history.start_read(GUILD_A, klara, on=date(2026, 3, 2), now=NOW)
    assert "**Klara and the Sun** by Kazuo Ishiguro (since 2 March 2026)" in (
        await offline.answer(question("what are we reading now?"))).text
    await club.history.start_read(GUILD_A, klara, on=date(2026, 2, 20), now=NOW)
    assert "(since 20 February 2026)" in (await offline.answer(question("what are we reading now?"))).text
    await club.history.finish_read(GUILD_A, klara, on=date(2026, 3, 2))
    assert "last read was **Klara and the Sun**" in (await offline.answer(question("what did we read last?"))).text
    assert "Then: **Klara and the Sun** by Kazuo Ishiguro (finished March 2026)" in (
        await offline.answer(question("what did we read after Beloved?"))).text
    await club.history.remove_read(GUILD_A, klara)
    assert "last read was **Beloved**" in (await offline.answer(question("what did we read last?"))).text


async def test_the_catalogue_adds_the_authors_unread_books_and_is_left_out_when_down(club: Store,
                                                                                     clock: ManualClock) -> None:
    async with FakeOpenLibrary() as openlibrary, aiohttp.ClientSession() as session:
        catalogue = OpenLibraryCatalogue(session, openlibrary.base_url, club.catalogue_cache, clock, timeout=0.3)
        with_catalogue = OfflineAsker(club.history, catalogue)
        answer = await with_catalogue.answer(question(DONE_WHEN))
        assert "Not read by the club yet: **Klara and the Sun** (2021)" in answer.text
        assert "**Never Let Me Go** (2005)" not in answer.text
        openlibrary.fail(status=500)
        down = OfflineAsker(club.history, OpenLibraryCatalogue(session, openlibrary.base_url, club.catalogue_cache,
                                                               clock, timeout=0.3))
        answer = await down.answer(question("any Morrison?"))
        assert "Not read by the club yet" not in answer.text and "**Beloved**" in answer.text
        assert "error" not in answer.text.lower()


async def test_a_title_the_club_never_read_names_the_authors_other_books_from_the_catalogue(
        club: Store, clock: ManualClock) -> None:
    async with FakeOpenLibrary() as openlibrary, aiohttp.ClientSession() as session:
        catalogue = OpenLibraryCatalogue(session, openlibrary.base_url, club.catalogue_cache, clock, timeout=0.3)
        answer = await OfflineAsker(club.history, catalogue).answer(question("did we read Ishiguro's Nocturnes?"))
    assert answer.text.startswith("No: the club hasn't read “Nocturnes” by Kazuo Ishiguro.\nBy Kazuo Ishiguro the "
                                  "club has read:")
    assert "By Kazuo Ishiguro, the club could read: **Klara and the Sun** (2021)" in answer.text
    assert "could read: **Never Let Me Go**" not in answer.text


# -- the model -------------------------------------------------------------------------------------


@pytest.fixture
async def openai_server() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


@pytest.fixture
async def client(openai_server: FakeOpenAI) -> AsyncIterator[AsyncOpenAI]:
    async with AsyncOpenAI(api_key="test-key", base_url=openai_server.base_url, max_retries=0) as opened:
        yield opened


@pytest.fixture
def model(client: AsyncOpenAI, offline: OfflineAsker) -> ModelAsker:
    return ModelAsker(client, "test-model", offline, timeout=2.0, request_timeout=1.0)


async def test_the_model_answers_from_its_tool_round(model: ModelAsker, openai_server: FakeOpenAI) -> None:
    openai_server.answer_with(tool_call("find_books", {"author": "ishigoro"}), summarise_tool_results)
    answer = await model.answer(question(DONE_WHEN))
    assert answer.source == "model"
    assert answer.text.startswith("From the club's records: ")
    assert "Never Let Me Go (4.67★)" in answer.text and "When We Were Orphans (3.0★)" in answer.text
    first, second = openai_server.completions
    assert first["model"] == "test-model" and {tool["function"]["name"] for tool in first["tools"]} == {
        "find_books", "book_details", "reads_in_period", "club_overview", "ranked_books", "reads_around"}
    assert "untrusted" in first["messages"][0]["content"] and DONE_WHEN in first["messages"][1]["content"]
    [result] = tool_results(second)
    assert "untrusted_text" in result["note"] and len(result["books"]) == 3


async def test_review_text_reaches_the_model_only_as_untrusted_tool_data(model: ModelAsker,
                                                                         openai_server: FakeOpenAI) -> None:
    openai_server.answer_with(tool_call("book_details", {"book_id": 1}), text("Members loved it."))
    answer = await model.answer(question("what did the club think of Never Let Me Go?"))
    assert answer == type(answer)("Members loved it.", "model")
    [result] = tool_results(openai_server.completions[1])
    assert result["reviews"] == [{"reviewer": "Bob", "stars": 5, "date": "2026-03-02",
                                  "untrusted_text": "Devastating. Read it before someone spoils it for you."}]
    assert {"member": "Alice", "stars": 5} in result["member_ratings"]
    assert "Devastating" not in json.dumps(openai_server.completions[0]["messages"])


async def test_the_models_tools_only_see_the_asking_guild(model: ModelAsker, openai_server: FakeOpenAI) -> None:
    openai_server.answer_with(tool_call("book_details", {"book_id": 1}),
                              tool_call("find_books", {"author": "Ishiguro"}),
                              tool_call("club_overview", {}), text("Nothing here."))
    answer = await model.answer(question(DONE_WHEN, guild_id=GUILD_B))
    assert answer.text == "Nothing here."
    leaked = json.dumps([tool_results(request) for request in openai_server.completions])
    assert "Never Let Me Go" not in leaked and "Devastating" not in leaked and "Beloved" not in leaked


async def test_periods_and_the_overview_for_the_model(model: ModelAsker, openai_server: FakeOpenAI) -> None:
    openai_server.answer_with(tool_call("reads_in_period", {"start": "2025-01-01", "end": "2025-12-31"}),
                              tool_call("club_overview", {}), text("ok"))
    await model.answer(question("what did we read in 2025, and what should I read next?"))
    period = tool_results(openai_server.completions[1])[0]
    assert period["finished_count"] == 1 and period["books"][0]["title"] == "Beloved"
    overview = tool_results(openai_server.completions[2])[1]
    assert overview["reading_now"][0]["title"] == "Piranesi"
    assert [book["title"] for book in overview["suggestions_for_member"]][:1] == ["Beloved"]


async def test_the_model_ranks_the_clubs_books_with_lone_ratings_set_apart(model: ModelAsker,
                                                                          openai_server: FakeOpenAI) -> None:
    openai_server.answer_with(tool_call("ranked_books", {"order": "worst", "limit": 2}),
                              tool_call("ranked_books", {"order": "best", "start": "2025-01-01", "end": "2025-12-31"}),
                              tool_call("ranked_books", {"order": "best", "member": "Bob"}), text("ok"))
    answer = await model.answer(question("which book did we like least, the best of 2025, and Bob's favourite?"))
    assert answer == type(answer)("ok", "model")
    worst = tool_results(openai_server.completions[1])[0]
    # When We Were Orphans has 3★ from Carol alone: it comes after the books several members rated.
    assert [book["title"] for book in worst["books"]] == ["The Remains of the Day", "Never Let Me Go"]
    assert worst["books"][0]["ratings"] == 2 and worst["books"][0]["single_rating"] is False
    best_2025 = tool_results(openai_server.completions[2])[1]
    assert [book["title"] for book in best_2025["books"]] == ["Beloved"]
    bobs = tool_results(openai_server.completions[3])[2]
    assert [(book["title"], book["member_gave"]) for book in bobs["member_stars"]] == [
        ("Never Let Me Go", 5), ("Beloved", 5), ("The Remains of the Day", 4)]


async def test_the_model_finds_the_reading_order_of_this_guild_only(model: ModelAsker,
                                                                    openai_server: FakeOpenAI) -> None:
    openai_server.answer_with(tool_call("reads_around", {"book_id": 3, "relation": "after"}),
                              tool_call("reads_around", {"book_id": 1, "relation": "between", "other_book_id": 4}),
                              text("ok"))
    await model.answer(question("what did we read after When We Were Orphans, and between the others?"))
    after = tool_results(openai_server.completions[1])[0]
    assert after["book"]["title"] == "When We Were Orphans"
    assert [book["title"] for book in after["reads"]] == ["Beloved", "Piranesi"]
    between = tool_results(openai_server.completions[2])[1]
    assert [book["title"] for book in between["reads"]] == ["When We Were Orphans"]
    openai_server.answer_with(tool_call("reads_around", {"book_id": 3, "relation": "after"}), text("none"))
    await model.answer(question("what did we read after When We Were Orphans?", guild_id=GUILD_B))
    other = tool_results(openai_server.completions[-1])[0]
    assert other["book"] is None and other["reads"] == []


@pytest.mark.parametrize(
    "fault",
    [{"status": 500}, {"delay": 3.0}, {"garbage": True}],
    ids=["server-error", "too-slow", "garbage"],
)
async def test_a_failing_model_gives_the_offline_answer(model: ModelAsker, openai_server: FakeOpenAI, fault) -> None:
    openai_server.fail(**fault)
    started = time.monotonic()
    answer = await model.answer(question(DONE_WHEN))
    assert answer.source == "offline" and "I'd recommend **Never Let Me Go**" in answer.text
    assert time.monotonic() - started < 2.5


@pytest.mark.parametrize(
    "bad_call",
    [tool_call("find_books", "{not json"), tool_call("drop_tables", {}), tool_call("book_details", {"book_id": "x"}),
     tool_call("find_books", {"author": "Ishiguro", "guild_id": 222}), tool_call("find_books", {})],
    ids=["broken-json", "unknown-tool", "wrong-type", "extra-argument", "no-name"],
)
async def test_invalid_tool_calls_give_the_offline_answer(model: ModelAsker, openai_server: FakeOpenAI,
                                                          bad_call) -> None:
    openai_server.answer_with(bad_call, text("should not be used"))
    answer = await model.answer(question(DONE_WHEN))
    assert answer.source == "offline" and len(openai_server.completions) == 1


async def test_at_most_three_tool_rounds(model: ModelAsker, openai_server: FakeOpenAI) -> None:
    openai_server.answer_with(tool_call("club_overview", {}))
    answer = await model.answer(question("what are we reading now?"))
    assert answer.source == "offline"
    assert len(openai_server.completions) == 4
    assert openai_server.completions[-1]["tool_choice"] == "none"


async def test_a_long_model_answer_is_cut_to_discords_limit(model: ModelAsker, openai_server: FakeOpenAI) -> None:
    openai_server.answer_with(text("word " * 1000))
    answer = await model.answer(question("tell me everything"))
    assert answer.source == "model" and len(answer.text) <= 2000 and answer.text.endswith("…")


async def test_an_empty_model_answer_gives_the_offline_answer(model: ModelAsker, openai_server: FakeOpenAI) -> None:
    openai_server.answer_with(text("   "))
    assert (await model.answer(question("what are we reading now?"))).source == "offline"


async def test_the_askers_work_over_a_read_only_connection(club: Store, openai_server: FakeOpenAI,
                                                           client: AsyncOpenAI) -> None:
    async with readonly_history(club.target) as history:
        offline = OfflineAsker(history)
        assert "**Never Let Me Go**" in (await offline.answer(question(DONE_WHEN))).text
        openai_server.answer_with(tool_call("find_books", {"title": "Remains of Day"}), summarise_tool_results)
        answer = await ModelAsker(client, "m", offline, timeout=2.0).answer(question("thoughts on Remains of Day?"))
        assert answer.source == "model" and "The Remains of the Day" in answer.text


def test_tool_definitions_forbid_arguments_the_tools_do_not_take() -> None:
    for definition in tool_definitions():
        function: dict[str, Any] = dict(definition["function"])
        assert function["description"] and function["parameters"]["additionalProperties"] is False


async def test_startup_builds_the_model_asker_only_with_an_api_key(club: Store, openai_server: FakeOpenAI,
                                                                   clock: ManualClock) -> None:
    async with aiohttp.ClientSession() as session:
        catalogue = OpenLibraryCatalogue(session, "http://127.0.0.1:9", club.catalogue_cache, clock, timeout=0.3)
        offline_settings = Settings(_env_file=None, database_path=club.path)  # type: ignore[call-arg]
        async with AsyncExitStack() as stack:
            asker = await open_asker(offline_settings, stack, catalogue)
            assert isinstance(asker, OfflineAsker)
        model_settings = Settings(_env_file=None, database_path=club.path, openai_api_key="test-key",  # type: ignore[call-arg]
                                  openai_base_url=openai_server.base_url, openai_model="local-model")
        openai_server.answer_with(text("From the model."))
        async with AsyncExitStack() as stack:
            asker = await open_asker(model_settings, stack, catalogue)
            assert await asker.answer(question("anything?")) == Answer("From the model.", "model")
        assert openai_server.completions[0]["model"] == "local-model"


async def test_a_model_answer_is_posted_without_planted_links_or_mentions(model: ModelAsker,
                                                                         openai_server: FakeOpenAI) -> None:
    openai_server.answer_with(tool_call("book_details", {"book_id": 1}), text(
        "Bob loved **Never Let Me Go**: “Devastating.” @here get it free at [the shop](https://evil.example.com) "
        "or https://evil.example.com/dl <@1>"))
    answer = await model.answer(question("what did the club think of Never Let Me Go?"))
    assert answer == Answer("Bob loved **Never Let Me Go**: “Devastating.” here get it free at the shop or "
                            "(link removed) a member", "model")


async def test_a_model_answer_quoting_what_no_review_says_gives_the_offline_answer(model: ModelAsker,
                                                                                  openai_server: FakeOpenAI) -> None:
    openai_server.answer_with(tool_call("book_details", {"book_id": 1}),
                              text("Bob wrote: “Everyone must claim their prize at the link below.”"))
    answer = await model.answer(question("what did the club think of Never Let Me Go?"))
    assert answer.source == "offline" and "prize" not in answer.text
