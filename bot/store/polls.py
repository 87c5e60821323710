"""Next-read polls: nominations and their nominators, polls and their candidates, anonymous ballots, outcomes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from bot.domain.books import Book
from bot.domain.polls import (
    MAX_CANDIDATES,
    MAX_PER_MEMBER,
    MIN_CANDIDATES,
    Outcome,
    PollMode,
    answer_texts,
    count_ranked,
)
from bot.store.db import from_db_time, to_db_time
from bot.store.engine import AnyConnection, AnyDatabase, new_id

PollStatus = Literal["open", "closed"]
# What a nomination did: a new nomination, a second nominator credited, or why nothing changed.
NominateStatus = Literal["created", "merged", "already_yours", "member_limit", "full", "in_poll"]
# What a withdrawal did: the nomination is gone, only the member's credit is (others still nominate the book), or
# why nothing changed.
WithdrawStatus = Literal["withdrawn", "credit_removed", "not_nominated", "not_yours", "in_poll"]


class PollAlreadyRunning(Exception):
    """The guild has a running poll; it has to close before another starts."""


class WrongNominationCount(Exception):
    """A poll needs MIN_CANDIDATES to MAX_CANDIDATES waiting nominations; `count` are waiting."""

    def __init__(self, count: int) -> None:
        super().__init__(f"{count} nominations are waiting")
        self.count = count


class Nomination(BaseModel):
    id: int
    guild_id: int
    book: Book
    nominators: list[int]
    created_at: datetime
    poll_id: int | None = None


class Candidate(BaseModel):
    """A book on a poll's ballot; `position` is its place in nomination order, earliest first."""

    position: int
    book_id: int
    title: str
    author: str
    answer: str
    nominators: list[int]

    @property
    def label(self) -> str:
        return f"{self.title} by {self.author}" if self.author else self.title


class Poll(BaseModel):
    id: int
    guild_id: int
    mode: PollMode
    status: PollStatus
    channel_id: int
    message_id: int | None = None
    # A Discord id that the poll message's own id exceeds, recorded before posting it; None until then.
    message_after: int | None = None
    started_by: int
    created_at: datetime
    closes_at: datetime
    closed_at: datetime | None = None
    outcome: Outcome | None = None
    winner_book_id: int | None = None
    announcement_channel_id: int | None = None
    announcement_message_id: int | None = None
    # Recorded (with announcement_channel_id) before the result is posted: the announcement's id exceeds it.
    announcement_after: int | None = None
    candidates: list[Candidate]

    @property
    def winner(self) -> Candidate | None:
        if self.outcome is None or self.outcome.winner is None:
            return None
        return next((c for c in self.candidates if c.position == self.outcome.winner), None)

    def is_open_at(self, now: datetime) -> bool:
        return self.status == "open" and now < self.closes_at


_NOMINATION_COLUMNS = (
    "n.id AS nomination_id, n.guild_id, n.poll_id, n.created_at AS nominated_at, b.id, b.title, b.author, b.year, "
    "b.work_key, b.isbn13, b.cover_url"
)


