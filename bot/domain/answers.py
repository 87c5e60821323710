"""Offline answers about the club's history: what a question asks for, and the reply built from facts looked up.

`understand` reads a member's question against the guild's author and title indexes (so only
names this guild knows can be recognised) and says what it asks: an author's books, one book
(or a title with its author that the club never read), the current or last read, what to read
next, the reads of a period, the club's or a member's best, worst and most divisive reads, or
what came before, after or between books. Each kind of question is a rule of `_RULES`, tried in
order. The caller looks the facts up in the guild's own rows and hands them to one of the
`answer_*` functions, which write a reply of at most 2,000 characters. Every name and text that
came from members is escaped, so no markdown, link or mention can form; answers name people by
display name, never by mention.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Literal

from bot.domain.names import STOP_WORDS, NameIndex, TextMatch, is_common_word, name_like_words, normalise, title_key
from bot.domain.rankings import RankOrder
from bot.domain.text import md, tidy_text, titled, truncate

MESSAGE_LIMIT = 2000
QUOTE_LIMIT = 240
MAX_CATALOGUE_TITLES = 6
MAX_NAMES = 8
MAX_ASKED_NAME = 80
DEFAULT_RANKED = 5
MAX_RANKED = 10
MAX_IN_ORDER = 25

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_MONTH_NUMBERS = {name.casefold(): number for number, name in enumerate(MONTHS, start=1)} | {
    name[:3].casefold(): number for number, name in enumerate(MONTHS, start=1)
} | {"sept": 9}

EXAMPLES = (
    "have you read any *author*?",
    "what did the club think of *title*?",
    "who liked *title*?",
    "what are we reading now?",
    "what did we read last?",
    "what should I read next?",
    "how many books did we read in 2025?",
    "which book did we like least?",
    "our top 3 this year",
    "what did we read after *title*?",
)

_OPINION_WORDS = frozenset(
    {"think", "thought", "thoughts", "like", "liked", "likes", "love", "loved", "feel", "felt", "opinion",
     "opinions", "rate", "rated", "rating", "ratings", "review", "reviews", "reviewed", "enjoy", "enjoyed", "who"}
)  # fmt: skip
_YES_NO_STARTS = frozenset({"have", "has", "did", "do", "does", "are", "is", "was", "were", "any", "ever"})

_COUNT = re.compile(r"\bhow many\b|\bnumber of\b|\bcount\b")
_CURRENT = re.compile(
    r"\b(?:are|is) (?:we|the club|you|yall|everyone) (?:reading|on)\b|\bcurrent(?:ly)?\b|\bright now\b"
    r"|\bat the moment\b|\breading now\b|\b(?:up )?next (?:club )?(?:book|read|pick)\b|\bwe reading next\b"
    r"|\bupcoming\b|\bthis months? (?:book|read|pick)\b"
)
_READ_NEXT = re.compile(
    r"\b(?:should|shall|could|can|do|would|might) i read\b|\bi read next\b|\brecommend|\bsuggest|\bfor me\b"
    r"|\bwhat next\b"
)
_LAST = re.compile(r"\blast\b|\bprevious(?:ly)?\b|\bmost recent(?:ly)?\b|\brecently\b|\bjust (?:read|finished)\b")
# Questions that name an author or a book, whether or not the club's records hold it: the name follows these words
# (or sits between "which" and "do you recommend"). Matched on the question as typed, so the name keeps its spelling.
_NAME_END = r"(?P<{}>[^?!.;,:]+)"
_ASKS_ABOUT_AUTHOR = re.compile(
    r"\b(?:read|recommend)\s+any(?:thing)?(?:\s+(?:other|more|else))?(?:\s+(?:books?|novels?))?"
    r"(?:\s+(?:by|from|of|written\s+by))?\s+" + _NAME_END.format("any")
    + r"|\b(?:read|books?|novels?|anything)\s+(?:written\s+)?by\s+" + _NAME_END.format("by")
    + r"|\bwhich\s+(?P<which>[^?!.;,:]+?)\s+(?:do|would|should|did|can)\s+(?:you|we|members|people)\b",
    re.IGNORECASE,
)
_ASKS_ABOUT_BOOK = re.compile(
    r"\b(?:think|thought|thoughts|opinions?|feel|felt)\s+(?:of|about|on)\s+" + _NAME_END.format("of")
    + r"|\bwho\s+(?:liked|loved|enjoyed|hated|disliked|rated)\s+" + _NAME_END.format("who"),
    re.IGNORECASE,
)
_ASKS_ABOUT_EITHER = re.compile(
    r"\b(?:have|did|has)\s+(?:we|you|the club|y'?all|everyone)\s+(?:ever\s+|already\s+)?read\s+"
    + _NAME_END.format("read"),
    re.IGNORECASE,
)
# Where a captured name ends when the question goes on ("any Ishiguro and which would you pick").
# "and"/"or" end it only before another question ("and which would you pick"): "War and Peace" is one name.
_NAME_TAIL = re.compile(
    r"\s+(?:(?:and|or)\s+(?:which|what|who|how|if|is|are|was|were|do|does|did|would|should|can|could|any|anything"
    r"|recommend|tell|when|whats)\b|if|which|that|yet|recently|lately|before|so far|at all)\b.*$",
    re.IGNORECASE,
)
_ALL_TIME = re.compile(r"\bin total\b|\ball time\b|\bever\b|\bso far\b|\baltogether\b|\bin all\b")
_YEAR = re.compile(r"\b(1[89]\d\d|2[01]\d\d)\b")
_MONTH_YEAR = re.compile(r"\b([a-z]+)\s+(?:of\s+)?(1[89]\d\d|2[01]\d\d)\b")
_YEAR_AFTER_PREPOSITION = re.compile(r"\b(?:in|during|for|since|from|year)\s+(?:[a-z]+\s+)?(?:1[89]|2[01])\d\d\b")
_RELATIVE = re.compile(r"\b(this|last|past) (year|month)\b")
_QUOTES = " \"'“”‘’*_«»"
# Names that a question asks about by its wording; the first group that matched holds the name as typed.
_ANY_AUTHOR = re.compile(
    r"^\W*(?:and\s+|so\s+|but\s+)?any(?:thing)?(?:\s+(?:else|more|other))?(?:\s+(?:books?|novels?))?"
    r"(?:\s+(?:by|from))?\s+" + _NAME_END.format("bare"),
    re.IGNORECASE,
)
_ASKS_ABOUT_OPINION = re.compile(
    r"\b(?:anyone|anybody|everyone|everybody|people|members|you|we|y'?all)\s+(?:like|liked|enjoy|enjoyed|love|loved|"
    r"hate|hated|rate|rated)\s+" + _NAME_END.format("like")
    + r"|\bhow\s+(?:was|did\s+(?:we|you|people|everyone)\s+(?:find|like))\s+" + _NAME_END.format("how"),
    re.IGNORECASE,
)
_TITLE_BY_AUTHOR = re.compile(r"^(?P<title>.+?)\s+(?:written\s+)?by\s+(?P<author>.+)$", re.IGNORECASE)
_AUTHORS_TITLE = re.compile(r"^(?P<author>[^'’]+?)['’]s\s+(?P<title>.+)$")
# Rankings, on the folded question ("club's" is "clubs" there).
_DIVISIVE = re.compile(
    r"\b(?:divisive|divided|divide|controversial|polari[sz]ing|polari[sz]ed|split|disagree|disagreed|disagreement"
    r"|mixed (?:feelings|reviews|opinions))\b|\blove (?:it )?or hate\b"
)
_AT_LEAST = re.compile(r"\bat least\b")
_WORST = re.compile(
    r"\b(?:worst|least|lowest|bottom|disliked|weakest)\b|\bhated (?:the )?most\b|\bmost hated\b"
)
_BEST = re.compile(
    r"\b(?:best|top|favou?rites?|highest|greatest)\b|\bmost (?:liked|loved|enjoyed|popular)\b"
    r"|\b(?:liked?|loved?|enjoy(?:ed)?|rated?) (?:it )?(?:the )?most\b"
)
_NUMBER_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_LIMIT = re.compile(
    r"\b(?:top|best|worst|bottom|lowest|highest)\s+(\d{1,2}|two|three|four|five|six|seven|eight|nine|ten)\b"
    r"|\b(\d{1,2}|two|three|four|five|six|seven|eight|nine|ten)\s+(?:best|worst|top|favou?rite|most|least|highest"
    r"|lowest|books|reads)\b"
)
_PLURAL = re.compile(r"\b(?:books|reads|novels|ones|titles|favou?rites|list|ranking|rank)\b|^\W*top\b|\bour top\b")
_SELF = re.compile(
    r"\bmy\b|\bdid i\b|\bi (?:rate|rated|gave|like|liked|love|loved|enjoy|enjoyed|hate|hated|disliked)\b"
)
# The club's reading order, on the question as typed.
_ORDER = re.compile(
    r"\b(?P<relation>after|following|followed|before|preceding|preceded|between)\s+(?P<anchor>[^?!;]+)",
    re.IGNORECASE,
)
_RELATIONS: dict[str, Literal["after", "before", "between"]] = {
    "after": "after", "following": "after", "followed": "after",
    "before": "before", "preceding": "before", "preceded": "before", "between": "between",
}
_ORDER_LEAD = re.compile(
    r"^\s*(?:(?:we|the club|you|y'?all)\s+)?(?:(?:had\s+)?(?:read|finished|did|started|picked)\s+)?"
    r"(?:(?:the\s+)?(?:book|novel)\s+)?",
    re.IGNORECASE,
)
_AND = re.compile(r"\s+(?:and|&)\s+", re.IGNORECASE)


class Intent(StrEnum):
    AUTHOR = "author"
    BOOK = "book"
    CURRENT = "current"
    LAST = "last"
    READ_NEXT = "read_next"
    PERIOD = "period"
    RANKED = "ranked"
    ORDER = "order"
    UNKNOWN = "unknown"


_ASKING_PATTERNS = (
    (_ASKS_ABOUT_AUTHOR, Intent.AUTHOR),
    (_ANY_AUTHOR, Intent.AUTHOR),
    (_ASKS_ABOUT_BOOK, Intent.BOOK),
    (_ASKS_ABOUT_OPINION, Intent.BOOK),
    (_ASKS_ABOUT_EITHER, Intent.UNKNOWN),
)


@dataclass(frozen=True)
class Period:
    """Days from `start` up to, not including, `end`; both None means the club's whole history."""

    start: date | None
    end: date | None
    label: str

    @property
    def all_time(self) -> bool:
        return self.start is None


