"""Where a shopper's word is found on a product page, and whether the page says it *has* it.

A word is looked for in the title and category (what the product is) and in every part of the
page; the clause it is found in is negated when a ``negations`` word of the ``presales`` rule set
comes before it in that clause ("不支持笔记本充电", "不是防水面料"). A two-character noun ending in a
noun suffix (裙子, 鞋子) is also found by its stem (连衣裙, 小白鞋)."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from ..text._normalize import normalize
from ..text._numbers import people_ranges
from ._profiles import Profile
from ._text import page_frequency

__all__ = [
    "Found", "KindIndex", "find", "find_any", "for_household", "names_kind", "serves",
    "stated_anywhere", "stem",
]  # fmt: skip

#: Where a clause of a page or a need ends (also used by :mod:`._ages`).
CLAUSE = re.compile(r"[。；;！!？?\n，,（）()]")
_SUFFIXES = ("子", "儿")


def stem(word: str) -> str:
    """裙子 → 裙: the noun a suffix ends (a two-character word only)."""
    return word[0] if len(word) == 2 and word.endswith(_SUFFIXES) else word


def names_kind(
    word: str, profile: Profile, aliases: Sequence[str] = (), *, titled: bool = False
) -> bool:
    """Whether ``word`` (or one of its ``aliases``) names what ``profile`` is: a word of its
    kind (its category and the head of its title, read at ingestion: see _kinds.py), or — a
    single character (鞋, 被) — of its category or the last of its title's head (a noun phrase
    ends with its noun: 夏凉被; a lone 加 is in 加绒卫衣's title but says nothing). ``titled``: a word of its whole title and category (a line's name, 云栖2; a word
    no product's kind has)."""
    where = profile.marks if titled or not profile.kind else profile.kind
    for form in (word, *aliases):
        key = stem(form)
        if (
            key in where
            if len(key) > 1 or key.isascii()
            else key in normalize(profile.category)
            or (not titled and any(s.endswith(key) for s in profile.kind.split()))
        ):
            return True
    return False


_FREQUENCIES_KEPT = 65_536  # character pairs whose page frequency a kind index remembers


class _Texts:
    """Whether a string of two or more characters is in any of some texts, by the texts each
    character pair is in: the key's rarest pair's texts are the only ones to look in."""

    def __init__(self, texts: Sequence[str]):
        self.texts = list(dict.fromkeys(texts))  # many products share a kind
        at_text = {text: at for at, text in enumerate(self.texts)}
        #: the positions in ``texts`` (as given) of each distinct text
        self.owners: list[list[int]] = [[] for _ in self.texts]
        for n, text in enumerate(texts):
            self.owners[at_text[text]].append(n)
        self.pairs: dict[str, list[int]] = {}
        for at, text in enumerate(self.texts):
            for pair in {text[i : i + 2] for i in range(len(text) - 1)}:
                self.pairs.setdefault(pair, []).append(at)

    def _rarest(self, key: str) -> list[int]:
        """The distinct texts holding the key's rarest pair (none: no text can hold it)."""
        postings = [self.pairs.get(key[i : i + 2]) for i in range(len(key) - 1)]
        if not postings or any(p is None for p in postings):
            return []
        return min((p for p in postings if p is not None), key=len)

    def has(self, key: str) -> bool:
        return any(key in self.texts[at] for at in self._rarest(key))

    def holding(self, key: str) -> list[int]:
        """The positions (in the texts as given) of the texts ``key`` is in."""
        return [n for at in self._rarest(key) if key in self.texts[at] for n in self.owners[at]]


_CATEGORY_SEGMENT = re.compile(r"[\s/／、，,|｜]+")


def category_segments(categories: Collection[str]) -> frozenset[str]:
    """The segments of normalised ``categories``, split where a category lists several."""
    return frozenset(s for c in categories for s in _CATEGORY_SEGMENT.split(c) if s)


