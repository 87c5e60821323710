"""Spoiler-safe discussions through the loopback Discord: threads by section, progress, /spoiler, hiding, the guard."""

from __future__ import annotations

from typing import Any

import discord
import pytest

from tests.discord_double import ActionRefused
from tests.discord_double.model import THREAD_PRIVATE, THREAD_PUBLIC
from tests.domain.discord_markdown import hidden_text, shown_text

SECTIONS = "Part 1, Part 2, Part 3"
MISSING_PERMISSIONS = {"code": 50013, "message": "Missing Permissions"}


async def run(bookclub: Any, member: str, command: str, **options: Any) -> str:
    guild = bookclub.double.guild_a
    ix = await bookclub.double.slash(guild, guild.member(member), command, timeout=5.0, **options)
    return (await ix.reply(timeout=10.0)).text()


async def start_discussion(bookclub: Any, sections: str = SECTIONS) -> dict[str, Any]:
    """Sets the discussions channel and starts Never Let Me Go; returns its threads by the section they hold."""
    guild = bookclub.double.guild_a
    await run(bookclub, "Mod", "config channels", discussions=guild.channel("discussions"))
    started = await run(bookclub, "Mod", "discuss start", book="Never Let Me Go by Kazuo Ishiguro", sections=sections)
    assert started.startswith("Started the discussion of **Never Let Me Go**")
    threads = bookclub.double.threads(guild.channel("discussions"))
    by_scope = {}
    for thread in threads:
        scope = thread.name.split(" · ")[1]
        by_scope[scope] = thread
    return by_scope


def member_names(bookclub: Any, thread: Any) -> set[str]:
    return {member.name for member in bookclub.double.thread_members(thread)}


async def test_start_opens_a_spoiler_free_thread_and_a_private_thread_per_section(bookclub: Any) -> None:
    threads = await start_discussion(bookclub)
    assert {thread.name for thread in threads.values()} == {
        "Never Let Me Go · spoiler-free",
        "Never Let Me Go · Part 1 · spoilers up to the end of Part 1",
        "Never Let Me Go · Part 2 · spoilers up to the end of Part 2",
        "Never Let Me Go · Part 3 · spoilers up to the end of Part 3",
    }
    assert threads["spoiler-free"].type == THREAD_PUBLIC
    for part in ("Part 1", "Part 2", "Part 3"):
        assert threads[part].type == THREAD_PRIVATE and not threads[part].invitable
        [rules] = bookclub.double.bot_messages(threads[part])
        assert f"**Never Let Me Go · {part}**" in rules.content and "`/progress`" in rules.content
    [rules] = bookclub.double.bot_messages(threads["spoiler-free"])
    assert "without spoilers" in rules.content and "Part 1, Part 2, Part 3" in rules.content
    again = await run(bookclub, "Mod", "discuss start", book="never let me go", sections="1-5, 6-10")
    assert "already under discussion" in again and f"<#{threads['Part 2'].id}>" in again
    assert len(bookclub.double.threads(bookclub.double.guild_a.channel("discussions"))) == 4
    assert bookclub.double.pings() == []


async def test_progress_opens_the_threads_up_to_the_section_and_never_beyond(bookclub: Any) -> None:
    threads = await start_discussion(bookclub)
    guild = bookclub.double.guild_a
    alice = guild.member("Alice")
    books = await bookclub.double.autocomplete(guild, alice, "progress", focused="book", book="let me")
    assert [choice["name"] for choice in books] == ["Never Let Me Go by Kazuo Ishiguro"]
    sections = await bookclub.double.autocomplete(guild, alice, "progress", focused="section", book=books[0]["value"],
                                                  section="")
    assert [choice["name"] for choice in sections] == ["Part 1", "Part 2", "Part 3"]

    recorded = await run(bookclub, "Alice", "progress", book=books[0]["value"], section=sections[1]["value"])
    assert recorded.startswith("Recorded: you've read up to **Part 2** of **Never Let Me Go**")
    assert "Alice" in member_names(bookclub, threads["Part 1"]) and "Alice" in member_names(bookclub, threads["Part 2"])
    assert "Alice" not in member_names(bookclub, threads["Part 3"])

    back = await run(bookclub, "Alice", "progress", section="part 1")
    assert "already read up to **Part 2**" in back
    assert "Alice" in member_names(bookclub, threads["Part 2"])
    shown = await run(bookclub, "Alice", "progress")
    assert "read up to **Part 2** of 3" in shown
    bob = await run(bookclub, "Bob", "progress")
    assert "not recorded yet" in bob and "Bob" not in member_names(bookclub, threads["Part 1"])
    unknown = await run(bookclub, "Bob", "progress", section="Part 9")
    assert "isn't a section" in unknown and "Part 1, Part 2, Part 3" in unknown