ALL_TIME = Period(None, None, "in all")


@dataclass(frozen=True)
class Ranking:
    """Which books a ranking asks for: the club's (by average stars) or one member's own stars."""

    order: RankOrder
    limit: int = 1
    member_id: int | None = None
    asker: bool = False


@dataclass(frozen=True)
class ReadingOrder:
    """A question about the club's reading order: after or before one title, or between two (their book ids)."""

    relation: Literal["after", "before", "between"]
    anchors: tuple[tuple[int, ...], ...] = ()


@dataclass(frozen=True)
class Understanding:
    """What a question asks for: the intent, and the names and book ids of this guild it mentions.

    A title asked with its author that the club never read keeps the author apart: `by_author` as
    resolved (or as asked), `by_author_ids` their books in the records, `same_title_ids` books of
    that title by someone else.
    """

    intent: Intent
    names: tuple[str, ...] = ()
    book_ids: tuple[int, ...] = ()
    period: Period | None = None
    yes_no: bool = False
    heard_as: str | None = None
    did_you_mean: tuple[str, ...] = ()
    ranking: Ranking | None = None
    order: ReadingOrder | None = None
    by_author: tuple[str, ...] = ()
    by_author_ids: tuple[int, ...] = ()
    same_title_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Quote:
    reviewer: str
    text: str
    stars: int | None = None


