"""The rounds chart posted with a ranked poll's result: a PNG Discord can preview, whatever the names."""

from __future__ import annotations

import asyncio
import struct
import warnings

import pytest

from bot.domain.voting import Round, instant_runoff
from bot.services.charts import render_rounds_png

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _dimensions(png: bytes) -> tuple[int, int]:
    assert png.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def _rounds(candidates: int, count: int) -> list[Round]:
    """`count` rounds over `candidates`, the last-nominated going out each round but the last."""
    remaining = list(range(1, candidates + 1))
    rounds: list[Round] = []
    for number in range(count):
        tallies = {candidate: 3 + candidates - candidate + number for candidate in remaining}
        eliminated = remaining[-1] if number < count - 1 else None
        rounds.append(Round(tallies, eliminated, exhausted=number))
        if eliminated is not None:
            remaining.remove(eliminated)
    return rounds


NAMES = {number: f"Book number {number}" for number in range(1, 11)}


@pytest.mark.parametrize(("candidates", "count"), [(2, 1), (3, 2), (10, 1), (10, 4), (10, 5), (10, 6), (10, 9)])
def test_draws_a_png_at_discord_preview_size(candidates: int, count: int) -> None:
    png = render_rounds_png(_rounds(candidates, count), NAMES, "Next read")
    assert _dimensions(png) == (800, 500)
    assert 5_000 < len(png) < 400_000


def test_the_picture_changes_with_the_votes() -> None:
    first = render_rounds_png([Round({1: 3, 2: 1}, None, 0)], NAMES, "Next read")
    second = render_rounds_png([Round({1: 1, 2: 3}, None, 0)], NAMES, "Next read")
    assert first != second


def test_a_real_count_draws() -> None:
    ballots = [[10]] * 5 + [[20, 30]] * 4 + [[30, 20]] * 3 + [[40, 30, 20]] * 2
    result = instant_runoff([10, 20, 30, 40], ballots)
    png = render_rounds_png(result.rounds, {10: "Beloved", 20: "Dune"}, "Spring pick")
    assert _dimensions(png) == (800, 500)


def test_no_rounds_still_draws_a_picture() -> None:
    assert _dimensions(render_rounds_png([], NAMES, "Nobody voted")) == (800, 500)


def test_any_names_draw_without_errors_or_missing_glyph_warnings() -> None:
    names = {
        1: "ノルウェイの森",
        2: "Cien años de soledad 📚👨\u200d👩\u200d👧",
        3: "שלום \u202eevil\u202c עולם",
        4: "zero\u200bwidth\u0000control\nnewline",
        5: "Costs $5 and $\\frac{1}{0}$ or $",
        6: "A Very Long Title Indeed: The Second Book of a Sprawling and Much-Loved Fantasy Series",
        7: "",
        8: "e\u0301\u0302 ÅÄÖ Ελληνικά Русский",
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = render_rounds_png(_rounds(9, 3), names, "Poll: $$ «Ünïcödé» ノルウェイ " + "x" * 200)
    assert _dimensions(png) == (800, 500)
    assert [str(warning.message) for warning in caught] == []


async def test_draws_from_worker_threads_at_the_same_time() -> None:
    jobs = [(_rounds(10, count), NAMES, f"Poll {count}") for count in (1, 5, 9)]
    expected = [render_rounds_png(*job) for job in jobs]
    drawn = await asyncio.gather(*(asyncio.to_thread(render_rounds_png, *job) for job in jobs))
    assert list(drawn) == expected
