"""How /review list shows a review: member text in it is cleaned as everywhere else."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.store.reviews import Review
from cogs.reviews.views import review_field

BIDI = "\u202e\u2066\u200f"


def test_a_listed_review_shows_no_direction_controls_from_its_reviewer_or_text() -> None:
    review = Review(id=1, guild_id=1, book_id=1, book_title="Piranesi", book_author="Susanna Clarke",
                    reviewer_name="\u202eMallory", rating=4, body="A house \u2066of\u2069 halls\u200f.",
                    source="member", status="announced", message_ids=[], created_at=datetime(2026, 3, 1, tzinfo=UTC))
    name, value = review_field(review)
    assert "Mallory" in value and "halls" in value
    assert not any(char in name + value for char in BIDI), "the line would show reversed"
