"""Offline answers about the club's history: what a question asks for, and the reply built from facts looked up.

`understand` reads a member's question against the guild's author and title indexes (so only
names this guild knows can be recognised) and says what it asks: an author's books, one book,
the current or last read, what to read next, or the reads of a period. The caller looks the
facts up in the guild's own rows and hands them to one of the `answer_*` functions, which write
a reply of at most 2,000 characters. Every name and text that came from members is escaped, so
no markdown, link or mention can form; answers name people by display name, never by mention.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from bot.domain.feeds import tidy_text, truncate
from bot.domain.names import STOP_WORDS, NameIndex, TextMatch, normalise, title_key
from bot.domain.spoilers import escape_markdown

MESSAGE_LIMIT = 2000
QUOTE_LIMIT = 240
MAX_CATALOGUE_TITLES = 6
MAX_NAMES = 8
MAX_ASKED_NAME = 80

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
_NAME_TAIL = re.compile(r"\s+(?:and|or|if|which|that|yet|recently|lately|before|so far|at all)\b.*$", re.IGNORECASE)
_ALL_TIME = re.compile(r"\bin total\b|\ball time\b|\bever\b|\bso far\b|\baltogether\b|\bin all\b")
_YEAR = re.compile(r"\b(1[89]\d\d|2[01]\d\d)\b")
_MONTH_YEAR = re.compile(r"\b([a-z]+)\s+(?:of\s+)?(1[89]\d\d|2[01]\d\d)\b")
_YEAR_AFTER_PREPOSITION = re.compile(r"\b(?:in|during|for|since|from|year)\s+(?:[a-z]+\s+)?(?:1[89]|2[01])\d\d\b")
_RELATIVE = re.compile(r"\b(this|last|past) (year|month)\b")


class Intent(StrEnum):
    AUTHOR = "author"
    BOOK = "book"
    CURRENT = "current"
    LAST = "last"
    READ_NEXT = "read_next"
    PERIOD = "period"
    UNKNOWN = "unknown"


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
class Understanding:
    """What a question asks for: the intent, and the names and book ids of this guild it mentions."""

    intent: Intent
    names: tuple[str, ...] = ()
    book_ids: tuple[int, ...] = ()
    period: Period | None = None
    yes_no: bool = False
    heard_as: str | None = None
    did_you_mean: tuple[str, ...] = ()


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


def understand(question: str, authors: NameIndex[int], titles: NameIndex[int], today: date) -> Understanding:
    """What the question asks, resolved against this guild's author and title indexes."""
    text = " ".join(question.split())
    folded = normalise(text)
    words = folded.split()
    yes_no = bool(words) and words[0] in _YES_NO_STARTS
    period = parse_period(folded, today)
    author_hits = authors.find_in_text(text)
    title_hits = titles.find_in_text(text)
    if period is not None and (_COUNT.search(folded) or _YEAR_AFTER_PREPOSITION.search(folded)):
        # "how many did we read in 1984" is about a year, not George Orwell's book.
        title_hits = [hit for hit in title_hits if not normalise(hit.text).isdigit()]
    unsure = _unsure(author_hits, authors) or _unsure(title_hits, titles)
    if unsure:
        return Understanding(Intent.UNKNOWN, did_you_mean=unsure)
    named = _named(author_hits, title_hits, set(words), yes_no)
    if named is not None:
        return named
    if _COUNT.search(folded):
        return Understanding(Intent.PERIOD, period=period or ALL_TIME)
    if _CURRENT.search(folded):
        return Understanding(Intent.CURRENT)
    asked = _asked_about(text, authors, titles, yes_no)
    if asked is not None:
        return asked
    if _READ_NEXT.search(folded):
        return Understanding(Intent.READ_NEXT)
    if period is not None:
        return Understanding(Intent.PERIOD, period=period)
    if _LAST.search(folded):
        return Understanding(Intent.LAST)
    return _guess(words, authors, titles, yes_no)


def _unsure(hits: list[TextMatch[int]], index: NameIndex[int]) -> tuple[str, ...]:
    """The names a misspelling is equally close to, when a corrected hit could mean more than one."""
    for hit in hits:
        if not hit.exact:
            checked = index.match(hit.text)
            if not checked.best and checked.did_you_mean:
                return tuple(checked.did_you_mean[:5])
    return ()


