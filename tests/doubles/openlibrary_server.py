"""A loopback Open Library: search.json over a small catalogue, with the real answer shape and fault switches."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.domain.names import normalise
from tests.doubles._server import LoopbackServer

CATALOGUE = Path(__file__).resolve().parents[1] / "data" / "openlibrary_works.json"


def _default_works() -> list[dict[str, Any]]:
    return json.loads(CATALOGUE.read_text(encoding="utf-8"))


def _contains_words(haystack: str, needle: str) -> bool:
    return set(normalise(needle).split()) <= set(normalise(haystack).split())


@dataclass
class FakeOpenLibrary(LoopbackServer):
    """Answers GET /search.json like Open Library: `author`, `title`, `q`, `fields`, `sort=editions`, `limit`."""

    works: list[dict[str, Any]] = field(default_factory=_default_works)

    @property
    def base_url(self) -> str:
        return self.origin

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/search.json", self._search)

    def searches(self) -> list[dict[str, str]]:
        return [recorded.query for recorded in self.requests if recorded.path == "/search.json"]

    async def _search(self, request: web.Request) -> web.Response:
        query = request.query
        docs = list(self.works)
        if author := query.get("author"):
            docs = [doc for doc in docs if any(_contains_words(name, author) for name in doc.get("author_name", []))]
        if title := query.get("title"):
            docs = [doc for doc in docs if _contains_words(doc["title"], title)]
        if q := query.get("q"):
            docs = [doc for doc in docs if _contains_words(f"{doc['title']} {' '.join(doc['author_name'])}", q)]
        if query.get("sort") == "editions":
            docs.sort(key=lambda doc: -doc.get("edition_count", 0))
        limit = int(query.get("limit", "100"))
        fields = query.get("fields")
        if fields and fields != "*":
            wanted = set(fields.split(","))
            docs = [{key: value for key, value in doc.items() if key in wanted} for doc in docs]
        return web.json_response(
            {"numFound": len(docs), "start": 0, "numFoundExact": True, "docs": docs[:limit], "q": query.get("q", ""),
             "offset": None}
        )
