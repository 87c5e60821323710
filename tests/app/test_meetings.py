"""MeetingService and ReadingNowService over the real store, with fake ports standing in for Discord."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bot.app.meetings import EventSpec, EventState, MeetingService, event_name
from bot.app.posts import Post
from bot.app.reading_now import ReadingNowService
from bot.clock import ManualClock
from bot.domain.books import Book
from bot.domain.sections import parse_sections
from bot.errors import UserError
from bot.jobs import AnyJob, Run, decode
from bot.scheduler import Scheduler
from bot.store import Store
from bot.store.meetings import Meeting

GUILD = 1
MOD = 10


class FakeDiscord:
    """Events, messages and roles as plain lists; `fail_create` makes the next event creation fail."""

    def __init__(self) -> None:
        self.events: dict[int, EventSpec] = {}
        self.messages: dict[int, tuple[int, Post, int | None]] = {}
        self.pinned: set[int] = set()
        self.roles: dict[int, set[int]] = {}
        self.next_id = 100
        self.fail_create = False

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id

    async def create_event(self, guild_id: int, spec: EventSpec) -> int:
        if self.fail_create:
            raise RuntimeError("Discord is down")
        event_id = self._id()
        self.events[event_id] = spec
        return event_id

    async def find_event(self, guild_id: int, spec: EventSpec) -> int | None:
        return next((i for i, known in self.events.items() if known == spec), None)

    async def delete_event(self, guild_id: int, event_id: int) -> None:
        self.events.pop(event_id, None)

    async def interested(self, guild_id: int, event_id: int) -> list[str] | None:
        return ["Alice"] if event_id in self.events else None

    async def interest_counts(self, guild_id: int) -> dict[int, int]:
        return dict.fromkeys(self.events, 1)

    async def post(self, guild_id: int, channel_id: int, post: Post, *, ping_role_id: int | None = None) -> int:
        message_id = self._id()
        self.messages[message_id] = (channel_id, post, ping_role_id)
        return message_id

    async def find_post(self, guild_id: int, channel_id: int, footer: str, after: datetime) -> int | None:
        return next((i for i, (c, p, _) in self.messages.items() if c == channel_id and p.footer == footer), None)

    async def edit(self, guild_id: int, channel_id: int, message_id: int, post: Post) -> bool:
        if message_id not in self.messages:
            return False
        self.messages[message_id] = (channel_id, post, None)
        return True

    async def pin(self, guild_id: int, channel_id: int, message_id: int) -> None:
        self.pinned.add(message_id)

    async def ensure_role(self, guild_id: int, role_id: int | None, name: str) -> int:
        if role_id is None or role_id not in self.roles:
            role_id = self._id()
            self.roles[role_id] = set()
        return role_id

    async def set_member_role(self, guild_id: int, member_id: int, role_id: int, *, on: bool) -> bool:
        members = self.roles[role_id]
        if (member_id in members) == on:
            return False
        (members.add if on else members.discard)(member_id)
        return True


@pytest.fixture
def discord_fake() -> FakeDiscord:
    return FakeDiscord()


@pytest.fixture
async def services(store: Store, clock: ManualClock, discord_fake: FakeDiscord) -> tuple[MeetingService,
                                                                                          ReadingNowService]:
    await store.config.set_channels(GUILD, {"announcements": 50})
    scheduler = Scheduler(store.jobs, clock)
    reading_now = ReadingNowService(store, clock, discord_fake, scheduler)
    return MeetingService(store, clock, discord_fake, discord_fake, discord_fake, reading_now,
                          scheduler), reading_now


async def due_job(store: Store, kind: str, key: str) -> Run[Any]:
    job = await store.jobs.get(GUILD, kind, key)
    assert job is not None
    typed: AnyJob = decode(job.kind, job.key, job.payload)
    return Run(job.guild_id, typed, job.due_at, job.attempts, last_attempt=False)


async def test_scheduling_creates_the_event_and_arms_both_reminders_and_the_end(
        store: Store, services: tuple[MeetingService, ReadingNowService], discord_fake: FakeDiscord) -> None:
    meetings, _ = services
    meeting = await meetings.schedule(GUILD, MOD, when="2026-03-05 19:00", channel_id=None, location="Library",
                                      book_id=None, section="Part 2", repeat="none")
    assert [spec.location for spec in discord_fake.events.values()] == ["Library"]
    jobs = {(job.kind, job.key): job.due_at for job in await store.jobs.list_for_guild(GUILD)}
    assert jobs == {
        ("meeting_reminder", f"{meeting.id}:day"): datetime(2026, 3, 4, 19, 0, tzinfo=UTC),
        ("meeting_reminder", f"{meeting.id}:hour"): datetime(2026, 3, 5, 18, 0, tzinfo=UTC),
        ("meeting_end", str(meeting.id)): datetime(2026, 3, 5, 21, 0, tzinfo=UTC),
    }


async def test_a_refused_event_leaves_no_meeting_and_bad_input_changes_nothing(
        store: Store, services: tuple[MeetingService, ReadingNowService], discord_fake: FakeDiscord) -> None:
    meetings, _ = services
    discord_fake.fail_create = True
    with pytest.raises(RuntimeError):
        await meetings.schedule(GUILD, MOD, when="2026-03-05 19:00", channel_id=None, location="Library",
                                book_id=None, section=None, repeat="none")
    with pytest.raises(UserError, match="one place"):
        await meetings.schedule(GUILD, MOD, when="2026-03-05 19:00", channel_id=None, location=" ",
                                book_id=None, section=None, repeat="none")
    with pytest.raises(UserError, match="100"):
        await meetings.schedule(GUILD, MOD, when="2026-03-05 19:00", channel_id=None, location="x" * 101,
                                book_id=None, section=None, repeat="none")
    assert await store.meetings.scheduled(GUILD) == []
    assert await store.jobs.list_for_guild(GUILD) == []


async def test_a_reminder_runs_again_without_posting_again(
        store: Store, services: tuple[MeetingService, ReadingNowService], discord_fake: FakeDiscord,
        clock: ManualClock) -> None:
    meetings, _ = services
    role_id, _ = await meetings.notify(GUILD, 20, on=True, role_name="Meeting reminders")
    meeting = await meetings.schedule(GUILD, MOD, when="2026-03-05 19:00", channel_id=None, location="Library",
                                      book_id=None, section="Part 2", repeat="none")
    clock.set(datetime(2026, 3, 4, 19, 0, tzinfo=UTC))
    job = await due_job(store, "meeting_reminder", f"{meeting.id}:day")
    await meetings.run_reminder(job)
    await meetings.run_reminder(job)
    [(channel, post, pinged)] = discord_fake.messages.values()
    assert (channel, pinged) == (50, role_id)
    assert post.content is not None and post.content.startswith(f"<@&{role_id}>") and "Part 2" in post.description


async def test_a_reminder_without_a_section_names_the_one_the_reading_schedule_sets_for_that_day(
        store: Store, services: tuple[MeetingService, ReadingNowService], discord_fake: FakeDiscord,
        clock: ManualClock) -> None:
    meetings, _ = services
    book, _ = await store.books.find_or_create(GUILD, "Piranesi", "Susanna Clarke")
    await store.history.add_read(GUILD, book.id, status="reading", started_on=date(2026, 2, 20), now=clock.now())
    sections = parse_sections("Part 1, Part 2, Part 3")
    await store.discussions.create(
        GUILD, book.id, channel_id=60, thread_id=61, sections=[(s, 62 + i) for i, s in enumerate(sections)],
        started_by=MOD, at=clock.now(), target_dates=[date(2026, 2, 26), date(2026, 3, 5), date(2026, 3, 12)])
    meeting = await meetings.schedule(GUILD, MOD, when="2026-03-05 19:00", channel_id=None, location="Library",
                                      book_id=book.id, section=None, repeat="none")
    clock.set(datetime(2026, 3, 4, 19, 0, tzinfo=UTC))
    await meetings.run_reminder(await due_job(store, "meeting_reminder", f"{meeting.id}:day"))
    [(_, post, _)] = discord_fake.messages.values()
    assert "have read up to **Part 2**" in post.description


async def test_a_reminder_posted_before_a_crash_is_found_not_posted_again(
        store: Store, services: tuple[MeetingService, ReadingNowService], discord_fake: FakeDiscord,
        clock: ManualClock) -> None:
    meetings, _ = services
    meeting = await meetings.schedule(GUILD, MOD, when="2026-03-05 19:00", channel_id=None, location="Library",
                                      book_id=None, section=None, repeat="none")
    clock.set(datetime(2026, 3, 5, 18, 0, tzinfo=UTC))
    job = await due_job(store, "meeting_reminder", f"{meeting.id}:hour")
    await meetings.run_reminder(job)
    # The record is lost, as when the process dies between the post and the write.
    async with store.db.transaction() as conn:
        await conn.execute("DELETE FROM meeting_reminders")
    await meetings.run_reminder(job)
    assert len(discord_fake.messages) == 1
    assert await store.meetings.reminder(GUILD, meeting.id, "hour", meeting.starts_at) is not None


async def test_a_move_in_discord_rearms_the_reminders_and_a_delete_cancels(
        store: Store, services: tuple[MeetingService, ReadingNowService]) -> None:
    meetings, _ = services
    meeting = await meetings.schedule(GUILD, MOD, when="2026-03-05 19:00", channel_id=None, location="Library",
                                      book_id=None, section=None, repeat="none")
    assert meeting.event_id is not None
    later = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)
    await meetings.event_changed(GUILD, EventState(meeting.event_id, later, later + timedelta(hours=1), None,
                                                   "Park", "scheduled"))
    hour = await due_job(store, "meeting_reminder", f"{meeting.id}:hour")
    assert hour.due_at == later - timedelta(hours=1)
    assert (await due_job(store, "meeting_end", str(meeting.id))).due_at == later + timedelta(hours=1)
    await meetings.event_deleted(GUILD, meeting.event_id)
    assert await store.meetings.scheduled(GUILD) == []
    assert await store.jobs.list_for_guild(GUILD) == []


async def test_a_weekly_meeting_makes_its_next_occurrence_once(
        store: Store, services: tuple[MeetingService, ReadingNowService], discord_fake: FakeDiscord,
        clock: ManualClock) -> None:
    meetings, _ = services
    meeting = await meetings.schedule(GUILD, MOD, when="2026-03-05 19:00", channel_id=None, location="Library",
                                      book_id=None, section=None, repeat="weekly")
    clock.set(datetime(2026, 3, 5, 21, 0, tzinfo=UTC))
    end = await due_job(store, "meeting_end", str(meeting.id))
    await meetings.run_end(end)
    await meetings.run_end(end)
    [following] = await store.meetings.scheduled(GUILD)
    assert following.starts_at == datetime(2026, 3, 12, 19, 0, tzinfo=UTC) and following.previous_id == meeting.id
    assert len(discord_fake.events) == 2


async def test_reading_now_is_edited_in_place_and_reposted_only_when_deleted(
        store: Store, services: tuple[MeetingService, ReadingNowService], discord_fake: FakeDiscord) -> None:
    meetings, reading_now = services
    message_id, new = await reading_now.publish(GUILD, 50)
    assert new and message_id in discord_fake.pinned
    await meetings.schedule(GUILD, MOD, when="2026-03-05 19:00", channel_id=None, location="Library",
                            book_id=None, section=None, repeat="none")
    assert (await store.jobs.get(GUILD, "reading_now", "pinned")) is not None
    await reading_now.refresh(GUILD)
    assert list(discord_fake.messages) == [message_id]
    assert "Library" in dict(discord_fake.messages[message_id][1].fields)["Next meeting"]
    del discord_fake.messages[message_id]
    await reading_now.refresh(GUILD)
    [replacement] = discord_fake.messages
    assert replacement != message_id and replacement in discord_fake.pinned
    assert (await store.meetings.club_posts(GUILD)).reading_now_message_id == replacement


async def test_start_up_finds_an_event_created_just_before_a_crash_and_forgets_a_meeting_without_one(
        store: Store, services: tuple[MeetingService, ReadingNowService], discord_fake: FakeDiscord,
        clock: ManualClock) -> None:
    meetings, _ = services
    meeting = await meetings.schedule(GUILD, MOD, when="2026-03-05 19:00", channel_id=None, location="Library",
                                      book_id=None, section=None, repeat="none")
    orphan = await store.meetings.create(GUILD, starts_at=meeting.starts_at + timedelta(days=7),
                                         ends_at=meeting.ends_at + timedelta(days=7), timezone="UTC", channel_id=None,
                                         location="Park", book_id=None, section=None, repeat="none", created_by=MOD,
                                         now=clock.now())
    # The crash left the first meeting's event recorded nowhere and its jobs unscheduled.
    async with store.db.transaction() as conn:
        await conn.execute("UPDATE meetings SET event_id = NULL WHERE id = ?", (meeting.id,))
        await conn.execute("DELETE FROM jobs")
    await meetings.arm_all()
    [kept] = await store.meetings.scheduled(GUILD)
    assert (kept.id, kept.event_id) == (meeting.id, meeting.event_id)
    assert await store.meetings.get(GUILD, orphan.id) is None
    assert len(await store.jobs.list_for_guild(GUILD)) == 3


def test_a_long_book_title_is_cut_for_the_event_name_between_whole_characters() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    at = datetime(2026, 3, 26, 19, 30, tzinfo=UTC)
    meeting = Meeting(id=1, guild_id=1, starts_at=at, ends_at=at + timedelta(hours=1), timezone="UTC",
                      book=Book(id=1, guild_id=1, title="x" * 85 + family + " and more", author="A. Author"),
                      created_by=1, created_at=at)
    name = event_name(meeting)
    assert len(name) <= 100 and name.endswith("…")
    assert "\U0001f468" not in name, "half an emoji family shows as other people"
