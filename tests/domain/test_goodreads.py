"""`/club import` and `/club export`: the Goodreads library export, read and written."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.goodreads import (
    GOODREADS_COLUMNS,
    MAX_BYTES,
    MAX_ROWS,
    ExportBook,
    GoodreadsFormatError,
    SkippedRow,
    export_files,
    parse_export,
    split_spoilers,
)
from bot.domain.text import tidy_text

SAMPLE = Path(__file__).parent.parent / "data" / "goodreads_library_export.csv"
HEADER = ",".join(GOODREADS_COLUMNS)


def one_file(books: Sequence[ExportBook]) -> bytes:
    """The export of a few books, which fits one file."""
    [data] = export_files(books)
    return data


def _row(**cells: str) -> str:
    """A CSV line in Goodreads' column order; unnamed cells are empty, the shelf defaults to `read`."""
    values = {"Exclusive Shelf": "read", **{key.replace("_", " "): value for key, value in cells.items()}}
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([values.get(column, "") for column in GOODREADS_COLUMNS])
    return buffer.getvalue()


def _file(*rows: str) -> bytes:
    return (HEADER + "\n" + "".join(rows)).encode("utf-8")


# -- the real format ------------------------------------------------------------------------------


def test_sample_export_keeps_the_read_shelf_only() -> None:
    imported = parse_export(SAMPLE.read_bytes())
    assert [book.title for book in imported.rows] == [
        "Klara and the Sun",
        "Never Let Me Go",
        "The Remains of the Day",
        "Jane Eyre",
        "Wuthering Heights",
        "The Fellowship of the Ring (The Lord of the Rings, #1)",
        "One Hundred Years of Solitude",
        "Beloved",
        "Sapiens: A Brief History of Humankind",
    ]
    assert imported.skipped == [
        SkippedRow(line=9, title="Piranesi", reason="shelf currently-reading"),
        SkippedRow(line=10, title="Hamnet", reason="shelf to-read"),
        SkippedRow(line=11, title="Middlemarch", reason="shelf to-read"),
    ]
    assert imported.warnings == []


def test_sample_export_fields() -> None:
    books = {book.title: book for book in parse_export(SAMPLE.read_bytes()).rows}
    klara = books["Klara and the Sun"]
    assert klara.author == "Kazuo Ishiguro"
    assert klara.goodreads_id == 54120408
    assert klara.isbn13 == "9780593318171"
    assert klara.rating == 4
    assert klara.date_read == date(2021, 5, 2)
    assert klara.date_added == date(2021, 3, 10)
    assert klara.year == 2021
    assert klara.line == 2

    assert books["The Remains of the Day"].rating is None  # 0 stars means "not rated"
    assert books["The Remains of the Day"].review is None
    assert books["Wuthering Heights"].date_read is None
    assert books["Wuthering Heights"].author == "Emily Brontë"
    assert books["Jane Eyre"].additional_authors == ["Michael Mason"]
    assert books["Jane Eyre"].year == 1847  # the original publication, not this edition's
    assert books["Beloved"].isbn13 is None  # Goodreads wrote ="" for it
    assert books["One Hundred Years of Solitude"].author == "Gabriel García Márquez"


def test_review_markup_becomes_plain_text() -> None:
    books = {book.title: book for book in parse_export(SAMPLE.read_bytes()).rows}
    assert books["Klara and the Sun"].review == (
        "Klara notices everything, and understands so little of it - which is the point.\n\n"
        'Ishiguro lets her call the sun "He", and somehow, by the end, I did too. A quieter, gentler cousin of '
        "Never Let Me Go; slower, but it stays with you.\n"
        '4 stars, "not 5", because the middle drags.'
    )
    assert books["One Hundred Years of Solitude"].review is not None
    assert books["One Hundred Years of Solitude"].review.startswith("Macondo & the Buendías:")


