"""A loopback club blog: a WordPress-style RSS feed with ETag/Last-Modified and 304s, and feeds that are broken."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

from aiohttp import web

from tests.doubles._server import LoopbackServer

BLOG_TITLE = "The Lamplight Readers"
FIRST_POST = datetime(2026, 1, 5, 18, 30, tzinfo=UTC)


@dataclass
class Post:
    title: str
    html: str
    slug: str
    published: datetime
    guid: str | None = None


@dataclass
class Conditional:
    """The validators one request sent and what the blog answered."""

    if_none_match: str | None
    if_modified_since: str | None
    status: int


@dataclass
class FakeBlog(LoopbackServer):
    """`/feed/` is the blog's RSS 2.0 feed as WordPress writes it, newest post first.

    `/broken/feed/` answers an HTML error page with status 200, `/gone/feed/` a 500, and
    `/huge/feed/` a feed larger than any cap. `version` changes with every post, and with it the ETag.
    """

    posts: list[Post] = field(default_factory=list)
    version: int = 0
    served: list[Conditional] = field(default_factory=list)

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/feed/", self._feed)
        app.router.add_get("/broken/feed/", self._broken)
        app.router.add_get("/gone/feed/", self._gone)
        app.router.add_get("/huge/feed/", self._huge)

    @property
    def feed_url(self) -> str:
        return f"{self.origin}/feed/"

    @property
    def broken_url(self) -> str:
        return f"{self.origin}/broken/feed/"

    @property
    def gone_url(self) -> str:
        return f"{self.origin}/gone/feed/"

    @property
    def huge_url(self) -> str:
        return f"{self.origin}/huge/feed/"

    def publish(self, title: str, html: str = "<p>A review.</p>", *, guid: str | None = None,
                published: datetime | None = None) -> Post:
        """A new post, newer than every other unless `published` says otherwise."""
        when = published or FIRST_POST + timedelta(days=7 * len(self.posts))
        slug = f"{when:%Y/%m/%d}/post-{len(self.posts) + 1}"
        post = Post(title=title, html=html, slug=slug, published=when, guid=guid)
        self.posts.append(post)
        self.version += 1
        return post

    def link(self, post: Post) -> str:
        return f"{self.origin}/{post.slug}/"

    @property
    def etag(self) -> str:
        return f'"lamplight-{self.version}"'

    @property
    def last_modified(self) -> str:
        newest = max((post.published for post in self.posts), default=FIRST_POST)
        return format_datetime(newest, usegmt=True)

    def rss(self) -> str:
        items = []
        for post in sorted(self.posts, key=lambda post: post.published, reverse=True):
            guid = post.guid or f"{self.origin}/?p={self.posts.index(post) + 1}"
            items.append(
                "<item>"
                f"<title>{escape(post.title)}</title>"
                f"<link>{escape(self.link(post))}</link>"
                "<dc:creator><![CDATA[Margot]]></dc:creator>"
                f"<pubDate>{format_datetime(post.published, usegmt=True)}</pubDate>"
                "<category><![CDATA[Reviews]]></category>"
                f'<guid isPermaLink="false">{escape(guid)}</guid>'
                f"<description><![CDATA[{post.html[:120]} [&#8230;]]]></description>"
                f"<content:encoded><![CDATA[{post.html}]]></content:encoded>"
                "</item>"
            )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">'
            f"<channel><title>{escape(BLOG_TITLE)}</title>"
            f'<atom:link href="{escape(self.feed_url)}" rel="self" type="application/rss+xml" />'
            f"<link>{escape(self.origin)}</link><description>Reviews from our book club</description>"
            f"<lastBuildDate>{self.last_modified}</lastBuildDate><language>en-GB</language>"
            "<generator>https://wordpress.org/?v=6.7</generator>"
            + "".join(items)
            + "</channel></rss>"
        )

    async def _feed(self, request: web.Request) -> web.Response:
        sent_etag = request.headers.get("If-None-Match")
        sent_since = request.headers.get("If-Modified-Since")
        unchanged = sent_etag == self.etag if sent_etag else sent_since == self.last_modified
        status = 304 if unchanged and (sent_etag or sent_since) else 200
        self.served.append(Conditional(sent_etag, sent_since, status))
        headers = {"ETag": self.etag, "Last-Modified": self.last_modified}
        if status == 304:
            return web.Response(status=304, headers=headers)
        return web.Response(body=self.rss().encode(), headers=headers, content_type="application/rss+xml",
                            charset="utf-8")

    async def _broken(self, request: web.Request) -> web.Response:
        return web.Response(text="<html><body><h1>Error establishing a database connection</h1></body></html>",
                            content_type="text/html")

    async def _gone(self, request: web.Request) -> web.Response:
        return web.Response(status=500, text="Internal Server Error")

    async def _huge(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await response.prepare(request)
        # The reader hangs up once it has read enough; that is the point.
        with contextlib.suppress(ConnectionError):
            await response.write(b'<?xml version="1.0"?><rss version="2.0"><channel><title>Huge</title>')
            for _ in range(64):
                await response.write(b"<!-- " + b"x" * 65536 + b" -->")
            await response.write(b"</channel></rss>")
        return response
