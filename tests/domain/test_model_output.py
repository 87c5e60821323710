"""A model's answer keeps only links its tool results gave it, no mention-looking text, and no invented names."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.model_output import REMOVED_LINK, Evidence, sanitise, unsupported_names
from bot.domain.text import tidy_text

REVIEW_LINK = "https://bookclub.example.org/reviews/7"
EVIDENCE = Evidence.of([
    "Alice\nwhat did we think of Never Let Me Go?",
    "Never Let Me Go", "Kazuo Ishiguro", "Bob",
    f"Devastating. Read it before someone spoils it for you. More at {REVIEW_LINK}",
])
NOTHING = Evidence.of([])


@pytest.mark.parametrize(
    ("answer", "posted"),
    [
        ("Claim it at https://free-nitro.gift/claim now.", f"Claim it at {REMOVED_LINK} now."),
        ("See (http://evil.example.com/login).", f"See ({REMOVED_LINK})."),
        ("Visit <https://evil.example.com>!", f"Visit {REMOVED_LINK}!"),
        ("Join discord.gg/freebooks today", f"Join {REMOVED_LINK} today"),
        ("Join discord.com/invite/abc or discordapp.com/invite/xyz", f"Join {REMOVED_LINK} or {REMOVED_LINK}"),
        ("Log in at steam-gifts.ru/claim?id=1, quickly", f"Log in at {REMOVED_LINK}, quickly"),
        ("Read [Bob's review](https://evil.example.com/x)", "Read Bob's review"),
        (f"Read [Bob's review]({REVIEW_LINK})", f"Read {REVIEW_LINK}"),
        (f"Read [Bob's review](<{REVIEW_LINK}> \"title\")", f"Read {REVIEW_LINK}"),
        ("[https://club.example.org](https://evil.example.com)", REMOVED_LINK),
        (f"Bob's review: {REVIEW_LINK}.", f"Bob's review: {REVIEW_LINK}."),
        (f"Bob's review: {REVIEW_LINK.upper().replace('HTTPS://', 'https://')}/", None),
        ("@everyone and @here, look", "everyone and here, look"),
        ("＠everyone ﹫HERE @@everyoneeveryone", "everyone HERE everyoneeveryone"),
        ("@\u200beveryone, @\u2060here", "everyone, here"),
        ("ask <@123456789012345678> or <@!42> in <#99> with <@&7>",
         "ask a member or a member in a channel with a role"),
        ("use </ask:1234>", "use /ask"),
        ("\u202eevil\u202c text", "evil text"),
        ("Members loved **Never Let Me Go** 👨\u200d👩\u200d👧\u200d👦", None),
    ],
)
def test_links_masked_links_and_mentions_are_made_plain(answer: str, posted: str | None) -> None:
    assert sanitise(answer, EVIDENCE) == (answer if posted is None else posted)


@pytest.mark.parametrize(
    ("answer", "invented"),
    [
        ("Members loved **Never Let Me Go** by Kazuo Ishiguro.", []),
        ("Bob wrote: “Devastating. Read it before someone spoils it”.", []),
        ("Bob wrote “Devastating… someone spoils it for you”", []),
        ("**Yes**, the club finished *never let me go* by March 2024 (4.67★, **highly recommended**).", []),
        ("Alice asked about _Never Let Me Go_.", []),
        ("Next, read **The Nitro Giveaway**.", ["The Nitro Giveaway"]),
        ("Never Let Me Go by Free Gifts Inc is great", ["Free Gifts Inc"]),
        ('Bob said "claim your prize now"', ["claim your prize now"]),
        ("**Never Let Me** and **Go Kazuo**", ["Go Kazuo"]),  # only words in a row count, not words anywhere
    ],
)
def test_names_and_quotes_must_come_from_the_tool_results_or_the_question(answer: str, invented: list[str]) -> None:
    assert unsupported_names(answer, EVIDENCE) == invented


def test_evidence_reads_every_string_of_the_tool_results() -> None:
    result = json.dumps({"note": "data", "books": [{"title": "Klara and the Sun", "author": "Kazuo Ishiguro",
                                                    "ratings": 3}], "reviews": [{"untrusted_text": REVIEW_LINK}]})
    evidence = Evidence.from_tool_results("what now?", [result])
    assert evidence.has_phrase("klara and the SUN") and evidence.has_link(REVIEW_LINK)
    assert not evidence.has_phrase("the Sun Kazuo")  # never across two strings


# --- free text: whatever the model writes, nothing clickable or pinging survives -------------------

PLANTED = [
    "https://evil.example.com/a?b=c", "http://x.co", "<https://evil.example.com>", "discord.gg/abc",
    "discord.com/invite/xyz", "free-nitro.gift", "[click](https://evil.example.com)", "[x](<http://e.vil>)",
    "@everyone", "@here", "＠everyone", "<@123>", "<@!123>", "<@&123>", "<#123>", "@", "<", ">", "[", "]", "(",
    ")", "everyone", "here", "https://", "://", "\u200b", "\u202e",
]
free_text = st.lists(st.one_of(st.text(max_size=12), st.sampled_from(PLANTED)), max_size=20).map("".join)

CLICKABLE = re.compile(
    r"https?://[^\s<>]|discord(?:app)?\.com/invite/[^\s<>]|discord\.gg/[^\s<>]|free-nitro\.gift(?![a-z0-9])|evil\.example\.com(?![a-z0-9])"
    r"|\[[^\]]*\]\(\s*<?https?://", re.IGNORECASE)
PINGS = re.compile(r"[@＠﹫](?:everyone|here)|<@[!&]?\d+>|<#\d+>", re.IGNORECASE)


@settings(max_examples=500, deadline=None)
@given(free_text)
def test_no_unknown_link_or_mention_survives_in_any_text(answer: str) -> None:
    posted = sanitise(answer, NOTHING)
    assert not CLICKABLE.search(posted) and not PINGS.search(posted)
    assert sanitise(posted, NOTHING) == posted


plain_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn"),
                                   exclude_characters="@＠﹫<>[]().:/\\"))


@settings(max_examples=300, deadline=None)
@given(plain_text)
def test_text_without_links_or_mentions_is_posted_as_written(answer: str) -> None:
    assert sanitise(answer, NOTHING) == tidy_text(answer)


@given(link=st.sampled_from([REVIEW_LINK, f"<{REVIEW_LINK}>", REVIEW_LINK.replace("https://", "http://www.")]),
       before=plain_text, after=plain_text)
def test_links_from_the_tool_results_are_kept(link: str, before: str, after: str) -> None:
    assert link in sanitise(f"{before} {link} {after}", EVIDENCE)