@dataclass(frozen=True)
class BookFacts:
    """What the club's records say about one book; `status` is None when it is not a club read."""

    book_id: int
    title: str
    author: str
    status: str | None = None
    started_on: date | None = None
    finished_on: date | None = None
    average: float | None = None
    votes: int = 0
    quote: Quote | None = None
    low: int | None = None
    high: int | None = None


@dataclass(frozen=True)
class Opinion:
    member: str
    stars: int


@dataclass(frozen=True)
class CatalogueTitle:
    title: str
    year: int | None = None


@dataclass
class _Reply:
    """An answer in three parts: lines always kept, a list that is shortened to fit, and lines after it."""

    head: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)
    unlisted: int = 0

    def render(self, limit: int = MESSAGE_LIMIT) -> str:
        head, tail = "\n".join(self.head), "\n".join(self.tail)
        items = list(self.items)
        while True:
            dropped = len(self.items) - len(items) + self.unlisted
            more = [f"…and {dropped} more."] if dropped else []
            text = "\n".join(part for part in [head, *items, *more, tail] if part)
            if len(text) <= limit or not items:
                break
            items.pop()
        if len(text) > limit and tail:
            text = "\n".join(part for part in [head, *items] if part)
        return truncate(text, limit)


# -- understanding ---------------------------------------------------------------------------------


def understand(
    question: str, authors: NameIndex[int], titles: NameIndex[int], today: date,
    members: Mapping[str, Sequence[int]] | None = None,
) -> Understanding:
    """What the question asks, resolved against this guild's author and title indexes (and, for "which book did
    Bob rate highest?", the guild's members by normalised display name)."""
    text = " ".join(question.split())
    folded = normalise(text)
    words = folded.split()
    period = parse_period(folded, today)
    title_hits = titles.find_in_text(text)
    if period is not None and (_COUNT.search(folded) or _YEAR_AFTER_PREPOSITION.search(folded)):
        # "how many did we read in 1984" is about a year, not George Orwell's book.
        title_hits = [hit for hit in title_hits if not normalise(hit.text).isdigit()]
    asked = _Asked(
        text=text, folded=folded, words=words, name_like=name_like_words(text),
        yes_no=bool(words) and words[0] in _YES_NO_STARTS, period=period, authors=authors, titles=titles,
        members=members or {}, author_hits=authors.find_in_text(text), title_hits=title_hits,
    )
    for rule in _RULES:
        understood = rule(asked)
        if understood is not None:
            return understood
    return _guess(asked)


@dataclass(frozen=True)
class _Asked:
    """A question as read: its text, its folded words, and what the guild's indexes found in it."""

    text: str
    folded: str
    words: list[str]
    name_like: list[tuple[str, bool]]
    yes_no: bool
    period: Period | None
    authors: NameIndex[int]
    titles: NameIndex[int]
    members: Mapping[str, Sequence[int]]
    author_hits: list[TextMatch[int]]
    title_hits: list[TextMatch[int]]


def _unsure_names(asked: _Asked) -> Understanding | None:
    unsure = _unsure(asked.author_hits, asked.authors) or _unsure(asked.title_hits, asked.titles)
    return Understanding(Intent.UNKNOWN, did_you_mean=unsure) if unsure else None


def _unsure(hits: list[TextMatch[int]], index: NameIndex[int]) -> tuple[str, ...]:
    """The names a misspelling is equally close to, when a corrected hit could mean more than one."""
    for hit in hits:
        if not hit.exact:
            checked = index.match(hit.text)
            if not checked.best and checked.did_you_mean:
                return tuple(checked.did_you_mean[:5])
    return ()


def _named(asked: _Asked) -> Understanding | None:
    author_hits, title_hits, yes_no = asked.author_hits, asked.title_hits, asked.yes_no
    author_ids = {book_id for hit in author_hits for book_id in hit.ids}
    if title_hits:
        title = max(title_hits, key=lambda hit: (hit.exact, hit.end - hit.start, hit.score))
        same_book = bool(author_ids & set(title.ids))
        if not author_hits or same_book or set(asked.words) & _OPINION_WORDS:
            ids = [book_id for book_id in title.ids if book_id in author_ids] if same_book else title.ids
            return Understanding(
                Intent.BOOK, names=tuple(title.names), book_ids=tuple(ids), yes_no=yes_no,
                heard_as=None if title.exact else title.text,
            )
    if author_hits:
        names = tuple(dict.fromkeys(name for hit in author_hits for name in hit.names))
        ids = tuple(dict.fromkeys(book_id for hit in author_hits for book_id in hit.ids))
        inexact = next((hit.text for hit in author_hits if not hit.exact), None)
        return Understanding(Intent.AUTHOR, names=names, book_ids=ids, yes_no=yes_no, heard_as=inexact)
    return None


def _count(asked: _Asked) -> Understanding | None:
    return Understanding(Intent.PERIOD, period=asked.period or ALL_TIME) if _COUNT.search(asked.folded) else None


def _current(asked: _Asked) -> Understanding | None:
    return Understanding(Intent.CURRENT) if _CURRENT.search(asked.folded) else None


def _read_next(asked: _Asked) -> Understanding | None:
    return Understanding(Intent.READ_NEXT) if _READ_NEXT.search(asked.folded) else None


def _period(asked: _Asked) -> Understanding | None:
    return Understanding(Intent.PERIOD, period=asked.period) if asked.period is not None else None


def _last(asked: _Asked) -> Understanding | None:
    return Understanding(Intent.LAST) if _LAST.search(asked.folded) else None


# -- names asked about that the records may not hold

def _asked_names(text: str) -> list[tuple[Intent, str]]:
    """The names the question asks about by its wording ("any X", "think of X", "have we read X"), as typed."""
    names: list[tuple[Intent, str]] = []
    for pattern, intent in _ASKING_PATTERNS:
        for found in pattern.finditer(text):
            name = _NAME_TAIL.sub("", next(group for group in found.groups() if group))
            name = " ".join(name.strip(_QUOTES).split())
            # "what did we read in March 2024" names a period, not a book.
            if not _fragments([word for word in normalise(name).split() if word not in _MONTH_NUMBERS]):
                continue
            # "thoughts on the club's favourite books" asks for a ranking, not about a book of that name.
            if _ranking_order(normalise(name)) is not None:
                continue
            # A bare "any …?" or "which … do you" asks about an author only when a name follows: "any Zadie
            # Smith?", not "any good war stories?"; "which Atwood would you pick?", not "which five books did we".
            loose = found.lastgroup in ("bare", "which")
            if loose and not _looks_like_a_name(name):
                continue
            names.append((intent, name))
    return names