def test_spoiler_parts_of_a_review_are_kept_apart_from_its_open_text() -> None:
    review = ("Quietly devastating.<br/><spoiler>Ruth and Tommy complete.</spoiler> Read it slowly. "
              "(view spoiler)[Kathy drives on (hide spoiler)] Five stars.")
    [book] = parse_export(_file(_row(Title="Never Let Me Go", Author="Kazuo Ishiguro", My_Review=review))).rows
    assert book.review == "Quietly devastating.\n[spoiler] Read it slowly. [spoiler] Five stars."
    assert book.spoilers == "Ruth and Tommy complete.\nKathy drives on"


@pytest.mark.parametrize(
    ("review", "shown", "hidden"),
    [
        ("Fine. <SPOILER>the end</Spoiler>", "Fine. [spoiler]", "the end"),
        ("Fine. <spoiler>never closed, all of it hidden", "Fine. [spoiler]", "never closed, all of it hidden"),
        ("a <spoiler>b <spoiler>c</spoiler> d</spoiler> e", "a [spoiler] e", "b c d"),
        ("stray close</spoiler> stays open", "stray close stays open", ""),
        ("<spoiler>only a spoiler</spoiler>", "", "only a spoiler"),
        ("[spoiler] typed by the reviewer", "[spoiler] typed by the reviewer", ""),
    ],
)
def test_spoiler_markup_never_leaks_into_the_open_text(review: str, shown: str, hidden: str) -> None:
    assert split_spoilers(review) == (shown, hidden)


def test_a_review_flagged_as_a_spoiler_is_hidden_whole() -> None:
    [book] = parse_export(_file(_row(Title="The Remains of the Day", Author="Kazuo Ishiguro", Spoiler="true",
                                     My_Review="Stevens reads the <b>letter</b>.<spoiler>He stays.</spoiler>"))).rows
    assert book.review is None
    assert book.spoilers == "Stevens reads the letter. He stays."
    [unflagged] = parse_export(_file(_row(Title="Beloved", Author="Toni Morrison", Spoiler="false",
                                          My_Review="Haunting."))).rows
    assert (unflagged.review, unflagged.spoilers) == ("Haunting.", None)


_words = st.text(alphabet="abcdefghij ", min_size=1, max_size=30)


@settings(deadline=None, max_examples=150)
@given(st.lists(st.tuples(_words, st.sampled_from(["<spoiler>", "(view spoiler)[", "<Spoiler >"]),
                          st.sampled_from(["</spoiler>", "(hide spoiler)]", ""])), max_size=4), _words)
def test_property_no_hidden_word_reaches_the_open_text(parts: list[tuple[str, str, str]], tail: str) -> None:
    review = "".join(f"{open_text} {opening}SECRET{number}{closing} " for number, (open_text, opening, closing)
                     in enumerate(parts)) + tail
    shown, hidden = split_spoilers(review)
    assert "SECRET" not in shown
    assert all(f"SECRET{number}" in hidden for number in range(len(parts)))


def test_a_date_read_after_today_is_skipped_with_the_reason() -> None:
    data = _file(
        _row(Title="Piranesi", Author="Susanna Clarke", Date_Read="2026/03/03"),
        _row(Title="Hamnet", Author="Maggie O'Farrell", Date_Read="2026/03/02"),
        _row(Title="Piranesi", Author="Susanna Clarke", Date_Read="2026/02/01"),
    )
    imported = parse_export(data, today=date(2026, 3, 2))
    assert [(book.title, book.date_read) for book in imported.rows] == [
        ("Hamnet", date(2026, 3, 2)), ("Piranesi", date(2026, 2, 1)),
    ]
    assert imported.skipped == [SkippedRow(line=2, title="Piranesi", reason="date read 2026/03/03 is in the future")]


def test_byte_order_mark_and_windows_line_endings() -> None:
    data = b"\xef\xbb\xbf" + SAMPLE.read_bytes().replace(b"\n", b"\r\n")
    assert parse_export(data) == parse_export(SAMPLE.read_bytes())


