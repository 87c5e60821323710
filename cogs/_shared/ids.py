"""Ids read back from custom_ids and autocomplete values: any member can forge those, so they are checked first."""

from __future__ import annotations

# Discord snowflakes and SQLite integers are signed 64-bit: a larger number cannot name anything and makes
# sqlite3 raise OverflowError, which would reach the log as a traceback.
MAX_ID = 2**63 - 1
STALE_COMPONENT = "That button or menu is no longer valid; run the command again."


def parse_id(text: str | None, *, allow_zero: bool = False) -> int | None:
    """The id written in `text` (ASCII digits only), or None when it is malformed or out of range."""
    if text is None or not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    if value > MAX_ID or (value == 0 and not allow_zero):
        return None
    return value
