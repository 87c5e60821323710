"""Every start has an end, through the loopback Discord: reading sections with target dates, /discuss end and a
fresh start, /club start|finish|remove|edit, /nominate withdraw and /review delete, as members and moderators."""

from __future__ import annotations

from typing import Any

import pytest

import cogs.club
from tests.discord_double import ActionRefused
from tests.e2e.helpers import SETTLE

SECTIONS = "Part 1, Part 2, Part 3"
# The clock of every test starts on 2 March 2026, 09:00 UTC.
DATES = "2026-03-10, 2026-03-17, 2026-03-24"


async def answer(bookclub: Any, member: str, command: str, **options: Any) -> Any:
    guild = bookclub.double.guild_a
    ix = await bookclub.double.slash(guild, guild.member(member), command, timeout=5.0, **options)
    return await ix.reply(timeout=10.0)


async def run(bookclub: Any, member: str, command: str, **options: Any) -> str:
    return (await answer(bookclub, member, command, **options)).text()


async def set_channels(bookclub: Any) -> None:
    guild = bookclub.double.guild_a
    await run(bookclub, "Mod", "config channels", discussions=guild.channel("discussions"),
              reviews=guild.channel("reviews"), announcements=guild.channel("announcements"),
              polls=guild.channel("polls"))


def threads_by_scope(bookclub: Any) -> dict[str, Any]:
    """The open threads in #discussions by the scope their name says."""
    threads = bookclub.double.threads(bookclub.double.guild_a.channel("discussions"))
    return {thread.name.split(" · ")[1]: thread for thread in threads if not thread.locked}


def member_names(bookclub: Any, thread: Any) -> set[str]:
    return {member.name for member in bookclub.double.thread_members(thread)}


# -- reading sections with dates ----------------------------------------------------------------------------


async def test_target_dates_show_in_the_thread_the_schedule_and_progress(bookclub: Any) -> None:
    await set_channels(bookclub)
    started = await run(bookclub, "Mod", "discuss start", book="Never Let Me Go by Kazuo Ishiguro",
                        sections=SECTIONS, dates=DATES)
    assert started.startswith("Started the discussion of **Never Let Me Go**")
    threads = threads_by_scope(bookclub)
    [rules] = bookclub.double.bot_messages(threads["spoiler-free"])
    assert "**Reading schedule**" in rules.content
    assert "1. Part 1 · by 10 March 2026\n2. Part 2 · by 17 March 2026\n3. Part 3 · by 24 March 2026" in rules.content
    [part_2_rules] = bookclub.double.bot_messages(threads["Part 2"])
    assert "by **17 March 2026**" in part_2_rules.content

    await run(bookclub, "Mod", "club start", book="Never Let Me Go")
    current = await run(bookclub, "Alice", "club current")
    assert "Reading schedule:" in current and f"Part 2 <#{threads['Part 2'].id}> · by 17 March 2026" in current

    recorded = await run(bookclub, "Alice", "progress", section="Part 1")
    assert "Next: **Part 2**, by 17 March 2026." in recorded
    assert "Next: **Part 2**, by 17 March 2026." in await run(bookclub, "Alice", "progress")
    finished = await run(bookclub, "Mod", "club finish", book="Never Let Me Go")
    assert "Its discussion is still open; `/discuss end`" in finished
    assert bookclub.double.pings() == []


@pytest.mark.parametrize(("dates", "why"), [
    ("2026-03-10, 2026-03-17", "You gave 2 dates for 3 sections"),
    ("2026-03-17, 2026-03-10, 2026-03-24", "list the dates in reading order"),
    ("2026-03-10, soon, 2026-03-24", "is not a date like 2026-12-10"),
    ("2025-03-10, 2026-03-17, 2026-03-24", "has already passed"),
])
async def test_bad_target_dates_are_refused_privately_and_nothing_is_created(bookclub: Any, dates: str,
                                                                             why: str) -> None:
    await set_channels(bookclub)
    refused = await answer(bookclub, "Mod", "discuss start", book="Never Let Me Go", sections=SECTIONS, dates=dates)
    assert refused.ephemeral and why in refused.text()
    assert bookclub.double.threads(bookclub.double.guild_a.channel("discussions")) == []
    assert await bookclub.store.discussions.list(bookclub.double.guild_a.id) == []