class _Pages:
    """Every profile's normalised texts (:attr:`Profile.normalized_texts`) in one string — texts
    and pages ended by NULs, which no text holds — with each page's start: how many pages hold
    a character pair is a search of C speed that skips to the next page at each find, instead
    of a page-by-page scan in Python. An empty pair or one holding a NUL is not asked of it."""

    def __init__(self, pages: Sequence[list[tuple[int, str]]]):
        starts: list[int] = []
        texts: list[str] = []
        at = 0
        for page in pages:
            starts.append(at)
            joined = "".join(f"{t}\0" for _, t in page)
            texts.append(joined)
            at += len(joined)
        self.text = "".join(texts)
        self.starts = starts

    def holding(self, pair: str) -> int:
        """How many pages hold ``pair`` in one of their texts."""
        text, starts = self.text, self.starts
        count, found = 0, text.find(pair)
        while found >= 0:
            count += 1
            following = bisect_right(starts, found)  # the page after the one found in
            if following >= len(starts):
                break
            found = text.find(pair, starts[following])
        return count


class KindIndex:
    """Whether a word names a kind of product of the shop — ``any(names_kind(word, p, aliases,
    titled=titled) for p in profiles)`` — the one answer to that question (routing asks it of
    every message, ranking of every word said), built once when the catalogue is opened: each
    text's character pairs say which texts a word can be in (a profile at a time cost ~50 ms a
    question at 12k products, one scan of the texts joined ~7 ms; this, well under one)."""

    def __init__(self, profiles: Sequence[Profile]):
        self.profiles = profiles
        self._categories = frozenset("".join(normalize(p.category) for p in profiles))
        self._ends = frozenset(s[-1] for p in profiles for s in p.kind.split())
        # a single ASCII character is looked for in the texts themselves (as names_kind does)
        self._ascii_marks = frozenset(ch for p in profiles for ch in p.marks if ch.isascii())
        self._ascii_kinds = frozenset(
            ch for p in profiles for ch in (p.kind or p.marks) if ch.isascii()
        )
        self._frequencies: dict[str, int] = {}  # see page_frequency

    @cached_property
    def _pages(self) -> _Pages:  # built when a pair's frequency is first asked
        return _Pages([p.normalized_texts for p in self.profiles])

    @cached_property
    def _marks(self) -> _Texts:  # whole titles: built when first asked (~0.2 s at 12k products)
        return _Texts([p.marks for p in self.profiles])

    @cached_property
    def _kinds(self) -> _Texts:
        return _Texts([p.kind or p.marks for p in self.profiles])

    def names(self, word: str, aliases: Sequence[str] = (), *, titled: bool = False) -> bool:
        """Whether ``word`` (or one of its ``aliases``) names what some product is (see
        :func:`names_kind`; ``titled``: a word of its whole title)."""
        for form in (word, *aliases):
            key = stem(form)
            if not key:
                return bool(self.profiles)  # "" is in every text
            if len(key) > 1:
                if (self._marks if titled else self._kinds).has(key):
                    return True
            elif key.isascii():
                if key in (self._ascii_marks if titled else self._ascii_kinds):
                    return True
            elif key in self._categories or (not titled and key in self._ends):
                return True
        return False

    def heads(
        self, words: Sequence[str], aliases: Mapping[str, Sequence[str]], *, titled: bool = False
    ) -> list[str]:
        """The ``words`` naming a kind of product the shop has."""
        return [w for w in words if self.names(w, aliases.get(w, ()), titled=titled)]

    @cached_property
    def categories(self) -> dict[str, None]:
        """The profiles' distinct categories, normalised, in catalogue order."""
        return {normalize(p.category): None for p in self.profiles}

    @cached_property
    def segments(self) -> frozenset[str]:
        """The segments of the profiles' categories (茶叶/白茶 → 茶叶, 白茶): a kind ends one."""
        return category_segments(self.categories)

    @cached_property
    def _single(self) -> dict[tuple[str, bool], set[int]]:
        """(a character, titled) → the profiles it names alone: a Chinese character of the
        category, or (not titled) the last of a word of the kind; an ASCII one anywhere in the
        whole title (titled) or the kind (see :func:`names_kind`)."""
        out: dict[tuple[str, bool], set[int]] = {}
        for n, p in enumerate(self.profiles):
            for ch in {c for c in normalize(p.category) if not c.isascii()}:
                out.setdefault((ch, True), set()).add(n)
                out.setdefault((ch, False), set()).add(n)
            for end in {word[-1] for word in p.kind.split() if not word[-1].isascii()}:
                out.setdefault((end, False), set()).add(n)
            # a lone ASCII letter or digit: anywhere in the text it is looked for in
            for ch in {c for c in p.marks if c.isascii()}:
                out.setdefault((ch, True), set()).add(n)
            for ch in {c for c in (p.kind or p.marks) if c.isascii()}:
                out.setdefault((ch, False), set()).add(n)
        return out

    def holders(
        self, word: str, aliases: Sequence[str] = (), *, titled: bool = False
    ) -> set[str] | None:
        """The sources of the profiles ``word`` (or one of its ``aliases``) names the kind of —
        exactly those :func:`names_kind` holds for — found by the texts' pairs instead of
        asking every profile; None for an empty word (every profile: ask each then)."""
        found: set[int] = set()
        for form in (word, *aliases):
            key = stem(form)
            if not key:
                return None
            if len(key) > 1:
                found.update((self._marks if titled else self._kinds).holding(key))
            else:
                found.update(self._single.get((key, titled), ()))
        return {self.profiles[n].source for n in found}

    def page_frequency(self, pair: str) -> int:
        """How many profiles' pages (title, category and parts, normalised) hold ``pair`` — the
        weight of a character pair in a phrase a need says (see :func:`~._text.describe`),
        read on every page once and remembered (a catalogue's pairs recur question after
        question). Read in the pages joined (:class:`_Pages`): ~20 ms a pair at 12.8k products
        page by page, the p99 of a question naming something no title holds."""
        found = self._frequencies.get(pair)
        if found is None:
            found = (
                self._pages.holding(pair)
                if pair and "\0" not in pair
                else page_frequency(pair, [p.normalized_texts for p in self.profiles])
            )
            if len(self._frequencies) >= _FREQUENCIES_KEPT:
                self._frequencies.clear()  # bounded: start afresh (a racing store is merely lost)
            self._frequencies[pair] = found
        return found

    def of_words(
        self,
        words: Sequence[str],
        aliases: Mapping[str, Sequence[str]],
        *,
        titled: bool = False,
        besides: Collection[str] = (),
    ) -> list[Profile]:
        """The profiles some of ``words`` names the kind of (``any(names_kind(w, p, …))``), in
        catalogue order, but those of the sources ``besides`` — read from the index, not
        profile by profile (unless a word is empty: it names every one)."""
        held = self.held_by(words, aliases, titled=titled)
        if held is None:
            return [
                p for p in self.profiles
                if p.source not in besides
                and any(names_kind(w, p, aliases.get(w, ()), titled=titled) for w in words)
            ]  # fmt: skip
        return [p for p in self.profiles if p.source in held and p.source not in besides]

    def held_by(
        self, words: Sequence[str], aliases: Mapping[str, Sequence[str]], *, titled: bool = False
    ) -> set[str] | None:
        """The sources of the profiles some of ``words`` names the kind of (the union of
        :meth:`holders`); None when a word is empty (it names every profile: ask each then)."""
        held: set[str] = set()
        for word in words:
            found = self.holders(word, aliases.get(word, ()), titled=titled)
            if found is None:
                return None
            held |= found
        return held


