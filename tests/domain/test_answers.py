"""Offline answers: what a member's question asks, and replies that state the club's facts within Discord's limit."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.answers import (
    MESSAGE_LIMIT,
    BookFacts,
    CatalogueTitle,
    Intent,
    Opinion,
    Period,
    Quote,
    Ranking,
    ReadingOrder,
    Understanding,
    answer_author,
    answer_book,
    answer_current,
    answer_last,
    answer_member_ranking,
    answer_not_read,
    answer_order,
    answer_period,
    answer_ranking,
    answer_read_next,
    answer_unknown,
    parse_period,
    quote_line,
    recommend,
    understand,
    unread_titles,
)
from bot.domain.names import NameIndex
from bot.domain.rankings import RankOrder

TODAY = date(2026, 3, 2)
BOOKS = [
    (1, "Never Let Me Go", "Kazuo Ishiguro"),
    (2, "The Remains of the Day", "Kazuo Ishiguro"),
    (3, "When We Were Orphans", "Kazuo Ishiguro"),
    (4, "Jane Eyre", "Charlotte Brontë"),
    (5, "Wuthering Heights", "Emily Brontë"),
    (6, "Beloved", "Toni Morrison"),
    (7, "Piranesi", "Susanna Clarke"),
    (8, "1984", "George Orwell"),
    (9, "Norwegian Wood", "Haruki Murakami"),
    (10, "Kafka on the Shore", "Haruki Murakami"),
    (11, "The Murakami Diaries", "Ryu Murakama"),
]


@pytest.fixture(scope="module")
def indexes() -> tuple[NameIndex[int], NameIndex[int]]:
    return (NameIndex([(book_id, author) for book_id, _, author in BOOKS], kind="author"),
            NameIndex([(book_id, title) for book_id, title, _ in BOOKS], kind="title"))


def ask(question: str, indexes: tuple[NameIndex[int], NameIndex[int]]) -> Understanding:
    return understand(question, indexes[0], indexes[1], TODAY)


@pytest.mark.parametrize(
    "question",
    [
        "have you read any books written by Ishiguro? If yes, which one(s) do you recommend?",
        "have you read any other ishigoro?",
        "what did we read by Ishiguro Kazuo",
        "Which Ishiguro do you recommend?",
        "how many Ishiguro books have we read?",
    ],
)
def test_questions_about_an_author_find_all_their_books(question: str, indexes) -> None:
    understood = ask(question, indexes)
    assert understood.intent is Intent.AUTHOR
    assert understood.names == ("Kazuo Ishiguro",) and set(understood.book_ids) == {1, 2, 3}


def test_a_misspelt_author_is_said_back_as_understood(indexes) -> None:
    assert ask("any ishigoro?", indexes).heard_as == "ishigoro"
    assert ask("any Ishiguro?", indexes).heard_as is None


def test_a_family_name_means_every_author_of_that_family(indexes) -> None:
    understood = ask("did the club read any Bronte?", indexes)
    assert understood.intent is Intent.AUTHOR and set(understood.book_ids) == {4, 5} and understood.yes_no


@pytest.mark.parametrize(
    ("question", "book_id"),
    [
        ("what did the club think of Remains of Day?", 2),
        ("who liked beloved?", 6),
        ("thoughts on Piranesi by Susanna Clarke", 7),
        ("did people like Never Let Me Go by Ishiguro?", 1),
    ],
)
def test_questions_about_one_book_find_that_book(question: str, book_id: int, indexes) -> None:
    understood = ask(question, indexes)
    assert understood.intent is Intent.BOOK and understood.book_ids == (book_id,)


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("what are we reading now?", Intent.CURRENT),
        ("What's the current book?", Intent.CURRENT),
        ("what are we reading next?", Intent.CURRENT),
        ("what did we read last?", Intent.LAST),
        ("what was the previous book", Intent.LAST),
        ("what should I read next?", Intent.READ_NEXT),
        ("can you recommend me something?", Intent.READ_NEXT),
        ("how many books did we read in 2025?", Intent.PERIOD),
        ("what did we read last year?", Intent.PERIOD),
        ("how many books have we read?", Intent.PERIOD),
        ("what's the weather like?", Intent.UNKNOWN),
        ("", Intent.UNKNOWN),
    ],
)
def test_questions_without_names_are_understood_by_their_wording(question: str, intent: Intent, indexes) -> None:
    assert ask(question, indexes).intent is intent


@pytest.mark.parametrize(
    ("question", "order", "limit", "period"),
    [
        ("which book did we like least?", RankOrder.WORST, 1, None),
        ("what was our least favourite book of 2025?", RankOrder.WORST, 1, "in 2025"),
        ("our top 3 this year", RankOrder.BEST, 3, "this year"),
        ("our favourite books", RankOrder.BEST, 5, None),
        ("the most divisive book?", RankOrder.DIVISIVE, 1, None),
        ("which five books did we like most", RankOrder.BEST, 5, None),
    ],
)
def test_rankings_are_understood_with_their_order_size_and_period(question: str, order: RankOrder, limit: int,
                                                                  period: str | None, indexes) -> None:
    understood = ask(question, indexes)
    assert understood.intent is Intent.RANKED and understood.ranking == Ranking(order, limit)
    assert (understood.period.label if understood.period else None) == period


def test_a_member_named_in_a_ranking_is_found_by_their_display_name(indexes) -> None:
    members = {"bob": (12,), "alice": (11,), "alice smith": (11,)}
    for question in ("which book did Bob rate highest?", "what's bob's favourite?"):
        understood = understand(question, indexes[0], indexes[1], TODAY, members)
        assert understood.ranking == Ranking(RankOrder.BEST, 1, member_id=12)
    understood = understand("what did Alice Smith like least?", indexes[0], indexes[1], TODAY, members)
    assert understood.ranking == Ranking(RankOrder.WORST, 1, member_id=11)
    assert ask("which book did I rate highest?", indexes).ranking == Ranking(RankOrder.BEST, 1, asker=True)


@pytest.mark.parametrize(
    ("question", "relation", "anchors"),
    [
        ("what did we read after Beloved?", "after", ((6,),)),
        ("what came before Piranesi", "before", ((7,),)),
        ("what did we read in between Never Let Me Go and Jane Eyre?", "between", ((1,), (4,))),
        ("what did we read between jane eyre & beloved", "between", ((4,), (6,))),
    ],
)
def test_the_reading_order_is_asked_about_titles(question: str, relation: str, anchors, indexes) -> None:
    understood = ask(question, indexes)
    assert understood.intent is Intent.ORDER and understood.order == ReadingOrder(relation, anchors)  # type: ignore[arg-type]


def test_a_title_with_its_author_is_read_whole(indexes) -> None:
    understood = ask("have we read War and Peace by Tolstoy?", indexes)
    assert (understood.intent, understood.names, understood.by_author, understood.book_ids) == (
        Intent.BOOK, ("War and Peace",), ("Tolstoy",), ())
    nocturnes = ask("did we read Ishiguro's *Nocturnes*?", indexes)
    assert nocturnes.names == ("Nocturnes",) and nocturnes.by_author == ("Kazuo Ishiguro",)
    assert set(nocturnes.by_author_ids) == {1, 2, 3}
    assert ask("did we read Ishiguro's Never Let Me Go?", indexes).book_ids == (1,)
    assert ask("have you read Ishiguro before?", indexes).intent is Intent.AUTHOR


def test_a_year_is_a_period_even_when_a_book_has_that_title(indexes) -> None:
    understood = ask("how many books did we read in 1984?", indexes)
    assert understood.intent is Intent.PERIOD and understood.period == Period(date(1984, 1, 1), date(1985, 1, 1),
                                                                              "in 1984")
    assert ask("what did the club think of 1984?", indexes).intent is Intent.BOOK


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("in 2025", date(2025, 1, 1), date(2026, 1, 1)),
        ("in march 2025", date(2025, 3, 1), date(2025, 4, 1)),
        ("dec 2024", date(2024, 12, 1), date(2025, 1, 1)),
        ("this year", date(2026, 1, 1), date(2027, 1, 1)),
        ("last year", date(2025, 1, 1), date(2026, 1, 1)),
        ("this month", date(2026, 3, 1), date(2026, 4, 1)),
        ("last month", date(2026, 2, 1), date(2026, 3, 1)),
        ("in total", None, None),
    ],
)
def test_periods(text: str, start: date | None, end: date | None) -> None:
    period = parse_period(text, TODAY)
    assert period is not None and (period.start, period.end) == (start, end)


def test_last_month_in_january_is_last_years_december() -> None:
    period = parse_period("last month", date(2026, 1, 15))
    assert period is not None and (period.start, period.end) == (date(2025, 12, 1), date(2026, 1, 1))


def test_an_unclear_name_gets_a_did_you_mean(indexes) -> None:
    understood = ask("have you read Murakam?", indexes)
    assert understood.intent is Intent.UNKNOWN
    assert set(understood.did_you_mean) >= {"Haruki Murakami", "Ryu Murakama"}
    text = answer_unknown(understood)
    assert "Did you mean" in text and "Haruki Murakami" in text


@pytest.mark.parametrize(
    ("question", "intent", "name"),
    [
        ("have you read any other Margaret Atwood?", Intent.AUTHOR, "Margaret Atwood"),
        ("Have you read any Atwood? Which do you recommend?", Intent.AUTHOR, "Atwood"),
        ("which Atwood would you recommend?", Intent.AUTHOR, "Atwood"),
        ("what did we read by Margaret Atwood", Intent.AUTHOR, "Margaret Atwood"),
        ("have you read any books by Atwood and which one is best?", Intent.AUTHOR, "Atwood"),
        ("what did the club think of Middlemarch?", Intent.BOOK, "Middlemarch"),
        ("who liked “Middlemarch”?", Intent.BOOK, "Middlemarch"),
        ("have we ever read Middlemarch?", Intent.UNKNOWN, "Middlemarch"),
    ],
)
def test_a_name_the_club_never_read_is_kept_as_asked(question: str, intent: Intent, name: str, indexes) -> None:
    understood = ask(question, indexes)
    assert (understood.intent, understood.names, understood.book_ids) == (intent, (name,), ())


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("which do you recommend?", Intent.READ_NEXT),
        ("which book would you recommend?", Intent.READ_NEXT),
        ("have you read anything this year?", Intent.PERIOD),
        ("what did you think of the last book?", Intent.LAST),
        ("what is the meaning of life?", Intent.UNKNOWN),
    ],
)
def test_wording_without_a_name_is_not_taken_for_one(question: str, intent: Intent, indexes) -> None:
    assert ask(question, indexes).intent is intent


def test_a_name_asked_about_still_matches_the_records_despite_typos(indexes) -> None:
    understood = ask("which Morison would you recommend?", indexes)
    assert understood.intent is Intent.AUTHOR and understood.names == ("Toni Morrison",)


def test_unknown_books_and_an_empty_history_are_said_plainly(indexes) -> None:
    text = answer_unknown(ask("what did the club think of Middlemarch?", indexes))
    assert text.startswith("No: the club hasn't read “Middlemarch”.")
    either = answer_unknown(ask("have you read Le Guin?", indexes))
    assert either.startswith("No: the club's records have no book or author like “Le Guin”.")
    empty = answer_unknown(Understanding(Intent.UNKNOWN), empty_history=True)
    assert empty.startswith("The club's history is empty so far") and "`/club import`" in empty


ISHIGURO = [
    BookFacts(1, "Never Let Me Go", "Kazuo Ishiguro", "finished", date(2019, 4, 1), date(2019, 5, 14), 4.67, 3,
              Quote("Alice", "Devastating. Read it before someone spoils it for you. It stays with you.", 5)),
    BookFacts(2, "The Remains of the Day", "Kazuo Ishiguro", "finished", None, date(2017, 9, 3), 3.5, 2),
    BookFacts(3, "When We Were Orphans", "Kazuo Ishiguro", "reading", date(2026, 3, 1)),
]


def test_the_author_answer_names_every_read_and_recommends_the_best_rated_with_a_quote(indexes) -> None:
    understood = ask("have you read any books written by Ishiguro? If yes, which one(s) do you recommend?", indexes)
    text = answer_author(understood, ISHIGURO, [CatalogueTitle("Klara and the Sun", 2021)])
    assert text.startswith("Yes: the club has 3 books by Kazuo Ishiguro")
    assert "**Never Let Me Go** (finished May 2019): 4.7★ from 3 ratings" in text
    assert "**The Remains of the Day** (finished September 2017): 3.5★ from 2 ratings" in text
    assert "**When We Were Orphans** (reading since March 2026): not rated yet" in text
    assert "I'd recommend **Never Let Me Go**: the best-rated of them" in text
    assert "> Devastating\\. Read it before someone spoils it for you\\." in text and "> — Alice, 5★" in text
    assert "Not read by the club yet: **Klara and the Sun** (2021)." in text


def test_an_author_the_club_has_not_read_is_said_plainly(indexes) -> None:
    understood = ask("have you read any Orwell?", indexes)
    text = answer_author(understood, [BookFacts(8, "1984", "George Orwell")], None)
    assert text.startswith("No: the club hasn't read anything by George Orwell yet.")
    assert "not read together: **1984**" in text and "recommend" not in text


def test_the_recommendation_is_the_highest_average_then_the_most_ratings() -> None:
    books = [
        BookFacts(1, "A", "X", "finished", average=4.0, votes=10),
        BookFacts(2, "B", "X", "finished", average=4.5, votes=2),
        BookFacts(3, "C", "X", "finished", average=4.5, votes=5),
        BookFacts(4, "D", "X", None, average=5.0, votes=9),
    ]
    best = recommend(books)
    assert best is not None and best.title == "C"
    assert recommend([BookFacts(5, "E", "X", "finished")]) is None


def test_the_book_answer_says_who_liked_it(indexes) -> None:
    understood = ask("who liked Beloved?", indexes)
    book = BookFacts(6, "Beloved", "Toni Morrison", "finished", None, date(2022, 10, 9), 3.67, 3,
                     Quote("Bob", "Not an easy read, nor meant to be.", 5))
    text = answer_book(understood, [book], [Opinion("Bob", 5), Opinion("Alice", 4), Opinion("Carol", 2)])
    assert "**Beloved** by Toni Morrison: finished October 2022." in text
    assert "Liked it: Bob (5★), Alice (4★)" in text and "Less keen: Carol (2★)" in text
    assert "— Bob, 5★" in text


def test_current_last_next_and_period_answers() -> None:
    piranesi = BookFacts(7, "Piranesi", "Susanna Clarke", "reading", date(2026, 3, 1))
    assert answer_current([piranesi], []) == "The club is reading **Piranesi** by Susanna Clarke (since 1 March 2026)."
    assert answer_current([], []).startswith("The club isn't reading anything right now.")
    assert "finished in May 2019: 4.7★ from 3 ratings" in answer_last(ISHIGURO[0])
    assert answer_last(None) == "The club hasn't finished a book yet."
    assert answer_read_next(ISHIGURO[0]).startswith("Try **Never Let Me Go** by Kazuo Ishiguro: the best-rated")
    assert "nothing to suggest" in answer_read_next(None)
    period = Period(date(2025, 1, 1), date(2026, 1, 1), "in 2025")
    assert answer_period(period, 0, []) == "The club didn't finish any book in 2025."
    text = answer_period(period, 30, ISHIGURO[:2])
    assert text.startswith("The club finished 30 books in 2025:") and text.endswith("…and 28 more.")


def test_a_quote_is_the_reviews_first_sentence_when_it_is_long_enough() -> None:
    assert quote_line("Short. Then a much longer second sentence follows here.") == (
        "Short. Then a much longer second sentence follows here."
    )
    assert quote_line("A first sentence that is long enough to stand alone. And more.") == (
        "A first sentence that is long enough to stand alone."
    )
    assert len(quote_line("word " * 200)) <= 240


def test_unread_titles_leave_out_what_the_club_has_by_title_key() -> None:
    catalogue = [CatalogueTitle("Never Let Me Go", 2005), CatalogueTitle("Klara and the Sun", 2021),
                 CatalogueTitle("Klara and the Sun", 2022), CatalogueTitle("The Buried Giant", 2015)]
    unread = unread_titles(catalogue, ["never let me go"])
    assert [work.title for work in unread] == ["Klara and the Sun", "The Buried Giant"]


member_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=300)
book_facts = st.builds(
    BookFacts,
    book_id=st.integers(1, 10**6),
    title=member_text,
    author=member_text,
    status=st.sampled_from([None, "planned", "reading", "finished"]),
    started_on=st.none() | st.dates(),
    finished_on=st.none() | st.dates(),
    average=st.none() | st.floats(1, 5),
    votes=st.integers(0, 500),
    quote=st.none() | st.builds(Quote, member_text, st.text(max_size=4000), st.none() | st.integers(1, 5)),
)


@settings(deadline=None, max_examples=60)
@given(books=st.lists(book_facts, max_size=60), names=st.lists(member_text, min_size=1, max_size=12),
       catalogue=st.lists(st.builds(CatalogueTitle, member_text, st.none() | st.integers(1000, 2030)), max_size=10),
       opinions=st.lists(st.builds(Opinion, member_text, st.integers(1, 5)), max_size=40))
def test_no_answer_exceeds_discords_limit_or_can_ping(books, names, catalogue, opinions) -> None:
    understood = Understanding(Intent.AUTHOR, names=tuple(names), heard_as=names[0], did_you_mean=tuple(names[:5]))
    period = Period(date(2025, 1, 1), date(2026, 1, 1), "in 2025")
    answers = [
        answer_author(understood, books, catalogue),
        answer_book(understood, books, opinions),
        answer_current(books, books),
        answer_last(books[0] if books else None),
        answer_read_next(books[0] if books else None),
        answer_period(period, len(books) * 3, books),
        answer_unknown(understood),
        answer_not_read(Understanding(Intent.BOOK, names=tuple(names), by_author=tuple(names)), books, books,
                        catalogue),
        answer_ranking(Ranking(RankOrder.DIVISIVE, limit=10), period, books, books[0] if books else None),
        answer_ranking(Ranking(RankOrder.BEST), None, books[:1]),
        answer_member_ranking(Ranking(RankOrder.WORST, limit=10), names[0], period,
                              [(book, 3) for book in books]),
        answer_order(Understanding(Intent.ORDER, names=tuple(names), order=ReadingOrder("between", ((1,), (2,)))),
                     books[:2], books, len(books)),
        answer_order(Understanding(Intent.ORDER, names=tuple(names), order=ReadingOrder("after", ((1,),))),
                     books[:1], books),
    ]
    for text in answers:
        assert 0 < len(text) <= MESSAGE_LIMIT
        assert "<@" not in text and "@everyone" not in text.replace("\\@everyone", "")


@settings(deadline=None, max_examples=40)
@given(question=st.text(max_size=300))
def test_any_question_gets_understood_without_failing(question: str) -> None:
    authors = NameIndex([(book_id, author) for book_id, _, author in BOOKS], kind="author")
    titles = NameIndex([(book_id, title) for book_id, title, _ in BOOKS], kind="title")
    understood = understand(question, authors, titles, TODAY)
    assert set(understood.book_ids) <= {book_id for book_id, _, _ in BOOKS}
