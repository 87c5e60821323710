"""The feed reader against a loopback blog: newest first, 304s, broken and oversized feeds, picking new posts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest

from bot.services.feeds import MAX_NEW_PER_POLL, FeedEntry, FeedError, FeedReader, parse_feed, select_new
from tests.doubles.feed_server import BLOG_TITLE, FakeBlog

TITLE = "A dystopian story about fate and friendship: Never Let Me Go by Kazuo Ishiguro (book review)"


@pytest.fixture
async def blog() -> AsyncIterator[FakeBlog]:
    async with FakeBlog() as server:
        yield server


@pytest.fixture
async def reader() -> AsyncIterator[FeedReader]:
    async with aiohttp.ClientSession() as session:
        yield FeedReader(session, timeout=2.0, max_bytes=256 * 1024)


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
    async with aiohttp.ClientSession() as session:
        with pytest.raises(FeedError, match=r"no answer within 0\.2 s"):
            await FeedReader(session, timeout=0.2).fetch(blog.feed_url)


async def test_nobody_listening_is_a_feed_error(reader: FeedReader) -> None:
    async with FakeBlog() as gone:
        url = gone.feed_url
    with pytest.raises(FeedError):
        await reader.fetch(url)


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
