"""The spoiler guard finds a book's terms as readers write them, whole words only, and only where it watches."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.guard import (
    MAX_TERMS_PER_BOOK,
    Hit,
    SpoilerGuard,
    SpoilerMatcher,
    TermError,
    parse_terms,
    words,
)

NEVER_LET_ME_GO, KLARA = 1, 2
MATCHER = SpoilerMatcher.build({
    NEVER_LET_ME_GO: ["Tommy", "Ruth dies", "Hailsham", "donations", "Ruth"],
    KLARA: ["Josie", "the Sun"],
})


@pytest.mark.parametrize(
    ("message", "term"),
    [
        ("so Tommy was the one", "Tommy"),
        ("TOMMY!!!", "Tommy"),
        ("Tommy's temper, though", "Tommy"),
        ("I can't believe ruth... DIES", "Ruth dies"),
        ("ruth lives on", "Ruth"),
        ("back at HAILSHÁM", "Hailsham"),
        ("Ｈａｉｌｓｈａｍ in full width", "Hailsham"),
        ("*donations*", "donations"),
        ("||josie||", "Josie"),
        ("praying to The  Sun", "the Sun"),
    ],
)
def test_terms_are_found_whatever_the_case_accents_and_punctuation(message: str, term: str) -> None:
    hit = MATCHER.find(message)
    assert hit is not None and hit.term == term


@pytest.mark.parametrize(
    "message",
    ["Tom and Tomm are here", "Tommyknockers is another book", "the donation box", "Hailshamish", "a sunny day",
     "Josiah", "Ruthless", ""],
)
def test_parts_of_words_and_other_words_are_left_alone(message: str) -> None:
    assert MATCHER.find(message) is None


def test_the_hit_names_its_book() -> None:
    assert MATCHER.find("Josie gets better") == Hit(KLARA, "Josie")
    assert MATCHER.find("did Ruth die? no, Ruth dies") == Hit(NEVER_LET_ME_GO, "Ruth")


def test_an_empty_matcher_finds_nothing() -> None:
    empty = SpoilerMatcher.build({NEVER_LET_ME_GO: [], KLARA: ["!!"]})
    assert not empty and empty.find("anything at all") is None


def test_the_guard_only_watches_spoiler_free_places() -> None:
    spoiler_free, discussions_channel, section_thread = 10, 11, 12
    guard = SpoilerGuard(MATCHER, frozenset({spoiler_free, discussions_channel}))
    assert guard.check(spoiler_free, "Tommy!") == Hit(NEVER_LET_ME_GO, "Tommy")
    assert guard.check(discussions_channel, "Tommy!") is not None
    assert guard.check(section_thread, "Tommy!") is None
    assert SpoilerGuard().check(spoiler_free, "Tommy!") is None


def test_folding_treats_accents_special_letters_and_case_alike() -> None:
    assert words("Brontë, Søren; STRASSE straße") == ["bronte", "soren", "strasse", "strasse"]
    assert words("naïve café") == words("NAIVE cafe")


def test_terms_are_tidied_deduplicated_and_kept_as_written() -> None:
    assert parse_terms(" Tommy ,Ruth   dies,, tommy; HAILSHÁM\nHailsham ") == ["Tommy", "Ruth dies", "HAILSHÁM"]
    assert parse_terms(" , ") == []


@pytest.mark.parametrize(
    ("typed", "complaint"),
    [
        ("Tommy, ???", "no letters"),
        ("x" * 61, "at most 60"),
        (", ".join(f"term{n}" for n in range(MAX_TERMS_PER_BOOK + 1)), f"At most {MAX_TERMS_PER_BOOK}"),
    ],
)
def test_unusable_terms_are_refused(typed: str, complaint: str) -> None:
    with pytest.raises(TermError, match=complaint):
        parse_terms(typed)


# --- against a plain reference: slide every term over the message's words ----------------------

VOCABULARY = ["ruth", "dies", "tommy", "kathy", "hailsham", "sun", "the", "café", "søren", "ab"]
SEPARATORS = [" ", "  ", ", ", "!", "\n", "'", "…", "-", "*", "||", " (", ") "]


def _variant(word: str, style: int) -> str:
    if style == 1:
        return word.upper()
    if style == 2:
        return word.capitalize()
    if style == 3:
        return unicodedata.normalize("NFD", word)
    return word


written_word = st.builds(_variant, st.sampled_from(VOCABULARY), st.integers(0, 3))
# Words glued to a letter must not count as the word itself.
glued_word = st.builds(lambda word, extra: word + extra, st.sampled_from(VOCABULARY), st.sampled_from(["s", "x"]))
message_text = st.lists(
    st.tuples(st.one_of(written_word, glued_word), st.sampled_from(SEPARATORS)), max_size=25
).map(lambda parts: "".join(word + separator for word, separator in parts))
term_lists = st.dictionaries(
    st.integers(1, 5),
    st.lists(st.lists(written_word, min_size=1, max_size=3).map(" ".join), min_size=1, max_size=4),
    max_size=4,
)


def reference_find(terms: dict[int, list[str]], text: str) -> set[tuple[str, ...]]:
    found = words(text)
    hits = set()
    for key_terms in terms.values():
        for term in key_terms:
            wanted = words(term)
            if any(found[start:start + len(wanted)] == wanted for start in range(len(found))):
                hits.add(tuple(wanted))
    return hits


@settings(deadline=None, max_examples=400)
@given(terms=term_lists, text=message_text)
def test_the_matcher_agrees_with_sliding_every_term_over_the_words(terms: dict[int, list[str]], text: str) -> None:
    expected = reference_find(terms, text)
    hit = SpoilerMatcher.build(terms).find(text)
    if not expected:
        assert hit is None
    else:
        assert hit is not None and tuple(words(hit.term)) in expected and hit.term in terms[hit.key]


@settings(deadline=None, max_examples=200)
@given(prefix=message_text, suffix=message_text, term=st.lists(written_word, min_size=1, max_size=3),
       before=st.sampled_from(SEPARATORS), after=st.sampled_from(SEPARATORS))
def test_a_term_between_any_separators_is_always_found(prefix: str, suffix: str, term: list[str], before: str,
                                                       after: str) -> None:
    matcher = SpoilerMatcher.build({1: [" ".join(term)]})
    assert matcher.find(f"{prefix}{before}{' '.join(_variant(w, 1) for w in term)}{after}{suffix}") is not None


# --- evasions: what renders as the term is the term ----------------------------------------------

EVASION_MATCHER = SpoilerMatcher.build({1: ["Dumbledore", "Snape kills", "Ron", "Ruth dies"]})


@pytest.mark.parametrize(
    ("message", "term"),
    [
        ("Dumb\u200bledore dies", "Dumbledore"),  # zero-width space
        ("Dumb\u200dle\u200cdore", "Dumbledore"),  # zero-width joiner and non-joiner
        ("Dumble\u00addore", "Dumbledore"),  # soft hyphen
        ("Dumb\u2060le\ufeffdore", "Dumbledore"),  # word joiner, zero-width no-break space
        ("Dum\u202ablе\u202cdore", "Dumbledore"),  # embedding controls, and a Cyrillic "е"
        ("Dum\u2066bl\u2069edore", "Dumbledore"),  # isolates
        ("Dumb\u200eledore\u200f", "Dumbledore"),  # direction marks
        ("Dum*bl*edore", "Dumbledore"),
        ("Dum**bl**edore", "Dumbledore"),
        ("Dumb__le__dore", "Dumbledore"),
        ("Dumb~~le~~dore", "Dumbledore"),
        ("Dumb||le||dore", "Dumbledore"),
        ("Dumb＊le＊dore", "Dumbledore"),  # fullwidth asterisks
        ("Snape **kills** him", "Snape kills"),
        ("__Snape__ _kills_", "Snape kills"),
        ("DUMBLЕDОRЕ", "Dumbledore"),  # Cyrillic capitals Е and О
        ("dumblеdоrе", "Dumbledore"),  # Cyrillic small е and о
        ("Dumbledοre", "Dumbledore"),  # Greek omicron
        ("Ѕnаре kills", "Snape kills"),  # Cyrillic Ѕ, а, р, е
        ("ᴅᴜᴍʙʟᴇᴅᴏʀᴇ", "Dumbledore"),  # small capitals
        ("ＤＵＭＢＬＥＤＯＲＥ", "Dumbledore"),  # fullwidth
        ("𝐃𝐮𝐦𝐛𝐥𝐞𝐝𝐨𝐫𝐞", "Dumbledore"),  # mathematical bold
        ("Dúmblèdörê", "Dumbledore"),
        ("Du\u0301mbledo\u0308re", "Dumbledore"),  # combining accents
        ("Ru\u200bth_dies", "Ruth dies"),
    ],
)
def test_invisible_characters_emphasis_and_look_alike_letters_do_not_hide_a_term(message: str,
                                                                                  term: str | None) -> None:
    hit = EVASION_MATCHER.find(message)
    assert (hit.term if hit else None) == term


@pytest.mark.parametrize("message", ["Ronald", "Ron's friend Ronaldo", "Hermione", "Ruthless", "Ruth_less"])
def test_the_new_folding_keeps_whole_word_matching(message: str) -> None:
    hit = EVASION_MATCHER.find(message)
    assert hit is None or (hit.term == "Ron" and "Ron's" in message)


def test_cyrillic_terms_still_match_in_either_case() -> None:
    matcher = SpoilerMatcher.build({1: ["Вера"]})
    assert matcher.find("ВЕРА уходит") is not None and matcher.find("и вера тоже") is not None
    assert matcher.find("Верность") is None


INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u00ad", "\u2060", "\ufeff", "\u202a", "\u202c", "\u202d", "\u2066",
             "\u2069", "\u200e", "\u200f", "\u061c", "\u034f", "\ufe0f"]
MARKERS = ["*", "**", "_", "__", "~~", "||"]


@settings(deadline=None, max_examples=300)
@given(prefix=message_text, suffix=message_text, term=st.lists(written_word, min_size=1, max_size=3),
       insertions=st.lists(st.tuples(st.integers(0, 200), st.sampled_from(INVISIBLE + MARKERS)), min_size=1,
                           max_size=6))
def test_inserting_invisible_characters_or_emphasis_into_a_term_still_matches(
        prefix: str, suffix: str, term: list[str], insertions: list[tuple[int, str]]) -> None:
    written = " ".join(term)
    for position, inserted in insertions:
        at = position % (len(written) + 1)
        written = written[:at] + inserted + written[at:]
    matcher = SpoilerMatcher.build({1: [" ".join(term)]})
    assert matcher.find(f"{prefix} {written} {suffix}") is not None
