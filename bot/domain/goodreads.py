"""The Goodreads library export CSV: reading the shelf `read` from it, and writing the club history in it."""

from __future__ import annotations

import contextlib
import csv
import html
import io
import re
from collections.abc import Iterable
from datetime import date
from typing import cast

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.domain.feeds import html_to_text
from bot.domain.names import author_key, title_key
from bot.domain.text import tidy_text

GOODREADS_COLUMNS: tuple[str, ...] = (
    "Book Id",
    "Title",
    "Author",
    "Author l-f",
    "Additional Authors",
    "ISBN",
    "ISBN13",
    "My Rating",
    "Average Rating",
    "Publisher",
    "Binding",
    "Number of Pages",
    "Year Published",
    "Original Publication Year",
    "Date Read",
    "Date Added",
    "Bookshelves",
    "Bookshelves with positions",
    "Exclusive Shelf",
    "My Review",
    "Spoiler",
    "Private Notes",
    "Read Count",
    "Owned Copies",
)
# Without these a file cannot be told apart from any other CSV; the rest are read when present.
REQUIRED_COLUMNS: tuple[str, ...] = ("Title", "Author", "Exclusive Shelf")

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
# Where a review's hidden part was, its open text says so.
SPOILER_MARK = "[spoiler]"

HOW_TO_EXPORT = (
    "Export it from Goodreads (My Books → Import and export → Export Library) and upload the "
    "goodreads_library_export.csv file as it is."
)

_DATE = re.compile(r"(\d{4})[/-](\d{1,2})[/-](\d{1,2})")
_ISBN_NOISE = re.compile(r"[=\"'\s-]")
# Goodreads marks a hidden part of a review with <spoiler>…</spoiler>; pages and feeds show it as
# "(view spoiler)[…(hide spoiler)]".
_SPOILER_TAG = re.compile(
    r"(?P<open><\s*spoiler\b[^>]*>|\(\s*view\s+spoiler\s*\)\s*\[)|(?P<close><\s*/\s*spoiler\s*>|\(\s*hide\s+spoiler\s*\)\s*\])",
    re.IGNORECASE,
)
_TRUE = frozenset({"true", "yes", "1"})
# Spreadsheets run a cell starting with one of these as a formula; an apostrophe in front defuses it.
_FORMULA_STARTS = ("=", "+", "-", "@")

# A long review must not make the whole file unreadable; Python's default cap is 128 KiB a field.
csv.field_size_limit(max(csv.field_size_limit(), MAX_BYTES))


class GoodreadsFormatError(ValueError):
    """The upload is not a Goodreads library export; the message says what was expected."""


def _tidy_line(text: str) -> str:
    return " ".join(tidy_text(text).split())


def _isbn13_from(text: str) -> str | None:
    """A valid ISBN-13 from Goodreads' `="9780307277671"` cell or an ISBN-10, else None."""
    digits = _ISBN_NOISE.sub("", text).upper()
    if len(digits) == 13 and digits.isdigit() and _isbn13_check_digit(digits[:12]) == digits[12]:
        return digits
    if len(digits) == 10 and digits[:9].isdigit() and _isbn10_is_valid(digits):
        body = "978" + digits[:9]
        return body + _isbn13_check_digit(body)
    return None


def _isbn13_check_digit(first_twelve: str) -> str:
    total = sum(int(digit) * (3 if position % 2 else 1) for position, digit in enumerate(first_twelve))
    return str((10 - total % 10) % 10)


def _isbn10_is_valid(digits: str) -> bool:
    last = 10 if digits[9] == "X" else int(digits[9]) if digits[9].isdigit() else -1
    if last < 0:
        return False
    total = sum(int(digit) * (10 - position) for position, digit in enumerate(digits[:9])) + last
    return total % 11 == 0