async def test_chapter_sections_are_named_by_their_scope_and_found_by_chapter(bookclub: Any) -> None:
    threads = await start_discussion(bookclub, sections="1-8, 9-15, 16-23")
    assert threads["Ch. 9–15"].name == "Never Let Me Go · Ch. 9–15 · spoilers up to ch. 15"
    await run(bookclub, "Carol", "progress", book="Never Let Me Go", section="12")
    assert "Carol" in member_names(bookclub, threads["Ch. 9–15"])
    assert "Carol" not in member_names(bookclub, threads["Ch. 16–23"])


async def test_missing_thread_permissions_are_named_and_nothing_is_created(bookclub: Any) -> None:
    guild = bookclub.double.guild_a
    discussions = guild.channel("discussions")
    await run(bookclub, "Mod", "config channels", discussions=discussions)
    bookclub.double.set_overwrite(discussions, guild.role("Bookclub"),
                                  deny=discord.Permissions(create_private_threads=True, manage_threads=True))
    refused = await run(bookclub, "Mod", "discuss start", book="Never Let Me Go", sections=SECTIONS)
    assert "Create Private Threads, Manage Threads" in refused and "Nothing was created" in refused
    assert bookclub.double.threads(discussions) == []
    assert await bookclub.store.discussions.list(guild.id) == []


async def test_a_refusal_part_way_removes_the_threads_already_made(bookclub: Any) -> None:
    guild = bookclub.double.guild_a
    discussions = guild.channel("discussions")
    await run(bookclub, "Mod", "config channels", discussions=discussions)
    first_thread = bookclub.double.hold("POST", r"/channels/\d+/threads$")
    ix = await bookclub.double.slash(guild, guild.member("Mod"), "discuss start", book="Never Let Me Go",
                                     sections=SECTIONS, timeout=5.0)
    await first_thread.wait_hit()
    bookclub.double.fail_next("POST", r"/channels/\d+/threads$", 403, MISSING_PERMISSIONS)
    first_thread.release()
    refused = (await ix.reply(timeout=10.0)).text()
    assert "Discord refused" in refused and "Nothing was created" in refused
    assert await bookclub.double.wait_until(lambda: bookclub.double.threads(discussions) == [])
    assert await bookclub.store.discussions.list(guild.id) == []


async def test_members_cannot_start_discussions(bookclub: Any) -> None:
    guild = bookclub.double.guild_a
    with pytest.raises(ActionRefused):
        await bookclub.double.slash(guild, guild.member("Alice"), "discuss start", book="Never Let Me Go",
                                    sections=SECTIONS)
    assert bookclub.double.threads(guild.channel("discussions")) == []


async def test_spoiler_hides_everything_the_member_wrote_and_pings_no_one(bookclub: Any) -> None:
    guild = bookclub.double.guild_a
    general = guild.channel("general")
    await bookclub.double.slash(guild, guild.member("Alice"), "spoiler", text="Tommy || @everyone dies",
                                label="ch. 22", in_channel=general)
    [posted] = bookclub.double.bot_messages(general)
    assert shown_text(posted.content) == "Spoiler · ch. 22 · from Alice\n"
    assert hidden_text(posted.content) == "Tommy || @everyone dies"
    assert bookclub.double.pings() == []


async def test_a_long_spoiler_is_split_into_messages_that_are_all_hidden(bookclub: Any) -> None:
    guild = bookclub.double.guild_a
    general = guild.channel("general")
    text = "||<@&1> `code` " * 250
    ix = await bookclub.double.slash(guild, guild.member("Bob"), "spoiler", text=text[:4000], in_channel=general)
    await ix.reply()
    assert await bookclub.double.wait_until(lambda: len(bookclub.double.bot_messages(general)) >= 3)
    posted = bookclub.double.bot_messages(general)
    assert shown_text(posted[0].content) == "Spoiler · from Bob\n"
    assert all(shown_text(message.content) == "" for message in posted[1:])
    assert "".join(hidden_text(message.content) for message in posted) == text[:4000]
    assert bookclub.double.pings() == []