class PollRepository:
    """One guild's nominations, polls and ballots; every statement is scoped by guild_id."""

    def __init__(self, db: AnyDatabase) -> None:
        self._db = db

    # -- nominations -------------------------------------------------------------------------------

    async def nominations(self, guild_id: int, *, waiting_only: bool = False) -> list[Nomination]:
        """The guild's nominations in nomination order; `waiting_only` leaves out those in the running poll."""
        where = "n.guild_id = ?" + (" AND n.poll_id IS NULL" if waiting_only else "")
        rows = await self._db.fetch_all(
            f"SELECT {_NOMINATION_COLUMNS} FROM nominations n JOIN books b ON b.id = n.book_id "  # noqa: S608
            f"AND b.guild_id = n.guild_id WHERE {where} ORDER BY n.id",
            (guild_id,),
        )
        credits = await self._db.fetch_all(
            "SELECT nomination_id, member_id FROM nominators WHERE guild_id = ? ORDER BY created_at, rowid",
            (guild_id,),
        )
        by_nomination: dict[int, list[int]] = {}
        for credit in credits:
            by_nomination.setdefault(int(credit["nomination_id"]), []).append(int(credit["member_id"]))
        return [
            Nomination(
                id=row["nomination_id"], guild_id=row["guild_id"], poll_id=row["poll_id"],
                created_at=from_db_time(row["nominated_at"]), nominators=by_nomination.get(row["nomination_id"], []),
                book=Book(id=row["id"], guild_id=row["guild_id"], title=row["title"], author=row["author"],
                          year=row["year"], work_key=row["work_key"], isbn13=row["isbn13"],
                          cover_url=row["cover_url"]),
            )
            for row in rows
        ]

    async def nominate(
        self, guild_id: int, book_id: int, member_id: int, *, now: datetime, per_member: int = MAX_PER_MEMBER,
        capacity: int = MAX_CANDIDATES,
    ) -> NominateStatus:
        """Nominates the book for the member, or credits them on its existing nomination.

        A member holds at most `per_member` nominations and the guild at most `capacity` (a poll's
        ballot), counting those in the running poll, which stay until the poll clears them.
        """
        async with self._db.transaction() as conn:
            existing = await _one(conn, "SELECT id, poll_id FROM nominations WHERE guild_id = ? AND book_id = ?",
                                  (guild_id, book_id))
            if existing is not None:
                if existing["poll_id"] is not None:
                    return "in_poll"
                mine = await _one(conn, "SELECT 1 FROM nominators WHERE nomination_id = ? AND member_id = ?",
                                  (existing["id"], member_id))
                if mine is not None:
                    return "already_yours"
            held = await _one(conn, "SELECT COUNT(*) AS n FROM nominators WHERE guild_id = ? AND member_id = ?",
                              (guild_id, member_id))
            if held is not None and held["n"] >= per_member:
                return "member_limit"
            if existing is None:
                total = await _one(conn, "SELECT COUNT(*) AS n FROM nominations WHERE guild_id = ?", (guild_id,))
                if total is not None and total["n"] >= capacity:
                    return "full"
                cursor = await conn.execute(
                    "INSERT INTO nominations (guild_id, book_id, created_at) VALUES (?, ?, ?) RETURNING id",
                    (guild_id, book_id, to_db_time(now)),
                )
                nomination_id, status = await new_id(cursor), "created"
            else:
                nomination_id, status = int(existing["id"]), "merged"
            await conn.execute(
                "INSERT INTO nominators (nomination_id, guild_id, member_id, created_at) VALUES (?, ?, ?, ?)",
                (nomination_id, guild_id, member_id, to_db_time(now)),
            )
        return status

    async def withdraw(self, guild_id: int, book_id: int, member_id: int, *, any_member: bool = False
                       ) -> WithdrawStatus:
        """Takes back the member's nomination of the book: their credit goes, and the nomination with the last one.

        With `any_member` (a moderator) a nomination the member is not credited on is withdrawn whole. A book in
        the running poll stays until the poll clears it.
        """
        async with self._db.transaction() as conn:
            nomination = await _one(conn, "SELECT id, poll_id FROM nominations WHERE guild_id = ? AND book_id = ?",
                                    (guild_id, book_id))
            if nomination is None:
                return "not_nominated"
            if nomination["poll_id"] is not None:
                return "in_poll"
            cursor = await conn.execute(
                "DELETE FROM nominators WHERE guild_id = ? AND nomination_id = ? AND member_id = ?",
                (guild_id, nomination["id"], member_id),
            )
            if cursor.rowcount == 0 and not any_member:
                return "not_yours"
            left = await _one(conn, "SELECT COUNT(*) AS n FROM nominators WHERE guild_id = ? AND nomination_id = ?",
                              (guild_id, nomination["id"]))
            if cursor.rowcount > 0 and left is not None and left["n"] > 0:
                return "credit_removed"
            await conn.execute("DELETE FROM nominations WHERE guild_id = ? AND id = ?", (guild_id, nomination["id"]))
        return "withdrawn"

    async def count_for_member(self, guild_id: int, member_id: int) -> int:
        row = await self._db.fetch_one(
            "SELECT COUNT(*) AS n FROM nominators WHERE guild_id = ? AND member_id = ?", (guild_id, member_id)
        )
        return int(row["n"]) if row else 0

    # -- polls -------------------------------------------------------------------------------------

    async def start(
        self, guild_id: int, *, mode: PollMode, channel_id: int, started_by: int, now: datetime, closes_at: datetime,
        message_after: int | None = None,
    ) -> Poll:
        """Opens a poll of the waiting nominations, in nomination order.

        `message_after` is an id that the poll message, posted next, will exceed (see `polls.message_after`).
        Raises PollAlreadyRunning, or WrongNominationCount when too few or too many nominations wait.
        """
        async with self._db.transaction() as conn:
            running = await _one(conn, "SELECT id FROM polls WHERE guild_id = ? AND status = 'open'", (guild_id,))
            if running is not None:
                raise PollAlreadyRunning
            cursor = await conn.execute(
                "SELECT n.id, b.id AS book_id, b.title, b.author FROM nominations n JOIN books b ON b.id = n.book_id "
                "AND b.guild_id = n.guild_id WHERE n.guild_id = ? AND n.poll_id IS NULL ORDER BY n.id",
                (guild_id,),
            )
            waiting = list(await cursor.fetchall())
            await cursor.close()
            if not MIN_CANDIDATES <= len(waiting) <= MAX_CANDIDATES:
                raise WrongNominationCount(len(waiting))
            cursor = await conn.execute(
                "INSERT INTO polls (guild_id, mode, channel_id, started_by, created_at, closes_at, message_after) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (guild_id, mode, channel_id, started_by, to_db_time(now), to_db_time(closes_at), message_after),
            )
            poll_id = await new_id(cursor)
            answers = answer_texts([(row["title"], row["author"]) for row in waiting])
            for position, (row, answer) in enumerate(zip(waiting, answers, strict=True)):
                credits = await conn.execute(
                    "SELECT member_id FROM nominators WHERE nomination_id = ? ORDER BY created_at, rowid", (row["id"],)
                )
                nominators = [int(credit["member_id"]) for credit in await credits.fetchall()]
                await credits.close()
                await conn.execute(
                    "INSERT INTO poll_candidates (poll_id, guild_id, position, book_id, title, author, answer, "
                    "nominators) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (poll_id, guild_id, position, row["book_id"], row["title"], row["author"], answer,
                     json.dumps(nominators)),
                )
                await conn.execute("UPDATE nominations SET poll_id = ? WHERE guild_id = ? AND id = ?",
                                   (poll_id, guild_id, row["id"]))
        return await self._require(guild_id, poll_id)

    async def abandon(self, guild_id: int, poll_id: int) -> None:
        """Forgets a poll that never reached Discord; its nominations wait for the next one."""
        async with self._db.transaction() as conn:
            await conn.execute("UPDATE nominations SET poll_id = NULL WHERE guild_id = ? AND poll_id = ?",
                               (guild_id, poll_id))
            await conn.execute("DELETE FROM polls WHERE guild_id = ? AND id = ? AND status = 'open'",
                               (guild_id, poll_id))

    async def set_message(self, guild_id: int, poll_id: int, message_id: int) -> None:
        async with self._db.transaction() as conn:
            await conn.execute("UPDATE polls SET message_id = ? WHERE guild_id = ? AND id = ?",
                               (message_id, guild_id, poll_id))

    async def get(self, guild_id: int, poll_id: int) -> Poll | None:
        row = await self._db.fetch_one("SELECT * FROM polls WHERE guild_id = ? AND id = ?", (guild_id, poll_id))
        return await self._poll(row) if row else None

    async def running(self, guild_id: int) -> Poll | None:
        row = await self._db.fetch_one("SELECT * FROM polls WHERE guild_id = ? AND status = 'open'", (guild_id,))
        return await self._poll(row) if row else None

    async def latest(self, guild_id: int) -> Poll | None:
        """The running poll, else the most recently closed one."""
        row = await self._db.fetch_one(
            "SELECT * FROM polls WHERE guild_id = ? ORDER BY status = 'open' DESC, id DESC LIMIT 1", (guild_id,)
        )
        return await self._poll(row) if row else None

    # -- ballots -----------------------------------------------------------------------------------

    async def cast_ballot(
        self, guild_id: int, poll_id: int, member_id: int, ranking: Sequence[int], *, now: datetime
    ) -> bool | None:
        """Stores the member's ranking, replacing their earlier one (True); None when the poll no longer takes votes."""
        async with self._db.transaction() as conn:
            poll = await _one(
                conn,
                "SELECT closes_at FROM polls WHERE guild_id = ? AND id = ? AND status = 'open' AND mode = 'ranked'",
                (guild_id, poll_id),
            )
            if poll is None or from_db_time(poll["closes_at"]) <= now:
                return None
            earlier = await _one(conn, "SELECT 1 FROM ballots WHERE poll_id = ? AND member_id = ?",
                                 (poll_id, member_id))
            await conn.execute(
                "INSERT INTO ballots (poll_id, guild_id, member_id, ranking, cast_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (poll_id, member_id) DO UPDATE SET ranking = excluded.ranking, cast_at = excluded.cast_at",
                (poll_id, guild_id, member_id, json.dumps(list(ranking)), to_db_time(now)),
            )
        return earlier is not None

    async def ballot_of(self, guild_id: int, poll_id: int, member_id: int) -> list[int] | None:
        """The member's own ranking, shown only to them."""
        row = await self._db.fetch_one(
            "SELECT ranking FROM ballots WHERE guild_id = ? AND poll_id = ? AND member_id = ?",
            (guild_id, poll_id, member_id),
        )
        return [int(position) for position in json.loads(row["ranking"])] if row else None

    async def ballot_count(self, guild_id: int, poll_id: int) -> int:
        row = await self._db.fetch_one(
            "SELECT COUNT(*) AS n FROM ballots WHERE guild_id = ? AND poll_id = ?", (guild_id, poll_id)
        )
        return int(row["n"]) if row else 0

    # -- the close ---------------------------------------------------------------------------------

    async def close(self, guild_id: int, poll_id: int, *, now: datetime, outcome: Outcome | None = None) -> Poll:
        """Closes the poll once: records the outcome and clears its nominations, or keeps them when nobody won.

        A ranked poll is counted here, in the same transaction that stops taking ballots, so no
        ballot is accepted and left uncounted; a native poll's outcome comes from Discord's counts.
        Ballots are deleted once counted. Closing a closed poll changes nothing and returns it.
        """
        async with self._db.transaction() as conn:
            poll = await _one(conn, "SELECT mode, status FROM polls WHERE guild_id = ? AND id = ?", (guild_id, poll_id))
            if poll is None:
                raise LookupError(f"no poll {poll_id} in guild {guild_id}")
            if poll["status"] == "open":
                if outcome is None:
                    outcome = await self._count_ballots(conn, guild_id, poll_id)
                winner_book = await _one(
                    conn, "SELECT book_id FROM poll_candidates WHERE poll_id = ? AND guild_id = ? AND position = ?",
                    (poll_id, guild_id, outcome.winner if outcome.winner is not None else -1),
                )
                await conn.execute(
                    "UPDATE polls SET status = 'closed', closed_at = ?, outcome = ?, winner_book_id = ? "
                    "WHERE guild_id = ? AND id = ?",
                    (to_db_time(now), outcome.model_dump_json(), winner_book["book_id"] if winner_book else None,
                     guild_id, poll_id),
                )
                if winner_book is not None:
                    await conn.execute("DELETE FROM nominations WHERE guild_id = ? AND poll_id = ?",
                                       (guild_id, poll_id))
                else:
                    await conn.execute("UPDATE nominations SET poll_id = NULL WHERE guild_id = ? AND poll_id = ?",
                                       (guild_id, poll_id))
                await conn.execute("DELETE FROM ballots WHERE guild_id = ? AND poll_id = ?", (guild_id, poll_id))
        return await self._require(guild_id, poll_id)

    @staticmethod
    async def _count_ballots(conn: AnyConnection, guild_id: int, poll_id: int) -> Outcome:
        cursor = await conn.execute("SELECT COUNT(*) AS n FROM poll_candidates WHERE poll_id = ? AND guild_id = ?",
                                    (poll_id, guild_id))
        candidates = await cursor.fetchone()
        await cursor.close()
        # Ballot order carries no meaning; reading them by member would be the one place a ranking meets a name.
        cursor = await conn.execute("SELECT ranking FROM ballots WHERE poll_id = ? AND guild_id = ? ORDER BY rowid",
                                    (poll_id, guild_id))
        rankings = [[int(position) for position in json.loads(row["ranking"])] for row in await cursor.fetchall()]
        await cursor.close()
        return count_ranked(int(candidates["n"]) if candidates else 0, rankings)

    async def announcing(self, guild_id: int, poll_id: int, channel_id: int, after: int) -> None:
        """Records, before the result is posted, where it goes and an id that its message's id will exceed."""
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE polls SET announcement_channel_id = ?, announcement_after = ? "
                "WHERE guild_id = ? AND id = ? AND announcement_message_id IS NULL",
                (channel_id, after, guild_id, poll_id),
            )

    async def mark_announced(self, guild_id: int, poll_id: int, channel_id: int, message_id: int) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE polls SET announcement_channel_id = ?, announcement_message_id = ? "
                "WHERE guild_id = ? AND id = ?",
                (channel_id, message_id, guild_id, poll_id),
            )

    # -- reading rows ------------------------------------------------------------------------------

    async def _require(self, guild_id: int, poll_id: int) -> Poll:
        poll = await self.get(guild_id, poll_id)
        if poll is None:
            raise RuntimeError("a stored poll vanished")
        return poll

    async def _poll(self, row: Any) -> Poll:
        candidates = await self._db.fetch_all(
            "SELECT * FROM poll_candidates WHERE poll_id = ? AND guild_id = ? ORDER BY position",
            (row["id"], row["guild_id"]),
        )
        return Poll(
            id=row["id"], guild_id=row["guild_id"], mode=row["mode"], status=row["status"],
            channel_id=row["channel_id"], message_id=row["message_id"], message_after=row["message_after"],
            started_by=row["started_by"],
            created_at=from_db_time(row["created_at"]), closes_at=from_db_time(row["closes_at"]),
            closed_at=from_db_time(row["closed_at"]) if row["closed_at"] else None,
            outcome=Outcome.model_validate_json(row["outcome"]) if row["outcome"] else None,
            winner_book_id=row["winner_book_id"], announcement_channel_id=row["announcement_channel_id"],
            announcement_message_id=row["announcement_message_id"], announcement_after=row["announcement_after"],
            candidates=[
                Candidate(position=c["position"], book_id=c["book_id"], title=c["title"], author=c["author"],
                          answer=c["answer"], nominators=json.loads(c["nominators"]))
                for c in candidates
            ],
        )


async def _one(conn: AnyConnection, sql: str, params: Sequence[Any]) -> Any:
    cursor = await conn.execute(sql, tuple(params))
    row = await cursor.fetchone()
    await cursor.close()
    return row
