"""Ids any member can forge: a tampered client may send whatever custom_id or autocomplete value it likes. An id out of
range or not written in plain digits is refused in one private line, writes nothing and logs no traceback."""

from __future__ import annotations

import copy
import logging
from typing import Any

import pytest

from bot.domain.ids import MAX_ID, parse_id
from cogs._shared.ids import STALE_COMPONENT
from tests.discord_double.model import Message
from tests.e2e.conftest import BookClub
from tests.e2e.test_fuzz import snapshot
from tests.e2e.test_polls import component, nominate_three, run, set_up_channels

TWENTY_DIGITS = "9" * 20
ARABIC_INDIC_TWELVE = "\u0661\u0662"


def test_an_id_is_plain_digits_inside_sixty_four_bits() -> None:
    assert parse_id("42") == 42 and parse_id(str(MAX_ID)) == MAX_ID
    assert parse_id("0", allow_zero=True) == 0
    for forged in (TWENTY_DIGITS, str(MAX_ID + 1), "0", "-1", "abc", "", " 1", ARABIC_INDIC_TWELVE, "\u00b2", None):
        assert parse_id(forged) is None, forged


def forge(message: Message, custom_id: str, kind: int) -> Message:
    """The message as a tampered client shows it: its first component of `kind` carries `custom_id`, enabled."""
    forged = copy.deepcopy(message)
    changed = component(forged, kind)
    changed["custom_id"] = custom_id
    changed.pop("disabled", None)
    return forged


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]


async def press_forged(bookclub: BookClub, message: Message, custom_id: str, kind: int = 2) -> str:
    double, guild = bookclub.double, bookclub.double.guild_a
    alice = guild.member("Alice")
    forged = forge(message, custom_id, kind)
    if kind == 2:
        ix = await double.press_button(forged, custom_id, alice)
    else:
        ix = await double.select(forged, custom_id, ["0"], alice)
    answer = await ix.reply()
    assert answer.ephemeral, f"{custom_id}: the refusal was shown to everyone"
    return answer.text()


async def start_ranked_poll(bookclub: BookClub) -> Message:
    await set_up_channels(bookclub)
    await nominate_three(bookclub)
    await run(bookclub, "Mod", "poll start", closes_in="2d", mode="ranked")
    [poll_message] = bookclub.double.bot_messages(bookclub.double.guild_a.channel("polls"))
    return poll_message


async def test_forged_poll_ids_are_refused_quietly(bookclub: BookClub, caplog: pytest.LogCaptureFixture) -> None:
    poll_message = await start_ranked_poll(bookclub)
    alice = bookclub.double.guild_a.member("Alice")
    ballot = await (await bookclub.double.press_button(poll_message, "Vote", alice)).reply()
    before = await snapshot(bookclub)
    for poll_id in (TWENTY_DIGITS, str(MAX_ID + 1), "0"):
        assert await press_forged(bookclub, poll_message, f"bookclub:poll:{poll_id}:vote") == STALE_COMPONENT
        assert await press_forged(bookclub, ballot, f"bookclub:poll:{poll_id}:pick:", kind=3) == STALE_COMPONENT
    # Submit and Start over appear once a book is picked: forged straight onto the ballot's menu message.
    assert await press_forged(bookclub, poll_message, f"bookclub:poll:{TWENTY_DIGITS}:submit:0") == STALE_COMPONENT
    assert await press_forged(bookclub, poll_message, f"bookclub:poll:{TWENTY_DIGITS}:restart") == STALE_COMPONENT
    # A menu value that is a digit to str.isdigit() but not to int().
    superscript = copy.deepcopy(ballot)
    component(superscript, 3)["options"][0]["value"] = "\u00b2"
    picked = await bookclub.double.select(superscript, component(superscript, 3)["custom_id"], ["\u00b2"], alice)
    await picked.wait_acknowledged()
    assert await snapshot(bookclub) == before
    assert errors_logged(caplog) == []


async def test_forged_review_list_pages_are_refused_quietly(bookclub: BookClub,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    book, _ = await bookclub.store.books.find_or_create(guild.id, "Piranesi", "Susanna Clarke")
    for number in range(6):
        review = await bookclub.store.reviews.queue_review(
            guild.id, book.id, member_id=guild.member("Bob").id, reviewer_name="Bob", rating=4,
            body=f"Thoughts {number}.", spoilers=None, now=bookclub.clock.now())
        await bookclub.store.reviews.mark_announced(guild.id, review.id, [review.id], bookclub.clock.now())
    page = await (await double.slash(guild, guild.member("Alice"), "review list")).reply()
    before = await snapshot(bookclub)
    for forged in (f"review:list:{TWENTY_DIGITS}:0:1:older", f"review:list:0:{TWENTY_DIGITS}:1:older",
                   f"review:list:{ARABIC_INDIC_TWELVE}:0:1:older"):
        assert await press_forged(bookclub, page, forged) == STALE_COMPONENT
    assert await snapshot(bookclub) == before
    assert errors_logged(caplog) == []


@pytest.mark.parametrize(("member", "command", "options"), [
    ("Alice", "review list", {"book": f"book:{TWENTY_DIGITS}"}),
    ("Alice", "rate", {"book": f"book:{TWENTY_DIGITS}", "stars": 4}),
    ("Mod", "discuss start", {"book": f"book:{TWENTY_DIGITS}", "sections": "Part 1, Part 2"}),
])
async def test_a_forged_autocomplete_choice_is_refused_quietly(bookclub: BookClub, caplog: pytest.LogCaptureFixture,
                                                               member: str, command: str,
                                                               options: dict[str, Any]) -> None:
    double, guild = bookclub.double, bookclub.double.guild_a
    before = await snapshot(bookclub)
    answer = await (await double.slash(guild, guild.member(member), command, options=options)).reply()
    assert answer.ephemeral and "Something went wrong" not in answer.text()
    assert await snapshot(bookclub) == before
    assert errors_logged(caplog) == []