def test_isbn10_is_used_when_isbn13_is_missing() -> None:
    imported = parse_export(_file(_row(Title="Dune", Author="Frank Herbert", ISBN='="0441013597"', ISBN13='=""')))
    assert imported.rows[0].isbn13 == "9780441013593"


def test_invalid_isbn_is_dropped_quietly() -> None:
    imported = parse_export(_file(_row(Title="Dune", Author="Frank Herbert", ISBN13='="9780441013590"')))
    assert imported.rows[0].isbn13 is None


@pytest.mark.parametrize("book_id", ["", "abc", "0", "-5", "²", "12.5"])
def test_odd_book_ids_are_left_out(book_id: str) -> None:
    [book] = parse_export(_file(_row(Book_Id=book_id, Title="Dune", Author="Frank Herbert"))).rows
    assert book.goodreads_id is None


def test_columns_may_come_in_another_order_and_extra_ones_are_ignored() -> None:
    data = b"Exclusive Shelf,Author,Title,Recommended For\nread,Toni Morrison,Beloved,Everyone\n"
    [book] = parse_export(data).rows
    assert (book.title, book.author, book.rating, book.goodreads_id) == ("Beloved", "Toni Morrison", None, None)


def test_author_is_taken_from_last_first_when_author_is_blank() -> None:
    [book] = parse_export(_file(_row(**{"Title": "Beloved", "Author l-f": "Morrison, Toni"}))).rows
    assert book.author == "Toni Morrison"


# -- rows left out or kept with a warning ---------------------------------------------------------


def test_rows_without_title_or_author_are_skipped_with_the_reason() -> None:
    imported = parse_export(_file(_row(Title="", Author="Somebody"), _row(Title="Orphan Book", Author="")))
    assert imported.rows == []
    assert imported.skipped == [
        SkippedRow(line=2, title="(no title)", reason="no title"),
        SkippedRow(line=3, title="Orphan Book", reason="no author"),
    ]


def test_duplicates_within_the_file_are_skipped() -> None:
    imported = parse_export(
        _file(
            _row(Book_Id="1", Title="Never Let Me Go", Author="Kazuo Ishiguro"),
            _row(Book_Id="2", Title="never let me go", Author="Ishiguro, Kazuo"),
            _row(Book_Id="1", Title="Never Let Me Go (Vintage edition)", Author="K. Ishiguro"),
        )
    )
    assert [book.line for book in imported.rows] == [2]
    assert imported.skipped == [
        SkippedRow(line=3, title="never let me go", reason="duplicate of line 2"),
        SkippedRow(line=4, title="Never Let Me Go (Vintage edition)", reason="duplicate of line 2"),
    ]


def test_bad_dates_and_ratings_are_kept_with_a_warning() -> None:
    imported = parse_export(
        _file(
            _row(
                Title="Beloved", Author="Toni Morrison", Date_Read="14/05/2019", Date_Added="2019/02/30", My_Rating="7"
            )
        )
    )
    [book] = imported.rows
    assert (book.date_read, book.date_added, book.rating) == (None, None, None)
    assert [warning.reason for warning in imported.warnings] == [
        "date read “14/05/2019” is not a date like 2019/05/14; kept without it",
        "date added “2019/02/30” is not a date like 2019/05/14; kept without it",
        "rating “7” is not 0 to 5; kept without it",
    ]
    assert {warning.line for warning in imported.warnings} == {2}


def test_line_numbers_count_newlines_inside_reviews() -> None:
    imported = parse_export(
        _file(
            _row(Title="Beloved", Author="Toni Morrison", My_Review="one\ntwo\nthree"),
            _row(Title="Hamnet", Author="Maggie O'Farrell", Exclusive_Shelf="to-read"),
        )
    )
    assert imported.rows[0].review == "one\ntwo\nthree"
    assert imported.skipped == [SkippedRow(line=5, title="Hamnet", reason="shelf to-read")]


