"""Pictures of poll results: the rounds of an instant-runoff count as a PNG bar chart for Discord."""

from __future__ import annotations

import io
import logging
import math
import unicodedata
from collections.abc import Mapping, Sequence
from functools import cache

from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from bot.domain.text import graphemes
from bot.domain.voting import Round

log = logging.getLogger(__name__)

# Discord previews images at about 800×500; drawing at that size keeps the text legible there.
_SIZE_INCHES = (8.0, 5.0)
_DPI = 100
_MAX_COLUMNS = 5
_NAME_WIDTH = 24
_TITLE_WIDTH = 80

_BAR = "#5865f2"
_ELIMINATED = "#ed4245"
_WINNER = "#3ba55c"
_MISSING_GLYPH = "□"
# Broad-coverage fonts used when installed, so titles in other scripts still draw; DejaVu Sans
# ships with matplotlib and comes first.
_FONT_PREFERENCE = (
    "DejaVu Sans",
    "Noto Sans",
    "Noto Sans CJK JP",
    "Noto Sans CJK SC",
    "Noto Sans Arabic",
    "Noto Sans Hebrew",
    "Noto Sans Devanagari",
    "Droid Sans Fallback",
    "WenQuanYi Zen Hei",
    "Arial Unicode MS",
)


def render_rounds_png(rounds: Sequence[Round], names: Mapping[int, str], title: str) -> bytes:
    """Draw each round's tallies as horizontal bars, one panel per round, and return the PNG.

    Candidates keep one row across panels, the longest-lasting on top; the candidate eliminated
    in a round is drawn red there and has no bar afterwards, and the winner of the last round is
    green. Names missing from `names` show as "#id"; long names are shortened in the middle.
    Uses no pyplot, so it is safe to call from worker threads (`asyncio.to_thread`).
    """
    figure = Figure(figsize=_SIZE_INCHES, dpi=_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    families = list(_font_families())
    figure.suptitle(_label(title, _TITLE_WIDTH), fontsize=14, fontfamily=families, parse_math=False)
    if not rounds:
        figure.text(0.5, 0.5, "No ballots were counted.", ha="center", va="center", fontfamily=families)
    else:
        _draw_rounds(figure, rounds, names, families)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    log.debug("drew %d rounds for %r", len(rounds), title)
    return buffer.getvalue()


def _draw_rounds(figure: Figure, rounds: Sequence[Round], names: Mapping[int, str], families: list[str]) -> None:
    rows = math.ceil(len(rounds) / _MAX_COLUMNS)
    columns = math.ceil(len(rounds) / rows)
    axes_grid = figure.subplots(rows, columns, sharex=True, sharey=True, squeeze=False)
    order = _row_order(rounds)
    position = {candidate: index for index, candidate in enumerate(order)}
    labels = [_label(names.get(candidate, f"#{candidate}"), _NAME_WIDTH) for candidate in order]
    widest = max(max(round_.tallies.values(), default=0) for round_ in rounds)
    winner = _leader(rounds[-1]) if rounds[-1].eliminated is None else None
    small = len(rounds) > 3 or len(order) > 6

    for index, axes in enumerate(axes_grid.flat):
        if index >= len(rounds):
            axes.set_visible(False)
            continue
        round_ = rounds[index]
        is_last = index == len(rounds) - 1
        _draw_round(axes, round_, position, winner if is_last else None, small)
        caption = f"Round {index + 1}"
        if round_.exhausted:
            caption += f"\n{round_.exhausted} exhausted"
        axes.set_title(caption, fontsize=9 if small else 11, fontfamily=families, parse_math=False)
        axes.set_xlim(0, max(widest, 1) * 1.25)
        axes.set_ylim(len(order) - 0.5, -0.5)
        axes.set_xticks([])
        axes.set_yticks(
            range(len(order)), labels=labels, fontsize=8 if small else 10, fontfamily=families, parse_math=False
        )
        axes.tick_params(axis="y", length=0)
        for side in ("top", "right", "bottom"):
            axes.spines[side].set_visible(False)

    keys = [Patch(color=_ELIMINATED, label="Eliminated")] if any(r.eliminated is not None for r in rounds) else []
    if winner is not None:
        keys.append(Patch(color=_WINNER, label="Winner"))
    if keys:
        figure.legend(handles=keys, loc="outside lower center", ncols=len(keys), frameon=False, fontsize=9)


def _draw_round(axes: Axes, round_: Round, position: dict[int, int], winner: int | None, small: bool) -> None:
    candidates = list(round_.tallies)
    colours = [
        _ELIMINATED if candidate == round_.eliminated else _WINNER if candidate == winner else _BAR
        for candidate in candidates
    ]
    rows = [position[candidate] for candidate in candidates]
    votes = [round_.tallies[candidate] for candidate in candidates]
    axes.barh(rows, votes, color=colours, height=0.7)
    for row, count in zip(rows, votes, strict=True):
        axes.text(count, row, f" {count}", va="center", fontsize=8 if small else 10, parse_math=False)


def _row_order(rounds: Sequence[Round]) -> list[int]:
    """Candidates top to bottom: those lasting longest first, then by final votes, then nomination."""
    nomination = list(dict.fromkeys(candidate for round_ in rounds for candidate in round_.tallies))
    rank = {candidate: index for index, candidate in enumerate(nomination)}
    last_round = dict.fromkeys(nomination, 0)
    last_votes = dict.fromkeys(nomination, 0)
    for index, round_ in enumerate(rounds):
        for candidate, votes in round_.tallies.items():
            last_round[candidate] = index
            last_votes[candidate] = votes
    return sorted(
        nomination,
        key=lambda candidate: (-last_round[candidate], -last_votes[candidate], rank[candidate]),
    )


def _leader(round_: Round) -> int | None:
    """The most votes in the round, ties to the earliest nominated, as the count decides them."""
    return max(round_.tallies, key=lambda candidate: round_.tallies[candidate], default=None)


def _label(text: str, width: int) -> str:
    """Text the fonts can draw, without invisible controls, shortened in the middle to `width`."""
    drawable = _drawable_codepoints()
    cleaned = "".join(
        char if ord(char) in drawable else _MISSING_GLYPH
        for char in " ".join(text.split())
        if unicodedata.category(char) not in {"Cc", "Cf"}
    )
    units = graphemes(cleaned)
    if len(units) <= width:
        return cleaned
    # The middle goes: series titles differ at the end ("…, Book 2") as often as at the start.
    head = math.ceil((width - 1) * 0.6)
    tail = width - 1 - head
    return f"{''.join(units[:head]).rstrip()}…{''.join(units[len(units) - tail:]).lstrip()}"


@cache
def _font_families() -> tuple[str, ...]:
    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    return tuple(family for family in _FONT_PREFERENCE if family in installed) or ("sans-serif",)


@cache
def _drawable_codepoints() -> frozenset[int]:
    codepoints: set[int] = set()
    for family in _font_families():
        path = font_manager.findfont(font_manager.FontProperties(family=family))
        codepoints.update(font_manager.get_font(path).get_charmap())
    return frozenset(codepoints)