# -- /discuss end ---------------------------------------------------------------------------------------------


async def test_ending_locks_the_threads_keeps_them_readable_and_a_new_start_works(bookclub: Any) -> None:
    await set_channels(bookclub)
    guild = bookclub.double.guild_a
    await run(bookclub, "Mod", "discuss start", book="Never Let Me Go by Kazuo Ishiguro", sections=SECTIONS)
    first = threads_by_scope(bookclub)
    await run(bookclub, "Alice", "progress", section="Part 2")
    assert "already under discussion" in await run(bookclub, "Mod", "discuss start", book="Never Let Me Go",
                                                   sections="1-5, 6-10")
    with pytest.raises(ActionRefused):
        await bookclub.double.slash(guild, guild.member("Alice"), "discuss end", book="Never Let Me Go")

    [choice] = await bookclub.double.autocomplete(guild, guild.member("Mod"), "discuss end", focused="book",
                                                  book="never")
    ended = await run(bookclub, "Mod", "discuss end", book=choice["value"])
    assert ended.startswith("Ended the discussion of **Never Let Me Go**: 4 threads archived and locked")
    for thread in first.values():
        assert thread.archived and thread.locked
    assert "Alice" in member_names(bookclub, first["Part 2"])
    assert any("has ended" in m.content for m in bookclub.double.bot_messages(first["spoiler-free"]))

    truth = await run(bookclub, "Alice", "progress", book="Never Let Me Go", section="Part 3")
    assert "ended on 2 March 2026" in truth and "stays readable" in truth and "`/discuss start`" in truth
    assert "start the discussion again" not in truth
    assert "Alice" not in member_names(bookclub, first["Part 3"])
    assert "ended on 2 March 2026" in await run(bookclub, "Alice", "progress")
    again = await run(bookclub, "Mod", "discuss end", book="Never Let Me Go")
    assert "already ended" in again

    restarted = await run(bookclub, "Mod", "discuss start", book="Never Let Me Go", sections="1-8, 9-15, 16-23")
    assert restarted.startswith("Started the discussion of **Never Let Me Go**")
    second = threads_by_scope(bookclub)
    assert set(second) == {"spoiler-free", "Ch. 1–8", "Ch. 9–15", "Ch. 16–23"}
    assert not set(t.id for t in second.values()) & set(t.id for t in first.values())
    recorded = await run(bookclub, "Alice", "progress", section="12")
    assert recorded.startswith("Recorded: you've read up to **Ch\\. 9–15** of **Never Let Me Go**")
    assert "Alice" in member_names(bookclub, second["Ch. 9–15"])
    assert "Alice" not in member_names(bookclub, second["Ch. 16–23"])
    assert bookclub.double.pings() == []


async def test_a_deleted_section_thread_points_to_end_and_start(bookclub: Any) -> None:
    await set_channels(bookclub)
    await run(bookclub, "Mod", "discuss start", book="Never Let Me Go", sections=SECTIONS)
    bookclub.double.delete_channel(threads_by_scope(bookclub)["Part 1"])
    recorded = await run(bookclub, "Alice", "progress", section="Part 2")
    assert "was deleted in Discord" in recorded and "`/discuss end`" in recorded and "`/discuss start`" in recorded


# -- /club start and /club finish -----------------------------------------------------------------------------


