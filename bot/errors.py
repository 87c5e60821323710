"""Errors whose message is meant for the member who caused them, raised anywhere below the cogs."""

from __future__ import annotations


class UserError(Exception):
    """Bad input or a state the member can fix; shown to them as one short ephemeral line."""


class NotConfigured(UserError):
    """A moderator has not set up what this command needs yet."""


class NotAllowed(UserError):
    """The member may not do this."""
