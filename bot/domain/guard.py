"""The spoiler guard's matcher: finds a book's spoiler terms in a message, fast enough to run on every message.

Text and terms are folded the same way: compatibility forms (fullwidth and "mathematical" letters),
case (`casefold`), accents ("Hailsham" matches "HAILSHÁM"), a few letters that Unicode does not
decompose ("ø" is "o"), and Cyrillic, Greek and small-capital letters that look like Latin ones
("Ruth" written with a Cyrillic "у" is "Ruth"). Invisible characters (zero-width spaces and
joiners, soft hyphens, bidi controls) are dropped, so they cannot split a word. Then text is cut
into words at anything that is not a letter or digit, so a term only matches whole words: "Tom"
never matches "Tommy", but it matches "Tom's" and "TOM!". A term of several words matches those
words in a row, whatever punctuation or spacing lies between them. A message with markdown
emphasis markers (`*`, `_`, `~`, `|`) is also read with the markers removed, so "Dum*bl*edore"
is "Dumbledore" without "Ruth_dies" ceasing to be "Ruth dies".

`SpoilerMatcher.build` turns every term of a guild into one dictionary keyed by a term's first
word; checking a message costs one regular-expression pass and one dictionary look-up per word,
however many terms the guild has. Scripts written without spaces (Chinese, Japanese, Thai) form
one long word per run, so a term in them matches only the whole run.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import regex

from bot.domain.text import clip

MAX_TERMS_PER_BOOK = 50
MAX_TERM_LENGTH = 60

_WORD = re.compile(r"[^\W_]+")
_TERM_SEPARATORS = re.compile(r"[,;\n]")
# Letters that decomposition leaves alone but readers treat as plain Latin letters.
_SPECIAL_LETTERS = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th",
                                  "ħ": "h", "ı": "i", "ŀ": "l", "ŧ": "t", "ſ": "s",
                                  **{char: latin for latin, chars in {
                                      # Look-alikes of Latin letters after case folding, after Unicode's
                                      # confusables.txt, for the scripts people use to dodge filters. Both cases
                                      # of a letter fold alike, so "Вера" still matches "вера".
                                      "a": "аαɑᴀ", "b": "вьβʙ", "c": "сϲᴄ", "d": "ԁᴅ", "e": "еεᴇ", "g": "ɡɢ",
                                      "h": "нһηʜհ", "i": "іӏιɪɩ", "j": "јϳᴊ", "k": "кκᴋ", "l": "ʟ", "m": "мμᴍ",
                                      "n": "νɴո", "o": "оοᴏօ", "p": "рρᴘ", "q": "ԛ", "r": "гʀ", "s": "ѕꜱ",
                                      "t": "тτᴛ", "u": "ᴜս", "v": "ѵᴠ", "w": "ԝѡᴡ", "x": "хχ",
                                      "y": "уүυγʏ", "z": "ζᴢ",
                                  }.items() for char in chars}})
# Characters that render as nothing (zero-width, soft hyphen, bidi controls, variation selectors, fillers).
_INVISIBLE = regex.compile(r"[\p{Default_Ignorable_Code_Point}\p{Cf}]+")
# Markdown emphasis, strike-through, underline and spoiler markers, which Discord honours inside a word.
_MARKERS = "*_~|"


class TermError(ValueError):
    """The terms as typed cannot be used; the message says why, for the moderator."""


_NOT_ASCII = re.compile(r"[^\x00-\x7f]+")
# Every ASCII character but letters and digits separates words; mapping them to spaces lets `split` cut.
_ASCII_SEPARATORS = str.maketrans({chr(code): " " for code in range(128) if not chr(code).isalnum()})
_ASCII_SEPARATORS_BUT_MARKERS = {**_ASCII_SEPARATORS, **str.maketrans("", "", _MARKERS)}


def words(text: str) -> list[str]:
    """The folded words of `text`, as the matcher compares them."""
    return _folded(text).translate(_ASCII_SEPARATORS).split()


def _folded(text: str) -> str:
    if not text.isascii():
        # Members write mostly ASCII: folding only the other runs, each folded once per process, keeps it fast.
        text = _NOT_ASCII.sub(_fold_match, text)
    return text.lower()


def _fold_match(match: re.Match[str]) -> str:
    return _fold(match.group())


@lru_cache(maxsize=8192)
def _fold(run: str) -> str:
    # Decompose both before and after folding case: folding can yield new composed letters.
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", _INVISIBLE.sub("", run)).casefold())
    bare = "".join(char for char in folded if not unicodedata.category(char).startswith("M"))
    # Markers survive as themselves (fullwidth "＊" is "*"), for the reading without markers.
    return "".join(char if char.isalnum() or char in _MARKERS else " " for char in bare.translate(_SPECIAL_LETTERS))


def parse_terms(text: str) -> list[str]:
    """The terms in a comma-separated list, tidied and without repeats (terms that fold the same).

    Raises TermError for a term without letters or digits, a term too long, or too many terms.
    """
    terms: list[str] = []
    seen: set[tuple[str, ...]] = set()
    for raw in _TERM_SEPARATORS.split(text):
        term = " ".join(raw.split())
        if not term:
            continue
        key = tuple(words(term))
        if not key:
            raise TermError(f"“{clip(term, 40)}” has no letters or digits to look for.")
        if len(term) > MAX_TERM_LENGTH:
            raise TermError(f"Terms can be at most {MAX_TERM_LENGTH} characters: “{clip(term, 40)}…” is longer.")
        if key not in seen:
            seen.add(key)
            terms.append(term)
    if len(terms) > MAX_TERMS_PER_BOOK:
        raise TermError(f"At most {MAX_TERMS_PER_BOOK} terms per book, please; you listed {len(terms)}.")
    return terms


@dataclass(frozen=True)
class Hit:
    """A spoiler term found in a message: the key of the book it belongs to, and the term as the moderator wrote it."""

    key: int
    term: str


# Terms filed under one anchor word that share the anchor's offset and their length: (offset, size, words → hit).
_Group = tuple[int, int, dict[tuple[str, ...], Hit]]


class SpoilerMatcher:
    """Every spoiler term of a guild, compiled for one pass over a message.

    Each term is filed under its longest word, its anchor: long words are rare in chat, so "the Sun"
    is looked for only where "sun" occurs, not at every "the". Terms with the same anchor, anchor
    position and length share one dictionary, so each occurrence costs a look-up per group.
    """

    def __init__(self, by_anchor: dict[str, list[_Group]]) -> None:
        self._by_anchor = by_anchor
        self._anchors = frozenset(by_anchor)

    @classmethod
    def build(cls, terms: Mapping[int, Iterable[str]]) -> SpoilerMatcher:
        """`terms` maps a key (a discussion's id) to its spoiler terms."""
        grouped: dict[str, dict[tuple[int, int], dict[tuple[str, ...], Hit]]] = {}
        for key, key_terms in terms.items():
            for term in key_terms:
                folded = tuple(words(term))
                if not folded:
                    continue
                offset = max(range(len(folded)), key=lambda index: (len(folded[index]), -index))
                group = grouped.setdefault(folded[offset], {}).setdefault((offset, len(folded)), {})
                group.setdefault(folded, Hit(key, term))
        # Longer terms first, so "Ruth dies" is reported rather than "Ruth" where both are terms.
        by_anchor = {
            anchor: [(offset, size, group) for (offset, size), group in sorted(
                groups.items(), key=lambda item: (-item[0][1], item[0][0]))]
            for anchor, groups in grouped.items()
        }
        return cls(by_anchor)

    def __bool__(self) -> bool:
        return bool(self._by_anchor)

    def find(self, text: str) -> Hit | None:
        """The spoiler term whose anchor comes first in `text` (the longest term there), or None."""
        if not self._by_anchor or not text:
            return None
        folded = _folded(text)
        hit = self._find_words(folded.translate(_ASCII_SEPARATORS).split())
        if hit is None and any(marker in folded for marker in _MARKERS):
            hit = self._find_words(folded.translate(_ASCII_SEPARATORS_BUT_MARKERS).split())
        return hit

    def _find_words(self, found: list[str]) -> Hit | None:
        # Most messages hold no anchor at all, and the intersection says so at C speed.
        present = self._anchors.intersection(found)
        if not present:
            return None
        for index, word in enumerate(found):
            if word not in present:
                continue
            for offset, size, group in self._by_anchor[word]:
                start = index - offset
                if start >= 0:
                    hit = group.get(tuple(found[start:start + size]))
                    if hit is not None:
                        return hit
        return None


@dataclass(frozen=True)
class SpoilerGuard:
    """What the guard watches in one guild: the spoiler-free places and the terms of every book under discussion."""

    matcher: SpoilerMatcher = field(default_factory=lambda: SpoilerMatcher.build({}))
    guarded_channel_ids: frozenset[int] = frozenset()

    def check(self, channel_id: int, text: str) -> Hit | None:
        """The spoiler term in a message posted in `channel_id`, if that place is spoiler-free and it has one."""
        if channel_id not in self.guarded_channel_ids or not self.matcher:
            return None
        return self.matcher.find(text)