async def test_a_finished_read_asks_members_to_rate_it_once_without_pinging(bookclub: Any) -> None:
    await set_channels(bookclub)
    guild = bookclub.double.guild_a
    await run(bookclub, "Mod", "club add", title="Piranesi", author="Susanna Clarke")
    [choice] = await bookclub.double.autocomplete(guild, guild.member("Mod"), "club start", focused="book",
                                                  book="pira")
    started = await run(bookclub, "Mod", "club start", book=choice["value"], date="2026-02-20")
    assert "reading since 20 February 2026" in started
    member = await answer(bookclub, "Alice", "club finish", book="Piranesi")
    assert member.ephemeral and "Only moderators" in member.text()

    future = await answer(bookclub, "Mod", "club finish", book="Piranesi", date="2026-03-03")
    assert future.ephemeral and "in the future" in future.text()
    early = await answer(bookclub, "Mod", "club finish", book="Piranesi", date="2026-02-19")
    assert early.ephemeral and "before that" in early.text()
    assert bookclub.double.bot_messages(guild.channel("announcements")) == []

    finished = await run(bookclub, "Mod", "club finish", book="Piranesi", in_channel=guild.channel("general"))
    assert "finished 2 March 2026" in finished and f"<#{guild.channel('announcements').id}>" in finished
    [call] = bookclub.double.bot_messages(guild.channel("announcements"))
    assert "finished **Piranesi** by Susanna Clarke" in call.content and "/rate" in call.content
    assert "already" in await run(bookclub, "Mod", "club finish", book="Piranesi")
    assert len(bookclub.double.bot_messages(guild.channel("announcements"))) == 1
    assert bookclub.double.bot_messages(guild.channel("general")) == []
    assert "You rated **Piranesi** 5★" in await run(bookclub, "Alice", "rate", book="Piranesi", stars=5)
    assert "finished 2 March 2026" in await run(bookclub, "Alice", "club history")
    assert bookclub.double.pings() == []


async def test_without_an_announcements_channel_the_call_to_rate_goes_where_the_command_ran(bookclub: Any) -> None:
    guild = bookclub.double.guild_a
    await run(bookclub, "Mod", "club add", title="Hamnet", author="Maggie O'Farrell", started="2026-02-01")
    await run(bookclub, "Mod", "club finish", book="Hamnet", in_channel=guild.channel("general"))
    [call] = bookclub.double.bot_messages(guild.channel("general"))
    assert "finished **Hamnet**" in call.content


# -- /club remove and /club edit ------------------------------------------------------------------------------


async def test_remove_asks_first_and_cancel_or_silence_change_nothing(bookclub: Any) -> None:
    guild = bookclub.double.guild_a
    await run(bookclub, "Mod", "club add", title="Beloved", author="Toni Morrison", started="2026-01-05",
              finished="2026-02-01")
    asked = await answer(bookclub, "Mod", "club remove", book="Beloved")
    assert asked.ephemeral and "Remove **Beloved** by Toni Morrison" in asked.text()
    with pytest.raises(ActionRefused):
        await bookclub.double.press_button(asked, "Remove", guild.member("Alice"))
    cancelled = await bookclub.double.press_button(asked, "Cancel", guild.member("Mod"))
    await cancelled.wait_acknowledged()
    assert "Cancelled; nothing was removed." in asked.text() and not asked.components_flat()
    assert "Beloved" in await run(bookclub, "Mod", "club history")

    club = bookclub.bot.get_cog("ClubCog")
    club.confirm_seconds = 0.2
    unanswered = await answer(bookclub, "Mod", "club remove", book="Beloved")
    assert await bookclub.double.wait_until(lambda: "No answer" in unanswered.text(), SETTLE)
    assert not unanswered.components_flat()
    assert "Beloved" in await run(bookclub, "Mod", "club history")

    club.confirm_seconds = cogs.club.CONFIRM_SECONDS
    confirm = await answer(bookclub, "Mod", "club remove", book="Beloved")
    await (await bookclub.double.press_button(confirm, "Remove", guild.member("Mod"))).wait_acknowledged()
    assert "Removed **Beloved** by Toni Morrison from the club history" in confirm.text()
    assert "The club history is empty" in await run(bookclub, "Mod", "club history")
    gone = await answer(bookclub, "Mod", "club remove", book="Beloved")
    assert gone.ephemeral and "isn't in the club history" in gone.text()


