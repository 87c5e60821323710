"""Matching author names and book titles despite case, word order, accents, initials and small typos.

Keys: `normalise` folds text to plain lower-case words; `author_key` sorts the words so
"Ishiguro, Kazuo" and "Kazuo Ishiguro" agree and merges initials so "J. R. R." equals "JRR";
`title_key` drops English articles, subtitles and a trailing "(Series, #1)" so
"The Remains of the Day" equals "Remains of Day", while `full_title_key` keeps the subtitle.

`NameIndex` answers two questions fast over thousands of names: which name does this query
mean (`match`), and which names does this free-text question mention (`find_in_text`).

Decisions worth knowing:
- A surname shared by several authors ("Bronte") is a *family match*: every one of them is in
  `best` and `names`, since "have you read any Brontë?" is about all of them. `did_you_mean`
  is kept for the unsure case: a misspelling that is equally close to two different names, or
  a name that is only roughly similar.
- A typo is a correction of a word of four letters or more to a word of the index. `match`
  allows one edit in four letters and two from five; `find_in_text` is stricter, one edit up
  to seven letters and two from eight, since every word of a question is a candidate there.
  A swap of two neighbouring letters counts as one edit. In free text a word whose first and
  last letters are both wrong is not corrected: the search only looks among words sharing one.
- In free text only a word that may be a name is corrected: one written as a name is (capitalised
  after the first word of a sentence, quoted or emphasised, or after "by"), and otherwise a word
  that is not common English (`is_common_word`: the question words of `STOP_WORDS` and English's
  most frequent words from wordfreq, and words one letter from a question word). "club's" is
  never read as an author a few letters away; "Warite" after "by" may be a misspelt "Barite".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from itertools import islice, product
from typing import Generic, Literal, NamedTuple, TypeVar

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

T = TypeVar("T")
Kind = Literal["author", "title"]

# Letters that Unicode decomposition leaves alone but readers treat as plain Latin letters.
_SPECIAL_LETTERS = str.maketrans(
    {
        "ø": "o",
        "æ": "ae",
        "œ": "oe",
        "ß": "ss",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "ħ": "h",
        "ı": "i",
        "ŀ": "l",
        "ŧ": "t",
        "ſ": "s",
    }
)
# Apostrophes and full stops join their neighbours: "O'Brien" is "obrien", "J.R.R." is "jrr".
_JOINERS = re.compile(r"['’‘`´ʼ.]")
_NOT_WORD = re.compile(r"[\W_]+")
_TRAILING_BRACKETS = re.compile(r"\s*[(\[][^()\[\]]*[)\]]\s*$")
_TEXT_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_DIGITS = re.compile(r"\d+")
# Text set apart as a name is: "…", “…”, «…», *…* and _…_ (Discord's emphasis).
_QUOTED = re.compile(r'"[^"]+"|“[^”]+”|«[^»]+»|\*+[^*]+\*+|_+[^_]+_+')
# What may stand between a sentence's end and its first word: spaces, opening quotes and brackets.
_OPENERS = " \t\n\"“«*_([¿¡"

ARTICLES = frozenset({"the", "a", "an"})
_NAME_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})

# Words of questions about books that must never be read as a name on their own, however close they look.
_STOP_WORDS_TEXT = """
a about above after again against ago all almost already also although always am among an and another any
anybody anyone anything anywhere are aren arent around as ask asked at author authors away back be became
because been before being below best better between big bit book books both but by can cannot cant
chapter chapters club could couldn couldnt day days did didn didnt discuss discussed discussion do does
doesn doesnt doing don done dont down during each else end enjoy enjoyed enough especially even ever every
everyone everything favorite favourite few fiction find first for from get give go going good got great
had has hasn hasnt have haven havent having he her here hers herself him himself his how however i if in
instead into is isn isnt it its itself just kind know last least less let like liked list little long
look lot lots love loved made make many may maybe me meeting member members men might mine more most
much must my myself need never new next no non none nor not nothing novel novels now of off often old
on once one ones only opinion or other others our ours out over own page pages part people perhaps
please pick picked rate rated rating ratings rather read reader readers reading reads really recent
recently recommend recommendation recommendations recommended review reviewed reviews right said same
say says see seen series several shall she should show similar since so some somebody someone something
sometime still stories story such suggest sure take tell than thank thanks that the their theirs them
themselves then there these they thing things think this those though thought through time times to
today too top toward under until up upon us use very want was wasn wasnt way we well were weren what
whatever when where whether which while who whole whom whose why will with within without wonder
worst would wouldn wouldnt write writer writers writing written wrote year years yes yet you your yours
yourself feel felt thoughts
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())

