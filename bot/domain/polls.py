"""Next-read polls: which nominations are the same book, poll answer texts that fit Discord, and the counted outcome."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from math import ceil
from typing import Literal

from pydantic import BaseModel, Field

from bot.domain.names import author_key, title_key
from bot.domain.text import truncate
from bot.domain.voting import Round, instant_runoff, plurality_winner

PollMode = Literal["native", "ranked"]

MAX_ANSWER = 55
MAX_TITLE = 256
MAX_AUTHOR = 200
MAX_PER_MEMBER = 3
MIN_CANDIDATES = 2
MAX_CANDIDATES = 10
# Discord polls last whole hours, one to 32 days.
MAX_NATIVE_HOURS = 768

_DASH = " — "
_SUBTITLE = re.compile(r"\s*(?::|\s-\s|\s–\s|\s—\s)")
_TRAILING_BRACKETS = re.compile(r"\s*[(\[][^()\[\]]*[)\]]\s*$")


@dataclass(frozen=True)
class NominationKey:
    """What makes two nominations the same book: the catalogue's work, else the title and a compatible author."""

    work_key: str | None
    title: str
    author_words: frozenset[str]

    @classmethod
    def of(cls, title: str, author: str = "", work_key: str | None = None) -> NominationKey:
        return cls(work_key or None, title_key(title), frozenset(author_key(author).split()))

    def same_book(self, other: NominationKey) -> bool:
        """Same work key; or the same title whose authors agree, one of them possibly only a surname or missing.

        "Piranesi" by "Clarke" and by "Susanna Clarke" is one nomination even when the catalogue is offline.
        """
        if self.work_key is not None and self.work_key == other.work_key:
            return True
        if not self.title or self.title != other.title:
            return False
        if not self.author_words or not other.author_words:
            return True
        return self.author_words <= other.author_words or other.author_words <= self.author_words


def _main_title(title: str) -> str:
    """The title without a subtitle or a trailing "(Series, #1)", when something is left."""
    bare = title
    while (shorter := _TRAILING_BRACKETS.sub("", bare)) != bare and shorter.strip():
        bare = shorter
    main = _SUBTITLE.split(bare, maxsplit=1)[0]
    return main if main.strip() else bare


def answer_text(title: str, author: str = "", limit: int = MAX_ANSWER) -> str:
    """A poll answer for the book in at most `limit` characters.

    "Title — Author" when it fits, else the title, else the title without its subtitle or
    series, else that cut on a word boundary with "…".
    """
    title, author = " ".join(title.split()), " ".join(author.split())
    candidates = [f"{title}{_DASH}{author}" if author else title, title]
    main = _main_title(title)
    if author:
        candidates.append(f"{main}{_DASH}{author}")
    candidates.append(main)
    for candidate in candidates:
        if len(candidate) <= limit:
            return candidate
    return truncate(main, limit)


def answer_texts(books: Sequence[tuple[str, str]], limit: int = MAX_ANSWER) -> list[str]:
    """Answers for every book, each within `limit` and no two alike (case aside), so voters can tell them apart."""
    texts = [answer_text(title, author, limit) for title, author in books]
    seen: set[str] = set()
    distinct: list[str] = []
    for (title, author), text in zip(books, texts, strict=True):
        suffix = f"{_DASH}{author}"
        if text.casefold() in seen and author and len(suffix) <= limit // 2:
            # Two shortened titles collide: the author is what tells them apart.
            text = truncate(_main_title(" ".join(title.split())), limit - len(suffix)) + suffix
        base, number = text, 2
        while text.casefold() in seen:
            tag = f" ({number})"
            text = truncate(base, limit - len(tag)) + tag
            number += 1
        seen.add(text.casefold())
        distinct.append(text)
    return distinct


def native_duration_hours(closes_in: timedelta) -> int:
    """Whole hours of a Discord poll that stays open at least until the bot ends it at `closes_in`."""
    return max(1, min(MAX_NATIVE_HOURS, ceil(closes_in.total_seconds() / 3600)))


class Outcome(BaseModel):
    """How a poll ended: the winning candidate (by position in nomination order), why, and what was counted."""

    winner: int | None
    tie_broken: bool
    reason: str
    # Native polls: votes per candidate. Ranked polls: the instant-runoff rounds.
    votes: dict[int, int] = Field(default_factory=dict)
    rounds: list[Round] = Field(default_factory=list)
    ballots: int = 0


def count_native(counts: Mapping[int, int], candidates: int) -> Outcome:
    """Plurality over a Discord poll's answers; a tie at the top goes to the earliest nomination."""
    positions = list(range(candidates))
    votes = {position: max(0, counts.get(position, 0)) for position in positions}
    total = sum(votes.values())
    winner, tie_broken = plurality_winner(votes, positions)
    if winner is None:
        return Outcome(winner=None, tie_broken=False, reason="Nobody voted.", votes=votes)
    most = votes[winner]
    if tie_broken:
        reason = f"Tied at {_votes(most)} each; the earliest nomination wins."
    else:
        reason = f"Won with {_votes(most)} of {total}."
    return Outcome(winner=winner, tie_broken=tie_broken, reason=reason, votes=votes, ballots=total)


def count_ranked(candidates: int, ballots: Sequence[Sequence[int]]) -> Outcome:
    """Instant runoff over ranked ballots of candidate positions; ties go to the earliest nomination."""
    result = instant_runoff(list(range(candidates)), ballots)
    reason = "Nobody voted." if result.winner is None and not ballots else result.reason
    return Outcome(winner=result.winner, tie_broken=result.tie_broken, reason=reason, rounds=list(result.rounds),
                   ballots=len(ballots))


def _votes(count: int) -> str:
    return f"{count} vote" if count == 1 else f"{count} votes"


def round_lines(rounds: Sequence[Round], names: Mapping[int, str]) -> list[str]:
    """Each instant-runoff round as one line of text, for readers who cannot see the chart."""
    lines = []
    for number, round_ in enumerate(rounds, start=1):
        tallies = ", ".join(f"{names.get(candidate, f'#{candidate}')} {votes}"
                            for candidate, votes in round_.tallies.items())
        line = f"Round {number}: {tallies}"
        if round_.exhausted:
            line += f" ({round_.exhausted} exhausted)"
        if round_.eliminated is not None:
            line += f"; {names.get(round_.eliminated, f'#{round_.eliminated}')} out"
        lines.append(line)
    return lines


def tally_lines(votes: Mapping[int, int], names: Mapping[int, str]) -> list[str]:
    """A native poll's votes, most first, nomination order breaking ties."""
    order = sorted(votes, key=lambda position: (-votes[position], position))
    return [f"{names.get(position, f'#{position}')}: {_votes(votes[position])}" for position in order]
