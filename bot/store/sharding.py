"""The SQL that keeps a query to the guilds on one process's shards, in SQL both SQLite and PostgreSQL run."""

from __future__ import annotations

from bot.domain.shards import SHARD_SHIFT, Shards


def on_shards_clause(shards: Shards | None, column: str = "guild_id") -> tuple[str, tuple[int, ...]]:
    """An `AND` clause keeping the rows of guilds on `shards` (Discord's `(guild_id >> 22) % count`), with its
    parameters; nothing when every guild is this process's. Plain SQL that SQLite and PostgreSQL both run."""
    if shards is None or shards.covers_every_guild:
        return "", ()
    marks = ", ".join("?" * len(shards.ids))
    return f" AND ({column} >> {SHARD_SHIFT}) % ? IN ({marks})", (shards.count, *shards.ids)
