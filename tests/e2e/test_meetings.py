"""/meeting and the pinned Reading now message through the loopback Discord: events, reminders, the opt-in ping,
repeats, DST, and moderators changing the event in Discord itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import discord

from tests.discord_double.model import CHANNEL_VOICE
from tests.domain.discord_markdown import shown_text
from tests.e2e.helpers import SETTLE, caught_up, eventually, pass_time

# The clock starts on Monday 2 March 2026, 09:00 UTC (tests/conftest.py).


async def run(bookclub: Any, member: str, command: str, **options: Any) -> str:
    guild = bookclub.double.guild_a
    ix = await bookclub.double.slash(guild, guild.member(member), command, timeout=5.0, **options)
    return shown_text((await ix.reply(timeout=SETTLE)).text())


def grant_bot(bookclub: Any, **permissions: bool) -> None:
    double = bookclub.double
    role = double.bot_role(double.guild_a)
    double.set_role_permissions(role, discord.Permissions(role.permissions) | discord.Permissions(**permissions))


async def set_up(bookclub: Any, timezone: str | None = None) -> None:
    """Announcements configured, the bot allowed to manage events and roles, Piranesi the current read."""
    guild = bookclub.double.guild_a
    grant_bot(bookclub, manage_events=True, manage_roles=True)
    await run(bookclub, "Mod", "config channels", announcements=guild.channel("announcements"))
    if timezone is not None:
        await run(bookclub, "Mod", "config schedule", weekday=3, time="18:00", timezone=timezone)
    await run(bookclub, "Mod", "club add", title="Piranesi", author="Susanna Clarke", started="2026-02-20")


def announcements(bookclub: Any) -> list[Any]:
    return bookclub.double.bot_messages(bookclub.double.guild_a.channel("announcements"))


def reminders(bookclub: Any) -> list[Any]:
    return [m for m in announcements(bookclub) if any("reminder" in (e.get("footer") or {}).get("text", "")
                                                      for e in m.embeds)]


async def reach(bookclub: Any, moment: datetime) -> None:
    """Moves the clock to `moment` and waits until the bot did all that came due."""
    bookclub.clock.set(moment)
    await eventually(lambda: caught_up(bookclub))


async def test_a_meeting_at_a_place_is_an_event_with_two_reminders_that_ping_only_the_opt_in_role(bookclub: Any
                                                                                                   ) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    await set_up(bookclub)
    answer = await run(bookclub, "Mod", "meeting schedule", when="2026-03-05 19:00", where="Café Central, Vienna",
                       book="Piranesi", section="Part 2")
    assert "Scheduled meeting #1" in answer
    assert "UTC: no time zone is set" in answer
    [event] = double.events.of(guild)
    assert event.name == "Book club: Piranesi" and event.location == "Café Central, Vienna"
    assert event.start == datetime(2026, 3, 5, 19, 0, tzinfo=UTC) and event.end is not None
    created = double.find_requests("POST", r"/guilds/\d+/scheduled-events$")[-1].json
    assert created["entity_type"] == 3 and created["privacy_level"] == 2
    assert created["entity_metadata"] == {"location": "Café Central, Vienna"}

    assert "pinged by meeting reminders" in await run(bookclub, "Alice", "meeting notify on")
    role = guild.role("Meeting reminders")
    assert role.id in guild.member("Alice").roles and role.id not in guild.member("Bob").roles

    await reach(bookclub, datetime(2026, 3, 4, 19, 0, tzinfo=UTC))
    [day_before] = reminders(bookclub)
    assert "meets tomorrow" in day_before.content and "Part 2" in day_before.text()
    await reach(bookclub, datetime(2026, 3, 5, 18, 0, tzinfo=UTC))
    assert [m.embeds[0]["title"] for m in reminders(bookclub)] == ["Meeting tomorrow", "Meeting in an hour"]
    # Every ping the bot ever made: the two reminders, to the role alone.
    pings = double.pings()
    assert [ping.message for ping in pings] == reminders(bookclub)
    assert all(ping.mentions.roles == {role.id} and not ping.mentions.users for ping in pings)
    assert double.unhandled == []


async def test_a_member_who_never_opted_in_is_never_pinged_and_notify_off_stops_it(bookclub: Any) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    await set_up(bookclub)
    await run(bookclub, "Alice", "meeting notify on")
    assert "won't be pinged" in await run(bookclub, "Alice", "meeting notify off")
    role = guild.role("Meeting reminders")
    assert role.id not in guild.member("Alice").roles
    await run(bookclub, "Mod", "meeting schedule", when="2026-03-03 20:00", where="Library")
    await reach(bookclub, datetime(2026, 3, 3, 19, 30, tzinfo=UTC))
    assert ["meets tomorrow" in m.content for m in reminders(bookclub)] == [True, False]
    notified = {user for ping in double.pings() for user in ping.mentions.users}
    members = {guild.member(name).id for name in ("Alice", "Bob", "Carol", "Mod")}
    assert notified.isdisjoint(members)
    assert all(ping.mentions.roles <= {role.id} for ping in double.pings())


async def test_bad_when_where_or_book_creates_nothing(bookclub: Any) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    await set_up(bookclub)
    assert "has already passed" in await run(bookclub, "Mod", "meeting schedule", when="2026-03-01 19:00",
                                             where="Library")
    assert "must look like" in await run(bookclub, "Mod", "meeting schedule", when="next thursday", where="Library")
    assert "must be a voice or stage channel" in await run(bookclub, "Mod", "meeting schedule",
                                                           when="2026-03-05 19:00", where="#general")
    assert "No club read" in await run(bookclub, "Mod", "meeting schedule", when="2026-03-05 19:00",
                                       where="Library", book="Moby Dick")
    assert double.events.of(guild) == []
    assert await bookclub.store.meetings.scheduled(guild.id) == []
    assert "Only moderators" in await run(bookclub, "Alice", "meeting schedule", when="2026-03-05 19:00",
                                          where="Library")
    assert double.events.of(guild) == []


async def test_without_manage_events_the_moderator_is_told_and_nothing_is_made(bookclub: Any) -> None:
    guild = bookclub.double.guild_a
    await run(bookclub, "Mod", "config channels", announcements=guild.channel("announcements"))
    answer = await run(bookclub, "Mod", "meeting schedule", when="2026-03-05 19:00", where="Library")
    assert "Manage Events" in answer
    assert bookclub.double.events.of(guild) == []


async def test_a_voice_meeting_next_shows_who_is_interested_without_pinging_and_cancel_removes_it(
        bookclub: Any) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    await set_up(bookclub)
    voice = double.add_channel(guild, "Reading room", type=CHANNEL_VOICE)
    assert await double.wait_until(lambda: bookclub.bot.get_channel(voice.id) is not None)
    choices = await double.autocomplete(guild, guild.member("Mod"), "meeting schedule", focused="where", when="x",
                                        where="read")
    assert [choice["value"] for choice in choices] == ["read", f"channel:{voice.id}"]
    assert "missing Connect" in await run(bookclub, "Mod", "meeting schedule", when="2026-03-05 19:00",
                                          where=f"channel:{voice.id}")
    grant_bot(bookclub, connect=True)
    assert await double.wait_until(lambda: bookclub.bot.get_guild(guild.id).me.guild_permissions.connect)
    answer = await run(bookclub, "Mod", "meeting schedule", when="2026-03-05 19:00", where=f"channel:{voice.id}")
    assert "Scheduled meeting #1" in answer, answer
    [event] = double.events.of(guild)
    assert event.entity_type == 2 and event.channel_id == voice.id
    double.events.mark_interested(event, guild.member("Alice"))
    double.events.mark_interested(event, guild.member("Bob"))
    double.events.unmark_interested(event, guild.member("Bob"))
    shown = await run(bookclub, "Carol", "meeting next")
    assert "Interested" in shown and "1: Alice" in shown and "Reading room" not in shown  # a channel mention
    assert "· 1 interested" in await run(bookclub, "Carol", "meeting list")
    assert double.pings() == []

    [choice] = await double.autocomplete(guild, guild.member("Mod"), "meeting cancel", focused="meeting",
                                         meeting="")
    assert "Cancelled meeting #1" in await run(bookclub, "Mod", "meeting cancel", meeting=choice["value"])
    assert double.events.of(guild) == []
    assert [job for job in await bookclub.store.jobs.list_for_guild(guild.id)
            if job.kind in ("meeting_reminder", "meeting_end")] == []
    assert "No meeting is scheduled" in await run(bookclub, "Alice", "meeting list")


async def test_a_dst_change_between_scheduling_and_the_meeting_keeps_the_club_clock(bookclub: Any) -> None:
    guild = bookclub.double.guild_a
    await set_up(bookclub, timezone="Europe/Berlin")
    # Berlin moves from UTC+1 to UTC+2 on Sunday 29 March 2026; the meeting is on Monday 30 March at 19:00.
    bookclub.clock.set(datetime(2026, 3, 20, 9, 0, tzinfo=UTC))
    answer = await run(bookclub, "Mod", "meeting schedule", when="2026-03-30 19:00", where="Library")
    assert "2026-03-30 19:00 in Europe/Berlin" in answer
    [event] = bookclub.double.events.of(guild)
    assert event.start == datetime(2026, 3, 30, 17, 0, tzinfo=UTC)
    # Scheduled in winter time (UTC+1), held in summer time (UTC+2): 19:00 Berlin is 17:00 UTC on both the day
    # before (Sunday evening, after the 02:00 change) and the day itself; one hour before is 16:00 UTC.
    await reach(bookclub, datetime(2026, 3, 29, 16, 59, tzinfo=UTC))
    assert reminders(bookclub) == []
    await reach(bookclub, datetime(2026, 3, 29, 17, 0, tzinfo=UTC))
    assert len(reminders(bookclub)) == 1
    await reach(bookclub, datetime(2026, 3, 30, 15, 59, tzinfo=UTC))
    assert len(reminders(bookclub)) == 1
    await reach(bookclub, datetime(2026, 3, 30, 16, 0, tzinfo=UTC))
    assert len(reminders(bookclub)) == 2


async def test_weekly_meetings_repeat_at_the_same_club_time_across_dst(bookclub: Any) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    await set_up(bookclub, timezone="Europe/Berlin")
    bookclub.clock.set(datetime(2026, 3, 20, 9, 0, tzinfo=UTC))
    await run(bookclub, "Mod", "meeting schedule", when="2026-03-26 19:00", where="Library", repeat="weekly")
    [first] = double.events.of(guild)
    assert first.start == datetime(2026, 3, 26, 18, 0, tzinfo=UTC)  # winter time, UTC+1
    await reach(bookclub, datetime(2026, 3, 26, 21, 0, tzinfo=UTC))  # after the two-hour meeting
    assert await double.wait_until(lambda: len(double.events.of(guild)) == 2, SETTLE)
    second = double.events.of(guild)[-1]
    assert second.start == datetime(2026, 4, 2, 17, 0, tzinfo=UTC)  # 19:00 summer time, UTC+2
    assert [m.status for m in await bookclub.store.meetings.scheduled(guild.id)] == ["scheduled"]
    # Once the second one ends, the third follows it at the same club time.
    await reach(bookclub, datetime(2026, 4, 2, 19, 30, tzinfo=UTC))
    assert await double.wait_until(lambda: len(double.events.of(guild)) == 3, SETTLE)
    assert double.events.of(guild)[-1].start == datetime(2026, 4, 9, 17, 0, tzinfo=UTC)


async def test_a_moderator_moving_the_event_in_discord_rearms_the_reminders(bookclub: Any) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    await set_up(bookclub)
    await run(bookclub, "Mod", "meeting schedule", when="2026-03-05 19:00", where="Library")
    [event] = double.events.of(guild)
    double.events.edit(event, start=datetime(2026, 3, 6, 19, 0, tzinfo=UTC),
                       end=datetime(2026, 3, 6, 21, 0, tzinfo=UTC))

    async def moved() -> bool:
        meeting = (await bookclub.store.meetings.scheduled(guild.id))[0]
        return meeting.starts_at == datetime(2026, 3, 6, 19, 0, tzinfo=UTC)

    await eventually(moved)
    await reach(bookclub, datetime(2026, 3, 5, 18, 0, tzinfo=UTC))  # the old times pass: nothing
    assert reminders(bookclub) == []
    await reach(bookclub, datetime(2026, 3, 5, 19, 0, tzinfo=UTC))  # the day before the new time
    assert [m.embeds[0]["title"] for m in reminders(bookclub)] == ["Meeting tomorrow"]
    await reach(bookclub, datetime(2026, 3, 6, 18, 0, tzinfo=UTC))
    assert [m.embeds[0]["title"] for m in reminders(bookclub)] == ["Meeting tomorrow", "Meeting in an hour"]


async def test_an_event_deleted_in_discord_cancels_the_meeting_and_its_reminders(bookclub: Any) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    await set_up(bookclub)
    await run(bookclub, "Mod", "meeting schedule", when="2026-03-05 19:00", where="Library")
    [event] = double.events.of(guild)
    double.events.delete(event)

    async def cancelled() -> bool:
        return await bookclub.store.meetings.scheduled(guild.id) == []

    await eventually(cancelled)
    await pass_time(bookclub, timedelta(days=1), 4)
    assert reminders(bookclub) == []


async def test_reading_now_is_pinned_and_edited_in_place_when_a_meeting_is_scheduled(bookclub: Any) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    await set_up(bookclub)
    assert "Only moderators" in await run(bookclub, "Alice", "club current", post=True)
    assert "Posted and pinned" in await run(bookclub, "Mod", "club current", post=True)
    [pinned] = announcements(bookclub)
    assert pinned.pinned and "Piranesi" in pinned.text() and "None scheduled yet" in pinned.text()
    await run(bookclub, "Mod", "meeting schedule", when="2026-03-05 19:00", where="Library", book="Piranesi",
              section="Part 2")
    assert await double.wait_until(lambda: "None scheduled yet" not in pinned.text(), SETTLE)
    assert announcements(bookclub) == [pinned]  # edited, never re-posted
    assert "Library" in pinned.text() and "Part 2" in pinned.text()
    # A change of the current read and of the review schedule: the same message again.
    await run(bookclub, "Mod", "club add", title="Hamnet", author="Maggie O'Farrell", started="2026-03-01")
    assert await double.wait_until(lambda: "Hamnet" in pinned.text(), SETTLE)
    await run(bookclub, "Mod", "config schedule", weekday=4, time="18:00", timezone="UTC")
    assert await double.wait_until(lambda: "Next review slot" in pinned.text(), SETTLE)
    assert announcements(bookclub) == [pinned]

    # Deleted by someone: the next change posts a new one and pins it.
    await double.delete_post(pinned, guild.member("Owner"))
    await run(bookclub, "Mod", "meeting schedule", when="2026-03-12 19:00", where="Library")
    assert await double.wait_until(
        lambda: len(announcements(bookclub)) == 1 and announcements(bookclub)[0].pinned, SETTLE)
    assert announcements(bookclub)[0].id != pinned.id
    await eventually(lambda: caught_up(bookclub))


async def test_reading_now_follows_club_start_and_finish_in_the_same_message(bookclub: Any) -> None:
    double = bookclub.double
    await set_up(bookclub)
    await run(bookclub, "Mod", "club add", title="Hamnet", author="Maggie O'Farrell")
    assert "Posted and pinned" in await run(bookclub, "Mod", "club current", post=True)
    [pinned] = announcements(bookclub)
    assert "Piranesi" in pinned.text() and "Hamnet" not in pinned.text()

    await run(bookclub, "Mod", "club start", book="Hamnet")
    assert await double.wait_until(lambda: "Hamnet" in pinned.text(), SETTLE)
    await run(bookclub, "Mod", "club finish", book="Piranesi")
    assert await double.wait_until(lambda: "Piranesi" not in pinned.text(), SETTLE)
    assert "Hamnet" in pinned.text()
    # Edited in place: still the one pinned message (the finish's call to rate the book is another post).
    assert [message for message in announcements(bookclub) if message.pinned] == [pinned]
    await eventually(lambda: caught_up(bookclub))


async def test_ask_answers_when_the_next_meeting_is_and_what_thursday_covers(bookclub: Any) -> None:
    await set_up(bookclub)
    assert "No meeting is scheduled" in await run(bookclub, "Alice", "ask", question="When is the next meeting?")
    await run(bookclub, "Mod", "meeting schedule", when="2026-03-05 19:00", where="Café Central", book="Piranesi",
              section="Part 2")
    assert await run(bookclub, "Alice", "ask", question="When is the next meeting?") == (
        "The next meeting is Thursday 5 March 2026 at 19:00 (UTC) in Café Central: Piranesi by Susanna Clarke, "
        "up to Part 2.")
    assert await run(bookclub, "Bob", "ask", question="What do we discuss on Thursday?") == (
        "On Thursday 5 March we meet at 19:00 (UTC) in Café Central: Piranesi by Susanna Clarke, up to Part 2.")
    assert "Ishiguro" in await run(bookclub, "Bob", "ask", question="Have we read any Ishiguro?")


async def test_a_repeating_meeting_ended_in_discord_gets_its_next_occurrence_then(bookclub: Any) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    await set_up(bookclub)
    await run(bookclub, "Mod", "meeting schedule", when="2026-03-02 18:00", where="Library", repeat="monthly")
    await reach(bookclub, datetime(2026, 3, 2, 18, 40, tzinfo=UTC))
    [event] = double.events.of(guild)
    double.events.edit(event, status=3)  # the moderator ends it early in Discord
    assert await double.wait_until(lambda: len(double.events.of(guild)) == 2, SETTLE)
    assert double.events.of(guild)[-1].start == datetime(2026, 4, 2, 18, 0, tzinfo=UTC)
    assert "2 April 2026" in await run(bookclub, "Alice", "ask", question="when is the next meeting?")