# How many of English's most frequent words count as common: enough for every ordinary word of a question
# ("clubs", "favourite", "divisive"), few enough to leave out rare surnames ("Tolstoy", "Ishiguro").
_COMMON_ENGLISH_SIZE = 30_000


@cache
def common_english() -> frozenset[str]:
    """English's most frequent words, normalised; loaded on first use (about 0.2 s), then kept."""
    # Imported here: the word list is only needed once a guild's names are indexed, not to start the bot.
    from wordfreq import top_n_list

    return frozenset(normalise(word) for word in top_n_list("en", _COMMON_ENGLISH_SIZE, wordlist="small"))


def is_common_word(word: str) -> bool:
    """Whether a normalised word is ordinary English, which typo correction must leave alone unless it is
    written as a name."""
    return word in STOP_WORDS or word in common_english()


_EXACT_SCORE = 100.0
_CLOSE_ENOUGH_TO_ASK = 80.0
_MAX_AUTHOR_WORDS = 6
_MAX_TITLE_WORDS = 16
_MAX_CORRECTION_COMBINATIONS = 8


def normalise(text: str) -> str:
    """Fold text to lower-case ASCII-like words separated by single spaces.

    Accents go ("Brontë" → "bronte"), special letters become their plain spelling ("ø" → "o",
    "ß" → "ss", "æ" → "ae"), apostrophes and full stops vanish, other punctuation separates words.
    """
    if text.isascii():
        # What the steps below do to ASCII text, without their letter-by-letter pass: names and questions are
        # mostly ASCII, and a question is normalised word by word.
        return " ".join(_NOT_WORD.sub(" ", _JOINERS.sub("", text.lower())).split())
    # Decompose both before and after folding case: compatibility forms ("ℌ", "ﬁ") fold only once
    # decomposed, and folding can yield new composed letters.
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    decomposed = folded.translate(_SPECIAL_LETTERS)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(_NOT_WORD.sub(" ", _JOINERS.sub("", bare)).split())


def _grouped_by_length(words: Iterable[str]) -> dict[int, list[str]]:
    grouped: dict[int, list[str]] = {}
    for word in sorted(words):
        grouped.setdefault(len(word), []).append(word)
    return grouped


_STOP_WORDS_BY_LENGTH = _grouped_by_length(STOP_WORDS)


def _merge_initials(words: Sequence[str]) -> list[str]:
    merged: list[str] = []
    run = ""
    for word in words:
        if len(word) == 1 and word.isalpha():
            run += word
            continue
        if run:
            merged.append(run)
            run = ""
        merged.append(word)
    if run:
        merged.append(run)
    return merged


def _author_key_from_words(words: Sequence[str]) -> str:
    return " ".join(sorted(_merge_initials(words)))


def author_key(name: str) -> str:
    """A key equal for the same author however the name is written: order, accents, initials, punctuation."""
    return _author_key_from_words(normalise(name).split()) or _symbols_key(name)


def _surname(name: str) -> str:
    """The family name: before the comma of "Brontë, Charlotte", else the last word bar "Jr." and the like."""
    family = name.split(",", 1)[0] if "," in name else name
    words = [word for word in normalise(family).split() if word not in _NAME_SUFFIXES]
    return words[-1] if words else ""


def _strip_trailing_brackets(title: str) -> str:
    stripped = title
    while (shorter := _TRAILING_BRACKETS.sub("", stripped)) != stripped and shorter.strip():
        stripped = shorter
    return stripped


def _title_words(text: str) -> list[str]:
    words = normalise(text).split()
    # A title made only of articles ("The The") keeps them, or it would have no key at all.
    return [word for word in words if word not in ARTICLES] or words


def title_key(title: str) -> str:
    """A key for the main title: no articles, no subtitle after ":", no trailing "(Series, #1)"."""
    base = _strip_trailing_brackets(title)
    main = base.split(":", 1)[0]
    return " ".join(_title_words(main if normalise(main) else base)) or _symbols_key(title)


def _symbols_key(text: str) -> str:
    """The key of a name of symbols or emoji alone ("!!!", "😀"): its own text, since it has no words to compare,
    and the empty key is kept for "no name" (a book whose author is unknown)."""
    return " ".join(text.casefold().split())