class ExportBook(BaseModel):
    """A book of the club history as the Goodreads columns can hold it.

    Text is tidied on the way in (single spaces in titles and names, plain review text), so
    what is written is exactly what is read back.
    """

    model_config = ConfigDict(frozen=True)

    title: str = Field(min_length=1)
    author: str = Field(min_length=1)
    additional_authors: list[str] = Field(default_factory=list)
    isbn13: str | None = None
    rating: int | None = Field(default=None, ge=1, le=5)
    date_read: date | None = None
    date_added: date | None = None
    year: int | None = Field(default=None, ge=-9999, le=9999)
    review: str | None = None
    goodreads_id: int | None = Field(default=None, ge=1)

    @field_validator("title", "author", mode="before")
    @classmethod
    def _single_line(cls, value: object) -> object:
        return _tidy_line(value) if isinstance(value, str) else value

    @field_validator("additional_authors", mode="before")
    @classmethod
    def _names(cls, value: object) -> object:
        if isinstance(value, list):
            # Goodreads separates names with commas, so a comma inside one name cannot survive.
            names = (_tidy_line(str(name).replace(",", " ")) for name in cast(list[object], value))
            return [name for name in names if name]
        return value

    @field_validator("isbn13", mode="before")
    @classmethod
    def _isbn(cls, value: object) -> object:
        if isinstance(value, str):
            if not value.strip():
                return None
            isbn = _isbn13_from(value)
            if isbn is None:
                raise ValueError(f"{value!r} is not a valid ISBN")
            return isbn
        return value

    @field_validator("review", mode="before")
    @classmethod
    def _review(cls, value: object) -> object:
        return (tidy_text(value) or None) if isinstance(value, str) else value


class GoodreadsBook(ExportBook):
    """One book of the shelf `read`, with the line of the file it started on.

    `review` is the review's open text only; what the reviewer hid (a `<spoiler>` part, or the whole review when
    its Spoiler flag is set) is in `spoilers` and is shown, like a member's spoilers, only behind spoiler tags.
    """

    line: int
    spoilers: str | None = None

    @field_validator("spoilers", mode="before")
    @classmethod
    def _spoilers(cls, value: object) -> object:
        return (tidy_text(value) or None) if isinstance(value, str) else value


class SkippedRow(BaseModel):
    """A row left out of the import, or kept with a problem: where, which book, and why."""

    model_config = ConfigDict(frozen=True)

    line: int
    title: str
    reason: str


class GoodreadsImport(BaseModel):
    """What an export holds for the club: the books read, the rows left out and the rows kept with a warning."""

    rows: list[GoodreadsBook] = Field(default_factory=list)
    skipped: list[SkippedRow] = Field(default_factory=list)
    warnings: list[SkippedRow] = Field(default_factory=list)