async def test_hide_as_spoiler_by_the_author_reposts_under_their_name_and_others_are_refused(bookclub: Any) -> None:
    guild = bookclub.double.guild_a
    general = guild.channel("general")
    message = await bookclub.double.post_message(general, guild.member("Alice"), "Ruth dies @everyone, sorry")
    refused = await bookclub.double.message_command(guild, guild.member("Bob"), "Hide as spoiler", message)
    assert "Only the message's author or a moderator" in (await refused.reply()).text()
    assert not message.deleted

    hidden = await bookclub.double.message_command(guild, guild.member("Alice"), "Hide as spoiler", message)
    assert (await hidden.reply(timeout=10.0)).text().startswith("Hidden")
    assert message.deleted
    [repost] = [m for m in bookclub.double.messages(general) if m.webhook_id is not None]
    assert repost.author_name == "Alice"
    assert shown_text(repost.content) == "Spoiler\n" and hidden_text(repost.content) == "Ruth dies @everyone, sorry"

    second = await bookclub.double.post_message(general, guild.member("Bob"), "and Tommy too")
    by_mod = await bookclub.double.message_command(guild, guild.member("Mod"), "Hide as spoiler", second)
    await by_mod.reply(timeout=10.0)
    reposts = [m for m in bookclub.double.messages(general) if m.webhook_id is not None]
    assert [m.author_name for m in reposts] == ["Alice", "Bob"]
    assert shown_text(reposts[1].content) == "Spoiler · hidden by Mod\n"
    assert len(bookclub.double.find_requests("POST", r"/channels/\d+/webhooks$")) == 1
    again = await bookclub.double.message_command(guild, guild.member("Mod"), "Hide as spoiler", reposts[1])
    assert "I posted that one myself" in (await again.reply()).text()
    assert bookclub.double.pings() == []


async def test_hiding_in_a_thread_goes_through_the_parent_channels_webhook(bookclub: Any) -> None:
    threads = await start_discussion(bookclub)
    guild = bookclub.double.guild_a
    part_3 = threads["Part 3"]
    await run(bookclub, "Carol", "progress", section="Part 3")
    message = await bookclub.double.post_message(part_3, guild.member("Carol"), "the donations end it")
    ix = await bookclub.double.message_command(guild, guild.member("Carol"), "Hide as spoiler", message)
    await ix.reply(timeout=10.0)
    [repost] = [m for m in bookclub.double.messages(part_3) if m.webhook_id is not None]
    assert repost.author_name == "Carol" and hidden_text(repost.content) == "the donations end it"
    [webhook] = [w for w in bookclub.double.webhooks.values()]
    assert webhook.channel_id == guild.channel("discussions").id


async def test_a_deleted_webhook_is_replaced_once(bookclub: Any) -> None:
    guild = bookclub.double.guild_a
    general = guild.channel("general")
    first = await bookclub.double.post_message(general, guild.member("Alice"), "Kathy becomes a carer")
    await (await bookclub.double.message_command(guild, guild.member("Alice"), "Hide as spoiler", first)).reply()
    bookclub.double.webhooks.clear()
    second = await bookclub.double.post_message(general, guild.member("Alice"), "and Tommy a donor")
    await (await bookclub.double.message_command(guild, guild.member("Alice"), "Hide as spoiler", second)).reply()
    assert first.deleted and second.deleted
    reposts = [m for m in bookclub.double.messages(general) if m.webhook_id is not None]
    assert [hidden_text(m.content) for m in reposts] == ["Kathy becomes a carer", "and Tommy a donor"]
    assert len(bookclub.double.find_requests("POST", r"/channels/\d+/webhooks$")) == 2


async def test_without_manage_webhooks_the_bot_reposts_with_attribution(bookclub: Any) -> None:
    guild = bookclub.double.guild_a
    general = guild.channel("general")
    bookclub.double.set_overwrite(general, guild.role("Bookclub"), deny=discord.Permissions(manage_webhooks=True))
    message = await bookclub.double.post_message(general, guild.member("Alice"), "Kathy *is* a carer")
    ix = await bookclub.double.message_command(guild, guild.member("Alice"), "Hide as spoiler", message)
    await ix.reply(timeout=10.0)
    assert message.deleted
    [repost] = bookclub.double.bot_messages(general)
    assert shown_text(repost.content) == "Spoiler · from Alice\n"
    assert hidden_text(repost.content) == "Kathy *is* a carer"
    assert bookclub.double.find_requests("POST", r"/channels/\d+/webhooks$") == []


async def test_an_attributed_repost_shows_the_authors_name_without_direction_controls(bookclub: Any) -> None:
    guild = bookclub.double.guild_a
    general = guild.channel("general")
    bookclub.double.set_overwrite(general, guild.role("Bookclub"), deny=discord.Permissions(manage_webhooks=True))
    alice = guild.member("Alice")
    # A global display name, which is what the resolved message of a message command carries.
    alice.user.name = "\u202eAlice\u2066"
    message = await bookclub.double.post_message(general, alice, "Kathy is a carer")
    ix = await bookclub.double.message_command(guild, alice, "Hide as spoiler", message)
    await ix.reply(timeout=10.0)
    [repost] = bookclub.double.bot_messages(general)
    assert shown_text(repost.content) == "Spoiler · from Alice\n", "a right-to-left override would reverse the line"