def full_title_key(title: str) -> str:
    """Like `title_key` but keeping the subtitle, to tell "Star Wars: A" from "Star Wars: B"."""
    return " ".join(_title_words(_strip_trailing_brackets(title)))


def _allowed_edits(word: str, *, strict: bool) -> int:
    """How many typos a word may carry and still be recognised.

    Free text (`strict`) is less forgiving: every word of a question is a candidate there, and
    two edits turn too many ordinary words ("clones") into short names ("Cone").
    """
    if len(word) < 4:
        return 0
    if len(word) == 4 or (strict and len(word) < 8):
        return 1
    return 2


@dataclass(frozen=True)
class MatchResult(Generic[T]):
    """What a query matched: the ids of every matched name, or names to offer when unsure."""

    best: list[T] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    score: float = 0.0
    exact: bool = False
    did_you_mean: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TextMatch(Generic[T]):
    """A name of the index found in free text, with where it was written (`text[start:end]`)."""

    names: list[str]
    ids: list[T]
    start: int
    end: int
    text: str
    score: float
    exact: bool


@dataclass
class _Group(Generic[T]):
    name: str
    ids: list[T]


class _Word(NamedTuple):
    # A tuple, not a dataclass: a question's words are made anew for every question, and tuples are made faster.
    word: str
    start: int
    end: int
    name_like: bool = False


@dataclass(frozen=True)
class _Candidate:
    first: int
    stop: int
    groups: tuple[int, ...]
    exact: bool
    score: float


@dataclass(frozen=True)
class _Reading:
    """A question's words as written, as the index spells them, and which of them were typo-corrected."""

    originals: list[str]
    forms: list[str]
    corrected: list[bool]

    def candidate(self, first: int, stop: int, groups: Sequence[int]) -> _Candidate:
        exact = not any(self.corrected[first:stop])
        score = (
            _EXACT_SCORE
            if exact
            else fuzz.ratio(" ".join(self.originals[first:stop]), " ".join(self.forms[first:stop]))
        )
        return _Candidate(first=first, stop=stop, groups=tuple(groups), exact=exact, score=score)


