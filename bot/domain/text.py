"""Member and outside text made safe to show: invisible controls removed, and cut only between whole characters.

`clean_line` is the one cleaning for a title, author, label or name as a member typed it;
`tidy_text` does the same for text of several lines. Both drop control characters and the bidi
controls (overrides, embeddings, isolates, direction marks) that would make an echoed title
display reversed or drag the bot's own words along with it.

`truncate` and `graphemes` cut between user-perceived characters (Unicode grapheme clusters, the
`regex` package's `\\X`), so an emoji family, a flag or a letter with its accents is never split.
"""

from __future__ import annotations

import re

import regex

# C0 and C1 controls (tab and newline are spacing, handled by callers) and every bidi formatting character.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_GRAPHEME = regex.compile(r"\X")
# Characters that join what follows them to the cluster before: marks, joiners, modifiers, tags, variation
# selectors, and a second regional indicator. Text without any is one cluster per code point.
_MAY_JOIN = regex.compile(r"[\p{M}\u200d\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f\U0001f1e6-\U0001f1ff\r]")


def clean_line(text: str) -> str:
    """One line as the bot keeps and shows it: no control or bidi characters, single spaces, no ends."""
    return " ".join(_CONTROL.sub(" ", text).split())


def tidy_text(text: str) -> str:
    """Plain text as the bot shows it: single spaces, no control characters, at most one blank line in a row."""
    lines = _CONTROL.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n")).split("\n")
    kept: list[str] = []
    for line in lines:
        clean = " ".join(line.split())
        if clean or (kept and kept[-1]):
            kept.append(clean)
    return "\n".join(kept).strip("\n")


def graphemes(text: str) -> list[str]:
    """The user-perceived characters of `text`, in order."""
    if _MAY_JOIN.search(text) is None:
        return list(text)
    return _GRAPHEME.findall(text)


def cut_point(text: str, limit: int) -> int:
    """The longest prefix of `text` of at most `limit` characters that ends between two whole graphemes.

    A single grapheme longer than `limit` (a letter under hundreds of marks) is cut between code points.
    """
    if len(text) <= limit:
        return len(text)
    if _MAY_JOIN.search(text, 0, limit + 1) is None:
        return limit
    end = 0
    for match in _GRAPHEME.finditer(text):
        if match.end() > limit:
            break
        end = match.end()
    return end or limit


def clip(text: str, limit: int) -> str:
    """The start of `text`, at most `limit` characters and whole graphemes, for quoting input back without "…"."""
    return text[: cut_point(text, limit)]


def truncate(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters on a word boundary, ending with "…" when cut.

    Never cuts inside a grapheme.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if len(text) <= limit:
        return text
    stop = cut_point(text, limit - 1)
    cut = text[:stop]
    if not text[stop].isspace():
        boundary = max(cut.rfind(" "), cut.rfind("\n"))
        # Only back off to a word boundary when that keeps most of the text; one huge word is cut mid-word.
        if boundary >= limit // 2:
            cut = cut[:boundary]
    return cut.rstrip(" \n,;:-–—") + "…"
