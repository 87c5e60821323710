"""Counting polls: instant runoff for ranked ballots, plurality for native polls, ties to the earliest nomination."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Round:
    """One counting round: first choices among the candidates still in, in nomination order."""

    tallies: dict[int, int]
    eliminated: int | None
    exhausted: int


@dataclass(frozen=True)
class RunoffResult:
    """The outcome of an instant-runoff count, with every round for showing how it went."""

    winner: int | None
    rounds: tuple[Round, ...]
    tie_broken: bool
    reason: str


def instant_runoff(candidates: Sequence[int], ballots: Sequence[Sequence[int]]) -> RunoffResult:
    """Count ranked ballots by instant runoff.

    `candidates` are in nomination order, earliest first; each ballot ranks them, first choice
    first. Ids that are not candidates and repeats within a ballot are ignored; a ballot whose
    ranked candidates are all eliminated is exhausted. Each round, a candidate with more than half
    of the ballots still counting wins; otherwise the candidate with the fewest first choices is
    eliminated. A tie for fewest eliminates the latest nominated, and two candidates tied at the
    end go to the earliest nominated.

    `tie_broken` is True when such a tie could have changed the winner. Ties among candidates
    who would all be eliminated whichever went first (their votes together are fewer than anyone
    else's, as with candidates nobody ranked first) do not count: announcing them would suggest
    the order of nomination decided a poll it did not decide.

    Raises ValueError when a candidate id is listed twice.
    """
    order = list(candidates)
    if len(set(order)) != len(order):
        raise ValueError("Each candidate must be listed once.")
    if not order:
        return RunoffResult(None, (), tie_broken=False, reason="There were no candidates.")
    if not ballots:
        return RunoffResult(None, (), tie_broken=False, reason="No ballots were cast.")
    counted_ballots = [_clean(ballot, set(order)) for ballot in ballots]
    if not any(counted_ballots):
        return RunoffResult(None, (), tie_broken=False, reason="No ballot ranked any of the candidates.")

    nomination = {candidate: index for index, candidate in enumerate(order)}
    remaining = list(order)
    rounds: list[Round] = []
    tie_broken = False
    while True:
        tallies, exhausted = _count(remaining, counted_ballots)
        counted = len(counted_ballots) - exhausted
        leader = max(remaining, key=lambda candidate: (tallies[candidate], -nomination[candidate]))
        votes = tallies[leader]
        if votes * 2 > counted or len(remaining) == 1:
            rounds.append(Round(tallies, None, exhausted))
            reason = _majority_reason(len(order), votes, counted, len(rounds), tie_broken)
            return RunoffResult(leader, tuple(rounds), tie_broken, reason)
        if len(remaining) == 2:
            # Two left and neither has a majority: they are tied.
            rounds.append(Round(tallies, None, exhausted))
            reason = f"Tied at {votes} votes each in the final round; the earlier nomination wins."
            return RunoffResult(leader, tuple(rounds), tie_broken=True, reason=reason)
        fewest = min(tallies.values())
        last = [candidate for candidate in remaining if tallies[candidate] == fewest]
        if len(last) > 1 and _tie_matters(tallies, last):
            tie_broken = True
        eliminated = last[-1]
        rounds.append(Round(tallies, eliminated, exhausted))
        remaining.remove(eliminated)


def plurality_winner(counts: Mapping[int, int], candidates: Sequence[int]) -> tuple[int | None, bool]:
    """The candidate with the most votes, ties going to the earliest nominated.

    Returns (winner, tie_broken); (None, False) when nobody voted. Counts for ids that are not
    candidates are ignored.
    """
    most = max((counts.get(candidate, 0) for candidate in candidates), default=0)
    if most <= 0:
        return None, False
    top = [candidate for candidate in candidates if counts.get(candidate, 0) == most]
    return top[0], len(top) > 1


def _clean(ballot: Sequence[int], known: set[int]) -> list[int]:
    ranking: list[int] = []
    for candidate in ballot:
        if candidate in known and candidate not in ranking:
            ranking.append(candidate)
    return ranking


def _count(remaining: list[int], ballots: list[list[int]]) -> tuple[dict[int, int], int]:
    tallies = dict.fromkeys(remaining, 0)
    exhausted = 0
    for ballot in ballots:
        choice = next((candidate for candidate in ballot if candidate in tallies), None)
        if choice is None:
            exhausted += 1
        else:
            tallies[choice] += 1
    return tallies, exhausted


def _tie_matters(tallies: dict[int, int], tied: list[int]) -> bool:
    """Whether the order of eliminating the tied candidates could change the winner.

    Their votes can only move among themselves or to others, so while together they hold fewer
    votes than every other candidate, each of them goes out before anyone else, in any order,
    and the ballots end up in the same place.
    """
    others = [votes for candidate, votes in tallies.items() if candidate not in tied]
    together = sum(tallies[candidate] for candidate in tied)
    return not others or together >= min(others)


def _majority_reason(candidates: int, votes: int, counted: int, round_number: int, tie_broken: bool) -> str:
    if candidates == 1:
        return "It was the only candidate."
    reason = f"Won with {votes} of {counted} counted ballots in round {round_number}."
    if tie_broken:
        reason += " A tie for last place along the way was broken by nomination order."
    return reason
