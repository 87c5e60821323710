"""The club blog's RSS/Atom feeds: conditional GET, a timeout and a size cap, parsed off the event loop.

A feed address is typed by a moderator and fetched by the bot from wherever it runs, so the bot only fetches public
addresses: never loopback, private, link-local, multicast, reserved or unspecified ones (IPv4 or IPv6, including
IPv4 inside IPv6). Names are checked as they resolve for the connection itself (so a name cannot resolve one way
for the check and another for the fetch), literal addresses before each request, and every redirect hop again.
Operators whose blog lives on their own network turn this off with FEED_ALLOW_PRIVATE_ADDRESSES=true.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from time import struct_time
from typing import Any

import aiohttp
import yarl
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.domain.feeds import html_to_text

log = logging.getLogger(__name__)

USER_AGENT = "BookclubBot/0.1 (Discord book club bot; reads the club blog's feed)"
ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
# A new or long-silent feed brings at most this many posts at once; older unseen ones are passed over.
MAX_NEW_PER_POLL = 5
MAX_REDIRECTS = 5
REDIRECTS = frozenset({301, 302, 303, 307, 308})
# /config feed-add looks the name up to refuse a private one at once; a slow or failing look-up is left to the polls.
LOOKUP_SECONDS = 3.0
# What moderators see: plain reasons, never a connection error's text, which would tell which hosts and ports exist.
UNREACHABLE = "could not reach the feed"
PRIVATE = "its address leads to a private or local network, which I don't fetch"
NOT_WEB = "a feed must be a web address starting with http:// or https://"
CREDENTIALS = "a feed address must not contain a user name or password"
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class FeedError(Exception):
    """The feed could not be read this time; the message says why in a few words."""


class FeedAddressError(FeedError):
    """The address is one the bot does not fetch: not http(s), with credentials, or not a public address."""


class PrivateAddressError(OSError):
    """A name resolved to an address the bot does not connect to (an OSError, as aiohttp expects of resolvers)."""


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address carried inside an IPv6 one (mapped, 6to4, Teredo, NAT64), which is where it really goes."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public_address(text: str) -> bool:
    """Whether the bot may connect to this IP address: a global unicast one, whatever it embeds included."""
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None and not is_public_address(str(embedded)):
            return False
        if address.ipv4_mapped is not None:
            return True
        if address.is_site_local:
            return False
    return address.is_global and not (address.is_multicast or address.is_reserved or address.is_unspecified)


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def check_feed_url(url: str | yarl.URL, *, allow_private: bool) -> yarl.URL:
    """The URL to fetch, or FeedAddressError: http(s) only, no credentials, no private literal address."""
    try:
        parsed = url if isinstance(url, yarl.URL) else yarl.URL(url.strip())
    except (ValueError, TypeError):
        raise FeedAddressError(NOT_WEB) from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise FeedAddressError(NOT_WEB)
    if parsed.user is not None or parsed.password is not None:
        raise FeedAddressError(CREDENTIALS)
    if not allow_private and _is_ip_literal(parsed.host) and not is_public_address(parsed.host):
        raise FeedAddressError(PRIVATE)
    return parsed


async def check_feed_address(url: str, *, allow_private: bool) -> None:
    """For a moderator adding a feed: refuses at once what the polls would refuse; a name that does not resolve
    right now is let through, and the polls report it if it never does."""
    parsed = check_feed_url(url, allow_private=allow_private)
    host = parsed.raw_host or ""
    if allow_private or _is_ip_literal(host):
        return
    try:
        async with asyncio.timeout(LOOKUP_SECONDS):
            found = await asyncio.get_running_loop().getaddrinfo(host, parsed.port or 80, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError):
        return
    if any(not is_public_address(str(info[4][0])) for info in found):
        raise FeedAddressError(PRIVATE)


class PublicAddressResolver(AbstractResolver):
    """Resolves names for the feed connections and refuses any name with a non-public address among its answers."""

    def __init__(self, inner: AbstractResolver | None = None) -> None:
        self._inner = inner or aiohttp.DefaultResolver()

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        if any(not is_public_address(result["host"]) for result in found):
            raise PrivateAddressError(f"{host} resolves to a non-public address")
        return found

    async def close(self) -> None:
        await self._inner.close()


@dataclass(frozen=True)
class FeedEntry:
    """One post of a feed; `key` is its GUID, else its link, and tells whether it was seen before."""

    key: str
    title: str
    link: str | None
    html: str
    published: datetime | None


@dataclass(frozen=True)
class FeedResult:
    """A poll's outcome: nothing new (`not_modified`), or the feed's title and entries, newest first."""

    not_modified: bool
    title: str | None
    entries: list[FeedEntry]
    etag: str | None
    last_modified: str | None


def _when(value: Any) -> datetime | None:
    if isinstance(value, struct_time):
        return datetime(*value[:6], tzinfo=UTC)
    return None


def _text(value: Any) -> str:
    text = str(value or "")
    return html_to_text(text) if "<" in text or "&" in text else " ".join(text.split())


def _entry(raw: Any) -> FeedEntry | None:
    link = str(raw.get("link") or "").strip() or None
    key = str(raw.get("id") or "").strip() or link
    if not key:
        return None
    content = raw.get("content") or []
    html = str(content[0].get("value") or "") if content else ""
    return FeedEntry(
        key=key[:500],
        title=_text(raw.get("title"))[:500],
        link=link if link and link.startswith(("http://", "https://")) else None,
        html=html or str(raw.get("summary") or ""),
        published=_when(raw.get("published_parsed")) or _when(raw.get("updated_parsed")),
    )


def parse_feed(data: bytes, content_type: str | None = None) -> tuple[str | None, list[FeedEntry]]:
    """The feed's title and entries, newest first (by date when every entry has one, else as the feed lists them).

    Raises FeedError when the document is not an RSS or Atom feed at all.
    """
    # Imported at the first feed read: 20 ms off every start, and a club without feeds never needs it.
    import feedparser

    headers = {"content-type": content_type} if content_type else {}
    parsed = feedparser.parse(data, response_headers=headers)
    if not parsed.get("version") and not parsed.entries:
        reason = parsed.get("bozo_exception")
        raise FeedError(f"not an RSS or Atom feed ({type(reason).__name__ if reason else 'no entries'})")
    entries = [entry for entry in map(_entry, parsed.entries) if entry is not None]
    if entries and all(entry.published for entry in entries):
        entries.sort(key=lambda entry: entry.published or datetime.min.replace(tzinfo=UTC), reverse=True)
    title = _text(parsed.feed.get("title")) or None
    return title, entries


def select_new(
    entries: Sequence[FeedEntry], seen: Collection[str], *, first_poll: bool
) -> tuple[list[FeedEntry], list[FeedEntry]]:
    """(posts to queue, oldest first; posts to pass over) among entries given newest first.

    The first poll of a feed takes only its newest post, so a blog's back catalogue does not
    flood the channel; later polls take every unseen post, up to a few at a time.
    """
    fresh: list[FeedEntry] = []
    keys: set[str] = set()
    for entry in entries:
        if entry.key not in seen and entry.key not in keys:
            keys.add(entry.key)
            fresh.append(entry)
    keep = 1 if first_poll else MAX_NEW_PER_POLL
    return fresh[:keep][::-1], fresh[keep:]


class FeedReader:
    """Fetches feeds through its own HTTP session, whose connections reach public addresses only (unless allowed)."""

    def __init__(self, *, allow_private: bool = False, resolver: AbstractResolver | None = None,
                 timeout: float = 15.0, max_bytes: int = 2 * 1024 * 1024) -> None:
        self._allow_private = allow_private
        self._resolver = resolver
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            resolver = self._resolver if self._allow_private else PublicAddressResolver(self._resolver)
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=resolver))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> FeedResult:
        """The feed now; `not_modified` when the server says nothing changed since `etag`/`last_modified`."""
        headers = {"User-Agent": USER_AGENT, "Accept": ACCEPT}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        target = check_feed_url(url, allow_private=self._allow_private)
        try:
            async with asyncio.timeout(self._timeout):
                result = await self._follow(target, headers, etag, last_modified)
        except TimeoutError:
            raise FeedError(f"no answer within {self._timeout:g} s") from None
        except aiohttp.ClientConnectorError as error:
            if isinstance(error.os_error, PrivateAddressError):
                raise FeedAddressError(PRIVATE) from None
            log.info("could not reach the feed %s: %s", url, error)
            raise FeedError(UNREACHABLE) from None
        except aiohttp.ClientError as error:
            log.info("could not read the feed %s: %s", url, error)
            raise FeedError(UNREACHABLE) from None
        if isinstance(result, FeedResult):
            return result
        data, content_type, new_etag, new_modified = result
        title, entries = await asyncio.to_thread(parse_feed, data, content_type)
        return FeedResult(not_modified=False, title=title, entries=entries, etag=new_etag,
                          last_modified=new_modified)

    async def _follow(self, target: yarl.URL, headers: dict[str, str], etag: str | None, last_modified: str | None
                      ) -> FeedResult | tuple[bytes, str | None, str | None, str | None]:
        """Follows redirects one hop at a time, each checked, to the feed's body (or 304)."""
        for _ in range(MAX_REDIRECTS + 1):
            async with self._http().get(target, headers=headers, allow_redirects=False,
                                        timeout=aiohttp.ClientTimeout(total=self._timeout)) as response:
                location = response.headers.get("Location")
                if response.status in REDIRECTS and location:
                    try:
                        hop = response.url.join(yarl.URL(location))
                    except ValueError:
                        raise FeedError("it redirects to an address that is not valid") from None
                    target = check_feed_url(hop, allow_private=self._allow_private)
                    continue
                new_etag = response.headers.get("ETag") or etag
                new_modified = response.headers.get("Last-Modified") or last_modified
                if response.status == 304:
                    return FeedResult(not_modified=True, title=None, entries=[], etag=new_etag,
                                      last_modified=new_modified)
                if response.status != 200:
                    raise FeedError(f"HTTP {response.status}")
                data = await self._read_capped(response)
                return data, response.headers.get("Content-Type"), new_etag, new_modified
        raise FeedError(f"more than {MAX_REDIRECTS} redirects")

    async def _read_capped(self, response: aiohttp.ClientResponse) -> bytes:
        too_big = FeedError(f"larger than {self._max_bytes // 1024} KB")
        if response.content_length is not None and response.content_length > self._max_bytes:
            raise too_big
        body = bytearray()
        async for chunk in response.content.iter_chunked(64 * 1024):
            body.extend(chunk)
            if len(body) > self._max_bytes:
                raise too_big
        return bytes(body)
