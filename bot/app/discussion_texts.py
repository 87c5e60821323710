"""What a discussion posts and says: its threads' rules, reading schedule and how its threads are listed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot.domain.answers import day_text
from bot.domain.sections import Section
from bot.domain.text import md, truncate
from bot.store.discussions import Discussion


def dated(label: str, target_date: date | None) -> str:
    """"Part 2 (ch. 9–15) · by 17 December 2026", or the label alone when the section has no target date."""
    return f"{label} · by {day_text(target_date)}" if target_date else label


def reading_schedule(sections: Sequence[tuple[Section, date | None]]) -> str:
    """The sections with their target dates, one line each."""
    return "\n".join(f"{number}. {md(dated(section.label, day))}"
                     for number, (section, day) in enumerate(sections, start=1))


def spoiler_free_rules(title: str, sections: list[Section], guarded: bool,
                       target_dates: Sequence[date | None] = ()) -> str:
    names = ", ".join(md(section.label) for section in sections)
    guard = ("\nMessages here that name a plot detail moderators marked as a spoiler are hidden automatically."
             if guarded else "")
    schedule = ""
    if any(target_dates):
        # The schedule names every section, so the list in the text gives way to it (20 of them must fit in 2000).
        names = "listed below"
        schedule = "\n**Reading schedule**\n" + reading_schedule(list(zip(sections, target_dates, strict=True)))
    return truncate(
        f"**{md(title)} · spoiler-free**\n"
        "Talk about the book here without spoilers: nothing beyond what the cover and blurb tell.\n"
        f"Further along? Record how far you've read with `/progress` and I'll add you to the section threads "
        f"({names}), where the plot can be discussed up to your section.\n"
        f"Need to say more here anyway? `/spoiler` hides it behind spoiler tags.{guard}{schedule}",
        2000,
    )


def section_rules(title: str, section: Section, target_date: date | None = None) -> str:
    target = f"The club means to have read this far by **{day_text(target_date)}**.\n" if target_date else ""
    return (
        f"**{md(title)} · {md(section.label)}**\n"
        f"Everyone here has read at least this far: {section.scope} are fine. Nothing from later sections, "
        "please; `/spoiler` hides anything beyond.\n"
        f"{target}"
        "Members join with `/progress`; the thread is private, so only readers who got here see it."
    )


def thread_mention(thread_id: int) -> str:
    return f"<#{thread_id}>"


def describe_threads(discussion: Discussion) -> str:
    sections = ", ".join(f"{md(s.section.label)} {thread_mention(s.thread_id)}" for s in discussion.sections)
    return f"spoiler-free {thread_mention(discussion.thread_id)}; sections: {sections}"