async def test_without_manage_messages_nothing_is_hidden_and_the_member_is_told(bookclub: Any) -> None:
    guild = bookclub.double.guild_a
    general = guild.channel("general")
    bookclub.double.set_overwrite(general, guild.role("Bookclub"), deny=discord.Permissions(manage_messages=True))
    message = await bookclub.double.post_message(general, guild.member("Alice"), "Tommy")
    ix = await bookclub.double.message_command(guild, guild.member("Alice"), "Hide as spoiler", message)
    assert "Manage Messages" in (await ix.reply(timeout=10.0)).text()
    assert not message.deleted and bookclub.double.bot_messages(general) == []


# --- the spoiler guard (needs the message-content intent) ----------------------------------------


@pytest.mark.parametrize("message_content", [True])
async def test_the_guard_hides_spoiler_terms_in_spoiler_free_places_only(bookclub: Any) -> None:
    threads = await start_discussion(bookclub)
    guild = bookclub.double.guild_a
    choices = await bookclub.double.autocomplete(guild, guild.member("Mod"), "discuss spoiler-terms", focused="book",
                                                 book="never")
    saved = await run(bookclub, "Mod", "discuss spoiler-terms", book=choices[0]["value"],
                      terms="Tommy, donations, Ruth dies")
    assert "Spoiler terms for **Never Let Me Go** (3): Tommy, donations, Ruth dies" in saved

    spoiler_free = threads["spoiler-free"]
    bob = guild.member("Bob")
    posted = await bookclub.double.post_message(spoiler_free, bob, "Can't believe TOMMY's temper!")
    notice = await bookclub.double.wait_for_message(spoiler_free, lambda m: "I hid your message" in m.content)
    assert posted.deleted
    assert "Bob" in notice.content and "Never Let Me Go" in notice.content and "Tommy" not in notice.content
    [repost] = [m for m in bookclub.double.messages(spoiler_free) if m.webhook_id is not None]
    assert repost.author_name == "Bob" and hidden_text(repost.content) == "Can't believe TOMMY's temper!"

    innocent = await bookclub.double.post_message(spoiler_free, bob, "Tom and Tommyknockers are other books")
    again = await bookclub.double.post_message(spoiler_free, bob, "the donations, though")
    assert await bookclub.double.wait_until(lambda: again.deleted)
    assert not innocent.deleted
    notices = [m for m in bookclub.double.messages(spoiler_free) if "I hid your message" in m.content]
    assert len(notices) == 1

    in_channel = await bookclub.double.post_message(guild.channel("discussions"), guild.member("Carol"),
                                                    "ruth... dies?")
    assert await bookclub.double.wait_until(lambda: in_channel.deleted)

    await run(bookclub, "Bob", "progress", section="Part 3")
    section = await bookclub.double.post_message(threads["Part 3"], bob, "Can't believe TOMMY's temper!")
    elsewhere = await bookclub.double.post_message(guild.channel("general"), bob, "Can't believe TOMMY's temper!")
    marker = await bookclub.double.post_message(spoiler_free, bob, "donations")
    assert await bookclub.double.wait_until(lambda: marker.deleted)
    assert not section.deleted and not elsewhere.deleted
    assert bookclub.double.pings() == []


@pytest.mark.parametrize("message_content", [True])
async def test_changed_terms_take_effect_at_once(bookclub: Any) -> None:
    threads = await start_discussion(bookclub)
    guild = bookclub.double.guild_a
    spoiler_free = threads["spoiler-free"]
    await run(bookclub, "Mod", "discuss spoiler-terms", book="Never Let Me Go", terms="Hailsham")
    await run(bookclub, "Mod", "discuss spoiler-terms", book="Never Let Me Go", terms="Madame")
    listed = await run(bookclub, "Mod", "discuss spoiler-terms", book="Never Let Me Go")
    assert "(1): Madame" in listed
    kept = await bookclub.double.post_message(spoiler_free, guild.member("Alice"), "Hailsham sounds lovely")
    hidden = await bookclub.double.post_message(spoiler_free, guild.member("Alice"), "who is MADAME?")
    assert await bookclub.double.wait_until(lambda: hidden.deleted)
    assert not kept.deleted
    cleared = await run(bookclub, "Mod", "discuss spoiler-terms", book="Never Let Me Go", terms="none")
    assert "no spoiler terms" in cleared


async def test_without_the_intent_the_guard_stays_off(bookclub: Any) -> None:
    threads = await start_discussion(bookclub)
    guild = bookclub.double.guild_a
    saved = await run(bookclub, "Mod", "discuss spoiler-terms", book="Never Let Me Go", terms="Tommy")
    assert "guard is off" in saved
    posted = await bookclub.double.post_message(threads["spoiler-free"], guild.member("Bob"), "Tommy!")
    # A command answered after the post means the bot has seen the post too: events arrive in order.
    await run(bookclub, "Bob", "progress")
    assert not posted.deleted
