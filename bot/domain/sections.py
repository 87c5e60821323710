"""Reading sections of a discussed book: parsing `Part 1, Part 2` or `1-8, 9-15`, their target dates, and the
threads' names.

A section is a name ("Part 2"), a chapter range ("ch. 9–15"), or both ("Part 2: 9-15" or
"Part 2 (ch. 9–15)"). Each section thread admits spoilers up to the end of its section, and its
name says so: "Never Let Me Go · Part 2 · spoilers up to ch. 15". Discord caps thread names at
100 characters; the book's title is shortened to fit, never the scope, since the scope is what
keeps a reader safe.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bot.domain.text import clean_line, clip, cut_point

THREAD_NAME_LIMIT = 100
MAX_SECTIONS = 20
MAX_SECTION_NAME = 30
MAX_CHAPTER = 9999

SECTIONS_HELP = "List the sections separated by commas, like `Part 1, Part 2, Part 3` or `1-8, 9-15, 16-23`."
DATES_HELP = ("Give one date per section, in the same order, separated by commas, like "
              "`2026-12-10, 2026-12-17, 2026-12-24`; `-` leaves a section without one.")
NO_DATE = {"-", "–", "—", "none"}

_SEPARATORS = re.compile(r"[,;\n]")
_CHAPTER_WORD = r"(?:ch(?:apters?|s)?\.?\s*)?"
_RANGE = re.compile(rf"{_CHAPTER_WORD}(\d+)(?:\s*(?:-|–|—|to)\s*(\d+))?", re.IGNORECASE)
# "Part 2: 9-15" or "Part 2 (ch. 9–15)": a name, then its chapters.
_NAMED_RANGE = re.compile(r"(.+?)\s*(?::\s*(.+)|\((.+)\))")
_SQUASH = re.compile(r"[\W_]+")


class SectionError(ValueError):
    """The sections as typed cannot be used; the message says why, for the moderator."""


@dataclass(frozen=True)
class Section:
    """One stretch of the book that a section thread may discuss, together with everything before it."""

    name: str
    first_chapter: int | None = None
    last_chapter: int | None = None

    @property
    def chapters(self) -> str | None:
        """"ch. 9–15" or "ch. 5", when the section has chapters."""
        if self.first_chapter is None or self.last_chapter is None:
            return None
        if self.first_chapter == self.last_chapter:
            return f"ch. {self.first_chapter}"
        return f"ch. {self.first_chapter}–{self.last_chapter}"

    @property
    def scope(self) -> str:
        """What a reader of this section's thread may be spoiled on."""
        if self.last_chapter is not None:
            return f"spoilers up to ch. {self.last_chapter}"
        return f"spoilers up to the end of {self.name}"

    @property
    def label(self) -> str:
        """The name with its chapters when they are not already the name: "Part 2 (ch. 9–15)"."""
        chapters = self.chapters
        if chapters is None or _squash(chapters) == _squash(self.name):
            return self.name
        return f"{self.name} ({chapters})"

    def contains_chapter(self, chapter: int) -> bool:
        if self.first_chapter is None or self.last_chapter is None:
            return False
        return self.first_chapter <= chapter <= self.last_chapter


def parse_sections(text: str) -> list[Section]:
    """The sections listed in `text`, in reading order.

    Raises SectionError when the list is empty or too long, a name repeats, or the chapter
    ranges run backwards or overlap.
    """
    items = [" ".join(item.split()) for item in _SEPARATORS.split(text)]
    items = [item for item in items if item]
    if not items:
        raise SectionError(SECTIONS_HELP)
    if len(items) > MAX_SECTIONS:
        raise SectionError(f"At most {MAX_SECTIONS} sections, please; you listed {len(items)}.")
    sections = [_parse_item(item) for item in items]
    seen: set[str] = set()
    for section in sections:
        key = _squash(section.name)
        if key in seen:
            raise SectionError(f"“{section.name}” is listed twice; each section needs its own name.")
        seen.add(key)
    previous: Section | None = None
    for section in sections:
        if section.first_chapter is None or section.last_chapter is None:
            continue
        if previous is not None and previous.last_chapter is not None and (
                section.first_chapter <= previous.last_chapter):
            raise SectionError(
                f"{section.label} starts before {previous.label} ends; list the sections in reading order "
                "without overlaps."
            )
        previous = section
    return sections


