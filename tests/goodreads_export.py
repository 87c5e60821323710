"""Goodreads library exports of any size, generated, for the import tests and the import benchmark."""

from __future__ import annotations

import csv
import io
import random

from bot.domain.goodreads import GOODREADS_COLUMNS

_WORDS = (
    "river", "winter", "letters", "garden", "silence", "harbour", "orchard", "lantern", "memory", "island", "museum",
    "daughter", "station", "kingdom", "mirror", "weather", "summer", "mountain", "stranger", "promise", "shadow",
)
_NAMES = ("Ada", "Bram", "Cora", "Dev", "Elin", "Femi", "Goran", "Hana", "Ines", "Jun", "Kofi", "Lena", "Milo")
_SURNAMES = ("Abara", "Brandt", "Castillo", "Dube", "Eriksen", "Fontaine", "Gallo", "Haddad", "Ivanova", "Jensen")


def library_export(rows: int, *, seed: int = 7, review_words: int = 13) -> bytes:
    """An export of `rows` distinct books on the shelf `read`, each rated and reviewed, as Goodreads writes it.

    With the default review length 20,000 rows come to just under the 5 MB that `/club import` takes.
    """
    pick = random.Random(seed)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(GOODREADS_COLUMNS)
    for number in range(1, rows + 1):
        title = f"The {pick.choice(_WORDS).title()} of {pick.choice(_WORDS).title()} {number}"
        first, last = pick.choice(_NAMES), pick.choice(_SURNAMES)
        review = " ".join(pick.choice(_WORDS) for _ in range(review_words)).capitalize() + ".<br/>Recommended."
        cells = {
            "Book Id": str(100_000 + number),
            "Title": title,
            "Author": f"{first} {last}",
            "Author l-f": f"{last}, {first}",
            "My Rating": str(pick.randint(0, 5)),
            "Average Rating": "3.90",
            "Binding": "Paperback",
            "Number of Pages": "320",
            "Year Published": str(pick.randint(1950, 2024)),
            "Original Publication Year": str(pick.randint(1850, 2024)),
            "Date Read": f"{pick.randint(2000, 2025)}/{pick.randint(1, 12):02d}/{pick.randint(1, 28):02d}",
            "Date Added": "2025/01/02",
            "Exclusive Shelf": "read",
            "My Review": review,
            "Read Count": "1",
            "Owned Copies": "0",
        }
        writer.writerow([cells.get(column, "") for column in GOODREADS_COLUMNS])
    return buffer.getvalue().encode("utf-8")
