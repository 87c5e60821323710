"""Shown text keeps no control or bidi characters, and is only ever cut between whole graphemes."""

from __future__ import annotations

import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.reviews import split_escaped
from bot.domain.spoilers import hide
from bot.domain.text import clean_line, clip, graphemes, tidy_text, truncate

FAMILY = "👨\u200d👩\u200d👧\u200d👦"
FLAG = "🇫🇷"
E_ACUTE = "e\u0301"
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def boundaries(text: str) -> set[int]:
    return {match.end() for match in regex.finditer(r"\X", text)} | {0}


def test_bidi_controls_are_stripped_with_the_other_control_characters() -> None:
    assert clean_line("The \u202eRed\u202c  House\u2066\x07\n") == "The Red House"
    assert clean_line("".join(BIDI)) == ""
    assert tidy_text("one\u2067 line\u2069\ntwo\u200f") == "one line\ntwo"


@given(st.text())
def test_a_cleaned_line_has_no_control_or_bidi_characters(text: str) -> None:
    cleaned = clean_line(text)
    assert not any(char in BIDI or (ord(char) < 32) or 0x7F <= ord(char) <= 0x9F for char in cleaned)
    assert cleaned == cleaned.strip() and "  " not in cleaned


def test_graphemes_keep_emoji_sequences_flags_and_accents_whole() -> None:
    assert graphemes(f"a{FAMILY}{FLAG}{E_ACUTE}b") == ["a", FAMILY, FLAG, E_ACUTE, "b"]
    assert graphemes("plain") == list("plain")


def test_truncation_never_cuts_a_family_a_flag_or_an_accent() -> None:
    # Each cut point falls inside the sequence at the end of the text.
    for sequence in (FAMILY, FLAG, E_ACUTE, "👍🏽"):
        text = "x" * 20 + sequence + "y" * 20
        for limit in range(21, 21 + len(sequence)):
            assert truncate(text, limit) == "x" * 20 + "…"
        assert truncate(text, 22 + len(sequence)) == "x" * 20 + sequence + "y…"


piece = st.sampled_from(["a", "b", " ", "\n", ",", FAMILY, FLAG, E_ACUTE, "👍🏽", "1\ufe0f\u20e3", "\u0928\u093f"])
grapheme_text = st.lists(piece, max_size=60).map("".join)


@settings(max_examples=300)
@given(text=grapheme_text, limit=st.integers(12, 80))
def test_truncation_keeps_whole_graphemes(text: str, limit: int) -> None:
    shown = truncate(text, limit)
    assert len(shown) <= limit
    if shown != text:
        body = shown.removesuffix("…")
        assert text.startswith(body) and len(body) in boundaries(text)


@settings(max_examples=200)
@given(text=grapheme_text.filter(str.strip), limit=st.integers(24, 80))
def test_review_pieces_keep_whole_graphemes(text: str, limit: int) -> None:
    position = 0
    for shown in split_escaped(text, limit):
        unescaped = regex.sub(r"\\(.)", r"\1", shown)
        start = text.find(unescaped, position)
        # Only the blank space a piece was cut at lies between two pieces.
        assert start >= 0 and not text[position:start].strip()
        assert start in boundaries(text) and start + len(unescaped) in boundaries(text)
        position = start + len(unescaped)


@settings(max_examples=200)
@given(text=grapheme_text.filter(bool), limit=st.integers(30, 80))
def test_spoiler_messages_keep_whole_graphemes(text: str, limit: int) -> None:
    joined = ""
    for message in hide(text, limit=limit):
        body = message.removeprefix("||").removesuffix("||").replace("*\\|*", "\\|")
        unescaped = regex.sub(r"\\(.)", r"\1", body)
        assert len(joined + unescaped) in boundaries(text) and text.startswith(joined + unescaped)
        joined += unescaped
    assert joined == text


def test_input_quoted_back_is_clipped_between_graphemes() -> None:
    assert clip("x" * 38 + FAMILY, 40) == "x" * 38
    assert clip("x" * 39 + E_ACUTE, 40) == "x" * 39
    assert clip("short", 40) == "short"