def _named(
    author_hits: list[TextMatch[int]], title_hits: list[TextMatch[int]], words: set[str], yes_no: bool
) -> Understanding | None:
    author_ids = {book_id for hit in author_hits for book_id in hit.ids}
    if title_hits:
        title = max(title_hits, key=lambda hit: (hit.exact, hit.end - hit.start, hit.score))
        same_book = bool(author_ids & set(title.ids))
        if not author_hits or same_book or words & _OPINION_WORDS:
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


def _asked_about(text: str, authors: NameIndex[int], titles: NameIndex[int], yes_no: bool) -> Understanding | None:
    """A question about a named author or book that the indexes did not find in the text: the closest match of
    the name when there is one, else the name as asked, so that the answer can say the club has none of it."""
    for pattern, intent in ((_ASKS_ABOUT_AUTHOR, Intent.AUTHOR), (_ASKS_ABOUT_BOOK, Intent.BOOK),
                            (_ASKS_ABOUT_EITHER, Intent.UNKNOWN)):
        found = pattern.search(text)
        if found is None:
            continue
        name = _NAME_TAIL.sub("", next(group for group in found.groups() if group)).strip(" \"'“”‘’*_")
        words = normalise(name).split()
        if not _fragments(words):
            continue
        guessed = _guess(words, authors, titles, yes_no)
        if guessed.intent is not Intent.UNKNOWN or guessed.did_you_mean:
            return guessed
        return Understanding(intent, names=(" ".join(name.split())[:MAX_ASKED_NAME],), yes_no=yes_no)
    return None


def _guess(words: list[str], authors: NameIndex[int], titles: NameIndex[int], yes_no: bool) -> Understanding:
    """A last try on the words that are not common English: one clear match, or names to offer."""
    offers: list[str] = []
    for fragment in _fragments(words):
        for index, intent in ((authors, Intent.AUTHOR), (titles, Intent.BOOK)):
            result = index.match(fragment)
            if result.best and len(result.names) == 1:
                return Understanding(intent, names=tuple(result.names), book_ids=tuple(result.best), yes_no=yes_no,
                                     heard_as=None if result.exact else fragment)
            offers.extend(result.names or result.did_you_mean)
    return Understanding(Intent.UNKNOWN, did_you_mean=tuple(dict.fromkeys(offers))[:5])


def _fragments(words: list[str]) -> list[str]:
    """Runs of words that are not common English, longest first: the likely names in a question."""
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


def _md(text: str) -> str:
    return escape_markdown(" ".join(text.split()))


def _bold(title: str) -> str:
    return f"**{_md(title)}**"


def titled(title: str, author: str) -> str:
    """"**Title** by Author" in markdown, or the bold title alone when the author is unknown (a nomination made
    while Open Library was away, say)."""
    return f"{_bold(title)} by {_md(author)}" if author.strip() else _bold(title)


def month_text(day: date) -> str:
    return f"{MONTHS[day.month - 1]} {day.year}"


def day_text(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _names(names: Sequence[str]) -> str:
    shown = [_md(name) for name in names]
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
    return [f"> {_md(quote_line(quote.text))}", f"> — {_md(quote.reviewer)}{stars}"]


def _heard_as(understanding: Understanding) -> list[str]:
    if not understanding.heard_as or not understanding.names:
        return []
    return [f"_(I read “{_md(understanding.heard_as)}” as {_names(understanding.names[:3])}.)_"]


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
        by = f" by {_md(book.author)}" if several_authors else ""
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
    by = f" by {_md(book.author)}" if book.author else ""
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
        reply.items.append("Liked it: " + ", ".join(f"{_md(o.member)} ({o.stars}★)" for o in liked[:MAX_NAMES]))
    elif opinions:
        reply.items.append("Nobody gave it more than 3★.")
    if cooler:
        reply.items.append("Less keen: " + ", ".join(f"{_md(o.member)} ({o.stars}★)" for o in cooler[:MAX_NAMES]))
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
        lines.append(f"The club's records have no book called “{_md(understanding.names[0])}”.")
    elif understanding.names:
        # "have we read X?", where X could be a title or an author.
        lines.append(f"The club's records have no book or author like “{_md(understanding.names[0])}”.")
    else:
        lines.append("I can't answer that from this server's club history.")
    lines.append("I can answer questions like: " + "; ".join(f"“{example}”" for example in EXAMPLES) + ".")
    return truncate("\n".join(lines), MESSAGE_LIMIT)
