"""The feed reader against a loopback blog: newest first, 304s, broken and oversized feeds, picking new posts."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.services import feeds
from bot.services.feeds import (
    CREDENTIALS,
    MAX_NEW_PER_POLL,
    NOT_WEB,
    PRIVATE,
    UNREACHABLE,
    FeedAddressError,
    FeedEntry,
    FeedError,
    FeedReader,
    check_feed_address,
    is_public_address,
    parse_feed,
    select_new,
)
from tests.doubles.feed_server import BLOG_TITLE, FakeBlog

TITLE = "A dystopian story about fate and friendship: Never Let Me Go by Kazuo Ishiguro (book review)"


@pytest.fixture
async def blog() -> AsyncIterator[FakeBlog]:
    async with FakeBlog() as server:
        yield server


@pytest.fixture
async def reader() -> AsyncIterator[FeedReader]:
    # The blog is on loopback: the address check is the tests' own below.
    reader = FeedReader(allow_private=True, timeout=2.0, max_bytes=256 * 1024)
    yield reader
    await reader.close()


async def test_a_wordpress_feed_gives_its_posts_newest_first(blog: FakeBlog, reader: FeedReader) -> None:
    older = blog.publish("Piranesi by Susanna Clarke", "<p>A house of <em>endless</em> halls &amp; tides.</p>")
    newer = blog.publish(TITLE, "<p>Kathy remembers.</p><p>Hailsham, &#8220;carers&#8221;…</p>")
    result = await reader.fetch(blog.feed_url)
    assert not result.not_modified and result.title == BLOG_TITLE
    assert [entry.title for entry in result.entries] == [newer.title, older.title]
    first = result.entries[0]
    assert first.link == blog.link(newer) and first.key.endswith("?p=2")
    assert "<p>Kathy remembers.</p>" in first.html
    assert first.published == newer.published
    assert result.etag == blog.etag and result.last_modified == blog.last_modified


async def test_an_unchanged_feed_answers_304_and_a_changed_one_does_not(blog: FakeBlog, reader: FeedReader) -> None:
    blog.publish(TITLE)
    first = await reader.fetch(blog.feed_url)
    again = await reader.fetch(blog.feed_url, etag=first.etag, last_modified=first.last_modified)
    assert again.not_modified and again.entries == [] and again.etag == first.etag
    assert blog.served[-1].if_none_match == first.etag and blog.served[-1].status == 304
    blog.publish("Klara and the Sun by Kazuo Ishiguro")
    changed = await reader.fetch(blog.feed_url, etag=first.etag, last_modified=first.last_modified)
    assert not changed.not_modified and len(changed.entries) == 2 and changed.etag != first.etag


async def test_last_modified_alone_also_avoids_a_download(blog: FakeBlog, reader: FeedReader) -> None:
    blog.publish(TITLE)
    first = await reader.fetch(blog.feed_url)
    again = await reader.fetch(blog.feed_url, last_modified=first.last_modified)
    assert again.not_modified


async def test_an_error_page_is_not_a_feed(blog: FakeBlog, reader: FeedReader) -> None:
    with pytest.raises(FeedError, match="not an RSS or Atom feed"):
        await reader.fetch(blog.broken_url)


async def test_a_server_error_says_its_status(blog: FakeBlog, reader: FeedReader) -> None:
    with pytest.raises(FeedError, match="HTTP 500"):
        await reader.fetch(blog.gone_url)


async def test_a_feed_past_the_size_cap_is_refused(blog: FakeBlog, reader: FeedReader) -> None:
    with pytest.raises(FeedError, match="larger than 256 KB"):
        await reader.fetch(blog.huge_url)


async def test_a_slow_feed_times_out(blog: FakeBlog) -> None:
    blog.publish(TITLE)
    blog.fail(delay=1.0)
    slow = FeedReader(allow_private=True, timeout=0.2)
    with pytest.raises(FeedError, match=r"no answer within 0\.2 s"):
        await slow.fetch(blog.feed_url)
    await slow.close()


async def test_nobody_listening_is_a_feed_error(reader: FeedReader) -> None:
    async with FakeBlog() as gone:
        url = gone.feed_url
    with pytest.raises(FeedError) as refused:
        await reader.fetch(url)
    # Which hosts and ports answer is nobody's business: the reason is the same for every one of them.
    assert str(refused.value) == UNREACHABLE


def test_atom_entries_without_guids_are_known_by_their_links() -> None:
    atom = b"""<?xml version="1.0" encoding="utf-8"?>
    <feed xmlns="http://www.w3.org/2005/Atom"><title>Ghost blog</title>
    <entry><title type="html">Hamnet &amp;mdash; Maggie O&#39;Farrell</title><link href="https://b.example/hamnet/"/>
    <updated>2026-02-01T10:00:00Z</updated><content type="html">&lt;p&gt;Grief.&lt;/p&gt;</content></entry>
    </feed>"""
    title, entries = parse_feed(atom)
    assert title == "Ghost blog"
    assert entries[0].key == "https://b.example/hamnet/" and entries[0].link == "https://b.example/hamnet/"
    assert entries[0].title == "Hamnet — Maggie O'Farrell"
    assert entries[0].published == datetime(2026, 2, 1, 10, tzinfo=UTC)


def test_entries_without_dates_keep_the_feeds_order() -> None:
    rss = b"""<rss version="2.0"><channel><title>B</title>
    <item><title>Second</title><guid>b</guid></item><item><title>First</title><guid>a</guid></item>
    <item><title>No key at all</title></item></channel></rss>"""
    _, entries = parse_feed(rss)
    assert [entry.key for entry in entries] == ["b", "a"]


def entry(key: str) -> FeedEntry:
    return FeedEntry(key=key, title=key, link=None, html="", published=None)


def test_the_first_poll_takes_only_the_newest_post() -> None:
    take, passed = select_new([entry("c"), entry("b"), entry("a")], set(), first_poll=True)
    assert [e.key for e in take] == ["c"] and [e.key for e in passed] == ["b", "a"]


def test_later_polls_take_unseen_posts_oldest_first_and_only_a_few() -> None:
    newest_first = [entry(str(number)) for number in range(20, 0, -1)]
    take, passed = select_new(newest_first, {"20", "3"}, first_poll=False)
    assert [e.key for e in take] == ["15", "16", "17", "18", "19"]
    assert len(take) == MAX_NEW_PER_POLL and "3" not in [e.key for e in passed] and len(passed) == 13


def test_a_key_listed_twice_counts_once() -> None:
    take, _ = select_new([entry("a"), entry("a")], set(), first_poll=False)
    assert [e.key for e in take] == ["a"]


# -- which addresses the bot fetches -------------------------------------------------------------------------------

STAND_IN_PUBLIC = "127.0.0.2"


class NamesResolver(AbstractResolver):
    """DNS for the tests: each name resolves to the addresses given."""

    def __init__(self, names: dict[str, list[str]]) -> None:
        self.names = names
        self.asked: list[str] = []

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        self.asked.append(host)
        return [{"hostname": host, "host": address, "port": port,
                 "family": socket.AF_INET6 if ":" in address else socket.AF_INET, "proto": 0, "flags": 0}
                for address in self.names[host]]

    async def close(self) -> None:
        return None


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.8.9.10", "10.0.0.5", "172.16.3.4", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",  # noqa: S104 - an address to refuse, not to bind
    "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255", "192.0.2.7", "::1", "::", "fe80::1", "fec0::1",
    "fc00::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::127.0.0.1", "64:ff9b::a00:1", "2002:7f00:1::1",
    "fe80::1%eth0", "localhost", "",
])
def test_private_and_special_addresses_are_not_public(address: str) -> None:
    assert not is_public_address(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111", "::ffff:93.184.215.14"])
def test_global_unicast_addresses_are_public(address: str) -> None:
    assert is_public_address(address)


@pytest.mark.parametrize("resolved", [["127.0.0.1"], ["10.1.2.3"], ["169.254.169.254"], ["::1"], ["::ffff:127.0.0.1"],
                                      ["93.184.215.14", "192.168.0.10"]])
async def test_a_name_resolving_to_a_private_address_is_never_connected_to(blog: FakeBlog,
                                                                           resolved: list[str]) -> None:
    blog.publish(TITLE)
    names = NamesResolver({"blog.example": resolved})
    guarded = FeedReader(resolver=names, timeout=2.0)
    port = blog.feed_url.split(":")[2].split("/")[0]
    with pytest.raises(FeedAddressError, match=PRIVATE):
        await guarded.fetch(f"http://blog.example:{port}/feed/")
    await guarded.close()
    assert names.asked == ["blog.example"] and blog.served == []


@pytest.mark.parametrize(("url", "reason"), [
    ("http://127.0.0.1:9/feed", PRIVATE), ("http://[::1]:9/feed", PRIVATE), ("http://[::ffff:127.0.0.1]:9/", PRIVATE),
    ("http://169.254.169.254/latest/meta-data/", PRIVATE), ("http://10.0.0.1/feed", PRIVATE),
    ("http://user:secret@blog.example/feed", CREDENTIALS), ("http://user@blog.example/feed", CREDENTIALS),
    ("file:///etc/passwd", NOT_WEB), ("gopher://blog.example/", NOT_WEB), ("ftp://blog.example/feed", NOT_WEB),
])
async def test_addresses_refused_before_any_request(url: str, reason: str) -> None:
    names = NamesResolver({})
    guarded = FeedReader(resolver=names, timeout=2.0)
    with pytest.raises(FeedAddressError) as refused:
        await guarded.fetch(url)
    await guarded.close()
    assert str(refused.value) == reason and names.asked == []


@asynccontextmanager
async def moved_blog(location: str) -> AsyncIterator[int]:
    """A blog on 127.0.0.2, standing in for a public host, whose feed has moved to `location`; yields its port."""
    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound(location)

    app = web.Application()
    app.router.add_get("/feed/", moved)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, STAND_IN_PUBLIC, 0).start()
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("target", ["http://127.0.0.1:{port}/feed/", "http://localhost:{port}/feed/",
                                    "http://[::ffff:127.0.0.1]:{port}/feed/", "http://inside.example:{port}/feed/"])
async def test_a_redirect_from_a_public_address_to_loopback_is_refused(blog: FakeBlog, target: str,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    blog.publish(TITLE)
    real = feeds.is_public_address
    monkeypatch.setattr(feeds, "is_public_address", lambda address: address == STAND_IN_PUBLIC or real(address))
    port = blog.feed_url.split(":")[2].split("/")[0]
    names = NamesResolver({"public.example": [STAND_IN_PUBLIC], "localhost": ["127.0.0.1"],
                           "inside.example": ["10.0.0.7", "127.0.0.1"]})
    guarded = FeedReader(resolver=names, timeout=2.0)
    async with moved_blog(target.format(port=port)) as moved_port:
        with pytest.raises(FeedAddressError, match=PRIVATE):
            await guarded.fetch(f"http://public.example:{moved_port}/feed/")
        # The same chain with private addresses allowed does reach the blog: the check is what stopped it.
        allowed = FeedReader(allow_private=True, resolver=names, timeout=2.0)
        assert (await allowed.fetch(f"http://public.example:{moved_port}/feed/")).title == BLOG_TITLE
    await guarded.close()
    await allowed.close()
    assert [served.status for served in blog.served] == [200]


async def test_adding_a_feed_refuses_a_private_name_at_once() -> None:
    with pytest.raises(FeedAddressError, match=PRIVATE):
        await check_feed_address("http://localhost/feed", allow_private=False)
    with pytest.raises(FeedAddressError, match=PRIVATE):
        await check_feed_address("http://127.0.0.1:8080/feed", allow_private=False)
    await check_feed_address("http://localhost/feed", allow_private=True)
    # A name that does not resolve now is the polls' to report; it may be a blog still being set up.
    await check_feed_address("https://blog.invalid/feed", allow_private=False)