@dataclass(frozen=True)
class Found:
    word: str
    in_title: bool
    positive: list[tuple[int, str]]  # (chunk, clause) that state it
    negative: list[tuple[int, str]]  # (chunk, clause) that deny it

    @property
    def present(self) -> bool:
        return self.in_title or bool(self.positive)

    @property
    def denied(self) -> bool:
        return bool(self.negative) and not self.positive and not self.in_title


def _polarity(clause: str, at: int, negations: Sequence[str]) -> bool:
    return not any(n in clause[:at] for n in negations)


def find(word: str, profile: Profile, negations: Sequence[str]) -> Found:
    """Where ``word`` (normalised) is on the page of ``profile``. A fact is judged by its value
    ("笔记本：不支持笔记本充电" denies 笔记本 though its name says it); other parts clause by
    clause."""
    key = stem(word)
    in_title = key in profile.marks
    if key not in profile.normalized_page:
        return Found(word, in_title, [], [])
    positive: list[tuple[int, str]] = []
    negative: list[tuple[int, str]] = []
    stated: dict[int, list[str]] = {}
    for fact, (name, value) in zip(profile.facts, profile.normalized_facts, strict=True):
        if key not in name and key not in value:
            continue
        clauses = [c for c in CLAUSE.split(value) if key in c] or [value]
        for clause in clauses:
            at = clause.find(key)
            ok = _polarity(clause, at if at >= 0 else len(clause), negations)
            (positive if ok else negative).append((fact.chunk, fact.text))
        stated.setdefault(fact.chunk, []).extend([value, name])
    for index, norm in profile.normalized_parts:
        for said in stated.get(index, ()):  # judged as a fact above
            norm = norm.replace(said, " ")
        if key not in norm:
            continue
        for clause in CLAUSE.split(norm):
            at = clause.find(key)
            if at >= 0:
                target = positive if _polarity(clause, at, negations) else negative
                target.append((index, clause))
    return Found(word, in_title, positive, negative)


