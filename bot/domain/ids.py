"""Ids read back from custom_ids and autocomplete values: any member can forge those, so they are checked first."""

from __future__ import annotations

import re

# Discord snowflakes and SQLite integers are signed 64-bit: a larger number cannot name anything and makes
# sqlite3 raise OverflowError, which would reach the log as a traceback.
MAX_ID = 2**63 - 1


def parse_id(text: str | None, *, allow_zero: bool = False) -> int | None:
    """The id written in `text` (ASCII digits only), or None when it is malformed or out of range."""
    if text is None or not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    if value > MAX_ID or (value == 0 and not allow_zero):
        return None
    return value


def picked_id(choice: re.Pattern[str], text: str) -> int | None:
    """The id in an autocomplete value such as `book:12` (the pattern's first group), or None for typed text or a
    forged, out-of-range id."""
    picked = choice.match(text.strip())
    return parse_id(picked.group(1)) if picked else None
