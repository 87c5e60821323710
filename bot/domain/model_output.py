"""A model's /ask answer made fit to post: only links the club's data gave it, no mentions, no invented names.

The model reads member-written reviews, so a review can try to steer it into posting a phishing
link or something that looks like a ping. `sanitise` rewrites the answer so that:

- a link (an http(s) URL, a Discord invite, a bare domain such as "free-nitro.gift/claim") stays
  only when the same link is in the tool results the model was given; any other is replaced by
  "(link removed)";
- a masked link `[text](url)` never survives: it becomes the URL alone when that URL is in the
  tool results, else its text alone;
- `@everyone`, `@here` lose their "@", and user, role, channel and command mentions become plain words;
- invisible characters that could hide any of these (zero-width spaces, bidi controls) are dropped.

`unsupported_names` then says which names the answer puts forward that the evidence (the tool
results and the question) does not contain: the spans the answer sets off as titles or quotes
(bold, italics, underline, quotation marks) and the capitalised name after "by". The asker
falls back to the offline answer when there is any; see docs/decisions.md for why this check.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.domain.guard import words
from bot.domain.text import tidy_text

REMOVED_LINK = "(link removed)"

# Top-level domains a bare "name.tld" is taken as a link for: the common ones and those phishing favours.
_TLDS = (
    "com|net|org|info|biz|io|co|me|gg|ru|su|xyz|top|site|online|club|shop|store|app|dev|link|click|live|pro|tk|ml|"
    "ga|cf|gq|cn|uk|de|fr|nl|eu|us|ca|au|in|br|es|it|pl|ua|cc|tv|ly|to|ws|gift|gifts|promo|win|bid|loan|cam|icu|"
    "vip|fun|lol|zip|mov|support|help|login|account|security|claim|free|money|xn--[a-z0-9-]+"
)
_LINK = re.compile(
    r"<?(?:"
    r"(?:https?|ftp)://[^\s<>]+"  # any scheme Discord makes clickable
    r"|(?:discord(?:app)?\.com/invite|discord\.gg|dsc\.gg)/[^\s<>]+"  # invites, which Discord shows without a scheme
    rf"|(?<![a-z0-9])(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.)+(?:{_TLDS})(?![a-z0-9-])(?:[/?#][^\s<>]*)?"
    r")>?",
    re.IGNORECASE,
)
_MASKED_LINK = re.compile(r"\[([^\[\]]*)\]\(\s*<?([^()\s<>]*)>?(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
# Punctuation that ends a sentence after a link rather than belonging to it.
_TRAILING = ".,;:!?)]}'\"’”»*_~|"
_USER = re.compile(r"<@!?\d+>")
_ROLE = re.compile(r"<@&\d+>")
_CHANNEL = re.compile(r"<#\d+>")
_COMMAND = re.compile(r"</([^<>:\s]+(?: [^<>:\s]+){0,2}):\d+>")
# "@everyone" and "@here" as Discord reads them, and their full-width and small look-alikes.
_MASS_MENTION = re.compile(r"[@＠﹫]+(?=(?:everyone|here))", re.IGNORECASE)
# Zero-width characters and the like, but not the joiner that holds emoji sequences together.
_INVISIBLE = re.compile(r"[\u00ad\u034f\u180e\u200b\u200c\u2060-\u2064\ufeff]")

_SPANS = (
    re.compile(r"\*\*(.+?)\*\*"),
    re.compile(r"__(.+?)__"),
    re.compile(r"(?<![\w*])\*(?![\s*])(.+?)(?<![\s*])\*(?![\w*])"),
    re.compile(r"(?<![\w_])_(?![\s_])(.+?)(?<![\s_])_(?![\w_])"),
    re.compile(r"[“„](.+?)[”“]"),
    re.compile(r"«\s*(.+?)\s*»"),
    re.compile(r"(?<!\w)\"(.+?)\"(?!\w)"),
)
_BY_NAME = re.compile(r"\bby\s+((?:[A-Z][\w'’.-]*|[A-Z]\.)(?:\s+(?:[A-Z][\w'’.-]*|[A-Z]\.|de|van|von|le|la|du)){0,3})")
_ELLIPSIS = re.compile(r"…|\.\.\.|\[\.\.\.\]")
# Words an answer may emphasise that name nothing ("**Yes**, the club read it").
_ORDINARY_WORDS = (
    "yes no not never none nothing nobody all both every each one two three four five only also and or but the a an "
    "of in on at to for with by from is was were be been it this that these those highly very really most best "
    "loved liked recommended recommend favourite favorite top pick picks read reading finished planned next now "
    "stars star rating ratings review reviews members member club average"
)
_ORDINARY = frozenset(_ORDINARY_WORDS.split())
_NOT_NAMES = (
    "january february march april may june july august september october november december monday tuesday "
    "wednesday thursday friday saturday sunday today tomorrow yesterday the then"
)
_MONTHS_AND_DAYS = frozenset(_NOT_NAMES.split())


@dataclass(frozen=True)
class Evidence:
    """What the model was given: the question and every string in its tool results, folded for comparison."""

    links: frozenset[str]
    folded: str

    @classmethod
    def of(cls, texts: Iterable[str]) -> Evidence:
        kept = list(texts)
        links = frozenset(_link_key(match.group()) for text in kept for match in _LINK.finditer(text))
        # "|" never occurs in a folded word, so a phrase cannot run from one string into the next.
        folded = " | ".join(" ".join(words(text)) for text in kept)
        return cls(links, f" {folded} ")

    @classmethod
    def from_tool_results(cls, question: str, results: Iterable[str]) -> Evidence:
        """Evidence from the question and the tool results as sent to the model (JSON text)."""
        return cls.of([question, *(text for result in results for text in _strings(json.loads(result)))])

    def has_link(self, link: str) -> bool:
        return _link_key(link) in self.links

    def has_phrase(self, phrase: str) -> bool:
        folded = words(phrase)
        return not folded or f" {' '.join(folded)} " in self.folded


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _link_key(link: str) -> str:
    """A link as compared: without angle brackets, scheme, "www.", trailing punctuation or slash; case folded."""
    key = link.strip("<>").rstrip(_TRAILING).casefold()
    key = re.sub(r"^(?:https?|ftp)://", "", key)
    return key.removeprefix("www.").rstrip("/")


def sanitise(text: str, evidence: Evidence) -> str:
    """The answer with unknown links removed, masked links unmasked and mention-looking text made plain."""
    text = tidy_text(_INVISIBLE.sub("", text))
    # Each rewrite can join pieces into a new match ("@@everyoneeveryone"), so repeat until nothing changes.
    while True:
        rewritten = _rewrite(text, evidence)
        if rewritten == text:
            return text
        text = rewritten


def _rewrite(text: str, evidence: Evidence) -> str:
    text = _MASKED_LINK.sub(lambda found: _unmask(found, evidence), text)
    text = _LINK.sub(lambda found: _keep_known_link(found.group(), evidence), text)
    text = _USER.sub("a member", text)
    text = _ROLE.sub("a role", text)
    text = _CHANNEL.sub("a channel", text)
    text = _COMMAND.sub(r"/\1", text)
    return _MASS_MENTION.sub("", text)


def _unmask(found: re.Match[str], evidence: Evidence) -> str:
    label, url = found.group(1), found.group(2)
    return url if url and evidence.has_link(url) else label


def _keep_known_link(link: str, evidence: Evidence) -> str:
    core = link.strip("<>")
    stripped = core.rstrip(_TRAILING)
    trailing = core[len(stripped):]
    if evidence.has_link(stripped):
        return link
    return REMOVED_LINK + trailing


def unsupported_names(text: str, evidence: Evidence) -> list[str]:
    """Titles, quotes and author names the answer sets off that the evidence does not contain, in order."""
    missing: list[str] = []
    for span in _named_spans(text):
        parts = [part for part in _ELLIPSIS.split(span) if words(part)]
        if all(set(words(part)) <= _ORDINARY for part in parts):
            continue
        if not all(evidence.has_phrase(part) for part in parts) and span not in missing:
            missing.append(span)
    return missing


def _named_spans(text: str) -> Iterable[str]:
    for pattern in _SPANS:
        for found in pattern.finditer(text):
            yield found.group(1)
    for found in _BY_NAME.finditer(text):
        name = found.group(1).rstrip(".")
        if name.split()[0].casefold() not in _MONTHS_AND_DAYS:
            yield name
