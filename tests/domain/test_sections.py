"""Sections as moderators type them, and thread names that say their spoiler scope within Discord's 100 characters."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.sections import (
    MAX_SECTIONS,
    THREAD_NAME_LIMIT,
    Section,
    SectionError,
    find_section,
    parse_sections,
    parse_target_dates,
    section_thread_name,
    spoiler_free_thread_name,
)


def test_named_parts_are_sections_in_order() -> None:
    assert parse_sections("Part 1, Part 2, Part 3") == [Section("Part 1"), Section("Part 2"), Section("Part 3")]


def test_chapter_ranges_become_sections_named_by_their_chapters() -> None:
    sections = parse_sections("1-8, 9–15 ,16 to 23; ch. 24")
    assert [(s.name, s.first_chapter, s.last_chapter) for s in sections] == [
        ("Ch. 1–8", 1, 8), ("Ch. 9–15", 9, 15), ("Ch. 16–23", 16, 23), ("Ch. 24", 24, 24)
    ]
    assert [s.scope for s in sections] == [
        "spoilers up to ch. 8", "spoilers up to ch. 15", "spoilers up to ch. 23", "spoilers up to ch. 24"
    ]


def test_a_name_can_carry_its_chapters() -> None:
    colon, brackets = parse_sections("Part 2: 9-15, Part 3 (chapters 16–23)")
    assert (colon.name, colon.first_chapter, colon.last_chapter) == ("Part 2", 9, 15)
    assert (brackets.name, brackets.label) == ("Part 3", "Part 3 (ch. 16–23)")


def test_a_colon_or_brackets_without_chapters_stay_part_of_the_name() -> None:
    assert parse_sections("Book 1: The Boy, Epilogue (short)") == [Section("Book 1: The Boy"),
                                                                    Section("Epilogue (short)")]


@pytest.mark.parametrize(
    ("typed", "complaint"),
    [
        ("", "separated by commas"),
        (" , ;\n", "separated by commas"),
        ("Part 1, part 1", "listed twice"),
        ("1-8, 8-15", "starts before"),
        ("9-15, 1-8", "starts before"),
        ("15-9", "runs backwards"),
        ("0-3", "from 1"),
        ("A title that goes on far too long for a section", "at most 30"),
        ("!!!", "not a section name"),
        (", ".join(f"Part {n}" for n in range(MAX_SECTIONS + 1)), f"At most {MAX_SECTIONS}"),
    ],
)
def test_unusable_lists_are_refused_with_the_reason(typed: str, complaint: str) -> None:
    with pytest.raises(SectionError, match=complaint):
        parse_sections(typed)


def test_thread_names_say_the_book_the_section_and_how_far_spoilers_go() -> None:
    part_2 = parse_sections("Part 1: 1-8, Part 2: 9-15")[1]
    assert section_thread_name("Never Let Me Go", part_2) == "Never Let Me Go · Part 2 · spoilers up to ch. 15"
    assert section_thread_name("Never Let Me Go", Section("Part 3")) == (
        "Never Let Me Go · Part 3 · spoilers up to the end of Part 3"
    )
    assert spoiler_free_thread_name("Never Let Me Go") == "Never Let Me Go · spoiler-free"


def test_a_long_title_is_shortened_and_the_scope_kept() -> None:
    title = "The Curious Incident of the Dog in the Night-Time and Other Stories Collected in One Long Volume"
    name = section_thread_name(title, Section("Part 2", 9, 15))
    assert len(name) == THREAD_NAME_LIMIT
    assert name.endswith("… · Part 2 · spoilers up to ch. 15") and name.startswith("The Curious Incident")


@settings(deadline=None, max_examples=200)
@given(title=st.text(min_size=1, max_size=300), typed=st.text(max_size=60))
def test_thread_names_always_fit_discord(title: str, typed: str) -> None:
    try:
        sections = parse_sections(typed)
    except SectionError:
        sections = [Section("Part 1")]
    for section in sections:
        assert len(section_thread_name(title, section)) <= THREAD_NAME_LIMIT
        assert section_thread_name(title, section).endswith(section.scope)
    assert len(spoiler_free_thread_name(title)) <= THREAD_NAME_LIMIT


def test_members_find_a_section_by_name_label_or_chapter() -> None:
    sections = parse_sections("Part 1: 1-8, Part 2: 9-15, Part 3: 16-23")
    assert find_section(sections, "part 2") == 1
    assert find_section(sections, "Part 3 (ch. 16–23)") == 2
    assert find_section(sections, "12") == 1
    assert find_section(sections, "ch. 23") == 2
    assert find_section(sections, "24") is None
    assert find_section(sections, "Part") is None
    assert find_section(sections, "") is None
    assert find_section(parse_sections("Prologue, Middle, Ending"), "end") == 2


TODAY = date(2026, 12, 4)


def test_target_dates_pair_with_the_sections_in_order() -> None:
    sections = parse_sections("Part 1, Part 2, Part 3")
    assert parse_target_dates("2026-12-10, 2026-12-17, 2026-12-24", sections, TODAY) == [
        date(2026, 12, 10), date(2026, 12, 17), date(2026, 12, 24)]
    assert parse_target_dates("2026-12-10 2026-12-10 2026-12-24", sections, TODAY) == [
        date(2026, 12, 10), date(2026, 12, 10), date(2026, 12, 24)]
    assert parse_target_dates("-, 2026-12-04, none", sections, TODAY) == [None, TODAY, None]


@pytest.mark.parametrize(("text", "why"), [
    ("2026-12-10", "You gave 1 date for 3 sections (Part 1, Part 2, Part 3)"),
    ("2026-12-10, 2026-12-17, 2026-12-24, 2026-12-31", "You gave 4 dates"),
    ("2026-12-10, 17 Dec, 2026-12-24", "“17 Dec” (for Part 2) is not a date"),
    ("2026-12-10, 2026-12-03, 2026-12-24", "2026-12-03 (for Part 2) has already passed"),
    ("2026-12-17, 2026-12-10, 2026-12-24", "Part 2 is due 2026-12-10, before Part 1 (2026-12-17)"),
    ("2026-12-17, -, 2026-12-10", "Part 3 is due 2026-12-10, before Part 1"),
])
def test_target_dates_that_cannot_be_used_say_why(text: str, why: str) -> None:
    with pytest.raises(SectionError) as raised:
        parse_target_dates(text, parse_sections("Part 1, Part 2, Part 3"), TODAY)
    assert why in str(raised.value)


@settings(max_examples=200)
@given(st.lists(st.integers(min_value=0, max_value=400), min_size=1, max_size=MAX_SECTIONS))
def test_any_dates_from_today_in_order_are_taken_as_given(offsets: list[int]) -> None:
    days = [TODAY + timedelta(days=offset) for offset in sorted(offsets)]
    sections = [Section(f"Part {number}") for number in range(1, len(days) + 1)]
    assert parse_target_dates(", ".join(day.isoformat() for day in days), sections, TODAY) == days
