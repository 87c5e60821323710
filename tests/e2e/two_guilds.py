"""The two-server club both shard tests set up: each server configured for review slots, with one review waiting."""

from __future__ import annotations

from typing import Any

from tests.discord_double import DiscordDouble, Guild

FIELDS = {"title": "Title", "author": "Author", "rating": "Rating (1–5)", "body": "Review"}
REVIEWS = {"Guild A": ("Never Let Me Go", "Kazuo Ishiguro"), "Guild B": ("Hamnet", "Maggie O'Farrell")}


async def run(double: DiscordDouble, guild: Guild, who: str, command: str, **options: Any) -> str:
    ix = await double.slash(guild, guild.member(who), command, timeout=10.0, **options)
    return (await ix.reply(timeout=10.0)).text()


async def configure_and_write(double: DiscordDouble, guild: Guild, *, weekday: int = 0, time: str = "18:00") -> None:
    """Channels, a weekly slot (Monday 18:00 UTC unless told), and one review waiting for it."""
    await run(double, guild, "Mod", "config channels", reviews=guild.channel("reviews"))
    await run(double, guild, "Mod", "config schedule", weekday=weekday, time=time, timezone="UTC")
    title, author = REVIEWS[guild.name]
    opened = await double.slash(guild, guild.member("Alice"), "review write", timeout=10.0)
    submitted = await double.submit_modal(opened, {FIELDS["title"]: title, FIELDS["author"]: author,
                                                   FIELDS["rating"]: "5", FIELDS["body"]: "Quietly devastating."},
                                          timeout=10.0)
    assert "at the next review slot" in (await submitted.reply(timeout=10.0)).text()


def review_posts(double: DiscordDouble, guild: Guild) -> list[Any]:
    return double.bot_messages(guild.channel("reviews"))
