"""Errors raised anywhere below the cogs for the cogs to report: the member's own (with their message) and the store's
typed ones (a busy or full database), which the one error reporter words for members."""

from __future__ import annotations

import sqlite3


class UserError(Exception):
    """Bad input or a state the member can fix; shown to them as one short ephemeral line."""


class NotConfigured(UserError):
    """A moderator has not set up what this command needs yet."""


class NotAllowed(UserError):
    """The member may not do this."""


class StoreUnavailable(sqlite3.OperationalError):
    """A write SQLite undid because the database could not take it just now; nothing was changed.

    A subclass of the sqlite3 error it replaces, so that code written against sqlite3 still catches it.
    """


class StoreBusy(StoreUnavailable):
    """Another connection (a backup tool, an operator's sqlite3 shell) held the lock past the busy timeout."""


class StoreFull(StoreUnavailable):
    """The disk (or the file's size limit) had no room for the write."""