def _looks_like_a_name(text: str) -> bool:
    """Whether some word of `text` is written as a name, or is neither a question word nor common English."""
    words = name_like_words(f"about {text}")[1:]
    return any(word not in STOP_WORDS and (written_as_name or not is_common_word(word))
               for word, written_as_name in words)


def _split_title_author(name: str) -> tuple[str, str] | None:
    """"War and Peace by Tolstoy" and "Ishiguro's *Nocturnes*" as (title, author); None when the name is not
    a title with its author (both parts must hold a word that is not a question word)."""
    for pattern in (_TITLE_BY_AUTHOR, _AUTHORS_TITLE):
        found = pattern.match(name)
        if found is not None:
            title, author = (found.group(part).strip(_QUOTES) for part in ("title", "author"))
            if _fragments(normalise(title).split()) and _fragments(normalise(author).split()):
                return " ".join(title.split())[:MAX_ASKED_NAME], " ".join(author.split())[:MAX_ASKED_NAME]
    return None


def _book_by_author(asked: _Asked) -> Understanding | None:
    """A title asked with its author: that book when the club has it, else a plain no that still names what the
    club read by the author ("did we read Ishiguro's Nocturnes?")."""
    for _, name in _asked_names(asked.text):
        split = _split_title_author(name)
        if split is None:
            continue
        title, author = split
        by_author = asked.authors.match(author)
        same_title = asked.titles.match(title)
        author_ids = set(by_author.best)
        if same_title.best:
            both = [book_id for book_id in same_title.best if book_id in author_ids]
            if both:
                heard = None if same_title.exact and by_author.exact else name
                return Understanding(Intent.BOOK, names=tuple(same_title.names[:1]), book_ids=tuple(both),
                                     yes_no=asked.yes_no, heard_as=heard)
        return Understanding(
            Intent.BOOK, names=(title,), yes_no=asked.yes_no,
            by_author=tuple(by_author.names) if by_author.best else (author,),
            by_author_ids=tuple(by_author.best), same_title_ids=tuple(same_title.best),
            heard_as=None if by_author.exact or not by_author.best else author,
        )
    return None


def _asked_about(asked: _Asked) -> Understanding | None:
    """A question about a named author or book that the indexes did not find in the text: the name's own match
    in the records when there is one (typos allowed: the wording says it is a name), else the name as asked, so
    that the answer can say the club has none of it. The name is matched whole, never word by word: "War and
    Peace" is not the word "War"."""
    for intent, name in _asked_names(asked.text):
        indexes = ((asked.authors, Intent.AUTHOR), (asked.titles, Intent.BOOK))
        offers: list[str] = []
        for index, found_intent in indexes if intent is not Intent.BOOK else indexes[::-1]:
            result = index.match(name)
            if result.best and len(result.names) <= MAX_NAMES:
                return Understanding(found_intent, names=tuple(result.names), book_ids=tuple(result.best),
                                     yes_no=asked.yes_no, heard_as=None if result.exact else name)
            offers.extend(result.did_you_mean)
        if offers:
            return Understanding(Intent.UNKNOWN, did_you_mean=tuple(dict.fromkeys(offers))[:5])
        return Understanding(intent, names=(name[:MAX_ASKED_NAME],), yes_no=asked.yes_no)
    return None


# -- rankings

def _ranking_order(folded: str) -> RankOrder | None:
    if _DIVISIVE.search(folded):
        return RankOrder.DIVISIVE
    if _WORST.search(_AT_LEAST.sub("", folded)):
        return RankOrder.WORST
    if _BEST.search(folded):
        return RankOrder.BEST
    return None


def _ranking_limit(folded: str) -> int:
    found = _LIMIT.search(folded)
    if found is not None:
        number = next(group for group in found.groups() if group)
        return max(1, min(MAX_RANKED, int(number) if number.isdigit() else _NUMBER_WORDS[number]))
    return DEFAULT_RANKED if _PLURAL.search(folded) else 1


def _member_asked(asked: _Asked) -> tuple[int, str] | Literal["self"] | None:
    """The member a ranking is about: "I"/"my" for the one asking, else a member named in the question."""
    if _SELF.search(asked.folded):
        return "self"
    words = asked.words
    for length in (3, 2, 1):
        for first in range(len(words) - length + 1):
            span = words[first:first + length]
            if all(word in STOP_WORDS for word in span):
                continue
            candidates = [" ".join(span)]
            if span[-1].endswith("s"):  # "Alice's" folds to "alices"
                candidates.append(" ".join([*span[:-1], span[-1][:-1]]))
            for candidate in candidates:
                ids = asked.members.get(candidate)
                if ids and len(set(ids)) == 1:
                    return ids[0], candidate
    return None


def _member_ranking(asked: _Asked) -> Understanding | None:
    """"Which book did Bob rate highest?", "my favourite": one member's own stars, when no book or author is named."""
    order = _ranking_order(asked.folded)
    if order is None or order is RankOrder.DIVISIVE or asked.author_hits or asked.title_hits:
        return None
    member = _member_asked(asked)
    if member is None:
        return None
    ranking = Ranking(order, _ranking_limit(asked.folded), asker=True) if member == "self" else Ranking(
        order, _ranking_limit(asked.folded), member_id=member[0])
    return Understanding(Intent.RANKED, ranking=ranking, period=asked.period)


def _club_ranking(asked: _Asked) -> Understanding | None:
    """"Which book did we like least?", "our top 3 this year", "the most divisive book"."""
    order = _ranking_order(asked.folded)
    if order is None:
        return None
    return Understanding(Intent.RANKED, ranking=Ranking(order, _ranking_limit(asked.folded)), period=asked.period)


