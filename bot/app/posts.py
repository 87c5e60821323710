"""A message the club's workflows post, and the narrow port through which they post, find, edit and pin it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Post:
    """One message: optional text, then one embed. `footer` marks it, so a re-run can find its earlier post."""

    title: str
    description: str
    footer: str
    content: str | None = None
    fields: list[tuple[str, str]] = field(default_factory=list)
    thumbnail_url: str | None = None


class PostsPort(Protocol):
    async def post(self, guild_id: int, channel_id: int, post: Post, *, ping_role_id: int | None = None) -> int:
        """Posts the message (pinging only `ping_role_id`, if given) and returns its id."""
        ...

    async def find_post(self, guild_id: int, channel_id: int, footer: str, after: datetime) -> int | None:
        """The bot's own message with this footer posted after `after`, if an earlier run made one."""
        ...

    async def edit(self, guild_id: int, channel_id: int, message_id: int, post: Post) -> bool:
        """Edits the message in place; False when it is gone."""
        ...

    async def pin(self, guild_id: int, channel_id: int, message_id: int) -> None: ...
