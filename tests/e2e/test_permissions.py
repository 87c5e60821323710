"""Moderator commands, found by walking the bot's own command tree: refused to a plain member (Discord hides them or
the bot says no, and nothing changes), allowed to a member who holds the configured moderator role."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from discord import app_commands

from cogs._shared import checks
from cogs._shared.checks import MODERATOR_ONLY_MESSAGE
from tests.discord_double import ActionRefused, DiscordDouble
from tests.discord_double.model import Guild, Member, Upload
from tests.e2e.conftest import BookClub
from tests.e2e.test_fuzz import settle, snapshot

ANSWER_TIMEOUT = 15.0
ACK_TIMEOUT = 10.0
GOODREADS_EXPORT = Path(__file__).resolve().parents[1] / "data" / "goodreads_library_export.csv"

# PRODUCT.md's moderator commands: a command that lost its decorator, or gained one, fails the walk below.
MODERATOR_COMMANDS = {
    "config channels", "config schedule", "config moderator-role", "config feed-add", "config feed-remove",
    "config show", "review queue", "review announce-now", "discuss start", "discuss spoiler-terms", "poll start",
    "poll close", "club add", "club import", "meeting schedule", "meeting cancel", "discuss end", "club start",
    "club finish", "club remove", "club edit",
}


def sample_options(guild: Guild, role_name: str) -> dict[str, dict[str, Any]]:
    """Valid options for each moderator command, so that only the member's standing decides the answer."""
    return {
        "config channels": {"reviews": guild.channel("reviews")},
        "config schedule": {"weekday": 4, "time": "18:00", "timezone": "Europe/London"},
        "config moderator-role": {"role": guild.role(role_name)},
        "config feed-add": {"url": "http://127.0.0.1:9/feed.xml"},
        "config feed-remove": {"url": "http://127.0.0.1:9/feed.xml"},
        "config show": {},
        "review queue": {},
        "review announce-now": {},
        "discuss start": {"book": "Never Let Me Go by Kazuo Ishiguro", "sections": "Part 1, Part 2"},
        "discuss spoiler-terms": {"book": "Never Let Me Go", "terms": "Tommy, donations"},
        "poll start": {"closes_in": "2d"},
        "poll close": {},
        "club add": {"title": "Klara and the Sun", "author": "Kazuo Ishiguro"},
        "club import": {"file": Upload("goodreads_library_export.csv", GOODREADS_EXPORT.read_bytes(), "text/csv")},
        "meeting schedule": {"when": "2026-03-26 19:30", "where": "Library"},
        "meeting cancel": {"meeting": "meeting:1"},
        "discuss end": {"book": "Never Let Me Go"},
        "club start": {"book": "Klara and the Sun"},
        "club finish": {"book": "Klara and the Sun"},
        "club remove": {"book": "Klara and the Sun"},
        "club edit": {"book": "Klara and the Sun", "author": "Kazuo Ishiguro"},
    }


def leaf_commands(bookclub: BookClub) -> list[app_commands.Command[Any, ..., Any]]:
    return [c for c in bookclub.bot.tree.walk_commands() if isinstance(c, app_commands.Command)]


def has_runtime_check(command: app_commands.Command[Any, ..., Any]) -> bool:
    return checks._check in command.checks  # pyright: ignore[reportPrivateUsage]


def hidden_by_default(command: app_commands.Command[Any, ..., Any]) -> bool:
    """Discord applies default permissions of the top-level command to everything under it."""
    top = command.root_parent or command
    return top.default_permissions is not None and top.default_permissions.manage_guild


async def answer_of(double: DiscordDouble, guild: Guild, member: Member, command: str, options: dict[str, Any]) -> str:
    """What the member sees: the bot's first answer, or "hidden" when Discord does not offer the command."""
    try:
        # Acknowledgement times are the fuzz test's business; here a busy machine must not fail the test.
        interaction = await double.slash(guild, member, command, options=options, timeout=ACK_TIMEOUT)
    except ActionRefused:
        return "hidden"
    answer = await interaction.reply(timeout=ANSWER_TIMEOUT)
    if answer.text() == MODERATOR_ONLY_MESSAGE:
        assert answer.ephemeral, f"/{command}: the refusal was shown to everyone"
    return answer.text()


def allow_in_integrations(double: DiscordDouble, monkeypatch: pytest.MonkeyPatch) -> None:
    """What an admin does in Server Settings → Integrations: lets members without Manage Server see the commands."""
    check = double._check_can_use  # pyright: ignore[reportPrivateUsage]

    def without_default_permissions(guild: Guild, member: Member, channel: Any, command: dict[str, Any]) -> None:
        check(guild, member, channel, {**command, "default_member_permissions": None})

    monkeypatch.setattr(double, "_check_can_use", without_default_permissions)


async def test_the_tree_has_exactly_the_moderator_commands_of_the_product(bookclub: BookClub) -> None:
    guarded = {command.qualified_name for command in leaf_commands(bookclub) if has_runtime_check(command)}
    assert guarded == MODERATOR_COMMANDS
    for command in leaf_commands(bookclub):
        if hidden_by_default(command):
            # A group hidden from members may only hold moderator commands.
            assert command.qualified_name in MODERATOR_COMMANDS, f"/{command.qualified_name} is hidden from members"


