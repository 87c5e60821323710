"""Spoiler markup: member text shown behind Discord spoiler tags that it can never break out of."""

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate

from bot.domain.text import escape_markdown, graphemes

MESSAGE_LIMIT = 2000

_TAG = "||"
# Discord ends a spoiler at the first raw "||" after it opens, escapes notwithstanding, so a
# text ending in "|" would leave "\|||" and lose its last pipe to the closing tag. Italics
# put a harmless "*" between the member's pipe and the tag.
_LAST_PIPE = "*\\|*"
_LAST_PIPE_EXTRA = len(_LAST_PIPE) - len("\\|")
# The most one code point can cost: a trailing pipe in italics.
_MIN_ROOM = len(_LAST_PIPE)



def _cost(text: str) -> int:
    """Characters `text` takes between the tags when it ends a message."""
    return len(escape_markdown(text)) + (_LAST_PIPE_EXTRA if text.endswith("|") else 0)


def hide(text: str, *, header: str = "", limit: int = MESSAGE_LIMIT) -> list[str]:
    """Render member text as one or more messages, each at most `limit` characters, all of it hidden.

    Every character of `text` is escaped and placed inside a single `||…||` pair per message,
    so Discord shows it literally (no markdown, mentions, code or links) and only after a click.
    Long text is split at line ends, else at spaces, else between characters, never inside an
    escape or a combined character (emoji sequence, accented letter) unless that one character
    is itself too long for a message. `header`, trusted markup such as
    "**Spoiler · ch. 22** · from Alice", starts the first message on its own line, outside the tags.

    Raises ValueError for empty text, or when `limit` leaves no room for any text.
    """
    if not text:
        raise ValueError("There is no text to hide.")
    prefix = f"{header}\n" if header else ""
    room = limit - len(_TAG) * 2
    first_room = room - len(prefix)
    if first_room < _MIN_ROOM:
        raise ValueError(f"A limit of {limit} characters leaves no room for hidden text.")
    units = _units(text, min(room, first_room))
    escaped = [escape_markdown(unit) for unit in units]
    ends = list(accumulate(map(len, escaped), initial=0))
    messages: list[str] = []
    start = 0
    while start < len(units):
        stop = _split_point(units, ends, start, first_room if not messages else room)
        body = "".join(escaped[start:stop])
        if units[stop - 1].endswith("|"):
            body = body[: -len("\\|")] + _LAST_PIPE
        messages.append(f"{prefix if not messages else ''}{_TAG}{body}{_TAG}")
        start = stop
    return messages


def _split_point(units: list[str], ends: list[int], start: int, room: int) -> int:
    """The end of the next message's units: as many as fit, cut at the best boundary."""
    stop = bisect_right(ends, ends[start] + room) - 1
    if units[stop - 1].endswith("|") and ends[stop] - ends[start] + _LAST_PIPE_EXTRA > room:
        stop -= 1
    if stop == len(units):
        return stop
    # Cutting in the first half of the window would waste most of a message on a tidy break.
    half = ends[start] + (ends[stop] - ends[start]) / 2
    for wanted in (_ends_line, str.isspace):
        for cut in range(stop, start, -1):
            if ends[cut] < half:
                break
            if wanted(units[cut - 1][-1]):
                return cut
    return stop


def _ends_line(char: str) -> bool:
    return char == "\n"


def _units(text: str, smallest_room: int) -> list[str]:
    """Split text into user-perceived characters (grapheme clusters), the pieces a message break never divides.

    A cluster too long for a message on its own is broken into code points.
    """
    units: list[str] = []
    for unit in graphemes(text):
        if len(unit) > 1 and _cost(unit) > smallest_room:
            units.extend(unit)
        else:
            units.append(unit)
    return units