def _decode(data: bytes) -> str:
    if not data.strip():
        raise GoodreadsFormatError(f"The file is empty. {HOW_TO_EXPORT}")
    if len(data) > MAX_BYTES:
        raise GoodreadsFormatError(
            f"The file is {len(data) / 1024 / 1024:.1f} MB; the limit is {MAX_BYTES // 1024 // 1024} MB."
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise GoodreadsFormatError(
            f"This file is UTF-16 text; Goodreads writes UTF-8, so a spreadsheet has re-saved it. {HOW_TO_EXPORT}"
        )
    if b"\x00" in data:
        raise GoodreadsFormatError(f"This is not a CSV file (it holds binary data). {HOW_TO_EXPORT}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise GoodreadsFormatError(
            f"This file is not UTF-8 text, as Goodreads writes it; perhaps a spreadsheet re-saved it. {HOW_TO_EXPORT}"
        ) from None


def _check_header(header: list[str]) -> dict[str, int]:
    names = [name.strip() for name in header]
    missing = [column for column in REQUIRED_COLUMNS if column not in names]
    if missing:
        hint = ""
        if len(names) == 1 and ";" in names[0]:
            hint = " Its columns are separated by “;”, so a spreadsheet has re-saved it."
        raise GoodreadsFormatError(
            "This is not a Goodreads library export: it lacks the column"
            f"{'s' if len(missing) > 1 else ''} {', '.join(missing)}.{hint} Expected a CSV whose first line is "
            f"“{','.join(GOODREADS_COLUMNS[:4])},…”. {HOW_TO_EXPORT}"
        )
    return {name: position for position, name in reversed(list(enumerate(names)))}


def _parse_date(text: str) -> date:
    found = _DATE.fullmatch(text.strip())
    if found is None:
        raise ValueError(text)
    return date(int(found.group(1)), int(found.group(2)), int(found.group(3)))


def _parse_year(*candidates: str) -> int | None:
    for candidate in candidates:
        text = candidate.strip()
        if re.fullmatch(r"-?\d{1,4}", text):
            return int(text)
    return None


def _name_from_last_first(text: str) -> str:
    last, _, first = text.partition(",")
    return _tidy_line(f"{first} {last}")


def _defused(cell: str) -> str:
    # Apostrophes already in front get one more, so reading back removes exactly the one added here.
    return "'" + cell if cell.lstrip("'").startswith(_FORMULA_STARTS) else cell


def _undefused(cell: str) -> str:
    return cell[1:] if cell.startswith("'") and cell.lstrip("'").startswith(_FORMULA_STARTS) else cell


class _Row:
    """One CSV record, read by column name whatever the column order."""

    def __init__(self, cells: list[str], columns: dict[str, int]) -> None:
        self._cells = cells
        self._columns = columns

    def __getitem__(self, column: str) -> str:
        position = self._columns.get(column)
        return _undefused(self._cells[position]) if position is not None and position < len(self._cells) else ""


def parse_export(data: bytes, *, today: date | None = None) -> GoodreadsImport:
    """The books on the shelf `read` of a Goodreads library export, plus what was left out and why.

    A row read after `today` (the club's today) is left out, as `/club add` refuses a finishing day in the
    future. Raises GoodreadsFormatError, with a message for the uploader, when the bytes are not such an export
    (empty, binary, not UTF-8, other columns, too big).
    """
    text = _decode(data)
    # Strict: an unclosed quote means a cut-off file, which must not swallow the rows after it unseen.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise GoodreadsFormatError(f"The file is empty. {HOW_TO_EXPORT}")
        columns = _check_header(header)
        result = GoodreadsImport()
        seen: dict[tuple[str, str], int] = {}
        seen_ids: dict[int, int] = {}
        records = 0
        line = reader.line_num + 1
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            records += 1
            if records > MAX_ROWS:
                raise GoodreadsFormatError(
                    f"The file has more than {MAX_ROWS:,} books; split it or remove the shelves the club did not read."
                )
            _read_row(_Row(cells, columns), start, result, seen, seen_ids, today)
    except csv.Error as error:
        raise GoodreadsFormatError(
            f"The CSV is malformed near line {reader.line_num}: {error}. {HOW_TO_EXPORT}"
        ) from None
    return result


def split_spoilers(review_html: str) -> tuple[str, str]:
    """A Goodreads review's HTML as (open text, hidden text), both plain.

    The open text marks each hidden part with SPOILER_MARK. A spoiler left open hides the rest of the review, and a
    stray closing tag is dropped, so no part meant to be hidden ever lands in the open text.
    """
    shown: list[str] = []
    hidden: list[str] = []
    marks: set[int] = set()
    depth = 0
    position = 0
    for tag in _SPOILER_TAG.finditer(review_html):
        (hidden if depth else shown).append(review_html[position:tag.start()])
        position = tag.end()
        if tag.group("open"):
            if depth == 0:
                marks.add(len(shown))
                shown.append(f" {SPOILER_MARK} ")
                hidden.append("<br/>")
            depth += 1
        elif depth:
            depth -= 1
    (hidden if depth else shown).append(review_html[position:])
    # Marks alone are no open text: a review that is all spoiler has nothing to quote.
    if not html_to_text("".join(part for index, part in enumerate(shown) if index not in marks)):
        return "", html_to_text("".join(hidden))
    return html_to_text("".join(shown)), html_to_text("".join(hidden))


def _read_row(
    row: _Row, line: int, result: GoodreadsImport, seen: dict[tuple[str, str], int], seen_ids: dict[int, int],
    today: date | None,
) -> None:
    title = _tidy_line(row["Title"])
    author = _tidy_line(row["Author"]) or _name_from_last_first(row["Author l-f"])
    shelf = row["Exclusive Shelf"].strip()
    label = title or "(no title)"
    if shelf != "read":
        result.skipped.append(SkippedRow(line=line, title=label, reason=f"shelf {shelf or '(none)'}"))
        return
    if not title:
        result.skipped.append(SkippedRow(line=line, title=label, reason="no title"))
        return
    if not author:
        result.skipped.append(SkippedRow(line=line, title=label, reason="no author"))
        return
    book_id = row["Book Id"].strip()
    goodreads_id = int(book_id) if re.fullmatch(r"0*[1-9][0-9]{0,17}", book_id) else None
    key = (title_key(title), author_key(author))
    earlier = seen.get(key) or (seen_ids.get(goodreads_id) if goodreads_id is not None else None)
    if earlier is not None:
        result.skipped.append(SkippedRow(line=line, title=title, reason=f"duplicate of line {earlier}"))
        return
    raw_read = row["Date Read"].strip()
    with contextlib.suppress(ValueError):
        if raw_read and today is not None and _parse_date(raw_read) > today:
            result.skipped.append(SkippedRow(line=line, title=title, reason=f"date read {raw_read} is in the future"))
            return
    seen[key] = line
    if goodreads_id is not None:
        seen_ids[goodreads_id] = line

    def warn(reason: str) -> None:
        result.warnings.append(SkippedRow(line=line, title=title, reason=reason))

    dates: dict[str, date | None] = {}
    for column in ("Date Read", "Date Added"):
        raw = row[column].strip()
        try:
            dates[column] = _parse_date(raw) if raw else None
        except ValueError:
            dates[column] = None
            warn(f"{column.lower()} “{raw}” is not a date like 2019/05/14; kept without it")
    rating: int | None = None
    raw_rating = row["My Rating"].strip()
    if raw_rating:
        try:
            stars = float(raw_rating)
        except ValueError:
            stars = -1.0
        if stars in (0, 1, 2, 3, 4, 5):
            rating = int(stars) or None
        else:
            warn(f"rating “{raw_rating}” is not 0 to 5; kept without it")
    # Goodreads marks line breaks with <br/>; a bare newline (a hand-edited file) means one too.
    review_html = row["My Review"].replace("\n", "<br/>")
    review, spoilers = split_spoilers(review_html)
    if row["Spoiler"].strip().lower() in _TRUE:
        # The reviewer flagged the whole review: none of it is shown openly.
        review, spoilers = "", html_to_text(_SPOILER_TAG.sub(" ", review_html))
    result.rows.append(
        GoodreadsBook(
            line=line,
            title=title,
            author=author,
            additional_authors=row["Additional Authors"].split(","),
            isbn13=_isbn13_from(row["ISBN13"]) or _isbn13_from(row["ISBN"]),
            rating=rating,
            date_read=dates["Date Read"],
            date_added=dates["Date Added"],
            year=_parse_year(row["Original Publication Year"], row["Year Published"]),
            review=review or None,
            spoilers=spoilers or None,
            goodreads_id=goodreads_id,
        )
    )


def _goodreads_date(value: date | None) -> str:
    return value.strftime("%Y/%m/%d") if value else ""


def _last_first(name: str) -> str:
    words = name.split()
    return f"{words[-1]}, {' '.join(words[:-1])}" if len(words) > 1 else name


def _isbn10_of(isbn13: str | None) -> str | None:
    if isbn13 is None or not isbn13.startswith("978"):
        return None
    body = isbn13[3:12]
    check = (11 - sum(int(digit) * (10 - position) for position, digit in enumerate(body)) % 11) % 11
    return body + ("X" if check == 10 else str(check))


def export_files(books: Iterable[ExportBook]) -> list[bytes]:
    """The books as a Goodreads library export (shelf `read`), which Goodreads and `parse_export` read back: one
    file, or several when one would be more than `/club import` takes.

    Every file holds at most MAX_ROWS books in at most MAX_BYTES, so each imports back as it is.
    """
    files: list[bytes] = []
    lines: list[bytes] = []
    size = len(_HEADER_LINE)
    for book in books:
        line = _export_line(book)
        if lines and (len(lines) == MAX_ROWS or size + len(line) > MAX_BYTES):
            files.append(_HEADER_LINE + b"".join(lines))
            lines, size = [], len(_HEADER_LINE)
        lines.append(line)
        size += len(line)
    if lines or not files:
        files.append(_HEADER_LINE + b"".join(lines))
    return files


def _csv_line(cells: Iterable[object]) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue().encode("utf-8")


_HEADER_LINE = _csv_line(GOODREADS_COLUMNS)


def _export_line(book: ExportBook) -> bytes:
    review = html.escape(book.review, quote=False).replace("\n", "<br/>") if book.review else ""
    year = "" if book.year is None else str(book.year)
    return _csv_line(
        (
            book.goodreads_id or "",
            _defused(book.title),
            _defused(book.author),
            _defused(_last_first(book.author)),
            _defused(", ".join(book.additional_authors)),
            f'="{_isbn10_of(book.isbn13) or ""}"',
            f'="{book.isbn13 or ""}"',
            book.rating or 0,
            "",
            "",
            "",
            "",
            year,
            year,
            _goodreads_date(book.date_read),
            _goodreads_date(book.date_added),
            "",
            "",
            "read",
            _defused(review),
            "",
            "",
            1,
            0,
        )
    )
