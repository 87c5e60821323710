"""Ratings as members type them, star lines, the weekly slot across DST, and announcements within Discord's limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.reviews import (
    EMBED_DESCRIPTION,
    EMBED_TITLE,
    MAX_REVIEW,
    MAX_SPOILERS,
    MESSAGE_EMBED_CHARS,
    MESSAGE_EMBEDS,
    RATING_HELP,
    ReviewCard,
    announcement,
    footer_text,
    next_announcement,
    parse_footer,
    parse_rating,
    split_escaped,
    star_line,
)
from tests.domain.discord_markdown import hidden_text, shown_text

LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(("typed", "stars"), [
    ("4", 4), (" 5 ", 5), ("1/5", 1), ("3 / 5", 3), ("4 stars", 4), ("1 star", 1), ("2★", 2), ("★★★", 3),
    ("⭐⭐⭐⭐", 4), ("⭐️⭐️", 2), ("*****", 5),
])
def test_ratings_members_write_are_understood(typed: str, stars: int) -> None:
    assert parse_rating(typed) == stars


@pytest.mark.parametrize("typed", ["6", "0", "five", "4.5", "", "★★★★★★", "4/10", "-3", "3 or 4"])
def test_anything_else_is_refused_saying_what_is_accepted(typed: str) -> None:
    with pytest.raises(ValueError, match="isn't a rating") as refused:
        parse_rating(typed)
    assert RATING_HELP in str(refused.value)


def test_star_lines() -> None:
    assert star_line(4) == "★★★★☆" and star_line(1) == "★☆☆☆☆"
    with pytest.raises(ValueError):
        star_line(6)


def slots_from(start: datetime, count: int) -> list[datetime]:
    found, after = [], start
    for _ in range(count):
        slot = next_announcement(after, 6, "18:00", "Europe/London")
        assert slot is not None
        found.append(slot)
        after = slot
    return found


def test_a_london_slot_stays_at_six_in_the_evening_when_the_clocks_go_forward() -> None:
    slots = slots_from(datetime(2026, 3, 20, tzinfo=UTC), 3)
    assert [slot.astimezone(LONDON).strftime("%a %d %b %H:%M") for slot in slots] == [
        "Sun 22 Mar 18:00", "Sun 29 Mar 18:00", "Sun 05 Apr 18:00"]
    # 29 March 2026 is the first day of British Summer Time: six o'clock is then 17:00 UTC.
    assert [slot.hour for slot in slots] == [18, 17, 17]


def test_a_london_slot_stays_at_six_in_the_evening_when_the_clocks_go_back() -> None:
    slots = slots_from(datetime(2026, 10, 20, tzinfo=UTC), 2)
    assert [slot.astimezone(LONDON).strftime("%d %b %H:%M") for slot in slots] == ["25 Oct 18:00", "01 Nov 18:00"]
    assert [slot.hour for slot in slots] == [18, 18]
    assert slots[1] - slots[0] == timedelta(days=7)


def test_no_schedule_means_at_once() -> None:
    assert next_announcement(datetime(2026, 3, 2, tzinfo=UTC), None, None, "UTC") is None


def test_footers_name_the_review_and_its_part() -> None:
    assert footer_text(12, 1, 1) == "Review #12"
    assert footer_text(12, 2, 3) == "Review #12 · part 2 of 3"
    assert parse_footer("Review #12") == (12, 1, 1)
    assert parse_footer("Review #12 · part 2 of 3") == (12, 2, 3)
    assert parse_footer("Review #12 by Alice") is None and parse_footer("Poll #3") is None


def card(**changes: object) -> ReviewCard:
    fields: dict[str, object] = {
        "review_id": 7, "title": "Never Let Me Go", "author": "Kazuo Ishiguro", "reviewer": "Alice",
        "body": "Quietly devastating.", "rating": 5,
    }
    fields.update(changes)
    return ReviewCard(**fields)  # type: ignore[arg-type]


def test_a_short_review_is_one_embed_with_book_stars_reviewer_and_mark() -> None:
    (message,) = announcement(card(cover_url="https://covers.example/1.jpg"))
    (embed,) = message
    assert embed.title == "Never Let Me Go by Kazuo Ishiguro"
    assert embed.author == "Alice's review" and embed.thumbnail == "https://covers.example/1.jpg"
    assert embed.description == "★★★★★\n\nQuietly devastating\\." and embed.footer == "Review #7"
    assert embed.url is None


def test_a_blog_post_credits_the_blog_links_the_post_and_has_no_stars() -> None:
    (message,) = announcement(card(reviewer="The Lamplight Readers", rating=None, from_blog=True,
                                   link="https://blog.example/p/1"))
    assert message[0].author == "From the blog The Lamplight Readers"
    assert message[0].url == "https://blog.example/p/1" and "★" not in message[0].description


def test_member_text_cannot_ping_link_or_format() -> None:
    (message,) = announcement(card(title="**Bold** [x](https://evil.example)", body="@everyone <@123> *hi*"))
    assert shown_text(message[0].description).endswith("@everyone <@123> *hi*")
    assert "\\@everyone" in message[0].description and "\\[x\\]" in (message[0].title or "")


def test_spoilers_stay_hidden_whatever_they_contain() -> None:
    spoilers = "Ruth dies || @everyone ||| Tommy too *and* `code` \\|"
    (message,) = announcement(card(spoilers=spoilers))
    assert len(message) == 2
    shown = shown_text(message[1].description)
    assert shown.strip() == "Spoilers (click to reveal)"
    assert hidden_text(message[1].description) == spoilers
    assert message[1].footer == "Review #7" and message[0].footer is None


def within_limits(messages: list[list]) -> None:
    for message in messages:
        assert 1 <= len(message) <= MESSAGE_EMBEDS
        assert sum(embed.size for embed in message) <= MESSAGE_EMBED_CHARS
        for embed in message:
            assert len(embed.description) <= EMBED_DESCRIPTION and len(embed.title or "") <= EMBED_TITLE


def test_a_review_of_4000_characters_full_of_punctuation_fits_in_marked_parts() -> None:
    body = ("Well... was it 'good'? Yes! (Mostly.) " * 200)[:MAX_REVIEW]
    messages = announcement(card(body=body, spoilers="!" * MAX_SPOILERS, title="T" * 300))
    within_limits(messages)
    assert len(messages) == 2
    assert [message[-1].footer for message in messages] == ["Review #7 · part 1 of 2", "Review #7 · part 2 of 2"]
    shown = "".join(shown_text(embed.description) for message in messages for embed in message[:1])
    assert shown.replace(" ", "").replace("\n", "").startswith("★★★★★Well...wasit'good'?")
    assert messages[0][0].title is not None and messages[0][0].title.endswith("…")


def test_pieces_break_at_paragraphs_then_lines_then_spaces() -> None:
    text = "First paragraph here.\n\nSecond one is longer than that."
    assert split_escaped(text, 40) == ["First paragraph here\\.", "Second one is longer than that\\."]
    assert split_escaped("aaaa bbbb cccc", 10) == ["aaaa bbbb", "cccc"]
    assert split_escaped("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    assert split_escaped("..", 3) == ["\\.", "\\."]


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=600), limit=st.integers(min_value=2, max_value=120))
def test_pieces_fit_and_keep_every_visible_character(text: str, limit: int) -> None:
    pieces = split_escaped(text, limit)
    assert all(0 < len(piece) <= limit for piece in pieces)
    rendered = "".join(shown_text(piece) for piece in pieces)
    assert "".join(rendered.split()) == "".join(text.split())


@settings(max_examples=40, deadline=None)
@given(body=st.text(min_size=1, max_size=MAX_REVIEW), spoilers=st.none() | st.text(max_size=MAX_SPOILERS),
       rating=st.none() | st.integers(min_value=1, max_value=5))
def test_any_review_fits_discords_limits(body: str, spoilers: str | None, rating: int | None) -> None:
    messages = announcement(card(body=body, spoilers=spoilers, rating=rating))
    within_limits(messages)
    parts = [parse_footer(message[-1].footer or "") for message in messages]
    assert parts == [(7, number, len(messages)) for number in range(1, len(messages) + 1)]
