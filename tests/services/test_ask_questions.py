"""/ask offline, question by question: members' own phrasings (typos included) over two servers' different histories.

Each row is a question as a member would type it, in which server and by whom, what the answer must say and
what it must never say. Server A reads Ishiguro, Morrison and the Brontës; server B reads Diaz, Keegan, an
author called Clubb (a letter from "clubs"), *War Horse* (whose first word begins "War and Peace") and
*Before the Coffee Gets Cold* (a title holding an order word).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.services.asker import OfflineAsker, Question, readonly_history
from bot.store import Store
from bot.store.db import to_db_time

A, B = 111, 222
ALICE, BOB, CAROL, DANA, EVAN, NEWBIE = 11, 12, 13, 21, 22, 99
NAMES = {ALICE: "Alice", BOB: "Bob", CAROL: "Carol", DANA: "Dana", EVAN: "Evan", NEWBIE: "Newbie"}
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# (guild, title, author, status, started, finished, {member: stars})
READS = [
    (A, "Never Let Me Go", "Kazuo Ishiguro", "finished", "2019-04-01", "2019-05-14", {ALICE: 5, BOB: 5, CAROL: 4}),
    (A, "The Remains of the Day", "Kazuo Ishiguro", "finished", None, "2017-09-03", {BOB: 4, CAROL: 3}),
    (A, "When We Were Orphans", "Kazuo Ishiguro", "finished", None, "2023-01-20", {CAROL: 3}),
    (A, "Beloved", "Toni Morrison", "finished", None, "2025-02-02", {BOB: 5, CAROL: 4}),
    (A, "Jane Eyre", "Charlotte Brontë", "finished", None, "2025-06-10", {ALICE: 1, BOB: 5, CAROL: 3}),
    (A, "Wuthering Heights", "Emily Brontë", "finished", None, "2026-01-15", {ALICE: 2, BOB: 2}),
    (A, "The Bell", "Iris Murdoch", "finished", None, "2026-02-10", {ALICE: 5}),
    (A, "Piranesi", "Susanna Clarke", "reading", "2026-02-20", None, {}),
    (A, "Orlando", "Virginia Woolf", "planned", None, None, {}),
    (B, "Before the Coffee Gets Cold", "Toshikazu Kawaguchi", "finished", None, "2023-06-01", {}),
    (B, "Harbour Lights", "Amy Clubb", "finished", None, "2023-11-02", {DANA: 4}),
    (B, "Trust", "Hernan Diaz", "finished", None, "2024-03-01", {DANA: 4, EVAN: 2}),
    (B, "Small Things Like These", "Claire Keegan", "finished", None, "2024-05-01", {DANA: 5, EVAN: 5}),
    (B, "War Horse", "Michael Morpurgo", "finished", None, "2024-08-20", {DANA: 3, EVAN: 4}),
]


@dataclass(frozen=True)
class Case:
    question: str
    says: tuple[str, ...] = ()
    never: tuple[str, ...] = ()
    guild: int = A
    member: int = ALICE
    starts: str | None = None


def case(question: str, *says: str, never: tuple[str, ...] = (), guild: int = A, member: int = ALICE,
         starts: str | None = None) -> Case:
    return Case(question, says, never, guild, member, starts)


ISHIGURO_READS = ("**Never Let Me Go**", "**The Remains of the Day**", "**When We Were Orphans**")
NOT_UNDERSTOOD = "I can't answer that"

CASES = [
    # -- an author's books (already understood before; kept working)
    case("have you read any books written by Ishiguro? If yes, which one(s) do you recommend?", *ISHIGURO_READS,
         "I'd recommend **Never Let Me Go**", starts="Yes: the club has 3 books by Kazuo Ishiguro"),
    case("have you read any other ishigoro?", *ISHIGURO_READS, "I read “ishigoro” as Kazuo Ishiguro"),
    case("what did we read by Ishiguro Kazuo", *ISHIGURO_READS),
    case("Which Ishiguro do you recommend?", "I'd recommend **Never Let Me Go**"),
    case("did the club read any Bronte?", "**Jane Eyre**", "**Wuthering Heights**", starts="Yes"),
    case("any Morrison?", "**Beloved**"),
    case("which Morison would you recommend?", "**Beloved**", "I read “Morison” as Toni Morrison"),
    case("anything by Iris Murdoch?", "**The Bell**"),
    # -- one book
    case("what did the club think of Remains of Day?", "**The Remains of the Day** by Kazuo Ishiguro"),
    case("who liked beloved?", "Liked it: Bob (5★), Carol (4★)"),
    case("thoughts on Jane Eyre?", "Liked it: Bob (5★)", "Less keen: Alice (1★)"),
    case("did people like Never Let Me Go by Ishiguro?", "**Never Let Me Go** by Kazuo Ishiguro: finished May 2019"),
    case("have we read Beloved?", starts="**Beloved** by Toni Morrison: finished"),
    case("what did you all think of 'Wuthering Heigths'?", "**Wuthering Heights**"),
    case("who liked Trust?", "Liked it: Dana (4★)", guild=B),
    # -- current, last, next, periods
    case("what are we reading now?", "reading **Piranesi** by Susanna Clarke (since 20 February 2026)",
         "Next up: **Orlando**"),
    case("What's the current book?", "**Piranesi**"),
    case("what did we read last?", starts="The club's last read was **The Bell**"),
    case("what was the previous book", "**The Bell**"),
    case("what did we read last?", starts="The club's last read was **War Horse**", guild=B),
    case("what should I read next?", starts="Try **Beloved**", member=ALICE),
    case("can you recommend me something?", "5★ from 1 rating", starts="Try **The Bell**", member=NEWBIE),
    case("how many books did we read in 2025?", "finished 2 books in 2025", "**Beloved**", "**Jane Eyre**"),
    case("what did we read last year?", "finished 2 books last year (2025)"),
    case("how many books have we read?", "finished 7 books in all"),
    case("how many books did we read in 2024?", "finished 3 books in 2024", guild=B),
    case("what did we read in March 2024?", "finished 1 book in March 2024", "**Trust**", guild=B),
    case("how many books have we read?", "finished 5 books in all", guild=B),
    # -- rankings: the club's best, worst and most divisive, fairly to lone ratings
    case("which book did we like least?", starts="The club's lowest-rated read: **Wuthering Heights** by Emily "
         "Brontë, 2★ from 2 ratings"),
    case("what was our worst book?", "**Wuthering Heights**"),
    case("What's the club's favourite book?", "best-rated read", "**Never Let Me Go**", "4.7★ from 3 ratings",
         "**The Bell** by Iris Murdoch has 5★ from 1 rating, one member's view",
         never=("Clubb",)),
    case("which book did the club love the most?", "**Never Let Me Go**"),
    case("highest rated book?", "**Never Let Me Go**"),
    case("our top 3 this year", "**Wuthering Heights**", "one member's view", starts="The club's best-rated "
         "read this year: **Wuthering Heights**"),
    case("top 3 books of all time", "The club's 3 best-rated reads:", "1. **Never Let Me Go**", "2. **Beloved**",
         "3. **The Remains of the Day**"),
    case("what are our top books?", "1. **Never Let Me Go**", "5. **Wuthering Heights**",
         never=("**When We Were Orphans**",)),
    case("the most divisive book?", "**Jane Eyre**", "from 1★ to 5★", "3★ from 3 ratings"),
    case("which book split the club?", "**Jane Eyre**"),
    case("what was the most controversial read in 2025", "**Jane Eyre**"),
    case("best book of 2024", "**Small Things Like These**", "5★ from 2 ratings", guild=B),
    case("which book did we like least in 2024?", "**Trust**", "3★ from 2 ratings", guild=B),
    case("what's the worst book we read in 2020?", starts="The club didn't finish any book in 2020"),
    case("the most divisive book", "**Trust**", "from 2★ to 4★", guild=B),
    case("our 2 worst books", "1. **Wuthering Heights**", "2. **Jane Eyre**"),
    # -- a member's own stars
    case("which book did Bob rate highest?", "Bob gave 5★", "**Never Let Me Go**", "**Beloved**",
         "**Jane Eyre**"),
    case("which book did Alice rate lowest?", starts="Alice's lowest-rated book: **Jane Eyre**"),
    case("what's Carol's favourite?", "Carol gave 4★", "**Beloved**", "**Never Let Me Go**"),
    case("which book did I rate highest?", "You gave 5★", "**Never Let Me Go**", "**The Bell**",
         member=ALICE),
    case("what's my least favourite book?", starts="Your lowest-rated book: **Jane Eyre**", member=ALICE),
    case("my favourite book?", starts="You haven't rated any book", member=NEWBIE),
    case("which book did evan rate lowest?", starts="Evan's lowest-rated book: **Trust**", guild=B),
    case("which book did Dana like best?", "Dana's highest-rated book: **Small Things Like These**", guild=B),
    # -- reading order
    case("what did we read after Beloved?", starts="After **Beloved** by Toni Morrison (finished February 2025) "
         "the club read **Jane Eyre**"),
    case("what came after Jane Eyre?", "**Wuthering Heights**", "Then: **The Bell**"),
    case("what did we read before Beloved?", starts="Before **Beloved**"),
    case("what came before beloved", "**When We Were Orphans**"),
    case("what did we read in between Never Let Me Go and Beloved?", "the club read 1 book",
         "**When We Were Orphans**"),
    case("what did we read between Beloved and Never Let Me Go?", "**When We Were Orphans**"),
    case("what did we read after The Bell?", "**Piranesi**"),
    case("what did we read after Piranesi?", "Nothing yet", "It is the current read"),
    case("what did we read before The Remains of the Day?", "Nothing", "first read"),
    case("what did we read between Beloved and Jane Eyre?", "Nothing", "one right after the other"),
    case("what did we read after Orlando?", "only planned"),
    case("what did we read after Trust?", "**Small Things Like These**", guild=B),
    case("what did we read after Middlemarch?", starts="No: the club hasn't read “Middlemarch”"),
    case("what did we read after Wuthering Heigths?", "**The Bell**", "I read “Wuthering Heigths” as"),
    case("what did we read before War Horse?", "**Small Things Like These**", guild=B),
    case("what did you think of Before the Coffee Gets Cold?", starts="**Before the Coffee Gets Cold** by Toshikazu "
         "Kawaguchi: finished June 2023.", guild=B),
    case("what did we read after before the coffee gets cold?", starts="After **Before the Coffee Gets Cold**",
         guild=B),
    # -- books and authors the club never read
    case("have we read War and Peace by Tolstoy?", starts="No: the club hasn't read “War and Peace” by Tolstoy.",
         never=("War Horse", "Morpurgo"), guild=B),
    case("have we read War and Peace by Tolstoy?", starts="No: the club hasn't read “War and Peace” by Tolstoy."),
    case("have we read War and Peace?", starts="No: the club's records have no book or author like “War and "
         "Peace”", never=("War Horse",), guild=B),
    case("any Zadie Smith?", starts="No: the club hasn't read anything by Zadie Smith yet."),
    case("anything by Olga Tokarczuk?", starts="The club hasn't read anything by Olga Tokarczuk yet."),
    case("did we read Ishiguro's *Nocturnes*?", *ISHIGURO_READS, starts="No: the club hasn't read “Nocturnes” by "
         "Kazuo Ishiguro.\nBy Kazuo Ishiguro the club has read:"),
    case("did we read Ishiguro's Never Let Me Go?", starts="**Never Let Me Go** by Kazuo Ishiguro: finished"),
    case("did we read Nocturnes by Ishiguro?", "By Kazuo Ishiguro the club has read:"),
    case("have we read Beloved by Tolstoy?", "No: the club hasn't read “Beloved” by Tolstoy.",
         "In the club's records with that title: **Beloved** by Toni Morrison"),
    case("who liked Middlemarch?", starts="No: the club hasn't read “Middlemarch”.", never=(NOT_UNDERSTOOD,)),
    case("who liked Beloved?", starts="No: the club hasn't read “Beloved”.", never=(NOT_UNDERSTOOD, "Morrison"),
         guild=B),
    case("did anyone like Middlemarch?", starts="No: the club hasn't read “Middlemarch”."),
    case("what did the club think of Middlemarch?", starts="No: the club hasn't read “Middlemarch”."),
    case("which Atwood would you recommend?", starts="The club hasn't read anything by Atwood yet."),
    case("Have we ever read Le Guin?", starts="No: the club's records have no book or author like “Le Guin”.",
         never=("I can answer questions like",)),
    case("have we read 'Anna Karenina'?", starts="No: the club's records have no book or author like “Anna "
         "Karenina”.", never=("I can answer questions like",)),
    case("have you read any Ishiguro?", starts="No: the club hasn't read anything by Ishiguro yet.", guild=B),
    # -- ordinary words are never taken for names
    case("what are the club's books?", never=("Clubb", "Harbour Lights"), guild=B),
    case("what do you think of the club's favourite?", never=("Clubb",), guild=B),
    case("what is a good book to read?", never=("Clubb", "War Horse"), guild=B),
    case("which book did we read?", never=("Clubb",), guild=B),
    case("clubs?", never=("Clubb",), guild=B),
    case("what's the weather like?", NOT_UNDERSTOOD),
    case("what is the meaning of life?", NOT_UNDERSTOOD, never=("**",)),
    case("any good war stories?", NOT_UNDERSTOOD, never=("War Horse", "by good war stories"), guild=B),
    case("any thoughts on the club's favourite books?", "The club's 5 best-rated reads:", never=("No:",)),
    case("any recommendations for a rainy day?", starts="Try **Beloved**", never=("by recommendations",)),
    case("what did we read after the Ishiguro?", *ISHIGURO_READS, never=("hasn't read",)),
    # -- names written as names are still matched despite typos, and the answer says which name it took
    case("did we read anything by Clubbe?", "**Harbour Lights**", "I read “Clubbe” as Amy Clubb", guild=B),
    case("what did we think of Harbor Lights?", "**Harbour Lights**", guild=B),
    case("Keegen?", "**Small Things Like These**", "as Claire Keegan", guild=B),
    case("has the club read any Diaz", "**Trust**", guild=B),
]


@pytest.fixture(scope="module")
def history_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("ask") / "bookclub.db"
    asyncio.run(_fill(path))
    yield path


async def _fill(path: Path) -> None:
    async with Store(path) as store:
        await store.migrate()
        for guild, title, author, status, started, finished, ratings in READS:
            book, _ = await store.books.find_or_create(guild, title, author)
            await store.history.add_read(
                guild, book.id, status=status,  # type: ignore[arg-type]
                started_on=date.fromisoformat(started) if started else None,
                finished_on=date.fromisoformat(finished) if finished else None, now=NOW,
            )
            for member, stars in ratings.items():
                await store.history.rate(guild, book.id, member, NAMES[member], stars, now=NOW)
        never = await store.books.find(A, "Never Let Me Go", "Kazuo Ishiguro")
        assert never is not None
        async with store.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO reviews (guild_id, book_id, member_id, reviewer_name, rating, body, status, created_at) "
                "VALUES (?, ?, ?, 'Bob', 5, 'Devastating. Read it before someone spoils it for you.', 'announced', ?)",
                (A, never.id, BOB, to_db_time(NOW)),
            )


def test_the_table_covers_every_kind_of_question_in_both_servers() -> None:
    assert len(CASES) >= 80
    assert {row.guild for row in CASES} == {A, B}


@pytest.mark.parametrize("row", CASES, ids=[f"{'AB'[row.guild == B]}:{row.question}" for row in CASES])
async def test_a_members_question_gets_the_answer_the_records_give(history_file: Path, row: Case) -> None:
    async with readonly_history(history_file) as history:
        answer = await OfflineAsker(history).answer(
            Question(guild_id=row.guild, member_id=row.member, member_name=NAMES[row.member], text=row.question,
                     today=NOW.date()))
    text = answer.text
    if row.starts is not None:
        assert text.startswith(row.starts), text
    for expected in row.says:
        assert expected in text, text
    for unexpected in row.never:
        assert unexpected not in text, text
    assert len(text) <= 2000
