"""Ranking books by members' stars: lone ratings never top a list, and "divisive" is the widest spread."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.rankings import RankOrder, Stars, passed_over, rank


def stars(*given_stars: int) -> Stars:
    return Stars(sum(given_stars), len(given_stars), min(given_stars), max(given_stars),
                 sum(star * star for star in given_stars))


BOOKS = {
    1: stars(5, 5, 4),   # 4.67 from 3
    2: stars(5),         # one member's 5
    3: stars(1, 5, 3),   # split
    4: stars(2, 2),      # disliked, and agreed on
    5: stars(1),         # one member's 1
}


def test_books_several_members_rated_come_before_a_lone_rating_either_way() -> None:
    assert rank(BOOKS, BOOKS, RankOrder.BEST) == [1, 3, 4, 2, 5]
    assert rank(BOOKS, BOOKS, RankOrder.WORST) == [4, 3, 1, 5, 2]


def test_a_lone_rating_that_would_have_won_is_named_apart() -> None:
    assert passed_over(BOOKS, rank(BOOKS, BOOKS, RankOrder.BEST), RankOrder.BEST) == 2
    assert passed_over(BOOKS, rank(BOOKS, BOOKS, RankOrder.WORST), RankOrder.WORST) == 5
    assert passed_over(BOOKS, rank(BOOKS, [1, 4], RankOrder.BEST), RankOrder.BEST) is None
    only_lone = {2: stars(5), 5: stars(1)}
    assert passed_over(only_lone, rank(only_lone, only_lone, RankOrder.BEST), RankOrder.BEST) is None


def test_the_most_divisive_is_the_widest_spread_among_books_rated_twice_or_more() -> None:
    assert rank(BOOKS, BOOKS, RankOrder.DIVISIVE) == [3, 1]
    assert BOOKS[3].spread > BOOKS[1].spread > 0 == BOOKS[4].spread == BOOKS[2].spread


def test_books_without_stars_are_not_ranked() -> None:
    assert rank(BOOKS, [1, 99], RankOrder.BEST) == [1]


@settings(deadline=None, max_examples=200)
@given(st.dictionaries(st.integers(1, 50), st.lists(st.integers(1, 5), min_size=1, max_size=8), max_size=20))
def test_property_a_ranking_is_a_fair_order(ratings: dict[int, list[int]]) -> None:
    table = {book_id: stars(*given) for book_id, given in ratings.items()}
    best = rank(table, table, RankOrder.BEST)
    assert sorted(best) == sorted(table)
    several = [book_id for book_id in best if table[book_id].votes >= 2]
    assert best[:len(several)] == several
    averages = [table[book_id].average for book_id in several]
    assert averages == sorted(averages, reverse=True)
    assert rank(table, table, RankOrder.WORST)[:len(several)] == sorted(
        several, key=lambda book_id: (table[book_id].average, -table[book_id].votes, book_id))
    assert all(0 <= table[book_id].spread <= 2 for book_id in table)
