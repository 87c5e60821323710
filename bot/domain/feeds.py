"""Pure helpers for the club blog's feeds: HTML to plain text, and which book a post title is about."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from bot.domain.names import STOP_WORDS
from bot.domain.text import clean_line, tidy_text, truncate

# Tags whose content is never text a reader sees.
_HIDDEN = frozenset({"script", "style", "noscript", "template", "head", "title", "svg", "iframe", "object"})
_PARAGRAPHS = frozenset(
    {
        "p", "div", "section", "article", "header", "footer", "aside", "blockquote", "pre", "figure", "figcaption",
        "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "table", "hr", "main", "nav", "form",
    }
)  # fmt: skip
_LINES = frozenset({"br", "li", "dt", "dd", "tr"})
_SPACES = re.compile(r"\s+")


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden_depth = 0
        self._pre_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden_depth += 1
        elif tag in _PARAGRAPHS:
            self.parts.append("\n\n")
            if tag == "pre":
                self._pre_depth += 1
        elif tag in _LINES:
            self.parts.append("\n• " if tag == "li" else "\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _PARAGRAPHS or tag in _LINES:
            self.parts.append("\n\n" if tag in _PARAGRAPHS else "\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden_depth = max(0, self._hidden_depth - 1)
        elif tag in _PARAGRAPHS:
            self.parts.append("\n\n")
            if tag == "pre":
                self._pre_depth = max(0, self._pre_depth - 1)

    def handle_data(self, data: str) -> None:
        if self._hidden_depth:
            return
        # Outside <pre>, line breaks in the source are just spaces; only tags make new lines.
        self.parts.append(data if self._pre_depth else _SPACES.sub(" ", data))


def html_to_text(html: str, limit: int | None = None) -> str:
    """Readable plain text from an HTML fragment: paragraphs and <br> become new lines, entities decoded,
    scripts and styles dropped, whitespace tidied, and cut on a word boundary with "…" past `limit` characters.
    """
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    text = tidy_text("".join(collector.parts))
    return truncate(text, limit) if limit is not None else text


@dataclass(frozen=True)
class BookGuess:
    """The book a blog post seems to be about; the author is None when only the title is given."""

    title: str
    author: str | None


# Straight single quotes are left out: they are apostrophes far more often ("Ender's Game").
_QUOTED = re.compile(r"[“\"«‘]\s*(?P<title>[^“”\"«»‘’]+?)\s*[”\"»’]")
_REVIEW_PREFIX = re.compile(
    r"^\W*(?:(?:mini|arc|short|quick|book|audiobook|spoiler[- ]free)[\s-]*)?"
    r"(?:re-?view|re-?read|reading|finished|just read)s?\s*[:|–—-]\s*",
    re.IGNORECASE,
)
_NOISE_SUFFIX = re.compile(
    r"\s*(?:[(\[][^()\[\]]*(?:review|spoiler|thoughts|recap|rating|stars?)[^()\[\]]*[)\]]"
    r"|[:|–—-]\s*(?:a\s+|my\s+|book\s+|spoiler[- ]free\s+)*(?:review|thoughts|recap)\b.*)\s*$",
    re.IGNORECASE,
)
_BY = re.compile(r",?\s+by\s+", re.IGNORECASE)
_DASH = re.compile(r"\s+[–—-]\s+|\s*[|]\s*")
_AUTHOR_END = re.compile(r"\s*(?:[:|(\[,;]|\s[–—-]\s).*$")
_PARTICLES = frozenset(
    {"de", "van", "von", "der", "den", "le", "la", "du", "da", "di", "del", "bin", "ibn", "al", "st"}
)
_INITIALS = re.compile(r"^(?:[A-Z]\.){1,3}$|^[A-Z]$")
_MINOR_WORDS = frozenset({"a", "an", "the", "and", "or", "of", "in", "on", "to", "for", "at", "by", "with", "from"})


def _looks_like_a_person(text: str) -> bool:
    words = text.split()
    if not 2 <= len(words) <= 5:
        return False
    for word in words:
        bare = word.strip(".,")
        if not bare or any(char.isdigit() for char in bare):
            return False
        if bare.casefold() in _PARTICLES or _INITIALS.match(word):
            continue
        if bare.casefold() in STOP_WORDS:
            return False
        # "McCarthy", "O'Connor", "deGrasse": some capital letter is needed, not necessarily the first.
        if not (bare[0].isupper() or any(char.isupper() for char in bare[1:])):
            return False
    return True


def _looks_like_a_title(text: str) -> bool:
    return 0 < len(text) <= 200 and any(char.isalpha() for char in text)


def _is_title_case(text: str) -> bool:
    """Whether most words that matter are capitalised, as in a title rather than a sentence."""
    words = [word for word in re.findall(r"[^\W\d_][\w'’-]*", text) if word.casefold() not in _MINOR_WORDS]
    if not words:
        return False
    capitalised = sum(1 for word in words if word[0].isupper())
    return capitalised * 3 >= len(words) * 2


def _clean_title(text: str) -> str:
    return text.strip().strip("“”\"«»‘’'").strip(" ,;:–—-").strip()


def _drop_lead_in(title_side: str) -> str:
    """Drop a sentence before a colon ("A dystopian story about fate: Never Let Me Go"), keep a real subtitle."""
    if ":" not in title_side:
        return title_side
    before, after = title_side.rsplit(":", 1)
    if after.strip() and not _is_title_case(before):
        return after
    return title_side


def guess_book(title: str) -> BookGuess | None:
    """Recognise the book in a blog post title, or None when the title names no book.

    Understands "Title by Author", "Review: Title by Author", "“Title” by Author",
    "Title – Author", a lead-in sentence before a colon and a trailing "(book review)".
    """
    text = clean_line(title)
    is_review = bool(_REVIEW_PREFIX.match(text)) or bool(_NOISE_SUFFIX.search(text))
    text = _REVIEW_PREFIX.sub("", text)
    while (shorter := _NOISE_SUFFIX.sub("", text)) != text:
        text = shorter
    if not text:
        return None

    quoted = _QUOTED.search(text)
    if quoted and _looks_like_a_title(quoted.group("title")):
        after = text[quoted.end() :]
        by = _BY.match(after)
        author = _AUTHOR_END.sub("", after[by.end() :]).strip(" .") if by else ""
        return BookGuess(
            title=_clean_title(quoted.group("title")),
            author=author if author and _looks_like_a_person(author) else None,
        )

    # The last " by " whose right side is a person: "Death by Black Hole by Neil deGrasse Tyson".
    for separator in reversed(list(_BY.finditer(text))):
        author = _AUTHOR_END.sub("", text[separator.end() :]).strip(" .")
        book = _clean_title(_drop_lead_in(text[: separator.start()]))
        if _looks_like_a_person(author) and _looks_like_a_title(book):
            return BookGuess(title=book, author=author)

    parts = _DASH.split(text)
    if len(parts) == 2:
        book, author = _clean_title(_drop_lead_in(parts[0])), parts[1].strip(" .")
        if _looks_like_a_person(author) and _looks_like_a_title(book) and _is_title_case(book):
            return BookGuess(title=book, author=author)

    if is_review:
        book = _clean_title(_drop_lead_in(text))
        if _looks_like_a_title(book) and _is_title_case(book):
            return BookGuess(title=book, author=None)
    return None
