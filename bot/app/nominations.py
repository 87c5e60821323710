"""Withdrawing a nomination before its poll: one's own, or (moderators) anyone's."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.ids import picked_id
from bot.domain.names import title_key
from bot.domain.text import BOOK_CHOICE, md, titled
from bot.errors import NotAllowed, UserError
from bot.store import Store
from bot.store.polls import Nomination, WithdrawStatus


@dataclass
class Withdrawn:
    nomination: Nomination
    status: WithdrawStatus


class NominationService:
    """The nominations a member may withdraw, and the withdrawal."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def withdrawable(self, guild_id: int, member_id: int, *, moderator: bool) -> list[Nomination]:
        """Nominations waiting for the next poll: the member's own, or every one for a moderator."""
        waiting = await self.store.polls.nominations(guild_id, waiting_only=True)
        return [n for n in waiting if moderator or member_id in n.nominators]

    async def withdraw(self, guild_id: int, book: str, member_id: int, *, moderator: bool) -> Withdrawn:
        nomination = await self._nomination(guild_id, book)
        named = titled(nomination.book.title, nomination.book.author)
        status = await self.store.polls.withdraw(guild_id, nomination.book.id, member_id, any_member=moderator)
        if status == "in_poll":
            raise UserError(f"{named} is in the running poll; a nomination can't be withdrawn once its poll has "
                            "started.")
        if status == "not_yours":
            raise NotAllowed(f"You didn't nominate {named}; only its nominators (or a moderator) can withdraw it.")
        if status == "not_nominated":
            raise UserError(f"{named} was just withdrawn.")
        return Withdrawn(nomination=nomination, status=status)

    async def _nomination(self, guild_id: int, text: str) -> Nomination:
        nominations = await self.store.polls.nominations(guild_id)
        if BOOK_CHOICE.match(text.strip()):
            book_id = picked_id(BOOK_CHOICE, text)
            found = [n for n in nominations if n.book.id == book_id]
        else:
            key = title_key(text.rpartition(" by ")[0] if " by " in text else text)
            found = [n for n in nominations if key and title_key(n.book.title) == key]
        if not found:
            raise UserError(f"No book called “{md(text[:100])}” is nominated; pick one from the list.")
        return found[0]
