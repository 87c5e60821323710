"""The spoiler guard's cost per message with 50 books × 20 spoiler terms configured, p50/p95 in-process.

Run with `make bench` or `.venv/bin/python benchmarks/guard.py [--books N] [--terms N] [--messages N]`.
The target (PRODUCT.md) is under 100 µs a message. Messages are a mix of what members write in a
spoiler-free thread: short chat, paragraphs with accents, emoji and markdown emphasis, a few with a
spoiler term, and a few at Discord's 2,000-character limit; each is checked in a spoiler-free place, as the bot does.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from bot.domain.guard import SpoilerGuard, SpoilerMatcher, words

TARGET_US = 100.0
SPOILER_FREE_THREAD = 1
SYLLABLES = ["ka", "zu", "o", "ish", "i", "gu", "ro", "mar", "tin", "el", "an", "der", "son", "ber", "lin", "ta",
             "mo", "ri", "vel", "dro", "sa", "ne", "pol", "qui", "fen", "lo", "ra", "thu", "bel", "cor"]
# Words members chat with: a few hundred common ones, as in any book talk.
_CHAT_TEXT = """
i you we it is was were be been have has had do did not no yes so but and or if then than that this these those
the a an of to in on at for with about from by as up out over after before again still just only very really
much more most some any all every each other another same such own too also even ever never always often
book books read reading reader chapter chapters page pages part story novel author writing written style voice
character characters plot ending beginning middle scene scenes school friend friends friendship childhood
memory memories love loved lovely quiet slow fast sad happy strange beautiful sharp gentle calm dark light
think thought felt feel feeling know knew see saw say said tell told like liked want wanted hope hoped
first second last next long short old new young good great bad better best worse whole half little big
why how what when where who which because while until since though although maybe perhaps probably
meeting club week weekend tonight tomorrow yesterday today time times year years day days night morning
finished started halfway nearly almost already enjoyed struggled bored gripped moved cried laughed
favourite favorite quote line lines word words sentence title cover edition translation audiobook
"""
CHAT = _CHAT_TEXT.split()
PLOT_WORDS = ["dies", "returns", "lives", "betrays", "is", "was", "the", "lost", "found", "truth", "secret"]
ACCENTED = ["café", "naïve", "Brontë", "Søren", "déjà", "über", "piñata", "façade", "São", "Zoë", "🙂", "📚", "—"]


def name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


def spoiler_terms(books: int, per_book: int, rng: random.Random) -> dict[int, list[str]]:
    """As moderators enter them: names and places, plot words, and short phrases such as "Ruth dies"."""
    terms: dict[int, list[str]] = {}
    for book in range(1, books + 1):
        book_terms = []
        while len(book_terms) < per_book:
            roll = rng.random()
            if roll < 0.6:
                book_terms.append(name(rng))
            elif roll < 0.75:
                book_terms.append(name(rng).lower())
            elif roll < 0.9:
                book_terms.append(f"{name(rng)} {rng.choice(PLOT_WORDS)}")
            else:
                book_terms.append(f"the {name(rng)} {rng.choice(PLOT_WORDS)}")
        terms[book] = book_terms
    return terms


def message(rng: random.Random, terms: list[str]) -> str:
    """Mostly short chat, some paragraphs, a few at Discord's limit; about one word in 300 is a spoiler term."""
    kind = rng.random()
    if kind < 0.02:
        size = 2000
    elif kind < 0.30:
        size = rng.randint(200, 800)
    else:
        size = rng.randint(10, 200)
    parts: list[str] = []
    length = 0
    while length < size:
        roll = rng.random()
        if roll < 0.03:
            word = rng.choice(ACCENTED)
        elif roll < 0.0333:
            word = rng.choice(terms)
        else:
            word = rng.choice(CHAT)
        if rng.random() < 0.02:
            # Emphasis makes the guard read the message a second time, without the markers.
            word = rng.choice(["*{}*", "**{}**", "_{}_", "~~{}~~"]).format(word)
        parts.append(word + (rng.choice([",", ".", "!", "?"]) if rng.random() < 0.1 else ""))
        length += len(parts[-1]) + 1
    return " ".join(parts)[:size]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--books", type=int, default=50)
    parser.add_argument("--terms", type=int, default=20, help="spoiler terms per book")
    parser.add_argument("--messages", type=int, default=20_000)
    args = parser.parse_args()
    rng = random.Random(6)
    terms = spoiler_terms(args.books, args.terms, rng)
    every_term = [term for book_terms in terms.values() for term in book_terms]
    words("warm-up: é")  # the accent table is built once per process, before the first message

    started = time.perf_counter()
    guard = SpoilerGuard(SpoilerMatcher.build(terms), frozenset({SPOILER_FREE_THREAD}))
    build_ms = (time.perf_counter() - started) * 1000

    messages = [message(rng, every_term) for _ in range(args.messages)]
    costs_us: list[float] = []
    hits = 0
    for text in messages:
        started_ns = time.perf_counter_ns()
        hit = guard.check(SPOILER_FREE_THREAD, text)
        costs_us.append((time.perf_counter_ns() - started_ns) / 1000)
        hits += hit is not None
    long_costs = [cost for cost, text in zip(costs_us, messages, strict=True) if len(text) >= 2000]
    costs_us.sort()
    p50 = statistics.median(costs_us)
    p95 = costs_us[int(len(costs_us) * 0.95)]
    print(f"{args.books} books × {args.terms} terms = {len(every_term)} terms; {len(messages)} messages "
          f"(mean {statistics.fmean(map(len, messages)):.0f} characters), {hits} with a spoiler term")
    print(f"matcher build:           {build_ms:8.2f} ms (once per change of terms or discussions)")
    print(f"per message, p50:        {p50:8.1f} µs")
    print(f"per message, p95:        {p95:8.1f} µs (target < {TARGET_US:.0f} µs)")
    print(f"per message, max:        {costs_us[-1]:8.1f} µs")
    if long_costs:
        print(f"2,000-character, median: {statistics.median(long_costs):8.1f} µs")
    print("PASS" if p95 < TARGET_US else "FAIL: p95 over target")


if __name__ == "__main__":
    main()