def _mentions(profile: Profile, key: str) -> bool:
    """Whether ``key`` (a stem) is in ``profile``'s title or anywhere on its page: where it is
    not, :func:`find` finds nothing of it."""
    return key in profile.marks or key in profile.normalized_page


def stated_anywhere(word: str, profiles: Sequence[Profile], negations: Sequence[str]) -> bool:
    """Whether some page states ``word`` (``find(word, p).present`` for some profile): a page
    that never mentions it is passed over unread, one with it in its title states it."""
    key = stem(word)
    return any(
        key in p.marks or (_mentions(p, key) and find(word, p, negations).present) for p in profiles
    )


def find_any(word: str, also: Sequence[str], profile: Profile, negations: Sequence[str]) -> Found:
    """``word`` found by itself or by any of ``also`` (a feature by the words shoppers and pages
    both use for it: 静音 / 声音小), reported as ``word``."""
    forms = [word, *also]
    if not any(_mentions(profile, stem(w)) for w in forms):
        return Found(word, False, [], [])  # said nowhere on the page (a catalogue's most)
    found = [find(w, profile, negations) for w in forms]
    return Found(
        word,
        any(f.in_title for f in found),
        [p for f in found for p in f.positive],
        [n for f in found for n in f.negative],
    )


def serves(size: int, text: str) -> bool | None:
    """Whether ``text`` says it serves ``size`` people: a range it gives holds the size
    ("适合2-3人"; a range is who it fits) or a number it gives is not less ("可供4人": what it
    holds); None when it says nothing of people."""
    said = people_ranges(text)
    if not said:
        return None
    return any(low <= size <= high if low < high else size <= high for low, high, _ in said)


def for_household(size: int, profile: Profile) -> Found | None:
    """Whether the page says it serves ``size`` people: stated when a range it gives holds the
    size ("适合2-3人") or a number it gives is not less ("16 位家庭成员"), denied when none does;
    None when it says nothing of people."""
    positive: list[tuple[int, str]] = []
    negative: list[tuple[int, str]] = []
    for index, text in profile.parts:
        for clause in CLAUSE.split(text):
            fits = serves(size, clause)
            if fits is not None:
                (positive if fits else negative).append((index, clause.strip()))
    if not positive and not negative:
        return None
    return Found(f"{size}人", False, positive, [] if positive else negative)