class NameIndex(Generic[T]):
    """Authors or titles of many books, looked up by name or found inside a question.

    Names with the same key form one group, whose ids all come back together: several books
    share an author, several editions share a title.
    """

    def __init__(self, pairs: Iterable[tuple[T, str]], kind: Kind) -> None:
        if kind not in ("author", "title"):
            raise ValueError(f"kind must be 'author' or 'title', not {kind!r}")
        self.kind: Kind = kind
        self._groups: list[_Group[T]] = []
        self._group_of_identity: dict[str, int] = {}
        # Insertion-ordered sets of group numbers while building, frozen into tuples afterwards.
        by_key: dict[str, dict[int, None]] = {}
        by_word: dict[str, dict[int, None]] = {}
        by_surname: dict[str, dict[int, None]] = {}
        by_prefix: dict[str, dict[int, None]] = {}
        for item_id, raw_name in pairs:
            name = " ".join(raw_name.split())
            if not normalise(name):
                continue
            index, keys, words = self._add(item_id, name)
            for key in keys:
                by_key.setdefault(key, {})[index] = None
                if kind == "title":
                    key_words = key.split()
                    for length in range(1, len(key_words) + 1):
                        by_prefix.setdefault(" ".join(key_words[:length]), {})[index] = None
            for word in words:
                by_word.setdefault(word, {})[index] = None
            if kind == "author" and (surname := _surname(name)):
                by_surname.setdefault(surname, {})[index] = None
        self._by_key = _frozen(by_key)
        self._by_word = _frozen(by_word)
        self._by_surname = _frozen(by_surname)
        self._by_prefix = _frozen(by_prefix)
        self._vocabulary = frozenset(self._by_word)
        self._by_length_and_edge: dict[tuple[int, str], list[str]] = {}
        for word in sorted(self._vocabulary):
            if len(word) >= 3:
                self._by_length_and_edge.setdefault((len(word), "^" + word[0]), []).append(word)
                self._by_length_and_edge.setdefault((len(word), word[-1] + "$"), []).append(word)
        self._by_length = _grouped_by_length(self._vocabulary)
        self._keys = list(self._by_key)

    def __len__(self) -> int:
        return len(self._groups)

    def _add(self, item_id: T, name: str) -> tuple[int, list[str], list[str]]:
        """File the id under its name's group; the group number, its keys and its words."""
        if self.kind == "author":
            raw_words = normalise(name).split()
            identity = author_key(name)
            keys = [identity]
            # Both "jrr" and "j", "r", "r": text may write the initials either way.
            words = [*_merge_initials(raw_words), *raw_words]
        else:
            identity = full_title_key(name)
            keys = [title_key(name), identity]
            words = [*identity.split(), *keys[0].split()]
        index = self._group_of_identity.get(identity)
        if index is None:
            index = len(self._groups)
            self._group_of_identity[identity] = index
            self._groups.append(_Group(name=name, ids=[]))
        self._groups[index].ids.append(item_id)
        return index, keys, words

    # -- looking up one name -------------------------------------------------------------------

    def match(self, query: str) -> MatchResult[T]:
        """The name `query` means: exactly, by surname, by correcting typos, or by similarity.

        `best` is empty when nothing matches or when the query is equally close to several
        different names; `did_you_mean` then offers them.
        """
        key = author_key(query) if self.kind == "author" else title_key(query)
        words = key.split()
        if not words:
            return MatchResult()
        found = self._lookup_exact(query, words)
        if found:
            return self._result(found, _EXACT_SCORE, exact=True)
        corrected = self._match_corrected(words)
        if corrected is not None:
            return corrected
        return self._match_similar(key)

    def _lookup_exact(self, query: str, words: list[str]) -> list[int]:
        key = " ".join(words)
        if self.kind == "title":
            return list(self._by_key.get(full_title_key(query)) or self._by_key.get(key, ()))
        if key in self._by_key:
            groups = self._by_key[key]
            return self._with_surname(groups, words[0]) if len(words) == 1 else list(groups)
        return self._authors_with_words(words)

    def _with_surname(self, groups: Sequence[int], word: str) -> list[int]:
        """A bare surname ("Ishiguro", typed while the catalogue was down) also means every full name ending in it."""
        return list(dict.fromkeys([*groups, *self._by_surname.get(word, ())]))

    def _authors_with_words(self, words: Sequence[str]) -> list[int]:
        """Authors whose name contains every word; those whose surname is one of them come first and alone."""
        groups: set[int] | None = None
        for word in words:
            holders = set(self._by_word.get(word, ()))
            groups = holders if groups is None else groups & holders
            if not groups:
                return []
        matched = sorted(groups or ())
        by_surname = {index for word in words for index in self._by_surname.get(word, ())}
        preferred = [index for index in matched if index in by_surname]
        return preferred or matched

    def _match_corrected(self, words: list[str]) -> MatchResult[T] | None:
        options: list[list[tuple[str, int]]] = []
        for word in words:
            if word in self._vocabulary:
                options.append([(word, 0)])
                continue
            corrections = self._corrections(word, _allowed_edits(word, strict=False), everywhere=True)
            if not corrections:
                return None
            options.append(corrections)
        if all(distance == 0 for choices in options for _, distance in choices):
            return None
        outcomes: dict[tuple[int, ...], float] = {}
        for combination in islice(product(*options), _MAX_CORRECTION_COMBINATIONS):
            corrected = [word for word, _ in combination]
            groups = self._lookup_corrected(corrected)
            if groups:
                score = fuzz.ratio(" ".join(words), " ".join(corrected))
                outcomes[tuple(groups)] = max(score, outcomes.get(tuple(groups), 0.0))
        if not outcomes:
            return None
        if len(outcomes) > 1:
            ranked = sorted(outcomes.items(), key=lambda item: -item[1])
            return MatchResult(did_you_mean=self._names(index for groups, _ in ranked for index in groups))
        groups, score = next(iter(outcomes.items()))
        return self._result(list(groups), score, exact=False)

    def _lookup_corrected(self, words: list[str]) -> list[int]:
        if self.kind == "title":
            return list(self._by_key.get(" ".join(words), ()))
        return list(self._by_key.get(_author_key_from_words(words), ())) or self._authors_with_words(words)

    def _match_similar(self, key: str) -> MatchResult[T]:
        if self.kind == "title" and (prefixed := self._by_prefix.get(key)) and not set(key.split()) <= STOP_WORDS:
            if len(prefixed) == 1:
                return self._result(prefixed, fuzz.ratio(key, self._key_of(prefixed[0])), exact=False)
            return MatchResult(did_you_mean=self._names(prefixed))
        if len(key) < 4:
            return MatchResult()
        similar = process.extract(key, self._keys, scorer=fuzz.ratio, score_cutoff=_CLOSE_ENOUGH_TO_ASK, limit=5)
        if not similar:
            return MatchResult()
        budget = _allowed_edits(key, strict=False)
        close = [(found, score) for found, score, _ in similar if OSA.distance(key, found) <= budget]
        if close:
            top = close[0][1]
            tied = [found for found, score in close if score == top]
            groups = [index for found in tied for index in self._by_key[found]]
            if len(tied) == 1:
                return self._result(groups, top, exact=False)
            return MatchResult(did_you_mean=self._names(groups))
        return MatchResult(did_you_mean=self._names(index for found, _, _ in similar for index in self._by_key[found]))

    def _key_of(self, index: int) -> str:
        name = self._groups[index].name
        return author_key(name) if self.kind == "author" else title_key(name)

    def _result(self, groups: Sequence[int], score: float, *, exact: bool) -> MatchResult[T]:
        unique = list(dict.fromkeys(groups))
        return MatchResult(
            best=[item_id for index in unique for item_id in self._groups[index].ids],
            names=[self._groups[index].name for index in unique],
            score=score,
            exact=exact,
        )

    def _names(self, groups: Iterable[int]) -> list[str]:
        return list(dict.fromkeys(self._groups[index].name for index in groups))[:5]

    def _corrections(self, word: str, budget: int, *, everywhere: bool) -> list[tuple[str, int]]:
        """Words of the index within `budget` edits of `word`, the closest first (ties all kept)."""
        if budget == 0:
            return []
        pools: list[list[str]] = []
        for length in range(len(word) - budget, len(word) + budget + 1):
            if everywhere:
                pools.append(self._by_length.get(length, []))
            else:
                pools.append(self._by_length_and_edge.get((length, "^" + word[0]), []))
                pools.append(self._by_length_and_edge.get((length, word[-1] + "$"), []))
        best: dict[str, int] = {}
        for pool in pools:
            if pool:
                for found, distance, _ in process.extract(
                    word, pool, scorer=OSA.distance, score_cutoff=budget, limit=5
                ):
                    best[found] = int(distance)
        if not best:
            return []
        closest = min(best.values())
        # Among equally close words, a surname first: a lone name in a question is most often one.
        return sorted(
            ((found, distance) for found, distance in best.items() if distance == closest),
            key=lambda item: (item[0] not in self._by_surname, -fuzz.ratio(word, item[0]), item[0]),
        )

    # -- names inside a question ----------------------------------------------------------------

    def find_in_text(self, text: str) -> list[TextMatch[T]]:
        """The names of the index mentioned in `text`, in reading order.

        Word sequences are looked up whole (longest first, exact before corrected); words of four
        letters or more that are neither common English nor in the index are corrected to the
        closest word of the index first. Common words never count as a name on their own.
        """
        words = _words_of(text)
        if not words:
            return []
        originals = [item.word for item in words]
        forms, corrected = self._resolve_words(originals, [item.name_like for item in words])
        find = self._author_candidates if self.kind == "author" else self._title_candidates
        candidates = find(_Reading(originals, forms, corrected))
        if not candidates:
            return []
        chosen: list[_Candidate] = []
        taken: set[int] = set()
        for candidate in sorted(candidates, key=lambda c: (c.first - c.stop, not c.exact, -c.score, c.first)):
            span = set(range(candidate.first, candidate.stop))
            if span & taken:
                continue
            taken |= span
            chosen.append(candidate)
        matches: list[TextMatch[T]] = []
        for candidate in sorted(chosen, key=lambda c: c.first):
            start, end = words[candidate.first].start, words[candidate.stop - 1].end
            groups = list(dict.fromkeys(candidate.groups))
            matches.append(
                TextMatch(
                    names=[self._groups[index].name for index in groups],
                    ids=[item_id for index in groups for item_id in self._groups[index].ids],
                    start=start,
                    end=end,
                    text=text[start:end],
                    score=candidate.score,
                    exact=candidate.exact,
                )
            )
        return matches

    def _resolve_words(self, words: list[str], name_like: list[bool]) -> tuple[list[str], list[bool]]:
        """Each word as the index spells it, and whether that took a typo correction."""
        forms: list[str] = []
        corrected: list[bool] = []
        for word, written_as_name in zip(words, name_like, strict=True):
            form, fixed = word, False
            if word in self._vocabulary:
                pass
            elif len(word) >= 4 and word.endswith("s") and word[:-1] in self._vocabulary:
                # Plurals and possessives: "the Brontës", "Ishiguro's".
                form = word[:-1]
            elif may_be_a_name(word, written_as_name):
                found = self._corrections(word, _allowed_edits(word, strict=True), everywhere=False)
                if found:
                    form, fixed = found[0][0], True
            forms.append(form)
            corrected.append(fixed)
        return forms, corrected

    def _author_candidates(self, reading: _Reading) -> list[_Candidate]:
        forms = reading.forms
        candidates: list[_Candidate] = []
        for first in range(len(forms)):
            for stop in range(first + 1, min(len(forms), first + _MAX_AUTHOR_WORDS) + 1):
                if forms[stop - 1] not in self._vocabulary:
                    break
                span = forms[first:stop]
                if len(span) == 1 and span[0] in STOP_WORDS:
                    continue
                groups: Sequence[int] = self._by_key.get(_author_key_from_words(span), ())
                if len(span) == 1:
                    groups = self._with_surname(groups, span[0])
                if groups:
                    candidates.append(reading.candidate(first, stop, groups))
        return candidates

    def _title_candidates(self, reading: _Reading) -> list[_Candidate]:
        forms = reading.forms
        candidates: list[_Candidate] = []
        for first in range(len(forms)):
            key_words: list[str] = []
            for stop in range(first + 1, min(len(forms), first + _MAX_TITLE_WORDS) + 1):
                form = forms[stop - 1]
                if form in ARTICLES:
                    continue
                key_words.append(form)
                key = " ".join(key_words)
                if key not in self._by_prefix:
                    break
                if len(key_words) == 1 and form in STOP_WORDS:
                    continue
                groups = self._by_key.get(key)
                if groups:
                    candidates.append(reading.candidate(first, stop, groups))
        return candidates