def parse_target_dates(text: str, sections: Sequence[Section], today: date) -> list[date | None]:
    """The day by which the club means to have read each section, in reading order (None: no date).

    Raises SectionError when the count differs from the sections', a date cannot be read or has
    passed, or the dates run backwards.
    """
    items = [item.strip() for item in _SEPARATORS.split(text)]
    if len(items) == 1 and len(sections) > 1 and len(items[0].split()) == len(sections):
        items = items[0].split()  # "2026-12-10 2026-12-17": spaces alone separate them too
    items = [item for item in items if item]
    if len(items) != len(sections):
        names = ", ".join(section.name for section in sections)
        raise SectionError(f"You gave {len(items)} date{'s' if len(items) != 1 else ''} for {len(sections)} "
                           f"section{'s' if len(sections) != 1 else ''} ({names}). {DATES_HELP}")
    dates: list[date | None] = []
    previous: tuple[Section, date] | None = None
    for section, item in zip(sections, items, strict=True):
        if item.casefold() in NO_DATE:
            dates.append(None)
            continue
        try:
            day = date.fromisoformat(item)
        except ValueError:
            raise SectionError(f"“{item[:40]}” (for {section.name}) is not a date like 2026-12-10 "
                               "(year-month-day).") from None
        if day < today:
            raise SectionError(f"{day.isoformat()} (for {section.name}) has already passed; target dates are today "
                               "or later.")
        if previous is not None and day < previous[1]:
            raise SectionError(f"{section.name} is due {day.isoformat()}, before {previous[0].name} "
                               f"({previous[1].isoformat()}); list the dates in reading order.")
        previous = (section, day)
        dates.append(day)
    return dates


def _parse_item(item: str) -> Section:
    chapters = _chapters(item)
    if chapters is not None:
        first, last = chapters
        name = f"Ch. {first}" if first == last else f"Ch. {first}–{last}"
        return Section(name, first, last)
    named = _NAMED_RANGE.fullmatch(item)
    if named is not None:
        chapters = _chapters((named.group(2) or named.group(3)).strip())
        if chapters is not None:
            return Section(_checked_name(named.group(1)), *chapters)
    # "Book 1: The Boy" or "Epilogue (short)" are names, not chapters.
    return Section(_checked_name(item))


def _chapters(text: str) -> tuple[int, int] | None:
    found = _RANGE.fullmatch(text)
    if found is None:
        return None
    first = int(found.group(1))
    last = int(found.group(2)) if found.group(2) else first
    if not 1 <= first <= MAX_CHAPTER or not 1 <= last <= MAX_CHAPTER:
        raise SectionError(f"Chapters run from 1 to {MAX_CHAPTER}; “{text}” is outside that.")
    if last < first:
        raise SectionError(f"“{text}” runs backwards; write the first chapter first, like `9-15`.")
    return first, last


def _checked_name(name: str) -> str:
    name = name.strip()
    if not _squash(name):
        raise SectionError(f"“{name}” is not a section name; {SECTIONS_HELP}")
    if len(name) > MAX_SECTION_NAME:
        raise SectionError(
            f"Section names can be at most {MAX_SECTION_NAME} characters: “{clip(name, 40)}…” is longer.")
    return name


def _squash(text: str) -> str:
    """Lower-case letters and digits only, so "Part 2", "part2" and "PART-2" are the same name."""
    return _SQUASH.sub("", text.casefold())


def find_section(sections: Sequence[Section], text: str) -> int | None:
    """The index of the section a member means by `text`: its name, its label, or a chapter inside it."""
    wanted = _squash(text)
    if not wanted:
        return None
    for index, section in enumerate(sections):
        if wanted in (_squash(section.name), _squash(section.label)):
            return index
    bare = re.fullmatch(rf"{_CHAPTER_WORD}(\d+)", text.strip(), re.IGNORECASE)
    if bare is not None:
        chapter = int(bare.group(1))
        for index, section in enumerate(sections):
            if section.contains_chapter(chapter):
                return index
    partial = [index for index, section in enumerate(sections) if wanted in _squash(section.label)]
    return partial[0] if len(partial) == 1 else None


def section_thread_name(title: str, section: Section) -> str:
    """"Never Let Me Go · Part 2 · spoilers up to ch. 15", at most 100 characters."""
    return _fit(title, f" · {section.name} · {section.scope}")


def spoiler_free_thread_name(title: str) -> str:
    """"Never Let Me Go · spoiler-free", at most 100 characters."""
    return _fit(title, " · spoiler-free")


def _fit(title: str, suffix: str) -> str:
    title = clean_line(title)
    room = THREAD_NAME_LIMIT - len(suffix)
    if len(title) > room:
        title = title[: cut_point(title, room - 1)].rstrip() + "…"
    return title + suffix
