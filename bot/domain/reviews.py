"""Reviews as Discord shows them: ratings typed by members, star lines, and announcements split within embed limits."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, replace
from datetime import datetime

from bot.domain.slots import next_slot, parse_hhmm
from bot.domain.spoilers import hide
from bot.domain.text import cut_point, escape_markdown, truncate

MAX_REVIEW = 4000
MAX_SPOILERS = 1000
RATING_HELP = "Give the rating as a whole number from 1 to 5, for example 4, 4/5 or ★★★★."

# Discord's limits for one embed and for all the embeds of one message.
EMBED_TITLE = 256
EMBED_AUTHOR = 256
EMBED_DESCRIPTION = 4096
MESSAGE_EMBEDS = 10
MESSAGE_EMBED_CHARS = 6000
# Body text per embed: below the description limit, so the first one also holds the star line.
BODY_CHUNK = 4000
# Room kept in every message for the footer that names the review and the part.
FOOTER_ROOM = 64

_RATING = re.compile(r"([1-5])(?:\s*/\s*5)?(?:\s*(?:stars?|★))?", re.IGNORECASE)
_STAR_RUN = re.compile(r"(?:★|⭐|\*){1,5}")
_FOOTER = re.compile(r"^Review #(\d+)(?: · part (\d+) of (\d+))?$")
_PUNCTUATION = frozenset(string.punctuation)


def parse_rating(text: str) -> int:
    """The stars a member typed: "4", "4/5", "4 stars", "★★★★"; ValueError with what is accepted otherwise."""
    # Emoji stars often carry an invisible variation selector.
    cleaned = " ".join(text.replace("\ufe0f", "").split())
    found = _RATING.fullmatch(cleaned)
    if found:
        return int(found.group(1))
    if _STAR_RUN.fullmatch(cleaned):
        return len(cleaned)
    shown = truncate(cleaned, 20) if cleaned else "an empty rating"
    raise ValueError(f"“{shown}” isn't a rating. {RATING_HELP}")


def star_line(rating: int) -> str:
    """Five stars, the first `rating` of them filled."""
    if not 1 <= rating <= 5:
        raise ValueError("a rating is 1 to 5 stars")
    return "★" * rating + "☆" * (5 - rating)


def next_announcement(after: datetime, weekday: int | None, at: str | None, timezone: str) -> datetime | None:
    """When queued reviews are next posted after `after`: the weekly slot in the club's zone, or None (at once)."""
    if weekday is None or at is None:
        return None
    return next_slot(after, weekday, parse_hhmm(at), timezone)


@dataclass(frozen=True)
class ReviewCard:
    """What an announcement shows about one review; text fields are exactly as written."""

    review_id: int
    title: str
    author: str
    reviewer: str
    body: str
    rating: int | None = None
    spoilers: str | None = None
    link: str | None = None
    cover_url: str | None = None
    from_blog: bool = False


@dataclass(frozen=True)
class EmbedSpec:
    """One embed, ready to be turned into a discord.Embed: markdown already escaped where Discord renders it."""

    description: str
    title: str | None = None
    url: str | None = None
    author: str | None = None
    thumbnail: str | None = None
    footer: str | None = None

    @property
    def size(self) -> int:
        """Characters that count towards Discord's 6,000 per message."""
        return sum(len(part or "") for part in (self.title, self.description, self.author, self.footer))


def footer_text(review_id: int, part: int, parts: int) -> str:
    """The mark an announcement carries, by which a re-run recognises what it already posted."""
    return f"Review #{review_id}" if parts == 1 else f"Review #{review_id} · part {part} of {parts}"


def parse_footer(text: str) -> tuple[int, int, int] | None:
    """(review id, part, parts) from an announcement's footer, or None for any other text."""
    found = _FOOTER.match(text)
    if found is None:
        return None
    if found.group(2) is None:
        return int(found.group(1)), 1, 1
    return int(found.group(1)), int(found.group(2)), int(found.group(3))


def _cost(char: str) -> int:
    return 2 if char in _PUNCTUATION else 1


def split_escaped(text: str, limit: int) -> list[str]:
    """Member text escaped for markdown and cut into pieces of at most `limit` characters each.

    Cuts fall after a blank line, else a line end, else a space, as long as that keeps at least
    half the piece; a backslash escape is never split from its character, nor a grapheme (an emoji
    sequence, a flag, a letter with its accents) unless it alone is longer than a piece.
    """
    if limit < 2:
        raise ValueError("a piece needs room for at least one escaped character")
    text = text.replace("\r\n", "\n").strip()
    pieces: list[str] = []
    start = 0
    while start < len(text):
        cost, stop = 0, start
        while stop < len(text) and cost + _cost(text[stop]) <= limit:
            cost += _cost(text[stop])
            stop += 1
        if stop < len(text):
            # Back to the last whole grapheme, so no emoji or accented letter is split between embeds.
            stop = start + cut_point(text[start:], stop - start)
            window = text[start:stop]
            for separator in ("\n\n", "\n", " "):
                at = window.rfind(separator)
                if at >= len(window) // 2:
                    stop = start + at + len(separator)
                    break
        piece = text[start:stop].strip()
        if piece:
            pieces.append(escape_markdown(piece))
        start = stop
    return pieces


def _fit_escaped(text: str, limit: int) -> str:
    """Escaped text cut (with "…") so that the escaped form fits `limit`."""
    cut = limit
    while True:
        escaped = escape_markdown(truncate(text, cut))
        if len(escaped) <= limit:
            return escaped
        cut -= max(1, (len(escaped) - limit + 1) // 2)


def _reviewer_line(card: ReviewCard) -> str:
    line = f"From the blog {card.reviewer}" if card.from_blog else f"{card.reviewer}'s review"
    return truncate(" ".join(line.split()), EMBED_AUTHOR)


def _book_title(card: ReviewCard) -> str:
    label = f"{card.title} by {card.author}" if card.author.strip() else card.title
    return _fit_escaped(" ".join(label.split()), EMBED_TITLE)


def review_embeds(card: ReviewCard) -> list[EmbedSpec]:
    """Every embed of the announcement in reading order, without footers."""
    stars = f"{star_line(card.rating)}\n\n" if card.rating is not None else ""
    chunks = split_escaped(card.body, BODY_CHUNK) or [""]
    first = EmbedSpec(
        title=_book_title(card), url=card.link, author=_reviewer_line(card), thumbnail=card.cover_url,
        description=(stars + chunks[0]).strip() or "\u200b",
    )
    embeds = [first, *(EmbedSpec(description=chunk) for chunk in chunks[1:])]
    if card.spoilers and card.spoilers.strip():
        embeds += [EmbedSpec(description=text) for text in
                   hide(card.spoilers.strip(), header="**Spoilers** (click to reveal)", limit=EMBED_DESCRIPTION)]
    return embeds


def announcement(card: ReviewCard) -> list[list[EmbedSpec]]:
    """The messages that announce one review, each within Discord's limits, each footed with its part."""
    messages: list[list[EmbedSpec]] = []
    budget = MESSAGE_EMBED_CHARS - FOOTER_ROOM
    for embed in review_embeds(card):
        current = messages[-1] if messages else []
        if current and len(current) < MESSAGE_EMBEDS and sum(e.size for e in current) + embed.size <= budget:
            current.append(embed)
        else:
            messages.append([embed])
    parts = len(messages)
    for number, message in enumerate(messages, start=1):
        message[-1] = replace(message[-1], footer=footer_text(card.review_id, number, parts))
    return messages