# -- the club's reading order

def _reading_order(asked: _Asked) -> Understanding | None:
    """"What did we read after X?", "… before X?", "… in between X and Y?": X and Y must be titles."""
    found = _ORDER.search(asked.text)
    if found is None or any(hit.start <= found.start() < hit.end for hit in asked.title_hits):
        # No order word, or one inside a title the club has ("Before the Coffee Gets Cold").
        return None
    relation = _RELATIONS[found.group("relation").casefold()]
    anchor_text = _ORDER_LEAD.sub("", found.group("anchor"))
    if relation != "between":
        anchor_text = _NAME_TAIL.sub("", anchor_text)
    anchor_text = anchor_text.strip(_QUOTES + " ")
    if not _fragments(normalise(anchor_text).split()) or _YEAR.fullmatch(normalise(anchor_text)):
        return None
    if relation == "between":
        parts = _between_parts(anchor_text, asked.titles)
        if parts is None:
            return None
    else:
        parts = [anchor_text]
    anchors: list[tuple[int, ...]] = []
    names: list[str] = []
    heard: str | None = None
    for part in parts:
        result = _title_named(part, asked.titles)
        if result is None and asked.authors.find_in_text(part):
            # "after the Ishiguro": an author, not a title; the author's reads answer better than a wrong "no".
            return None
        if result is None:
            # A book the club never read has no place in its order: say so, naming it as asked.
            return Understanding(Intent.ORDER, names=(part[:MAX_ASKED_NAME],), order=ReadingOrder(relation))
        ids, name, exact = result
        anchors.append(ids)
        names.append(name)
        heard = heard if exact else part
    return Understanding(Intent.ORDER, names=tuple(names), order=ReadingOrder(relation, tuple(anchors)),
                         heard_as=heard)


def _between_parts(text: str, titles: NameIndex[int]) -> list[str] | None:
    """The two titles of "X and Y", choosing the "and" that leaves a known title on each side when there is one
    ("War and Peace and Beloved")."""
    splits = [(text[:found.start()].strip(), text[found.end():].strip()) for found in _AND.finditer(text)]
    splits = [(first, second) for first, second in splits if first and second]
    if not splits:
        return None
    for first, second in splits:
        if _title_named(first, titles) and _title_named(second, titles):
            return [first, second]
    for first, second in splits:
        if _title_named(first, titles) or _title_named(second, titles):
            return [first, second]
    return list(splits[-1])


def _title_named(text: str, titles: NameIndex[int]) -> tuple[tuple[int, ...], str, bool] | None:
    """The club title that `text` names ("we finished Beloved", "*Piranesi* by Susanna Clarke"): ids, name, exact."""
    text = _TITLE_BY_AUTHOR.sub(r"\g<title>", text).strip(_QUOTES + " ")
    hits = [hit for hit in titles.find_in_text(text) if len(hit.names) == 1]
    if hits:
        hit = max(hits, key=lambda hit: (hit.exact, hit.end - hit.start))
        return tuple(hit.ids), hit.names[0], hit.exact
    result = titles.match(text)
    if result.best and len(result.names) == 1:
        return tuple(result.best), result.names[0], result.exact
    return None


# The kinds of question, tried in this order: the first rule that recognises the question answers it. To teach
# /ask a new kind, write a rule taking `_Asked` and put it where its wording should win over the others'.
_RULES: tuple[Callable[[_Asked], Understanding | None], ...] = (
    _unsure_names,
    _reading_order,
    _book_by_author,
    _member_ranking,
    _named,
    _count,
    _current,
    _asked_about,
    _read_next,
    _club_ranking,
    _period,
    _last,
)


def _guess(asked: _Asked) -> Understanding:
    """A last try on the words that may be a name (written as one, or not common English): one clear match,
    or names to offer."""
    offers: list[str] = []
    runs: list[list[str]] = [[]]
    for word, written_as_name in asked.name_like:
        if len(word) >= 3 and not word.isdigit() and word not in STOP_WORDS and (
                written_as_name or not is_common_word(word)):
            runs[-1].append(word)
        elif runs[-1]:
            runs.append([])
    fragments = sorted((" ".join(run[:6]) for run in runs if run), key=len, reverse=True)[:3]
    for fragment in fragments:
        for index, intent in ((asked.authors, Intent.AUTHOR), (asked.titles, Intent.BOOK)):
            result = index.match(fragment)
            if result.best and len(result.names) == 1:
                return Understanding(intent, names=tuple(result.names), book_ids=tuple(result.best),
                                     yes_no=asked.yes_no, heard_as=None if result.exact else fragment)
            offers.extend(result.names or result.did_you_mean)
    return Understanding(Intent.UNKNOWN, did_you_mean=tuple(dict.fromkeys(offers))[:5])


def _fragments(words: list[str]) -> list[str]:
    """Runs of words that are not question words, longest first: the likely names in a question."""
    runs: list[list[str]] = [[]]
    for word in words:
        if word in STOP_WORDS or word.isdigit() or len(word) < 3:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append(word)
    return sorted((" ".join(run[:6]) for run in runs if run), key=len, reverse=True)[:3]


def parse_period(folded: str, today: date) -> Period | None:
    """The period a normalised question names: "in 2025", "March 2025", "this year", "last month"."""
    for found in _MONTH_YEAR.finditer(folded):
        month = _MONTH_NUMBERS.get(found.group(1))
        if month is not None:
            return _month(int(found.group(2)), month, f"in {MONTHS[month - 1]} {found.group(2)}")
    relative = _RELATIVE.search(folded)
    if relative is not None:
        this = relative.group(1) == "this"
        if relative.group(2) == "year":
            year = today.year if this else today.year - 1
            return Period(date(year, 1, 1), date(year + 1, 1, 1), "this year" if this else f"last year ({year})")
        year, month = (today.year, today.month) if this else _previous_month(today.year, today.month)
        label = "this month" if this else f"last month ({MONTHS[month - 1]} {year})"
        return _month(year, month, label)
    year_found = _YEAR.search(folded)
    if year_found is not None:
        year = int(year_found.group(1))
        return Period(date(year, 1, 1), date(year + 1, 1, 1), f"in {year}")
    if _ALL_TIME.search(folded):
        return ALL_TIME
    return None


