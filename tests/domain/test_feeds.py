"""Blog posts become readable text, and their titles tell which book they review."""

from __future__ import annotations

import html

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.feeds import BookGuess, guess_book, html_to_text
from bot.domain.text import tidy_text, truncate


def test_paragraphs_and_line_breaks_become_new_lines() -> None:
    assert html_to_text("<p>First para.</p><p>Second<br>line two<br/>line three</p>") == (
        "First para.\n\nSecond\nline two\nline three"
    )


def test_entities_are_decoded() -> None:
    assert html_to_text("Fish &amp; Chips &lt;3 &quot;quoted&quot; caf&eacute; &#8212; done&nbsp;now") == (
        'Fish & Chips <3 "quoted" café — done now'
    )


def test_scripts_styles_and_markup_vanish() -> None:
    source = (
        "<html><head><title>Blog</title><style>p { color: red }</style></head>"
        "<body><script>alert('x')</script><p>Hello <b>bold</b> <a href='/x'>link</a></p>"
        "<noscript>enable js</noscript></body></html>"
    )
    assert html_to_text(source) == "Hello bold link"


def test_source_line_breaks_are_spaces_and_blank_lines_collapse() -> None:
    source = "<div>\n  A   long\n\tsentence\n</div>\n\n\n<p></p><p></p><div>Next</div>"
    assert html_to_text(source) == "A long sentence\n\nNext"


def test_lists_become_bullets() -> None:
    assert html_to_text("<p>Picks:</p><ul><li>One</li><li>Two</li></ul>") == "Picks:\n\n• One\n• Two"


def test_preformatted_text_keeps_its_lines() -> None:
    assert html_to_text("<pre>line one\nline two</pre>") == "line one\nline two"


def test_goodreads_review_markup() -> None:
    assert html_to_text("Loved it.<br /><br />Read it twice, &quot;really&quot;.") == (
        'Loved it.\n\nRead it twice, "really".'
    )


def test_broken_html_still_gives_text() -> None:
    assert html_to_text("<p>Unclosed <b>bold <i>and <p>more") == "Unclosed bold and\n\nmore"
    assert html_to_text("") == ""
    assert html_to_text("plain text, no tags") == "plain text, no tags"


def test_limit_cuts_on_a_word_boundary_with_an_ellipsis() -> None:
    text = html_to_text("<p>The quick brown fox jumps over the lazy dog</p>", limit=20)
    assert text == "The quick brown fox…"
    assert len(text) <= 20


def test_limit_leaves_short_text_alone() -> None:
    assert html_to_text("<p>Short</p>", limit=20) == "Short"


def test_one_enormous_word_is_cut_mid_word() -> None:
    assert truncate("a" * 50, 10) == "a" * 9 + "…"


def test_truncate_refuses_a_limit_below_one() -> None:
    with pytest.raises(ValueError, match="limit"):
        truncate("text", 0)


def test_tidy_text_removes_control_characters_and_carriage_returns() -> None:
    assert tidy_text("one\r\ntwo\rthree\x00four\t\tfive\n\n\n\nsix  ") == "one\ntwo\nthree four five\n\nsix"


@settings(deadline=None, max_examples=300)
@given(st.text(max_size=300), st.integers(min_value=1, max_value=120))
def test_property_limit_is_always_respected(source: str, limit: int) -> None:
    text = html_to_text(source, limit=limit)
    assert len(text) <= limit
    assert text == text.strip()


@settings(deadline=None, max_examples=300)
@given(st.text(max_size=200))
def test_property_escaped_text_survives_the_trip_through_html(text: str) -> None:
    clean = tidy_text(text)
    assert html_to_text(html.escape(clean, quote=False).replace("\n", "<br/>")) == clean


@pytest.mark.parametrize(
    ("post_title", "expected"),
    [
        (
            "A dystopian story about fate and friendship: Never Let Me Go by Kazuo Ishiguro (book review)",
            BookGuess("Never Let Me Go", "Kazuo Ishiguro"),
        ),
        ("Review: The Remains of the Day by Kazuo Ishiguro", BookGuess("The Remains of the Day", "Kazuo Ishiguro")),
        ("Never Let Me Go – Kazuo Ishiguro", BookGuess("Never Let Me Go", "Kazuo Ishiguro")),
        ("“Klara and the Sun” by Kazuo Ishiguro", BookGuess("Klara and the Sun", "Kazuo Ishiguro")),
        ('"Beloved", by Toni Morrison', BookGuess("Beloved", "Toni Morrison")),
        ("Death by Black Hole by Neil deGrasse Tyson", BookGuess("Death by Black Hole", "Neil deGrasse Tyson")),
        (
            "Sapiens: A Brief History of Humankind by Yuval Noah Harari",
            BookGuess("Sapiens: A Brief History of Humankind", "Yuval Noah Harari"),
        ),
        ("The Fellowship of the Ring by J.R.R. Tolkien", BookGuess("The Fellowship of the Ring", "J.R.R. Tolkien")),
        ("Klara and the Sun by Kazuo Ishiguro: a review", BookGuess("Klara and the Sun", "Kazuo Ishiguro")),
        ("Mini review | Piranesi by Susanna Clarke", BookGuess("Piranesi", "Susanna Clarke")),
        (
            "Why we loved it: Beloved by Toni Morrison [spoiler-free review]",
            BookGuess("Beloved", "Toni Morrison"),
        ),
        ("Jane Eyre - Charlotte Brontë", BookGuess("Jane Eyre", "Charlotte Brontë")),
        ("Ender's Game by Orson Scott Card", BookGuess("Ender's Game", "Orson Scott Card")),
        ("Book Review: Klara and the Sun", BookGuess("Klara and the Sun", None)),
        ("“Piranesi”: our March pick", BookGuess("Piranesi", None)),
    ],
)
def test_guess_book_recognises_review_titles(post_title: str, expected: BookGuess) -> None:
    assert guess_book(post_title) == expected


@pytest.mark.parametrize(
    "post_title",
    [
        "Our summer reading list",
        "Five Books by Women We Loved",
        "Reading by Candlelight",
        "Stand by Me",
        "Meeting notes – March 2024",
        "Club news - next meeting moved",
        "Books we read in 2023",
        "",
        "   ",
        "!!!",
    ],
)
def test_guess_book_says_none_when_no_book_is_named(post_title: str) -> None:
    assert guess_book(post_title) is None


@settings(deadline=None, max_examples=300)
@given(st.text(max_size=150))
def test_property_guess_book_never_crashes_and_returns_tidy_parts(post_title: str) -> None:
    guess = guess_book(post_title)
    if guess is not None:
        assert guess.title
        assert guess.title == guess.title.strip()
        assert guess.author is None or guess.author == guess.author.strip()
