"""Open Library look-ups (an author's works, a title's metadata), cached in SQLite, quiet and quick when offline."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from datetime import datetime, timedelta
from typing import Any, Protocol

import aiohttp
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.clock import Clock
from bot.domain.names import author_key, normalise, title_key
from bot.store.history import CatalogueCacheRepository

log = logging.getLogger(__name__)

USER_AGENT = "BookclubBot/0.1 (Discord book club bot; catalogue look-ups)"
COVERS = "https://covers.openlibrary.org/b/id/{cover}-M.jpg"
MAX_WORKS = 40


class CatalogueWork(BaseModel):
    """A work as Open Library lists it."""

    model_config = ConfigDict(frozen=True)

    title: str
    authors: list[str] = Field(default_factory=list)
    year: int | None = None
    work_key: str | None = None
    isbn13: str | None = None
    cover_url: str | None = None


class Catalogue(Protocol):
    """Book metadata from outside the club; None means "not available now", never an error."""

    async def author_works(self, author: str) -> list[CatalogueWork] | None: ...

    async def find_title(self, title: str, author: str = "") -> CatalogueWork | None: ...


class _SearchDoc(BaseModel):
    key: str | None = None
    title: str = Field(min_length=1)
    author_name: list[str] = Field(default_factory=list)
    first_publish_year: int | None = None
    isbn: list[str] = Field(default_factory=list)
    cover_i: int | None = None

    def work(self) -> CatalogueWork:
        isbn13 = next((isbn for isbn in self.isbn if len(isbn) == 13 and isbn.isdigit()), None)
        return CatalogueWork(
            title=" ".join(self.title.split()),
            authors=self.author_name,
            year=self.first_publish_year,
            work_key=self.key if self.key and self.key.startswith("/works/") else None,
            isbn13=isbn13,
            cover_url=COVERS.format(cover=self.cover_i) if self.cover_i else None,
        )


class _SearchResult(BaseModel):
    docs: list[_SearchDoc]


class CatalogueUnavailable(Exception):
    """Open Library did not answer usefully: down, slow, or speaking something else."""


def _same_author(asked: str, written: str) -> bool:
    """The same person however the name is ordered or accented, or a fuller form of it ("J. R. R. Tolkien")."""
    if author_key(asked) == author_key(written):
        return True
    asked_words, written_words = set(normalise(asked).split()), set(normalise(written).split())
    return len(asked_words) >= 2 and asked_words <= written_words


class OpenLibraryCatalogue:
    """Open Library's search API behind a cache; after a failure it rests a while instead of making everyone wait."""

    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, cache: CatalogueCacheRepository, clock: Clock, *,
        timeout: float = 4.0, max_age: timedelta = timedelta(days=30),
        rest_after_failure: timedelta = timedelta(minutes=5),
    ) -> None:
        self._session = session
        self._base_url = base_url.rstrip("/")
        self._cache = cache
        self._clock = clock
        self._timeout = timeout
        self._max_age = max_age
        self._rest = rest_after_failure
        self._resting_until: datetime | None = None

    async def author_works(self, author: str) -> list[CatalogueWork] | None:
        """The author's works, most-published first; None when Open Library cannot be asked right now."""
        key = author_key(author)
        if not key:
            return []
        query = f"author-works:{key}"
        cached = await self._cache.get(query, fetched_after=self._clock.now() - self._max_age)
        if cached is not None:
            return [CatalogueWork.model_validate(item) for item in cached]
        params = {"author": author, "fields": "key,title,author_name,first_publish_year", "sort": "editions",
                  "limit": str(MAX_WORKS)}
        result = await self._search(params)
        if result is None:
            return None
        works = [doc.work() for doc in result.docs if any(_same_author(author, name) for name in doc.author_name)]
        await self._remember(query, [work.model_dump() for work in works])
        return works

    async def find_title(self, title: str, author: str = "") -> CatalogueWork | None:
        """The work with this title (by this author when given); None when unknown or unavailable."""
        wanted = title_key(title)
        if not wanted:
            return None
        query = f"title:{wanted}|{author_key(author)}"
        cached = await self._cache.get(query, fetched_after=self._clock.now() - self._max_age)
        if cached is not None:
            return CatalogueWork.model_validate(cached["work"]) if cached["work"] else None
        params = {"title": title, "fields": "key,title,author_name,first_publish_year,isbn,cover_i", "limit": "5"}
        if author.strip():
            params["author"] = author
        result = await self._search(params)
        if result is None:
            return None
        found = next(
            (doc.work() for doc in result.docs
             if title_key(doc.title) == wanted
             and (not author.strip() or any(_same_author(author, name) for name in doc.author_name))),
            None,
        )
        await self._remember(query, {"work": found.model_dump() if found else None})
        return found

    async def _remember(self, query: str, payload: Any) -> None:
        try:
            await self._cache.put(query, payload, now=self._clock.now())
        except sqlite3.OperationalError as error:
            # Only a cache: a database held by another program must not cost the member the answer.
            log.warning("could not cache the Open Library answer for %r: %s", query[:100], error)

    async def _search(self, params: dict[str, str]) -> _SearchResult | None:
        now = self._clock.now()
        if self._resting_until is not None and now < self._resting_until:
            return None
        try:
            payload = await self._get_json("/search.json", params)
            result = _SearchResult.model_validate(payload)
        except (CatalogueUnavailable, ValidationError) as error:
            self._resting_until = now + self._rest
            log.warning("Open Library is unavailable (%s); answers leave the catalogue out for %s",
                        str(error).splitlines()[0][:200], self._rest)
            return None
        self._resting_until = None
        return result

    async def _get_json(self, path: str, params: dict[str, str]) -> Any:
        try:
            async with asyncio.timeout(self._timeout), self._session.get(
                self._base_url + path, params=params, headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
                timeout=aiohttp.ClientTimeout(total=self._timeout),
            ) as response:
                if response.status != 200:
                    raise CatalogueUnavailable(f"HTTP {response.status}")
                return await response.json(content_type=None)
        except TimeoutError:
            raise CatalogueUnavailable(f"no answer within {self._timeout:g} s") from None
        except (aiohttp.ClientError, ValueError) as error:
            raise CatalogueUnavailable(f"{type(error).__name__}: {error}") from None