def test_blank_lines_are_ignored_and_header_only_is_an_empty_import() -> None:
    assert parse_export(_file("\n", "\n")).rows == []
    assert parse_export(HEADER.encode()).rows == []


# -- not an export at all -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "empty"),
        (b"  \n\r\n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        ("Title,Author,Exclusive Shelf\nCafé,Zoë,read\n".encode("latin-1"), "not UTF-8"),
        ("Title,Author,Exclusive Shelf\nCafé,Zoë,read\n".encode("utf-16"), "UTF-16"),
        (b"name,email\nAda,ada@example.com\n", "lacks the columns Title, Author, Exclusive Shelf"),
        (b"Title,Authors,ISBN/UID,Read Status\nBeloved,Toni Morrison,,read\n", "lacks the columns Author, Exclusive"),
        (b"Book Id;Title;Author;Exclusive Shelf\n1;Beloved;Toni Morrison;read\n", "separated by “;”"),
        (b"just some text\nwith lines", "not a Goodreads library export"),
        (b'Title,Author,Exclusive Shelf\n"Beloved,Toni Morrison,read', "malformed"),
    ],
)
def test_garbage_is_refused_with_what_was_expected(data: bytes, says: str) -> None:
    with pytest.raises(GoodreadsFormatError, match="Export Library") as excinfo:
        parse_export(data)
    assert says in str(excinfo.value)


def test_files_over_five_megabytes_are_refused() -> None:
    data = _file(_row(Title="Big", Author="Writer", My_Review="x" * (MAX_BYTES + 1)))
    with pytest.raises(GoodreadsFormatError, match="the limit is 5 MB"):
        parse_export(data)


def test_more_than_twenty_thousand_rows_are_refused() -> None:
    data = _file(*(f"{n},Book {n},Writer,,,,,0\n" for n in range(MAX_ROWS + 1)))
    assert len(data) < MAX_BYTES
    with pytest.raises(GoodreadsFormatError, match="more than 20,000 books"):
        parse_export(data)


def test_a_long_review_is_not_a_malformed_file() -> None:
    [book] = parse_export(_file(_row(Title="Long", Author="Writer", My_Review="word " * 40_000))).rows
    assert book.review is not None
    assert len(book.review) > 131_072


# -- export ---------------------------------------------------------------------------------------


def test_export_writes_goodreads_columns_and_cells() -> None:
    book = ExportBook(
        title="Never Let Me Go",
        author="Kazuo Ishiguro",
        isbn13="978-1-4000-7877-6",
        rating=5,
        date_read=date(2019, 5, 14),
        date_added=date(2019, 4, 1),
        year=2005,
        review='Sad, "quiet"\nand <perfect>',
        goodreads_id=6334,
    )
    lines = one_file([book]).decode().splitlines()
    assert lines[0] == HEADER
    [cells] = list(csv.reader(lines[1:]))
    written = dict(zip(GOODREADS_COLUMNS, cells, strict=True))
    assert written["Author l-f"] == "Ishiguro, Kazuo"
    assert written["ISBN"] == '="1400078776"'
    assert written["ISBN13"] == '="9781400078776"'
    assert written["Date Read"] == "2019/05/14"
    assert written["Exclusive Shelf"] == "read"
    assert written["My Review"] == 'Sad, "quiet"<br/>and &lt;perfect&gt;'
    assert '"=""9781400078776"""' in lines[1]


def test_an_export_past_the_import_limit_comes_in_files_that_each_import_back() -> None:
    books = [ExportBook(title=f"Book {number}", author="A. Writer", date_read=date(2020, 1, 1))
             for number in range(MAX_ROWS + 7)]
    files = export_files(books)
    assert len(files) == 2 and all(len(data) <= MAX_BYTES for data in files)
    titles = [book.title for data in files for book in parse_export(data).rows]
    assert titles == [book.title for book in books]


