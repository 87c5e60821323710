"""Member and outside text made safe to show: invisible controls removed, and cut only between whole characters.

`clean_line` is the one cleaning for a title, author, label or name as a member typed it;
`tidy_text` does the same for text of several lines. Both drop control characters and the bidi
controls (overrides, embeddings, isolates, direction marks) that would make an echoed title
display reversed or drag the bot's own words along with it.

`md` escapes a line for Discord's markdown and `titled` shows a book with it; `escape_mentions` keeps mentions
readable where markdown is not escaped; `book_choice` and `picked_book` are the `book:<id>` codec of every book
autocomplete.

`truncate` and `graphemes` cut between user-perceived characters (Unicode grapheme clusters, the
`regex` package's `\\X`), so an emoji family, a flag or a letter with its accents is never split.
"""

from __future__ import annotations

import re
import string

import regex

from bot.domain.ids import picked_id

# C0 and C1 controls (tab and newline are spacing, handled by callers) and every bidi formatting character.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_GRAPHEME = regex.compile(r"\X")
# Characters that join what follows them to the cluster before: marks, joiners, modifiers, tags, variation
# selectors, and a second regional indicator. Text without any is one cluster per code point.
_MAY_JOIN = regex.compile(r"[\p{M}\u200d\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f\U0001f1e6-\U0001f1ff\r]")

_ESCAPES = str.maketrans({char: "\\" + char for char in string.punctuation})
_MENTION = re.compile(r"@(everyone|here|[!&]?[0-9]{17,20})")
# An autocomplete choice's value for a book: what the member picked, as opposed to a title they typed.
_BOOK_CHOICE = re.compile(r"^book:(\d+)$")


def escape_markdown(text: str) -> str:
    """Backslash-escape every ASCII punctuation character, so Discord shows the text exactly as typed.

    Meant for member text (titles, labels, names) placed where Discord renders markdown: message
    content, embed descriptions, field names and values. No markdown, mention, emoji shortcode,
    timestamp or link can form in the result. Places that show text raw (thread names, poll
    answers, embed footers) would show the backslashes, so do not use it there. Mentions are
    not rendered, but only `allowed_mentions` stops Discord from notifying people.
    """
    return text.translate(_ESCAPES)


def escape_mentions(text: str) -> str:
    """Shown, not pinged: the text's mentions broken by an invisible space (the message pings nobody anyway)."""
    return _MENTION.sub("@\u200b\\1", text)


def md(text: str) -> str:
    """One line of member or outside text, cleaned (`clean_line`) and shown as typed in Discord's markdown."""
    return escape_markdown(clean_line(text))


def titled(title: str, author: str) -> str:
    """"**Title** by Author" in markdown, or the bold title alone when the author is unknown (a nomination made
    while Open Library was away, say)."""
    return f"**{md(title)}** by {md(author)}" if author.strip() else f"**{md(title)}**"


def book_choice(book_id: int) -> str:
    """The autocomplete value that names a book."""
    return f"book:{book_id}"


def picked_book(text: str) -> int | None:
    """The book id of an autocomplete value (`book:12`), or None for typed text or a forged, out-of-range id."""
    return picked_id(_BOOK_CHOICE, text)


def is_book_choice(text: str) -> bool:
    """Whether the text has the form of an autocomplete value, valid or not."""
    return _BOOK_CHOICE.match(text.strip()) is not None


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
