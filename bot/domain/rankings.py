"""Ranking the club's books by members' stars: best, worst and most divisive, fairly to books few members rated.

A book rated by one member has the stars of one opinion, so it never tops a list ahead of books
that several members rated: books with at least `MIN_VOTES_TO_RANK` ratings come first, and a
single-rating book that would have beaten them is named apart by the answer. "Divisive" is the
widest spread of stars (their standard deviation, then the gap between the lowest and the highest),
so it needs at least two ratings.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import NamedTuple

MIN_VOTES_TO_RANK = 2


class RankOrder(StrEnum):
    BEST = "best"
    WORST = "worst"
    DIVISIVE = "divisive"


class Stars(NamedTuple):
    """Members' stars for one book: their sum, count, lowest, highest and sum of squares (for the spread)."""

    total: int
    votes: int
    low: int
    high: int
    squares: int

    @property
    def average(self) -> float:
        return self.total / self.votes if self.votes else 0.0

    @property
    def spread(self) -> float:
        """The standard deviation of the stars: 0 when everyone agreed, 2 when half gave 1★ and half 5★."""
        if self.votes < 2:
            return 0.0
        mean = self.average
        return math.sqrt(max(0.0, self.squares / self.votes - mean * mean))


def rank(stars: Mapping[int, Stars], book_ids: Iterable[int], order: RankOrder) -> list[int]:
    """`book_ids` that have stars, in `order`; books with fewer than two ratings after all the others.

    Ties go to more ratings, then to the lower book id (the one added first), so an answer is the
    same every time it is asked.
    """
    rated = [book_id for book_id in book_ids if book_id in stars and stars[book_id].votes]
    if order is RankOrder.DIVISIVE:
        divided = [book_id for book_id in rated if stars[book_id].spread > 0]
        return sorted(divided, key=lambda book_id: (-round(stars[book_id].spread, 9),
                                                    -(stars[book_id].high - stars[book_id].low),
                                                    -stars[book_id].votes, book_id))
    sign = -1 if order is RankOrder.BEST else 1
    return sorted(rated, key=lambda book_id: (stars[book_id].votes < MIN_VOTES_TO_RANK,
                                              sign * round(stars[book_id].average, 9), -stars[book_id].votes,
                                              book_id))


def passed_over(stars: Mapping[int, Stars], ranked: list[int], order: RankOrder) -> int | None:
    """A single-rating book that would have topped `ranked` on its stars alone, to name apart; None if none."""
    if not ranked or order is RankOrder.DIVISIVE or stars[ranked[0]].votes < MIN_VOTES_TO_RANK:
        return None
    top = stars[ranked[0]].average
    for book_id in ranked:
        score = stars[book_id]
        if score.votes < MIN_VOTES_TO_RANK:
            beats = score.average > top if order is RankOrder.BEST else score.average < top
            return book_id if beats else None
    return None
