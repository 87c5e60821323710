"""Which of Discord's shards one process runs, and so which guilds' work is this process's to do."""

from __future__ import annotations

from dataclasses import dataclass

# Discord routes guild g to shard (g >> 22) % shard_count: the bits above the snowflake's worker and sequence.
SHARD_SHIFT = 22


def shard_of(guild_id: int, count: int) -> int:
    """The shard Discord sends guild `guild_id`'s events to when the bot runs `count` shards."""
    return (guild_id >> SHARD_SHIFT) % count


def parse_shard_ids(text: str) -> tuple[int, ...]:
    """`0,1` or `0-3` or `0-1,4`: shard numbers in the order given; a duplicate, a backwards range or anything
    but digits is a ValueError saying which part is wrong."""
    found: dict[int, None] = {}
    for part in (piece.strip() for piece in text.split(",")):
        first, dash, last = part.partition("-")
        if not first.strip().isdigit() or (dash and not last.strip().isdigit()):
            raise ValueError(f"{part!r} is not a shard number or a range like 0-3")
        start, end = int(first), int(last) if dash else int(first)
        if end < start:
            raise ValueError(f"the range {part!r} runs backwards")
        for shard in range(start, end + 1):
            if shard in found:
                raise ValueError(f"shard {shard} is listed twice")
            found[shard] = None
    return tuple(found)


@dataclass(frozen=True)
class Shards:
    """Shards `ids` of `count`: this process receives those shards' guilds and runs only their scheduled work."""

    count: int
    ids: tuple[int, ...]

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError("a bot runs at least one shard")
        if not self.ids or len(set(self.ids)) != len(self.ids) or not all(0 <= i < self.count for i in self.ids):
            raise ValueError(f"shards {self.ids} are not distinct shards of {self.count}")

    @classmethod
    def all_of(cls, count: int) -> Shards:
        return cls(count, tuple(range(count)))

    @property
    def covers_every_guild(self) -> bool:
        return len(self.ids) == self.count

    def covers(self, guild_id: int) -> bool:
        return shard_of(guild_id, self.count) in self.ids

    def __str__(self) -> str:
        return f"shards {','.join(map(str, self.ids))} of {self.count}"
