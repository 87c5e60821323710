"""Test-side reading of a Discord message: which rendered characters show and which hide behind a spoiler.

It follows Discord's markdown parser (simple-markdown plus Discord's own rules) for everything
that decides visibility. At each position the rules are tried in Discord's order: fenced code
block, backslash escape, emphasis (`**`, `*`, `_`, `__`, `~~`; the longest match wins, as in
simple-markdown), inline code (any number of backticks), spoiler, plain text. A rule that spans
text finds its end with a raw regular expression, like Discord: a spoiler closes at the first
`||` after it opens even when that `||` is escaped or inside backticks. Code is taken literally.

Two deliberate simplifications, both of which make a visibility check stricter, never looser:
- mentions, links, emoji, headings, quotes and lists are read as the plain text they come from,
  so their characters count as shown where Discord would show a replacement;
- a fenced code block is always shown, even inside a spoiler, as older clients displayed it.
"""

from __future__ import annotations

import re
from operator import itemgetter
from typing import NamedTuple

# JavaScript's \s, which Discord's rules use; Python's differs (e.g. \x1c-\x1f, \x85).
_SPACE = "\t\n\v\f\r \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_ANY = r"[\s\S]"

_CODE_BLOCK = re.compile(r"```(?:[a-z0-9_+\-.#]+?\n)?\n*([^\n]" + _ANY + r"*?)\n*```", re.IGNORECASE)
_ESCAPE = re.compile(rf"\\([^0-9A-Za-z{_SPACE}])")
_STRONG = re.compile(r"\*\*((?:\\" + _ANY + r"|[^\\])+?)\*\*(?!\*)")
_UNDERLINE = re.compile(r"__(" + _ANY + r"+?)__(?!_)")
_EM = re.compile(
    # simple-markdown's `^\b_` is always true at the start of the remaining source, and its
    # trailing \b after "_" means "no ASCII word character follows".
    r"_((?:__|\\" + _ANY + r"|[^\\_])+?)_(?![0-9A-Za-z_])"
    rf"|\*(?=[^{_SPACE}])((?:\*\*|\\{_ANY}|[{_SPACE}]+(?:\\{_ANY}|[^{_SPACE}*\\]|\*\*)|[^{_SPACE}*\\])+?)\*(?!\*)"
)
_STRIKE = re.compile(r"~~(" + _ANY + r"+?)~~(?!_)")
_INLINE_CODE = re.compile(r"(`+)(" + _ANY + r"*?[^`])\1(?!`)")
_INLINE_CODE_PADDING = re.compile(r"^ (?= *`)|(` *) $")
_SPOILER = re.compile(r"\|\|(" + _ANY + r"+?)\|\|")
_TEXT = re.compile(r"[\s\S][^\\*_~`|]*")
# Plain text and escapes render alike, so a run of both is taken in one step.
_PLAIN_RUN = re.compile(rf"(?:[^\\*_~`|]|\\[^0-9A-Za-z{_SPACE}])+")

# simple-markdown's quality scores for rules sharing an order: longest match, then em > strong > u.
_EMPHASIS = ((_EM, 0.2), (_STRONG, 0.1), (_UNDERLINE, 0.0))


class Glyph(NamedTuple):
    """One character as Discord draws it."""

    char: str
    hidden: bool
    code: bool = False


class Run(NamedTuple):
    """Consecutive characters drawn alike."""

    text: str
    hidden: bool
    code: bool = False


def runs(message: str) -> list[Run]:
    """What Discord draws for `message`, in order, markup removed, as runs of like characters."""
    out: list[Run] = []
    _parse(message, hidden=False, out=out)
    return out


def render(message: str) -> list[Glyph]:
    """Every character Discord draws for `message`, in order, markup removed."""
    return [Glyph(char, run.hidden, run.code) for run in runs(message) for char in run.text]


def shown_text(message: str) -> str:
    """The characters readable without clicking anything."""
    return "".join(run.text for run in runs(message) if not run.hidden)


def hidden_text(message: str) -> str:
    """The characters behind spoiler tags."""
    return "".join(run.text for run in runs(message) if run.hidden)


def _parse(source: str, *, hidden: bool, out: list[Run]) -> None:
    position = 0
    while position < len(source):
        position = _parse_one(source, position, hidden, out)


def _parse_one(source: str, position: int, hidden: bool, out: list[Run]) -> int:
    """Apply the first rule that matches at `position`; return where the next one starts."""
    first = source[position]
    run = _PLAIN_RUN.match(source, position)
    if run:
        out.append(Run(_ESCAPE.sub(itemgetter(1), run.group(0)), hidden))
        return run.end()
    if first == "`":
        block = _CODE_BLOCK.match(source, position)
        if block:
            out.append(Run(block.group(1), hidden=False, code=True))
            return block.end()
        span = _INLINE_CODE.match(source, position)
        if span:
            out.append(Run(_INLINE_CODE_PADDING.sub(r"\1", span.group(2)), hidden, code=True))
            return span.end()
    elif first == "\\":
        escape = _ESCAPE.match(source, position)
        if escape:
            out.append(Run(escape.group(1), hidden))
            return escape.end()
    elif first in "*_":
        best: re.Match[str] | None = None
        best_quality = -1.0
        for pattern, bonus in _EMPHASIS:
            match = pattern.match(source, position)
            if match and len(match.group(0)) + bonus > best_quality:
                best, best_quality = match, len(match.group(0)) + bonus
        if best:
            inner = next(group for group in best.groups() if group is not None)
            _parse(inner, hidden=hidden, out=out)
            return best.end()
    elif first == "~":
        strike = _STRIKE.match(source, position)
        if strike:
            _parse(strike.group(1), hidden=hidden, out=out)
            return strike.end()
    elif first == "|":
        spoiler = _SPOILER.match(source, position)
        if spoiler:
            _parse(spoiler.group(1), hidden=True, out=out)
            return spoiler.end()
    text = _TEXT.match(source, position)
    assert text is not None  # one character always matches
    out.append(Run(text.group(0), hidden))
    return text.end()