def test_an_export_of_long_rows_is_cut_by_size_as_well() -> None:
    long_title = "W" * 250_000
    books = [ExportBook(title=f"{long_title} {number}", author="A. Writer") for number in range(40)]
    files = export_files(books)
    assert len(files) > 1 and all(len(data) <= MAX_BYTES for data in files)
    assert sum(len(parse_export(data).rows) for data in files) == 40


def test_export_of_nothing_is_just_the_header() -> None:
    assert one_file([]) == (HEADER + "\n").encode()


def test_sample_round_trips_through_export() -> None:
    books = parse_export(SAMPLE.read_bytes()).rows
    again = parse_export(one_file(books)).rows
    assert [ExportBook.model_validate(book.model_dump(exclude={"line"})) for book in again] == [
        ExportBook.model_validate(book.model_dump(exclude={"line"})) for book in books
    ]


def test_exported_cells_never_start_a_spreadsheet_formula() -> None:
    book = ExportBook(title='=HYPERLINK("http://x")', author="@mention", review="-1 star", additional_authors=["+x"])
    data = one_file([book])
    for cells in list(csv.reader(io.StringIO(data.decode())))[1:]:
        assert not any(cell.startswith(("=H", "@", "-", "+")) for cell in cells)
    [back] = parse_export(data).rows
    assert (back.title, back.author, back.review, back.additional_authors) == (
        '=HYPERLINK("http://x")',
        "@mention",
        "-1 star",
        ["+x"],
    )


def test_export_book_validates_what_goes_in() -> None:
    with pytest.raises(ValueError, match="ISBN"):
        ExportBook(title="T", author="A", isbn13="12345")
    with pytest.raises(ValueError, match="less than or equal to 5"):
        ExportBook(title="T", author="A", rating=6)
    with pytest.raises(ValueError, match="at least 1 character"):
        ExportBook(title="   ", author="A")


_line_text = st.text(
    alphabet=st.one_of(st.characters(codec="utf-8"), st.sampled_from(",\"'\n\r;=<>&@+-é’ß")), max_size=40
).filter(lambda text: bool(tidy_text(text).split()))
_books = st.builds(
    ExportBook,
    title=_line_text,
    author=_line_text,
    additional_authors=st.lists(_line_text, max_size=3),
    isbn13=st.none() | st.sampled_from(["9780593318171", "9791032305690", "9781400078776"]),
    rating=st.none() | st.integers(min_value=1, max_value=5),
    date_read=st.none() | st.dates(min_value=date(1900, 1, 1)),
    date_added=st.none() | st.dates(min_value=date(1900, 1, 1)),
    year=st.none() | st.integers(min_value=-800, max_value=2100),
    review=st.none() | st.text(alphabet=st.characters(codec="utf-8"), max_size=200),
    goodreads_id=st.none() | st.integers(min_value=1, max_value=10**9),
)


@settings(deadline=None, max_examples=150)
@given(st.lists(_books, max_size=6, unique_by=lambda book: book.title.casefold()))
def test_property_export_then_import_round_trips(books: list[ExportBook]) -> None:
    imported = parse_export(one_file(books))
    kept = [ExportBook.model_validate(book.model_dump(exclude={"line"})) for book in imported.rows]
    # Rows the importer recognises as the same book are reported as duplicates, never lost.
    assert len(kept) + len(imported.skipped) == len(books)
    assert all(skipped.reason.startswith("duplicate of line") for skipped in imported.skipped)
    assert all(book in books for book in kept)
    assert imported.warnings == []


@settings(deadline=None, max_examples=200)
@given(st.binary(max_size=300))
def test_property_any_bytes_import_or_fail_with_a_format_error(data: bytes) -> None:
    try:
        parse_export(data)
    except GoodreadsFormatError as error:
        assert str(error)