def _previous_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def _month(year: int, month: int, label: str) -> Period:
    end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return Period(date(year, month, 1), end, label)


# -- choosing --------------------------------------------------------------------------------------


def recommend(books: Sequence[BookFacts]) -> BookFacts | None:
    """The best-rated of the club's reads among `books`: highest average, then most ratings, then latest."""
    rated = [book for book in books if book.status is not None and book.votes and book.average is not None]
    if not rated:
        return None
    return max(rated, key=lambda book: (book.average or 0.0, book.votes, book.finished_on or date.min, -book.book_id))


def quote_line(text: str, limit: int = QUOTE_LIMIT) -> str:
    """The opening of a review, cut after a sentence when one ends early enough, else on a word."""
    first = next((line for line in tidy_text(text).split("\n") if line.strip()), "")
    sentence = re.match(r"(.{40,}?[.!?…])(?:\s|$)", first)
    if sentence and len(sentence.group(1)) <= limit:
        return sentence.group(1)
    return truncate(first, limit)


def unread_titles(
    catalogue: Sequence[CatalogueTitle], club_titles: Sequence[str], limit: int = MAX_CATALOGUE_TITLES
) -> list[CatalogueTitle]:
    """The catalogue's titles the club's records do not hold, each title once."""
    seen = {title_key(title) for title in club_titles}
    unread: list[CatalogueTitle] = []
    for work in catalogue:
        key = title_key(work.title)
        if key and key not in seen:
            seen.add(key)
            unread.append(work)
    return unread[:limit]


# -- writing ---------------------------------------------------------------------------------------


def _bold(title: str) -> str:
    return f"**{md(title)}**"


def month_text(day: date) -> str:
    return f"{MONTHS[day.month - 1]} {day.year}"