async def test_a_plain_member_is_refused_every_moderator_command_and_nothing_changes(bookclub: BookClub) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    alice = guild.member("Alice")
    options = sample_options(guild, "Moderator")
    seen: dict[str, str] = {}
    for command in sorted(c.qualified_name for c in leaf_commands(bookclub) if has_runtime_check(c)):
        await settle(bookclub)
        before = await snapshot(bookclub)
        seen[command] = await answer_of(double, guild, alice, command, options[command])
        assert await snapshot(bookclub) == before, f"/{command} by a plain member changed the database"
    hidden = {name for name, text in seen.items() if text == "hidden"}
    assert hidden == {name for name in seen if name.split()[0] in ("config", "discuss")}
    assert {name: text for name, text in seen.items() if name not in hidden} == {
        name: MODERATOR_ONLY_MESSAGE for name in seen if name not in hidden
    }
    assert double.pings() == []


async def test_the_moderator_role_without_manage_server_may_use_every_moderator_command(
        bookclub: BookClub, monkeypatch: pytest.MonkeyPatch) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    club_mods = double.add_role(guild, "Club mods")
    bob = guild.member("Bob")
    double.assign_role(bob, club_mods)
    set_role = await double.slash(guild, guild.member("Mod"), "config moderator-role", role=club_mods,
                                  timeout=ACK_TIMEOUT)
    assert "now count as moderators" in (await set_role.reply(timeout=ANSWER_TIMEOUT)).text()
    options = sample_options(guild, "Club mods")
    commands = sorted(c.qualified_name for c in leaf_commands(bookclub) if has_runtime_check(c))
    # Without Manage Server, Discord hides /config and /discuss until an admin allows the role in Integrations.
    assert {name for name in commands if await answer_of(double, guild, bob, name, options[name]) == "hidden"} == {
        name for name in commands if name.split()[0] in ("config", "discuss")
    }
    allow_in_integrations(double, monkeypatch)
    set_up = await double.slash(guild, bob, "config channels", timeout=ACK_TIMEOUT, reviews=guild.channel("reviews"),
                                discussions=guild.channel("discussions"), polls=guild.channel("polls"),
                                announcements=guild.channel("announcements"))
    assert (await set_up.reply(timeout=ANSWER_TIMEOUT)).text().startswith("Saved.")
    answers = {name: await answer_of(double, guild, bob, name, options[name]) for name in commands}
    refused = {name: text for name, text in answers.items() if text in ("hidden", MODERATOR_ONLY_MESSAGE)}
    assert refused == {}
    assert answers["discuss start"].startswith("Started the discussion of **Never Let Me Go**")
    assert "Klara and the Sun" in answers["club add"]
    assert double.pings() == []


async def test_the_role_counts_only_while_it_is_the_configured_one(bookclub: BookClub) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    club_mods = double.add_role(guild, "Club mods")
    bob = guild.member("Bob")
    double.assign_role(bob, club_mods)
    options = {"title": "Klara and the Sun", "author": "Kazuo Ishiguro"}
    assert await answer_of(double, guild, bob, "club add", options) == MODERATOR_ONLY_MESSAGE
    await answer_of(double, guild, guild.member("Mod"), "config moderator-role", {"role": club_mods})
    assert "Klara and the Sun" in await answer_of(double, guild, bob, "club add", options)
    double.unassign_role(bob, club_mods)
    again = {"title": "Remains of the Day", "author": "Kazuo Ishiguro"}
    assert await answer_of(double, guild, bob, "club add", again) == MODERATOR_ONLY_MESSAGE
    # The role of one server means nothing in another.
    other = double.guild_b
    assert await answer_of(double, other, other.member("Bob"), "club add", again) == MODERATOR_ONLY_MESSAGE


async def test_hide_as_spoiler_is_for_the_author_or_a_moderator(bookclub: BookClub) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    general = guild.channel("general")
    posted = await double.post_message(general, guild.member("Bob"), "Ruth dies at the end")
    by_alice = await double.message_command(guild, guild.member("Alice"), "Hide as spoiler", posted,
                                            timeout=ACK_TIMEOUT)
    refused = await by_alice.reply(timeout=ANSWER_TIMEOUT)
    assert refused.ephemeral and refused.text() == "Only the message's author or a moderator can hide it."
    assert not posted.deleted
    club_mods = double.add_role(guild, "Club mods")
    double.assign_role(guild.member("Carol"), club_mods)
    await answer_of(double, guild, guild.member("Mod"), "config moderator-role", {"role": club_mods})
    by_carol = await double.message_command(guild, guild.member("Carol"), "Hide as spoiler", posted,
                                            timeout=ACK_TIMEOUT)
    await by_carol.reply(timeout=ANSWER_TIMEOUT)
    await double.wait_until(lambda: posted.deleted)
    assert posted.deleted
    assert double.pings() == []
