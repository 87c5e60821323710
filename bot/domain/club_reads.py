"""A guild's reads held in memory, in the orders answers list them: newest first, by finishing day, in time.

`ClubReads` answers what `/ask` asks of the reads (the current and planned ones, a period's, the last
finished, what came before or after a book) without a database read, in the same orders as the
history store's queries (`bot/store/history.py`): current reads first, then finished ones newest
first, then planned ones; a period by finishing day; the reading order by the day a read finished
(the current read by the day it began). It is built once per version of the guild's history.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from datetime import date
from typing import NamedTuple

from bot.domain.books import ReadStatus


class ReadRow(NamedTuple):
    """One read as answers need it: a plain tuple, since a guild has thousands."""

    id: int
    book_id: int
    status: ReadStatus
    started_on: date | None
    finished_on: date | None

    @property
    def day(self) -> date | None:
        """Its place in the club's reading order: the day it finished, or began for the current read."""
        return self.finished_on or self.started_on


_STATUS_RANK = {"reading": 0, "finished": 1}


def _newest_key(row: ReadRow) -> tuple[int, int, int]:
    # The store's `_NEWEST_FIRST`: status, then the latest day (undated last), then the latest read.
    day = row.finished_on or row.started_on
    return _STATUS_RANK.get(row.status, 2), -(day.toordinal() if day else 0), -row.id


def _place_in_time(row: ReadRow) -> tuple[date, int] | None:
    # The store's `_IN_ORDER`: finished and current reads with a day; planned ones have no place in time.
    day = row.day
    return (day, row.id) if day is not None and row.status in ("finished", "reading") else None


class ClubReads:
    """A guild's reads, indexed for the questions `/ask` answers."""

    def __init__(self, rows: Iterable[ReadRow]) -> None:
        newest = sorted(rows, key=_newest_key)
        self._by_book = {row.book_id: row for row in newest}
        self._rank = {row.book_id: position for position, row in enumerate(newest)}
        self._by_status: dict[str, list[ReadRow]] = {}
        for row in newest:
            self._by_status.setdefault(row.status, []).append(row)
        finished = sorted((row.finished_on, row.id, row) for row in self._by_status.get("finished", ())
                          if row.finished_on is not None)
        self._finished_days = [day for day, _, _ in finished]
        self._finished = [row for _, _, row in finished]
        in_time = sorted((place, row) for row in newest if (place := _place_in_time(row)) is not None)
        self._in_order = [row for _, row in in_time]
        self._place = {row.book_id: position for position, row in enumerate(self._in_order)}
        self._last_finished = max(
            self._by_status.get("finished", ()),
            key=lambda row: (row.finished_on is not None, row.finished_on or date.min, row.id), default=None,
        )

    def __len__(self) -> int:
        return len(self._by_book)

    def get(self, book_id: int) -> ReadRow | None:
        return self._by_book.get(book_id)

    def statuses(self) -> dict[int, ReadStatus]:
        return {book_id: row.status for book_id, row in self._by_book.items()}

    def newest(self, status: ReadStatus, limit: int) -> list[ReadRow]:
        """The reads of that status, newest first."""
        return self._by_status.get(status, [])[:limit]

    def count(self, status: ReadStatus) -> int:
        return len(self._by_status.get(status, ()))

    def newest_first(self, book_ids: Iterable[int]) -> list[ReadRow]:
        """The reads of these books (books without one left out), in the order of `newest`."""
        return sorted((self._by_book[book_id] for book_id in set(book_ids) if book_id in self._by_book),
                      key=lambda row: self._rank[row.book_id])

    def finished_between(self, start: date, end: date, limit: int) -> list[ReadRow]:
        """Reads finished on or after `start` and before `end`, in the order they were finished."""
        first = bisect_left(self._finished_days, start)
        return self._finished[first:min(bisect_left(self._finished_days, end), first + limit)]

    def count_finished_between(self, start: date, end: date) -> int:
        return max(0, bisect_left(self._finished_days, end) - bisect_left(self._finished_days, start))

    def last_finished(self) -> ReadRow | None:
        """The finished read with the latest finishing day (reads without one count as oldest)."""
        return self._last_finished

    def next_to(self, book_id: int, *, after: bool, limit: int) -> list[ReadRow]:
        """The reads just after (or just before) the book's read in time, nearest first; none when it has no
        place in the order."""
        place = self._place.get(book_id)
        if place is None:
            return []
        if after:
            return self._in_order[place + 1:place + 1 + limit]
        return self._in_order[max(0, place - limit):place][::-1]

    def from_to(self, first_book_id: int, last_book_id: int, limit: int) -> list[ReadRow]:
        """The reads from one book's read to the other's in time, both included, in the order they were read
        (the two may be given either way round); none when either has no place in the order."""
        places: Sequence[int | None] = (self._place.get(first_book_id), self._place.get(last_book_id))
        if places[0] is None or places[1] is None:
            return []
        low, high = sorted((places[0], places[1]))
        return self._in_order[low:min(high + 1, low + limit)]