def may_be_a_name(word: str, written_as_name: bool) -> bool:
    """Whether a normalised word of a question may be a misspelt name, and so be corrected to one.

    A word written as a name may, unless it is a question word itself. Any other word may only when it
    is not common English and not a misspelt question word ("recomend" is still "recommend").
    """
    if len(word) < 4 or word in STOP_WORDS or _DIGITS.fullmatch(word):
        return False
    if written_as_name:
        return True
    if word in common_english():
        return False
    for length in (len(word) - 1, len(word), len(word) + 1):
        pool = _STOP_WORDS_BY_LENGTH.get(length)
        if pool and process.extractOne(word, pool, scorer=OSA.distance, score_cutoff=1) is not None:
            return False
    return True


def _frozen(building: dict[str, dict[int, None]]) -> dict[str, tuple[int, ...]]:
    return {key: tuple(groups) for key, groups in building.items()}


@lru_cache(maxsize=8)
def _words_of(text: str) -> tuple[_Word, ...]:
    """The question's words with where they are and whether each is written as a name; kept for the last few
    texts, since understanding one question reads its words for the authors, the titles and the rules."""
    quoted = [(found.start(), found.end()) for found in _QUOTED.finditer(text)]
    words: list[_Word] = []
    after_by = False
    previous_end = 0
    for found in _TEXT_WORD.finditer(text):
        raw, start = found.group(), found.start()
        # Only the gap since the previous word can end a sentence: a word itself never ends in ".!?".
        gap = text[previous_end:start].rstrip(_OPENERS)
        sentence_start = gap[-1] in ".!?" if gap else previous_end == 0
        name_like = (
            after_by
            or (raw[:1].isupper() and not sentence_start)
            or any(begin <= start < end for begin, end in quoted)
        )
        folded = normalise(raw)
        for word in folded.split():
            words.append(_Word(word=word, start=start, end=found.end(), name_like=name_like))
        after_by = folded == "by"
        previous_end = found.end()
    return tuple(words)


def name_like_words(text: str) -> list[tuple[str, bool]]:
    """The normalised words of a question, each with whether it is written as a name would be: capitalised after
    the first word of a sentence, inside quotes or emphasis, or after "by"."""
    return [(word.word, word.name_like) for word in _words_of(text)]
