"""Poll counting: who wins a ranked or native poll, and how ties fall to the earliest nomination."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.voting import Round, RunoffResult, instant_runoff, plurality_winner

# --- instant runoff, worked out by hand --------------------------------------------------------------


def test_a_first_round_majority_wins_at_once() -> None:
    result = instant_runoff([1, 2, 3], [[1, 2], [1], [2, 1], [1, 3]])
    assert result == RunoffResult(
        winner=1,
        rounds=(Round({1: 3, 2: 1, 3: 0}, eliminated=None, exhausted=0),),
        tie_broken=False,
        reason="Won with 3 of 4 counted ballots in round 1.",
    )


def test_votes_transfer_until_someone_has_a_majority() -> None:
    ballots = [[10]] * 5 + [[20, 30]] * 4 + [[30, 20]] * 3 + [[40, 30, 20]] * 2
    result = instant_runoff([10, 20, 30, 40], ballots)
    assert result.rounds == (
        Round({10: 5, 20: 4, 30: 3, 40: 2}, eliminated=40, exhausted=0),
        Round({10: 5, 20: 4, 30: 5}, eliminated=20, exhausted=0),
        Round({10: 5, 30: 9}, eliminated=None, exhausted=0),
    )
    # The first-round leader loses once the others' ballots move.
    assert result.winner == 30
    assert not result.tie_broken
    assert result.reason == "Won with 9 of 14 counted ballots in round 3."


def test_exhausted_ballots_stop_counting_towards_the_majority() -> None:
    ballots = [[1]] * 5 + [[2]] * 4 + [[3]] * 2 + [[3, 1]]
    result = instant_runoff([1, 2, 3], ballots)
    assert result.rounds[-1] == Round({1: 6, 2: 4}, eliminated=None, exhausted=2)
    # 6 of 12 ballots is no majority, but 6 of the 10 still counting is.
    assert result.winner == 1
    assert result.reason == "Won with 6 of 10 counted ballots in round 2."


def test_a_tie_for_last_place_eliminates_the_latest_nomination() -> None:
    ballots = [[1]] * 4 + [[2, 3]] * 3 + [[3, 2]] * 3 + [[4, 1]]
    result = instant_runoff([1, 2, 3, 4], ballots)
    assert [round_.eliminated for round_ in result.rounds] == [4, 3, None]
    assert result.rounds[1].tallies == {1: 5, 2: 3, 3: 3}
    # Had 2 gone out instead, 3 would have won: the tie decided the poll, and the result says so.
    assert result.winner == 2
    assert result.tie_broken
    assert "tie for last place" in result.reason


def test_a_tie_whose_votes_together_catch_up_with_the_next_candidate_is_reported() -> None:
    result = instant_runoff([1, 2, 3], [[3], [3], [1, 2], [2, 3]])
    assert result.rounds[0] == Round({1: 1, 2: 1, 3: 2}, eliminated=2, exhausted=0)
    # Eliminating 1 first would have left 2 and 3 tied at 2, and 2 was nominated earlier.
    assert result.winner == 3
    assert result.tie_broken


def test_a_tie_that_could_not_change_the_winner_is_not_reported() -> None:
    ballots = [[1]] * 2 + [[2]] * 2 + [[3, 1]]
    result = instant_runoff([1, 2, 3, 4, 5], ballots)
    assert [round_.eliminated for round_ in result.rounds] == [5, 4, 3, None]
    assert result.winner == 1
    assert not result.tie_broken


def test_two_tied_at_the_end_go_to_the_earliest_nomination() -> None:
    result = instant_runoff([7, 3], [[3], [7]])
    assert result.winner == 7
    assert result.tie_broken
    assert result.rounds == (Round({7: 1, 3: 1}, eliminated=None, exhausted=0),)
    assert result.reason == "Tied at 1 votes each in the final round; the earlier nomination wins."


def test_a_single_candidate_wins() -> None:
    result = instant_runoff([5], [[5], [9, 5]])
    assert result.winner == 5
    assert result.reason == "It was the only candidate."


@pytest.mark.parametrize(
    ("ballots", "reason"),
    [([], "No ballots were cast."), ([[8, 9], []], "No ballot ranked any of the candidates.")],
)
def test_no_usable_ballots_means_no_winner(ballots: list[list[int]], reason: str) -> None:
    assert instant_runoff([1, 2], ballots) == RunoffResult(None, (), tie_broken=False, reason=reason)


def test_no_candidates_means_no_winner() -> None:
    assert instant_runoff([], [[1]]).winner is None


def test_unknown_ids_and_repeats_on_a_ballot_are_ignored() -> None:
    assert instant_runoff([1, 2, 3], [[9, 2, 2, 1], [3, 3], [1, 9]]) == instant_runoff([1, 2, 3], [[2, 1], [3], [1]])


def test_a_candidate_listed_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="once"):
        instant_runoff([1, 2, 1], [[1]])


def test_the_candidate_preferred_to_every_other_wins() -> None:
    ballots = [[1, 2, 3]] * 3 + [[2, 1, 3]] * 2 + [[3, 1, 2]]
    # 1 beats 2 four to two and beats 3 five to one, head to head.
    result = instant_runoff([1, 2, 3], ballots)
    assert result.winner == 1
    assert [round_.eliminated for round_ in result.rounds] == [3, None]


# --- plurality for native polls --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "candidates", "expected"),
    [
        ({1: 3, 2: 5}, [1, 2], (2, False)),
        ({1: 3, 2: 5, 3: 5}, [3, 2, 1], (3, True)),
        ({1: 3, 2: 5, 3: 5}, [1, 2, 3], (2, True)),
        ({1: 1, 99: 10}, [1, 2], (1, False)),
        ({}, [1, 2], (None, False)),
        ({1: 0, 2: 0}, [1, 2], (None, False)),
        ({1: 4}, [], (None, False)),
    ],
)
def test_plurality_picks_the_most_votes_ties_to_the_earliest(
    counts: dict[int, int], candidates: list[int], expected: tuple[int | None, bool]
) -> None:
    assert plurality_winner(counts, candidates) == expected


# --- properties of any count ---------------------------------------------------------------------------------


@st.composite
def _polls(draw: st.DrawFn) -> tuple[list[int], list[list[int]]]:
    candidates = draw(st.lists(st.integers(1, 12), min_size=1, max_size=6, unique=True))
    # Some unknown ids and repeats, as a stale or tampered ballot might carry.
    choice = st.sampled_from(candidates) | st.integers(1, 14)
    ballots = draw(st.lists(st.lists(choice, max_size=7), max_size=25))
    return candidates, ballots


def _had_majority(result: RunoffResult) -> bool:
    last = result.rounds[-1]
    assert result.winner is not None
    return last.tallies[result.winner] * 2 > sum(last.tallies.values())


@settings(max_examples=400, deadline=None)
@given(poll=_polls())
def test_the_winner_has_a_majority_unless_the_final_tie_was_broken(poll: tuple[list[int], list[list[int]]]) -> None:
    candidates, ballots = poll
    result = instant_runoff(candidates, ballots)
    if result.winner is None:
        return
    if not _had_majority(result):
        last = result.rounds[-1]
        assert result.tie_broken
        assert len(last.tallies) == 2
        assert len(set(last.tallies.values())) == 1
        assert result.winner == next(iter(last.tallies))


@settings(max_examples=400, deadline=None)
@given(poll=_polls())
def test_every_round_accounts_for_every_ballot(poll: tuple[list[int], list[list[int]]]) -> None:
    candidates, ballots = poll
    result = instant_runoff(candidates, ballots)
    remaining = list(candidates)
    for round_ in result.rounds:
        assert list(round_.tallies) == remaining
        assert sum(round_.tallies.values()) + round_.exhausted == len(ballots)
        if round_.eliminated is not None:
            assert round_.tallies[round_.eliminated] == min(round_.tallies.values())
            remaining.remove(round_.eliminated)
    assert all(round_.eliminated is not None for round_ in result.rounds[:-1])


@settings(max_examples=300, deadline=None)
@given(poll=_polls(), data=st.data())
def test_the_order_ballots_arrive_in_never_matters(
    poll: tuple[list[int], list[list[int]]], data: st.DataObject
) -> None:
    candidates, ballots = poll
    shuffled = data.draw(st.permutations(ballots))
    assert instant_runoff(candidates, shuffled) == instant_runoff(candidates, ballots)


@settings(max_examples=300, deadline=None)
@given(poll=_polls(), data=st.data())
def test_one_more_first_choice_never_makes_the_winner_lose(
    poll: tuple[list[int], list[list[int]]], data: st.DataObject
) -> None:
    candidates, ballots = poll
    winner = instant_runoff(candidates, ballots).winner
    if winner is None:
        return
    rest = data.draw(st.lists(st.sampled_from(candidates), max_size=5))
    assert instant_runoff(candidates, [*ballots, [winner, *rest]]).winner == winner


@settings(max_examples=300, deadline=None)
@given(poll=_polls())
def test_without_a_reported_tie_the_nomination_order_decides_nothing(
    poll: tuple[list[int], list[list[int]]],
) -> None:
    candidates, ballots = poll
    result = instant_runoff(candidates, ballots)
    # Reversing the nomination order flips every tie-break; only a reported one may matter.
    if not result.tie_broken:
        assert instant_runoff(candidates[::-1], ballots).winner == result.winner
