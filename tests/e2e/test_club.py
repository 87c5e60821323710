"""/club and /rate through the loopback Discord: moderators keep the history, members rate, files go in and out."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bot.domain.goodreads import parse_export
from tests.discord_double import ActionRefused, Upload

EXPORT = Path(__file__).resolve().parents[1] / "data" / "goodreads_library_export.csv"


async def run(bookclub: Any, member: str, command: str, guild: Any = None, **options: Any) -> str:
    guild = guild or bookclub.double.guild_a
    ix = await bookclub.double.slash(guild, guild.member(member), command, timeout=5.0, **options)
    return (await ix.reply(timeout=10.0)).text()


async def test_a_moderator_keeps_the_history_and_members_read_it(bookclub: Any) -> None:
    added = await run(bookclub, "Mod", "club add", title="Never Let Me Go", author="Kazuo Ishiguro",
                      started="2019-04-01", finished="2019-05-14")
    assert added == "Added **Never Let Me Go** by Kazuo Ishiguro in the club history: finished 14 May 2019."
    await run(bookclub, "Mod", "club add", title="Piranesi", author="Susanna Clarke", started="2026-02-20")
    await run(bookclub, "Mod", "club add", title="Hamnet", author="Maggie O'Farrell")
    history = await run(bookclub, "Alice", "club history")
    assert history.index("Piranesi") < history.index("Never Let Me Go") < history.index("Hamnet")
    assert "reading since 20 February 2026" in history and "planned" in history
    by_author = await run(bookclub, "Alice", "club history", author="ishigoro")
    assert "Never Let Me Go" in by_author and "Piranesi" not in by_author
    current = await run(bookclub, "Bob", "club current")
    assert "Piranesi by Susanna Clarke" in current and "Hamnet" in current
    corrected = await run(bookclub, "Mod", "club add", title="never let me go", author="Ishiguro, Kazuo",
                          started="2019-04-01", finished="2019-05-20")
    assert corrected.startswith("Updated **Never Let Me Go**") and "20 May 2019" in corrected
    assert bookclub.double.pings() == []


async def test_members_cannot_add_reads_and_bad_dates_change_nothing(bookclub: Any) -> None:
    refused = await run(bookclub, "Alice", "club add", title="Beloved", author="Toni Morrison")
    assert "Only moderators" in refused
    wrong = await run(bookclub, "Mod", "club add", title="Beloved", author="Toni Morrison", started="14/05/2019")
    assert "YYYY" in wrong or "2025-03-14" in wrong
    backwards = await run(bookclub, "Mod", "club add", title="Beloved", author="Toni Morrison",
                          started="2020-05-01", finished="2020-04-01")
    assert "before" in backwards
    assert await bookclub.store.history.count_reads(bookclub.double.guild_a.id) == 0


async def test_members_rate_club_reads_and_change_their_minds(bookclub: Any) -> None:
    await run(bookclub, "Mod", "club add", title="The Remains of the Day", author="Kazuo Ishiguro",
              started="2017-08-01", finished="2017-09-03")
    await run(bookclub, "Mod", "club add", title="Hamnet", author="Maggie O'Farrell")
    guild = bookclub.double.guild_a
    choices = await bookclub.double.autocomplete(guild, guild.member("Alice"), "rate", focused="book", book="remains")
    assert [choice["name"] for choice in choices] == ["The Remains of the Day by Kazuo Ishiguro"]
    first = await run(bookclub, "Alice", "rate", book=choices[0]["value"], stars=3)
    assert first == "You rated **The Remains of the Day** 3★. Club: 3★ from 1 rating."
    again = await run(bookclub, "Alice", "rate", book="Remains of Day", stars=5)
    assert again == "You rated **The Remains of the Day** 5★ (was 3★). Club: 5★ from 1 rating."
    bob = await run(bookclub, "Bob", "rate", book="remains of the dya", stars=4)
    assert bob.endswith("Club: 4.5★ from 2 ratings.")
    planned = await run(bookclub, "Bob", "rate", book="Hamnet", stars=4)
    assert "hasn't started" in planned
    unknown = await run(bookclub, "Bob", "rate", book="Moby Dick", stars=2)
    assert "No club read is called" in unknown


async def test_rating_is_refused_out_of_range_by_discord(bookclub: Any) -> None:
    await run(bookclub, "Mod", "club add", title="Hamnet", author="Maggie O'Farrell", started="2026-01-01")
    guild = bookclub.double.guild_a
    with pytest.raises(ActionRefused):
        await bookclub.double.slash(guild, guild.member("Alice"), "rate", book="Hamnet", stars=6)


async def test_goodreads_import_reports_and_export_round_trips(bookclub: Any) -> None:
    guild = bookclub.double.guild_a
    upload = Upload("goodreads_library_export.csv", EXPORT.read_bytes(), "text/csv")
    report = await run(bookclub, "Mod", "club import", file=upload)
    parsed = parse_export(EXPORT.read_bytes())
    assert report.startswith(f"Imported {len(parsed.rows)} books from the shelf `read`; skipped {len(parsed.skipped)}.")
    assert "Piranesi" in report and "shelf currently\\-reading" in report
    again = await run(bookclub, "Mod", "club import", file=upload)
    assert again.startswith("Imported 0 books") and "already in the club history" in again

    ix = await bookclub.double.slash(guild, guild.member("Alice"), "club export", timeout=5.0)
    message = await ix.reply(timeout=10.0)
    [attachment] = message.attachments
    assert attachment.filename == "club_history.csv"
    exported = parse_export(attachment.data)
    assert {(row.title, row.author, row.date_read) for row in exported.rows} == {
        (row.title, row.author, row.date_read) for row in parsed.rows
    }
    ratings = {row.title: row.rating for row in parsed.rows}
    assert all(row.rating == ratings[row.title] for row in exported.rows)


async def test_a_garbage_file_is_refused_and_writes_nothing(bookclub: Any) -> None:
    garbage = Upload("notes.csv", b"name;age\nAlice;30\n", "text/csv")
    refused = await run(bookclub, "Mod", "club import", file=garbage)
    assert refused.startswith("Nothing was imported.") and "Goodreads" in refused
    png = Upload("cover.png", b"\x89PNG\r\n\x1a\n\x00\x00", "image/png")
    binary = await run(bookclub, "Mod", "club import", file=png)
    assert binary.startswith("Nothing was imported.")
    assert await bookclub.store.history.count_reads(bookclub.double.guild_a.id) == 0
    assert await bookclub.store.books.list_all(bookclub.double.guild_a.id) == []


async def test_one_servers_history_is_invisible_to_another(bookclub: Any) -> None:
    await run(bookclub, "Mod", "club add", title="Never Let Me Go", author="Kazuo Ishiguro", finished="2019-05-14")
    other = bookclub.double.guild_b
    assert "empty" in await run(bookclub, "Alice", "club history", guild=other)
    assert "no author like" in await run(bookclub, "Alice", "club history", guild=other, author="Ishiguro")
    assert "No club read" in await run(bookclub, "Alice", "rate", guild=other, book="Never Let Me Go", stars=5)
    assert "no finished reads" in await run(bookclub, "Alice", "club export", guild=other)


async def test_the_current_read_shows_its_discussion_threads_and_the_next_slot(bookclub: Any) -> None:
    guild = bookclub.double.guild_a
    await run(bookclub, "Mod", "club add", title="Piranesi", author="Susanna Clarke", started="2026-02-20")
    await run(bookclub, "Mod", "config channels", discussions=guild.channel("discussions"))
    await run(bookclub, "Mod", "config schedule", weekday=4, time="18:00", timezone="Europe/London")
    started = await run(bookclub, "Mod", "discuss start", book="Piranesi by Susanna Clarke", sections="Part 1, Part 2")
    assert "Piranesi" in started
    threads = {thread.id for thread in bookclub.double.threads(guild.channel("discussions"))}
    current = await run(bookclub, "Alice", "club current")
    shown = {int(found) for found in re.findall(r"<#(\d+)>", current)}
    assert len(threads) == 3 and shown == threads
    assert "Next review slot" in current and "Fridays" in current
