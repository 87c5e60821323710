"""Poll answers that fit Discord, which nominations are one book, and the outcome text members read."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.polls import (
    MAX_ANSWER,
    NominationKey,
    answer_text,
    answer_texts,
    count_native,
    count_ranked,
    native_duration_hours,
    round_lines,
    tally_lines,
)


def test_a_short_book_shows_its_author() -> None:
    assert answer_text("Piranesi", "Susanna Clarke") == "Piranesi — Susanna Clarke"
    assert answer_text("Piranesi") == "Piranesi"


def test_a_long_title_drops_the_author_then_the_subtitle_then_words() -> None:
    title = "Harry Potter and the Philosopher's Stone"
    assert answer_text(title, "J. K. Rowling and a Very Long Co-Author Name") == title
    subtitled = "Sapiens: A Brief History of Humankind From the Stone Age Onwards"
    assert answer_text(subtitled, "Yuval Noah Harari") == "Sapiens — Yuval Noah Harari"
    series = "The Fellowship of the Ring (The Lord of the Rings, #1) Extended Illustrated"
    assert answer_text(series) == "The Fellowship of the Ring (The Lord of the Rings, #1)…"
    long_word_title = "The Unbearably Long and Winding Title of a Novel That Never Ends At All"
    shortened = answer_text(long_word_title, "Someone")
    assert shortened == "The Unbearably Long and Winding Title of a Novel That…"
    assert len(shortened) <= MAX_ANSWER


def test_books_whose_short_answers_collide_are_told_apart() -> None:
    first = "The Extraordinarily Long Chronicle of the Northern Kingdoms: Volume One"
    second = "The Extraordinarily Long Chronicle of the Northern Kingdoms: Volume Two"
    texts = answer_texts([(first, "Ann Lee"), (second, "Bo Wu"), (second, "Bo Wu")])
    assert len({text.casefold() for text in texts}) == 3
    assert texts[1].endswith("— Bo Wu") and texts[2].endswith("(2)")
    assert all(len(text) <= MAX_ANSWER for text in texts)


@settings(deadline=None, max_examples=150)
@given(st.lists(st.tuples(st.text(min_size=1, max_size=300), st.text(max_size=200)), min_size=1, max_size=10))
def test_answers_always_fit_and_never_repeat(books: list[tuple[str, str]]) -> None:
    books = [(title if title.strip() else "x", author) for title, author in books]
    texts = answer_texts(books)
    assert len(texts) == len(books)
    assert all(0 < len(text) <= MAX_ANSWER for text in texts)
    assert len({text.casefold() for text in texts}) == len(texts)


def test_the_same_work_or_title_and_author_is_one_nomination() -> None:
    full = NominationKey.of("Piranesi", "Susanna Clarke")
    assert full.same_book(NominationKey.of("piranesi", "Clarke, Susanna"))
    assert full.same_book(NominationKey.of("Piranesi", "Clarke"))
    assert full.same_book(NominationKey.of("Piranesi"))
    assert not full.same_book(NominationKey.of("Piranesi", "Someone Else"))
    assert not full.same_book(NominationKey.of("Jonathan Strange", "Susanna Clarke"))
    assert NominationKey.of("The Remains of the Day: A Novel", "Kazuo Ishiguro").same_book(
        NominationKey.of("Remains of Day", "Ishiguro, Kazuo"))
    by_work = NominationKey.of("Ficciones", "Jorge Luis Borges", "/works/OL1W")
    assert by_work.same_book(NominationKey.of("Fictions", "Borges", "/works/OL1W"))
    assert not by_work.same_book(NominationKey.of("Labyrinths", "Jorge Luis Borges", "/works/OL2W"))


def test_a_native_poll_goes_to_the_most_votes_and_a_tie_to_the_earliest_nomination() -> None:
    won = count_native({0: 1, 1: 3, 2: 2}, 3)
    assert (won.winner, won.tie_broken, won.reason, won.ballots) == (1, False, "Won with 3 votes of 6.", 6)
    tied = count_native({1: 2, 2: 2}, 3)
    assert (tied.winner, tied.tie_broken) == (1, True)
    assert tied.reason == "Tied at 2 votes each; the earliest nomination wins."
    nobody = count_native({}, 3)
    assert (nobody.winner, nobody.reason) == (None, "Nobody voted.")


def test_a_ranked_poll_is_counted_by_instant_runoff() -> None:
    outcome = count_ranked(3, [[0, 1], [1, 0], [1, 2], [1]])
    assert outcome.winner == 1 and outcome.ballots == 4 and len(outcome.rounds) == 1
    runoff = count_ranked(3, [[0], [0], [1, 2], [2, 1], [2, 1]])
    assert runoff.winner == 2 and len(runoff.rounds) == 2
    names = {0: "Piranesi", 1: "Hamnet", 2: "Beloved"}
    assert round_lines(runoff.rounds, names) == [
        "Round 1: Piranesi 2, Hamnet 1, Beloved 2; Hamnet out",
        "Round 2: Piranesi 2, Beloved 3",
    ]
    nobody = count_ranked(3, [])
    assert (nobody.winner, nobody.reason, nobody.rounds) == (None, "Nobody voted.", [])


def test_tallies_read_most_votes_first() -> None:
    names = {0: "Piranesi", 1: "Hamnet", 2: "Beloved"}
    assert tally_lines({0: 1, 1: 3, 2: 1}, names) == ["Hamnet: 3 votes", "Piranesi: 1 vote", "Beloved: 1 vote"]


def test_a_discord_poll_lasts_at_least_until_the_close() -> None:
    assert native_duration_hours(timedelta(minutes=1)) == 1
    assert native_duration_hours(timedelta(minutes=90)) == 2
    assert native_duration_hours(timedelta(hours=36)) == 36
    assert native_duration_hours(timedelta(days=32)) == 768