async def test_edit_fixes_a_typo_so_ask_and_autocomplete_find_the_new_name(bookclub: Any) -> None:
    guild = bookclub.double.guild_a
    await run(bookclub, "Mod", "club add", title="Never Let Me Goo", author="Kazuo Ishiguro", started="2026-01-05",
              finished="2026-02-01")
    await run(bookclub, "Mod", "club add", title="Klara and the Sun", author="Kazuo Ishiguro")
    nothing = await answer(bookclub, "Mod", "club edit", book="Never Let Me Goo")
    assert nothing.ephemeral and "Give the corrected" in nothing.text()
    clash = await answer(bookclub, "Mod", "club edit", book="Never Let Me Goo", title="Klara and the Sun")
    assert clash.ephemeral and "nothing changed" in clash.text()

    [choice] = await bookclub.double.autocomplete(guild, guild.member("Mod"), "club edit", focused="book",
                                                  book="goo")
    renamed = await run(bookclub, "Mod", "club edit", book=choice["value"], title="Never Let Me Go")
    assert renamed.startswith("Renamed **Never Let Me Goo** by Kazuo Ishiguro to **Never Let Me Go** by Kazuo")
    rated = await bookclub.double.autocomplete(guild, guild.member("Alice"), "rate", focused="book", book="let me go")
    assert [c["name"] for c in rated] == ["Never Let Me Go by Kazuo Ishiguro"]
    asked = await run(bookclub, "Alice", "ask", question="have we read Never Let Me Go?")
    assert "Never Let Me Go" in asked and "Goo" not in asked


# -- /nominate withdraw ---------------------------------------------------------------------------------------


async def test_members_withdraw_their_own_nominations_and_moderators_any_until_the_poll(bookclub: Any) -> None:
    await set_channels(bookclub)
    guild = bookclub.double.guild_a
    await run(bookclub, "Alice", "nominate add", title="Piranesi", author="Susanna Clarke")
    await run(bookclub, "Bob", "nominate add", title="Hamnet", author="Maggie O'Farrell")
    await run(bookclub, "Carol", "nominate add", title="Beloved", author="Toni Morrison")
    mine = await bookclub.double.autocomplete(guild, guild.member("Bob"), "nominate withdraw", focused="book",
                                              book="")
    assert [c["name"] for c in mine] == ["Hamnet by Maggie O'Farrell"]

    not_yours = await answer(bookclub, "Bob", "nominate withdraw", book="Piranesi")
    assert not_yours.ephemeral and "didn't nominate **Piranesi**" in not_yours.text()
    withdrawn = await run(bookclub, "Bob", "nominate withdraw", book=mine[0]["value"])
    assert withdrawn.startswith("Withdrew the nomination of **Hamnet** by Maggie O") and "next poll" in withdrawn
    everyone = await bookclub.double.autocomplete(guild, guild.member("Mod"), "nominate withdraw", focused="book",
                                                  book="")
    assert [c["name"] for c in everyone] == ["Piranesi by Susanna Clarke", "Beloved by Toni Morrison"]
    await run(bookclub, "Mod", "nominate withdraw", book="Beloved")
    assert [n.book.title for n in await bookclub.store.polls.nominations(guild.id)] == ["Piranesi"]

    await run(bookclub, "Bob", "nominate add", title="Hamnet", author="Maggie O'Farrell")
    await run(bookclub, "Mod", "poll start", closes_in="2d")
    running = await answer(bookclub, "Alice", "nominate withdraw", book="Piranesi")
    assert running.ephemeral and "in the running poll" in running.text()
    assert len(await bookclub.store.polls.nominations(guild.id)) == 2
    assert bookclub.double.pings() == []


# -- /review delete -------------------------------------------------------------------------------------------


async def write_review(bookclub: Any, member: str, body: str) -> None:
    guild = bookclub.double.guild_a
    opened = await bookclub.double.slash(guild, guild.member(member), "review write", timeout=5.0)
    submitted = await bookclub.double.submit_modal(opened, {"Title": "Never Let Me Go", "Author": "Kazuo Ishiguro",
                                                            "Rating (1–5)": "5", "Review": body}, timeout=5.0)
    await submitted.reply(timeout=10.0)