def day_text(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _names(names: Sequence[str]) -> str:
    shown = [md(name) for name in names]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def stars_text(average: float | None, votes: int) -> str:
    if not votes or average is None:
        return "not rated yet"
    shown = f"{average:.1f}".removesuffix(".0")
    return f"{shown}★ from {votes} rating{'s' if votes != 1 else ''}"


def _when(book: BookFacts) -> str:
    if book.status == "finished":
        return f"finished {month_text(book.finished_on)}" if book.finished_on else "finished"
    if book.status == "reading":
        return f"reading since {month_text(book.started_on)}" if book.started_on else "reading now"
    if book.status == "planned":
        return "planned"
    return "not a club read"


def _quote_lines(quote: Quote | None) -> list[str]:
    if quote is None:
        return []
    stars = f", {quote.stars}★" if quote.stars else ""
    return [f"> {md(quote_line(quote.text))}", f"> — {md(quote.reviewer)}{stars}"]


def _heard_as(understanding: Understanding) -> list[str]:
    if not understanding.heard_as or not understanding.names:
        return []
    return [f"_(I read “{md(understanding.heard_as)}” as {_names(understanding.names[:3])}.)_"]


def answer_author(
    understanding: Understanding, books: Sequence[BookFacts], catalogue: Sequence[CatalogueTitle] | None = None
) -> str:
    """Which of the author's books the club read and when, how they were rated, which one to read and why."""
    authors = _names(understanding.names[:MAX_NAMES])
    reads = [book for book in books if book.status is not None]
    others = [book for book in books if book.status is None]
    reply = _Reply()
    if reads:
        count = len(reads)
        opening = "Yes: the club has" if understanding.yes_no else "The club has"
        noun = "book" if count == 1 else "books"
        reply.head.append(f"{opening} {count} {noun} by {authors} in its history.")
    else:
        opening = "No: the club" if understanding.yes_no else "The club"
        reply.head.append(f"{opening} hasn't read anything by {authors} yet.")
    several_authors = len({book.author for book in reads}) > 1
    for book in reads:
        by = f" by {md(book.author)}" if several_authors else ""
        reply.items.append(f"• {_bold(book.title)}{by} ({_when(book)}): {stars_text(book.average, book.votes)}")
    best = recommend(reads)
    if best is not None:
        why = "the best-rated of them" if len(reads) > 1 else "members rated it"
        reply.tail.append(f"I'd recommend {_bold(best.title)}: {why}, {stars_text(best.average, best.votes)}.")
        reply.tail.extend(_quote_lines(best.quote))
    elif reads:
        reply.tail.append("Nobody has rated them yet: `/rate` a book to help the next reader choose.")
    if others:
        listed = ", ".join(_bold(book.title) for book in others[:MAX_NAMES])
        reply.tail.append(f"Also in the club's records (nominated or reviewed), not read together: {listed}.")
    if catalogue:
        listed = ", ".join(_bold(work.title) + (f" ({work.year})" if work.year else "") for work in catalogue)
        reply.tail.append(f"Not read by the club yet: {listed}.")
    reply.tail.extend(_heard_as(understanding))
    return reply.render()


def answer_book(
    understanding: Understanding, books: Sequence[BookFacts], opinions: Sequence[Opinion]
) -> str:
    """What the club made of a book: when it was read, its stars, who liked it, a quoted review."""
    reply = _Reply()
    if not books:
        return answer_unknown(understanding)
    book = books[0]
    by = f" by {md(book.author)}" if book.author else ""
    if book.status is None:
        reply.head.append(f"{_bold(book.title)}{by} isn't one of the club's reads.")
    else:
        reply.head.append(f"{_bold(book.title)}{by}: {_when(book)}.")
    if book.votes:
        reply.head.append(f"Rated {stars_text(book.average, book.votes)}.")
    else:
        reply.head.append("Nobody has rated it yet.")
    liked = [opinion for opinion in opinions if opinion.stars >= 4]
    cooler = [opinion for opinion in opinions if opinion.stars <= 2]
    if liked:
        reply.items.append("Liked it: " + ", ".join(f"{md(o.member)} ({o.stars}★)" for o in liked[:MAX_NAMES]))
    elif opinions:
        reply.items.append("Nobody gave it more than 3★.")
    if cooler:
        reply.items.append("Less keen: " + ", ".join(f"{md(o.member)} ({o.stars}★)" for o in cooler[:MAX_NAMES]))
    reply.tail.extend(_quote_lines(book.quote))
    if len(books) > 1:
        reply.tail.append("Other books with that title: " + ", ".join(
            titled(other.title, other.author) for other in books[1:4]))
    reply.tail.extend(_heard_as(understanding))
    return reply.render()


def answer_current(reading: Sequence[BookFacts], planned: Sequence[BookFacts]) -> str:
    reply = _Reply()
    if not reading:
        reply.head.append("The club isn't reading anything right now.")
    for book in reading:
        since = f" (since {day_text(book.started_on)})" if book.started_on else ""
        rated = f": {stars_text(book.average, book.votes)} so far" if book.votes else ""
        reply.items.append(f"The club is reading {titled(book.title, book.author)}{since}{rated}.")
    if planned:
        reply.tail.append("Next up: " + ", ".join(titled(book.title, book.author) for book in planned[:3])
                          + ".")
    elif not reading:
        reply.tail.append("Moderators can add one with `/club add`.")
    return reply.render()


def answer_last(book: BookFacts | None) -> str:
    if book is None:
        return "The club hasn't finished a book yet."
    reply = _Reply()
    finished = f", finished in {month_text(book.finished_on)}" if book.finished_on else ""
    reply.head.append(f"The club's last read was {titled(book.title, book.author)}{finished}: "
                      f"{stars_text(book.average, book.votes)}.")
    reply.tail.extend(_quote_lines(book.quote))
    return reply.render()


def answer_read_next(book: BookFacts | None) -> str:
    if book is None:
        return ("I have nothing to suggest yet: you have rated every book the club has finished, or nobody has "
                "rated one. `/rate` the club's reads and ask again.")
    reply = _Reply()
    read = f" (the club read it in {month_text(book.finished_on)})" if book.finished_on else ""
    reply.head.append(f"Try {titled(book.title, book.author)}: the best-rated club read you haven't rated, "
                      f"{stars_text(book.average, book.votes)}{read}.")
    reply.tail.extend(_quote_lines(book.quote))
    return reply.render()


def answer_period(period: Period, total: int, books: Sequence[BookFacts]) -> str:
    """How many books the club finished in the period, and which (the latest ones for the whole history)."""
    reply = _Reply()
    noun = "book" if total == 1 else "books"
    if period.all_time:
        if not total:
            return "The club hasn't finished a book yet."
        reply.head.append(f"The club has finished {total} {noun} in all. The latest:" if total > len(books)
                          else f"The club has finished {total} {noun} in all:")
    elif not total:
        return f"The club didn't finish any book {period.label}."
    else:
        reply.head.append(f"The club finished {total} {noun} {period.label}:")
    for book in books:
        when = f" ({month_text(book.finished_on)})" if book.finished_on else ""
        reply.items.append(f"• {titled(book.title, book.author)}{when}")
    if not period.all_time:
        reply.unlisted = total - len(books)
    return reply.render()


def answer_unknown(understanding: Understanding, *, empty_history: bool = False) -> str:
    lines = []
    if empty_history:
        lines.append("The club's history is empty so far: moderators add reads with `/club add`, or bring in a "
                     "Goodreads export with `/club import`.")
    elif understanding.did_you_mean:
        lines.append(f"I couldn't find that in this server's club history. Did you mean "
                     f"{' or '.join(_bold(name) for name in understanding.did_you_mean)}?")
    elif understanding.intent is Intent.BOOK and understanding.names:
        lines.append(f"No: the club hasn't read “{md(understanding.names[0])}”.")
    elif understanding.names:
        # "have we read X?", where X could be a title or an author.
        lines.append(f"No: the club's records have no book or author like “{md(understanding.names[0])}”.")
    else:
        lines.append("I can't answer that from this server's club history.")
    if understanding.did_you_mean or not understanding.names:
        # A plain no about a name needs no list of other questions after it.
        lines.append("I can answer questions like: " + "; ".join(f"“{example}”" for example in EXAMPLES) + ".")
    return truncate("\n".join(lines), MESSAGE_LIMIT)


def answer_not_read(
    understanding: Understanding, author_reads: Sequence[BookFacts], same_title: Sequence[BookFacts],
    catalogue: Sequence[CatalogueTitle] | None = None,
) -> str:
    """A plain no to a book the club never read, named as asked, then what the club did read by its author
    ("did we read Ishiguro's Nocturnes?") and, when the catalogue answers, what else of theirs it could read."""
    title = understanding.names[0] if understanding.names else ""
    author = _names(understanding.by_author[:MAX_NAMES]) if understanding.by_author else ""
    reply = _Reply()
    reply.head.append(f"No: the club hasn't read “{md(title)}”{f' by {author}' if author else ''}.")
    reads = [book for book in author_reads if book.status is not None]
    if reads:
        reply.head.append(f"By {author} the club has read:")
        for book in reads:
            reply.items.append(f"• {_bold(book.title)} ({_when(book)}): {stars_text(book.average, book.votes)}")
    elif author:
        reply.head.append(f"The club hasn't read anything by {author} yet.")
    if same_title:
        reply.tail.append("In the club's records with that title: " + ", ".join(
            titled(book.title, book.author) for book in same_title[:3]) + ".")
    if catalogue:
        listed = ", ".join(_bold(work.title) + (f" ({work.year})" if work.year else "") for work in catalogue)
        reply.tail.append(f"By {author}, the club could read: {listed}.")
    reply.tail.extend(_heard_as_author(understanding))
    return reply.render()


def _heard_as_author(understanding: Understanding) -> list[str]:
    if not understanding.heard_as or not understanding.by_author:
        return []
    return [f"_(I read “{md(understanding.heard_as)}” as {_names(understanding.by_author[:3])}.)_"]


_RANK_WORDS = {
    RankOrder.BEST: ("best-rated", "highest-rated"),
    RankOrder.WORST: ("lowest-rated", "lowest-rated"),
    RankOrder.DIVISIVE: ("most divisive", "most divisive"),
}


def _spread_text(book: BookFacts) -> str:
    return f"from {book.low}★ to {book.high}★, {stars_text(book.average, book.votes)}"


def answer_ranking(
    ranking: Ranking, period: Period | None, books: Sequence[BookFacts], passed_over: BookFacts | None = None,
    *, finished_in_period: int | None = None,
) -> str:
    """The club's best, worst or most divisive reads, with their stars and how many rated them."""
    when = f" {period.label}" if period is not None and not period.all_time else ""
    if not books:
        if finished_in_period == 0:
            return f"The club didn't finish any book{when}."
        if ranking.order is RankOrder.DIVISIVE:
            return (f"No club read{when} has split members yet: every book rated by two or more members got "
                    "much the same stars.")
        return f"Nobody has rated a club read{when} yet: `/rate` a book and ask again."
    words = _RANK_WORDS[ranking.order][0]
    single = all(book.votes < 2 for book in books)
    reply = _Reply()
    if len(books) == 1:
        book = books[0]
        stars = _spread_text(book) if ranking.order is RankOrder.DIVISIVE else stars_text(book.average, book.votes)
        reply.head.append(f"The club's {words} read{when}: {titled(book.title, book.author)}, {stars} "
                          f"({_when(book)}).")
    else:
        reply.head.append(f"The club's {len(books)} {words} reads{when}:")
        for place, book in enumerate(books, start=1):
            stars = (_spread_text(book) if ranking.order is RankOrder.DIVISIVE
                     else stars_text(book.average, book.votes))
            reply.items.append(f"{place}. {titled(book.title, book.author)}: {stars}")
    if single:
        reply.tail.append("Each of these has a single rating so far, so it is one member's view.")
    elif passed_over is not None:
        reply.tail.append(f"({titled(passed_over.title, passed_over.author)} has "
                          f"{stars_text(passed_over.average, passed_over.votes)}, one member's view, so it is "
                          "not ranked.)")
    return reply.render()


def answer_member_ranking(
    ranking: Ranking, member: str, period: Period | None, books: Sequence[tuple[BookFacts, int]]
) -> str:
    """A member's own highest or lowest stars: "which book did Bob rate highest?"."""
    when = f" {period.label}" if period is not None and not period.all_time else ""
    who = "You" if ranking.asker else md(member)
    if not books:
        have = "haven't" if ranking.asker else "hasn't"
        return f"{who} {have} rated any book{when} yet."
    whose = "Your" if ranking.asker else f"{md(member)}'s"
    words = _RANK_WORDS[ranking.order][1]
    reply = _Reply()
    top = books[0][1]
    tied = [book for book, stars in books if stars == top]
    if ranking.limit == 1 and len(tied) > 1:
        reply.head.append(f"{who} gave {top}★, {'the most' if ranking.order is RankOrder.BEST else 'the least'} "
                          f"{'you' if ranking.asker else 'they'} gave{when}, to {len(tied)} books:")
        reply.items.extend(f"• {titled(book.title, book.author)}" for book in tied)
    elif ranking.limit == 1:
        book = books[0][0]
        reply.head.append(f"{whose} {words} book{when}: {titled(book.title, book.author)}, {top}★.")
    else:
        reply.head.append(f"{whose} {min(ranking.limit, len(books))} {words} books{when}:")
        reply.items.extend(f"{place}. {titled(book.title, book.author)}: {stars}★"
                           for place, (book, stars) in enumerate(books[:ranking.limit], start=1))
    return reply.render()


def answer_order(
    understanding: Understanding, anchors: Sequence[BookFacts], reads: Sequence[BookFacts], total: int = 0
) -> str:
    """What the club read after or before a book, or between two, in the order of their dates."""
    order = understanding.order
    if order is None or not order.anchors or len(anchors) < len(order.anchors):
        asked = understanding.names[0] if understanding.names else ""
        return f"No: the club hasn't read “{md(asked)}”, so it has no place in the club's reading order."
    for anchor in anchors:
        if anchor.status not in ("finished", "reading"):
            state = "only planned" if anchor.status == "planned" else "not a club read"
            return f"{titled(anchor.title, anchor.author)} is {state}, so it has no place in the club's reading order."
        if (anchor.finished_on if anchor.status == "finished" else anchor.started_on) is None:
            return (f"The club's records have no date for {titled(anchor.title, anchor.author)}, so I can't tell "
                    "what came before or after it.")
    reply = _Reply()
    first = anchors[0]
    named = f"{titled(first.title, first.author)} ({_when(first)})"
    if order.relation == "between":
        second = anchors[1]
        other = f"{titled(second.title, second.author)} ({_when(second)})"
        if not reads:
            reply.head.append(f"Nothing: the club read {named} and {other} one right after the other.")
        else:
            noun = "book" if total == 1 else "books"
            reply.head.append(f"Between {named} and {other} the club read {total} {noun}:")
            reply.items.extend(f"• {titled(book.title, book.author)} ({_when(book)})" for book in reads)
            reply.unlisted = total - len(reads)
    elif not reads:
        if order.relation == "after":
            current = " It is the current read." if first.status == "reading" else ""
            reply.head.append(f"Nothing yet: {named} is the club's latest read.{current}")
        else:
            reply.head.append(f"Nothing: {named} is the first read in the club's dated history.")
    else:
        nearest, *further = reads
        word = "After" if order.relation == "after" else "Before"
        reply.head.append(f"{word} {named} the club read {titled(nearest.title, nearest.author)} "
                          f"({_when(nearest)}).")
        if further:
            then = "Then" if order.relation == "after" else "Before that"
            reply.items.append(f"{then}: " + ", ".join(
                f"{titled(book.title, book.author)} ({_when(book)})" for book in further) + ".")
    reply.tail.extend(_heard_as(understanding))
    return reply.render()
