"""Which club book a member means, and what they are told when the club has none by that name."""

from __future__ import annotations

import pytest

from bot.app.books import BookResolver
from bot.errors import UserError
from bot.store import Store

GUILD = 111
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"


async def test_a_long_unknown_title_is_quoted_back_without_half_an_emoji(store: Store) -> None:
    with pytest.raises(UserError) as refused:
        await BookResolver(store).require(GUILD, "x" * 98 + FAMILY)
    message = str(refused.value)
    assert "x" * 98 in message
    assert "\U0001f468" not in message and "\u200d" not in message, "a cut emoji shows as a broken glyph"