async def test_deleting_a_posted_review_takes_its_post_down(bookclub: Any) -> None:
    await set_channels(bookclub)
    guild = bookclub.double.guild_a
    reviews = guild.channel("reviews")
    await write_review(bookclub, "Alice", "Quietly devastating.")
    assert await bookclub.double.wait_until(lambda: len(bookclub.double.bot_messages(reviews)) == 1, SETTLE)
    [post] = bookclub.double.bot_messages(reviews)
    mine = await bookclub.double.autocomplete(guild, guild.member("Alice"), "review delete", focused="review",
                                              review="never")
    assert len(mine) == 1 and "Never Let Me Go" in mine[0]["name"]
    assert await bookclub.double.autocomplete(guild, guild.member("Bob"), "review delete", focused="review",
                                              review="") == []

    refused = await answer(bookclub, "Bob", "review delete", review=mine[0]["value"])
    assert refused.ephemeral and "only delete your own" in refused.text() and not post.deleted
    deleted = await run(bookclub, "Alice", "review delete", review=mine[0]["value"])
    assert "its post in" in deleted and post.deleted
    assert bookclub.double.bot_messages(reviews) == []
    assert await bookclub.store.reviews.published(guild.id) == []
    assert "No published reviews" in await run(bookclub, "Alice", "review list")


async def test_a_queued_review_is_dropped_from_the_queue_and_never_posted(bookclub: Any) -> None:
    await set_channels(bookclub)
    guild = bookclub.double.guild_a
    await run(bookclub, "Mod", "config schedule", weekday=4, time="18:00", timezone="UTC")
    await write_review(bookclub, "Bob", "Not for me.")
    [choice] = await bookclub.double.autocomplete(guild, guild.member("Mod"), "review delete", focused="review",
                                                  review="")
    assert "queued" in choice["name"]
    deleted = await run(bookclub, "Mod", "review delete", review=choice["value"])
    assert "taken out of the queue" in deleted
    assert await bookclub.store.reviews.queued(guild.id) == []
    assert "Nothing is waiting" in await run(bookclub, "Mod", "review queue")


async def test_twenty_dated_sections_with_long_names_fit_in_the_first_message(bookclub: Any) -> None:
    await set_channels(bookclub)
    sections = ", ".join(f"Section number {n:02} of the {'x' * 5} (ch. {1000 + 2 * n}–{1001 + 2 * n})"
                         for n in range(1, 21))
    dates = ", ".join(f"2026-09-{n + 9:02}" for n in range(1, 21))
    started = await run(bookclub, "Mod", "discuss start", book="Never Let Me Go", sections=sections, dates=dates)
    assert started.startswith("Started the discussion")
    [rules] = bookclub.double.bot_messages(threads_by_scope(bookclub)["spoiler-free"])
    shown = rules.content.replace("\\", "")
    assert shown.endswith("20. Section number 20 of the xxxxx (ch. 1040–1041) · by 29 September 2026")


@pytest.mark.parametrize("message_content", [True])
async def test_an_ended_discussions_terms_are_no_longer_guarded(bookclub: Any) -> None:
    await set_channels(bookclub)
    guild = bookclub.double.guild_a
    discussions = guild.channel("discussions")
    for book, terms in (("Never Let Me Go", "Tommy"), ("Piranesi", "statues")):
        await run(bookclub, "Mod", "discuss start", book=book, sections="Part 1, Part 2")
        await run(bookclub, "Mod", "discuss spoiler-terms", book=book, terms=terms)
    await run(bookclub, "Mod", "discuss end", book="Never Let Me Go")
    ended = await bookclub.double.post_message(discussions, guild.member("Bob"), "Tommy's temper, though")
    # Posted after it: once this one is hidden, the guard has read the first too.
    running = await bookclub.double.post_message(discussions, guild.member("Bob"), "all those statues")
    assert await bookclub.double.wait_until(lambda: running.deleted, SETTLE)
    assert not ended.deleted
