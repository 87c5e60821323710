"""Spoiler markup as Discord draws it: member text stays hidden, whatever it contains, and reads back intact."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.spoilers import MESSAGE_LIMIT, hide
from bot.domain.text import escape_markdown
from tests.domain.discord_markdown import Glyph, hidden_text, render, runs, shown_text

HEADER = "**Spoiler · ch. 22** · from Alice"
HEADER_SHOWN = "Spoiler · ch. 22 · from Alice\n"

# --- the test-side parser, on cases worked out from Discord's rules -----------------------------


@pytest.mark.parametrize(
    ("message", "shown", "hidden"),
    [
        ("||a||b", "b", "a"),
        ("a||b||c", "ac", "b"),
        ("||a\nb||", "", "a\nb"),
        ("||a|||", "|", "a"),
        ("|| ||", "", " "),
        ("||||", "||||", ""),
        ("||a", "||a", ""),
        # An escaped first pipe means no spoiler opens.
        ("\\||a||", "||a||", ""),
        # A spoiler closes at the first raw "||", escaped or not: the backslash becomes text.
        ("||a\\||b||", "b||", "a\\"),
        # ...and even inside backticks.
        ("||a`||`b||", "`b||", "a`"),
        # Code opened first wins: its pipes are literal.
        ("`||`a||", "||a||", ""),
        ("``||``a", "||a", ""),
        ("`` ` ``", "`", ""),
        ("```\n||x||\n```", "||x||", ""),
        ("```py\nx\n```||y||", "x", "y"),
        ("||`code`||", "", "code"),
        ("||```x```||", "x", ""),
        # Escapes turn markup into text.
        ("\\*\\*a\\*\\*", "**a**", ""),
        ("\\`||a||\\`", "``", "a"),
        ("||\\|a||", "", "|a"),
        # An escaped pipe right before the closing tag closes it early; italics keep it apart.
        ("||\\|\\|||", "|", "|\\"),
        ("||x*\\|*||", "", "x|"),
        ("\\a\\ ", "\\a\\ ", ""),
        # Emphasis found first swallows the pipes inside it.
        ("**a||b**c||", "a||bc||", ""),
        ("||**a**||", "", "a"),
        ("*a||b*||", "a||b||", ""),
        ("~~||a||~~", "", "a"),
        ("__a__||b||", "a", "b"),
    ],
)
def test_parser_reads_known_messages_like_discord(message: str, shown: str, hidden: str) -> None:
    assert shown_text(message) == shown
    assert hidden_text(message) == hidden


def test_parser_marks_code() -> None:
    assert render("a`b`") == [Glyph("a", hidden=False), Glyph("b", hidden=False, code=True)]


# --- hide: examples a member would notice --------------------------------------------------------


def test_hides_a_short_text_in_one_message_under_the_header() -> None:
    messages = hide("Snape kills Dumbledore.", header=HEADER)
    assert messages == [f"{HEADER}\n||Snape kills Dumbledore\\.||"]
    assert shown_text(messages[0]) == HEADER_SHOWN
    assert hidden_text(messages[0]) == "Snape kills Dumbledore."


@pytest.mark.parametrize(
    "text",
    [
        "a || b",
        "ends with a pipe|",
        "|",
        "||",
        "`||`",
        "```\n||\n```",
        "\\",
        "\\||",
        "> quote\n# heading\n- list\n1. item\n-# small",
        "<@123> @everyone @here <#5> <@&7> <t:1700000000:R> <:e:12345678901234567>",
        "[click](https://example.com) https://example.com",
        "**bold** *it* __u__ ~~s~~ _i_",
        "   ",
        "\n\n",
        "שלום \u202eevil\u202c \u200b\u200d",
        "👨\u200d👩\u200d👧 🇫🇷 👍🏽 e\u0301",
    ],
)
def test_nothing_a_member_types_escapes_the_tags(text: str) -> None:
    for message in hide(text):
        assert shown_text(message) == ""
    assert "".join(hidden_text(message) for message in hide(text)) == text


def test_whitespace_only_text_is_still_a_spoiler() -> None:
    assert hide("  ") == ["||  ||"]


def test_rejects_empty_text() -> None:
    with pytest.raises(ValueError, match="no text"):
        hide("")


def test_rejects_a_limit_that_leaves_no_room() -> None:
    with pytest.raises(ValueError, match="no room"):
        hide("x", header="h" * 1995)
    with pytest.raises(ValueError, match="no room"):
        hide("x", limit=7)
    assert hide("|", limit=8) == ["||*\\|*||"]


def test_long_text_splits_at_line_ends() -> None:
    line = "The lighthouse keeper was the narrator all along.\n"
    messages = hide(line * 100, header=HEADER)
    assert len(messages) > 1
    for message in messages:
        assert len(message) <= MESSAGE_LIMIT
        hidden = hidden_text(message)
        assert hidden.endswith("\n")
        assert set(hidden.splitlines()) == {line.strip()}


def test_long_text_without_lines_splits_between_words() -> None:
    messages = hide("word " * 1000, limit=100)
    assert len(messages) > 1
    for message in messages:
        hidden = hidden_text(message)
        assert hidden.endswith(" ")
        assert set(hidden.split()) == {"word"}


def test_splits_never_divide_an_emoji_sequence_or_an_accented_letter() -> None:
    family = "👨\u200d👩\u200d👧\u200d👦"
    accented = "e\u0301\u0302"
    for piece in (family, accented, "🇫🇷", "👍🏽", "❤\ufe0f"):
        for limit in range(max(len(escape_markdown(piece)) + 4, 8), 40):
            messages = hide(piece * 30, limit=limit)
            assert all(len(message) <= limit for message in messages)
            assert all(len(hidden_text(message)) % len(piece) == 0 for message in messages)


def test_a_single_character_too_long_for_one_message_is_split_anyway() -> None:
    text = "a" + "\u0301" * 5000
    messages = hide(text)
    assert len(messages) == 3
    assert "".join(hidden_text(message) for message in messages) == text


# --- hide: any text at all ------------------------------------------------------------------------

_DANGEROUS = [
    "|", "||", "|||", "\\", "\\|", "|\\", "`", "``", "```", "```py\n", "*", "**", "_", "__", "~", "~~",
    ">", "> ", ">>> ", "#", "# ", "-# ", "- ", "1. ", "[", "](", ")", "<@123>", "<@!123>", "<@&5>", "<#7>",
    "@everyone", "@here", "<t:1700000000:R>", "<:e:123456789012345678>", ":smile:", "https://example.com/a_b",
    "\n", "\r\n", "\n\n", " ", "  ", "\t", "😀", "👍🏽", "👨\u200d👩\u200d👧", "🇫🇷", "e\u0301", "\u200b",
    "\u200d", "\u202e", "\u2066", "\ufeff", "\u0000", "a", "word ",
]  # fmt: skip

_fragments = st.one_of(
    st.sampled_from(_DANGEROUS),
    st.text(max_size=12),
    st.tuples(st.sampled_from(_DANGEROUS), st.integers(1, 700)).map(lambda pair: pair[0] * pair[1]),
)
_texts = st.lists(_fragments, min_size=1, max_size=12).map(lambda parts: "".join(parts)[:10_000]).filter(bool)


def _check(text: str, header: str, limit: int) -> None:
    messages = hide(text, header=header, limit=limit)
    recovered: list[str] = []
    for index, message in enumerate(messages):
        assert len(message) <= limit
        drawn = runs(message)
        assert "".join(run.text for run in drawn if not run.hidden) == (HEADER_SHOWN if header and index == 0 else "")
        assert not any(run.code for run in drawn)
        recovered.append("".join(run.text for run in drawn if run.hidden))
    assert all(recovered)
    assert "".join(recovered) == text


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_texts, header=st.sampled_from(["", HEADER]), limit=st.sampled_from([2000, 2000, 1024, 300, 60, 45]))
def test_any_text_stays_hidden_and_reads_back_exactly(text: str, header: str, limit: int) -> None:
    _check(text, header, limit)


@settings(max_examples=200, deadline=None)
@given(text=_texts, limit=st.integers(8, 14))
def test_any_text_fits_even_tiny_messages(text: str, limit: int) -> None:
    _check(text[:300], "", limit)


@st.composite
def _long_texts(draw: st.DrawFn) -> str:
    pieces = draw(st.lists(st.sampled_from(_DANGEROUS) | st.text(min_size=1, max_size=8), min_size=1, max_size=30))
    # Drawn through a seed: hypothesis cannot draw ten thousand choices itself.
    rng = random.Random(draw(st.integers(0, 2**32)))
    return "".join(rng.choices(pieces, k=10_000))[:10_000]


@settings(max_examples=30, deadline=None)
@given(text=_long_texts(), header=st.sampled_from(["", HEADER]))
def test_ten_thousand_characters_of_anything_split_correctly(text: str, header: str) -> None:
    _check(text, header, MESSAGE_LIMIT)


# --- escape_markdown -------------------------------------------------------------------------------


@settings(max_examples=500, deadline=None)
@given(text=_texts)
def test_escaped_text_shows_exactly_as_typed_and_mentions_nobody(text: str) -> None:
    escaped = escape_markdown(text[:500])
    drawn = runs(escaped)
    assert "".join(run.text for run in drawn) == text[:500]
    assert not any(run.hidden or run.code for run in drawn)
    # Every "<" and "@" is consumed by an escape, so no mention can start.
    assert not {"<", "@"} & set(re.sub(r"\\.", "", escaped, flags=re.DOTALL))


def test_escaped_title_keeps_its_words() -> None:
    assert escape_markdown("The *Remains* of_the_Day") == "The \\*Remains\\* of\\_the\\_Day"
    assert shown_text(escape_markdown("`Dune` || @everyone")) == "`Dune` || @everyone"
