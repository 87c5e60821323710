"""Nominating a book for the next poll, and withdrawing a nomination before its poll: one's own, or (moderators)
anyone's."""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.domain.answers import day_text
from bot.domain.books import Book
from bot.domain.names import title_key
from bot.domain.polls import MAX_AUTHOR, MAX_CANDIDATES, MAX_PER_MEMBER, MAX_TITLE, NominationKey
from bot.domain.text import clean_line, clip, is_book_choice, md, picked_book, titled
from bot.errors import NotAllowed, UserError
from bot.services.openlibrary import Catalogue
from bot.store import Store
from bot.store.polls import NominateStatus, Nomination, WithdrawStatus

LIMIT_REACHED = f"You already have {MAX_PER_MEMBER} nominations; they clear when a poll picks a winner."
LIST_FULL = (f"{MAX_CANDIDATES} books are nominated already, as many as one poll can hold. Nominate again after the "
             "next poll, or second a book that is on the list.")


@dataclass
class Nominated:
    book: Book
    status: NominateStatus
    held: int


@dataclass
class Withdrawn:
    nomination: Nomination
    status: WithdrawStatus


class NominationService:
    """Nominations for the next poll: adding one, the ones a member may withdraw, and the withdrawal."""

    def __init__(self, store: Store, clock: Clock, catalogue: Catalogue | None = None) -> None:
        self.store = store
        self.clock = clock
        self.catalogue = catalogue

    async def check(self, guild_id: int, member_id: int, title: str, author: str) -> tuple[str, str]:
        """The cleaned title and author, or a UserError before anything slow (the catalogue) happens."""
        title, author = clean_line(title), clean_line(author)
        if not title:
            raise UserError("A nomination needs a title.")
        if len(title) > MAX_TITLE:
            raise UserError(f"That title is {len(title)} characters long; titles can have at most {MAX_TITLE}.")
        if len(author) > MAX_AUTHOR:
            raise UserError(f"That author name is {len(author)} characters long; at most {MAX_AUTHOR}.")
        if await self.store.polls.count_for_member(guild_id, member_id) >= MAX_PER_MEMBER:
            raise UserError(LIMIT_REACHED)
        return title, author

    async def nominate(self, guild_id: int, member_id: int, title: str, author: str) -> Nominated:
        """Nominates the book (found in the catalogue when it knows it) or credits the member on its nomination."""
        book = await self._nominated_book(guild_id, title, author)
        polls = self.store.polls
        status = await polls.nominate(guild_id, book.id, member_id, now=self.clock.now())
        named = titled(book.title, book.author)
        if status == "already_yours":
            raise UserError(f"You have already nominated {named}.")
        if status == "in_poll":
            raise UserError(f"{named} is in the running poll already; vote for it there.")
        if status == "member_limit":
            raise UserError(LIMIT_REACHED)
        if status == "full":
            raise UserError(LIST_FULL)
        return Nominated(book=book, status=status, held=await polls.count_for_member(guild_id, member_id))

    async def _nominated_book(self, guild_id: int, title: str, author: str) -> Book:
        """The book meant: the catalogue's when it knows it, merged with an equal nomination, never a club read."""
        work = await self.catalogue.find_title(title, author) if self.catalogue else None
        if work is not None:
            title, author = work.title, work.authors[0] if work.authors else author
        key = NominationKey.of(title, author, work.work_key if work else None)
        nominations = await self.store.polls.nominations(guild_id)
        for nomination in nominations:
            book = nomination.book
            if key.same_book(NominationKey.of(book.title, book.author, book.work_key)):
                return book
        # Refused before the book is added, so a refusal leaves nothing behind.
        if len(nominations) >= MAX_CANDIDATES:
            raise UserError(LIST_FULL)
        books = self.store.books
        known = await books.find(guild_id, title, author, key.work_key) or await books.find(guild_id, title)
        if known is not None and key.same_book(NominationKey.of(known.title, known.author, known.work_key)):
            read = await self.store.history.get_read(guild_id, known.id)
            if read is not None:
                named = titled(known.title, known.author)
                if read.status == "reading":
                    raise UserError(f"The club is reading {named} right now.")
                if read.status == "planned":
                    raise UserError(f"{named} is already planned as a club read.")
                finished = f" (finished {day_text(read.finished_on)})" if read.finished_on else ""
                raise UserError(f"The club has already read {named}{finished}.")
        book, _ = await books.find_or_create(
            guild_id, title, author, year=work.year if work else None, work_key=key.work_key,
            isbn13=work.isbn13 if work else None, cover_url=work.cover_url if work else None,
        )
        return book

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
        if is_book_choice(text):
            book_id = picked_book(text)
            found = [n for n in nominations if n.book.id == book_id]
        else:
            key = title_key(text.rpartition(" by ")[0] if " by " in text else text)
            found = [n for n in nominations if key and title_key(n.book.title) == key]
        if not found:
            raise UserError(f"No book called “{md(clip(text, 100))}” is nominated; pick one from the list.")
        return found[0]
