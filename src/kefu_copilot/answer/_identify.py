"""Which product a question is about, when the title's words alone cannot tell.

:meth:`~kefu_copilot.ingest._catalog.Products.identify` scores products by the segmented words
their titles share with the question. Shoppers name products in pieces a segmenter splits or
never joins: "女款羽绒服" (女 | 款 | 羽绒服 — every down jacket ties), "T恤" (t | 恤), "pro2"
for "Pro 2", "跑鞋" for "跑步鞋", "k87" for "K87". Characters carry that evidence: the
question's character bigrams (CJK, letters and digits, spaces removed) found in a title, each
weighted by how rare it is among the shop's titles (a bigram every title has tells nothing).

The refinement only narrows or fills in: several products tied by their words are narrowed to
the one whose title holds more of the question's distinctive bigrams, and a question no title
word matches takes the product whose title alone holds a distinctive bigram of it (rarer than
half the titles, and no other product as well supported). A product the words identified alone
stays, unless a model code of the question ("k87", "pro2") names another product outright.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence

from ..text._normalize import normalize

__all__ = ["ProductFinder"]

_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
_LETTER_ONTO = re.compile(r"(?<![a-z])[a-z][\u4e00-\u9fff]")
_LATIN = re.compile(r"[a-z0-9]+")


def _bigrams(text: str) -> set[str]:
    """CJK character bigrams, and a Latin letter written onto a character (the "t恤" of T恤);
    other letters and digits are matched as whole codes instead (a "50" of "预算1500" says
    nothing about a "5000mAh" title)."""
    norm = normalize(text)
    grams = {run[i : i + 2] for run in _CJK_RUN.findall(norm) for i in range(len(run) - 1)}
    return grams | set(_LETTER_ONTO.findall(norm))


def _codes(text: str) -> set[str]:
    """Model codes and product words in Latin letters: tokens with a letter and a digit (k87,
    s3), words of three letters or more (lite, max), and a word joined with the number after
    it ("pro 2" → pro2)."""
    tokens = _LATIN.findall(normalize(text))
    out = {t for t in tokens if not t.isdigit() and (len(t) >= 3 or not t.isalpha())}
    for a, b in itertools.pairwise(tokens):
        if a.isalpha() and b.isdigit():
            out.add(a + b)
    return out


def _chars(text: str) -> set[str]:
    return set("".join(_CJK_RUN.findall(normalize(text))))


def _sides(run: str, grams: set[str]) -> dict[str, set[int]]:
    """Each character of ``run`` and on which side of the name ``grams`` spell in it it stands:
    -1 before its first bigram, 1 after its last, 0 within (or no such name: every side)."""
    at = [k for k in range(len(run) - 1) if run[k : k + 2] in grams]
    out: dict[str, set[int]] = {}
    for k, ch in enumerate(run):
        side = {-1, 0, 1} if not at else {-1} if k < at[0] else {1} if k >= at[-1] + 2 else {0}
        out.setdefault(ch, set()).update(side)
    return out


class ProductFinder:
    """Product identification refined by character bigrams of the titles (see the module)."""

    def __init__(
        self,
        titles: Mapping[str, str],
        variants: Mapping[str, Iterable[str]] | None = None,
        kept: Callable[[str, str], bool] | None = None,
    ) -> None:
        """``variants``: per product, the names of its variants (cells of its tables' colour,
        style, mode… columns); a question naming one only one product has identifies it.
        ``kept(source, name)``: whether a name counts for its product (say, no other page uses
        it) — asked only for names a question says, once each, so a large catalogue does not
        pay for every name against every page at open."""
        self._grams: dict[str, set[str]] = {s: _bigrams(t) for s, t in titles.items()}
        self._chars: dict[str, set[str]] = {s: _chars(t) for s, t in titles.items()}
        self._titles = titles
        self._codes = {s: _codes(t) for s, t in titles.items()}
        # code -> the products whose title has it, in catalogue order (a question's codes look
        # up their owners instead of testing every title: 9 ms a question at 6k products)
        self._by_code: dict[str, list[str]] = {}
        for source, codes in self._codes.items():
            for code in codes:
                self._by_code.setdefault(code, []).append(source)
        # bigram -> the products whose title has it: a question no title word matched scores
        # only the products holding one of its distinctive bigrams, not the whole catalogue
        # (7 ms a question at 4,300 products)
        self._by_gram: dict[str, list[str]] = {}
        for source, grams in self._grams.items():
            for g in grams:
                self._by_gram.setdefault(g, []).append(source)
        df = {g: len(owners) for g, owners in self._by_gram.items()}
        n = max(1, len(titles))
        self._n = n
        self._df = df
        self._idf = {g: math.log((n + 1) / (d + 0.5)) for g, d in df.items()}
        owners: dict[str, set[tuple[str, str]]] = {}
        for source, names in (variants or {}).items():
            for name in names:
                key = "".join(_CJK_RUN.findall(normalize(name)))
                if len(key) >= 2:
                    owners.setdefault(key, set()).add((source, name))
        self._owners = owners
        self._kept = kept
        self._variant_owner: dict[str, str | None] = {}

    def _owner(self, key: str) -> str | None:
        """The one product whose kept variant names include ``key``, or None (cached)."""
        if key not in self._variant_owner:
            kept = self._kept
            sources = {s for s, name in self._owners[key] if kept is None or kept(s, name)}
            self._variant_owner[key] = next(iter(sources)) if len(sources) == 1 else None
        return self._variant_owner[key]

    def scores(self, question: str, among: Iterable[str] | None = None) -> dict[str, float]:
        """The bigram evidence for each product (``among``: only these) in ``question``."""
        grams = _bigrams(question)
        pool = self._grams if among is None else {s: self._grams.get(s, set()) for s in among}
        return {s: sum(self._idf[g] for g in grams & own) for s, own in pool.items()}

    def codes(self, question: str) -> list[str]:
        """Products whose title holds the most telling model codes the question says ("k87",
        "pro2"; a "pro" many titles have counts for little)."""
        scores: dict[str, float] = {}
        for code in _codes(question):
            owners = self._by_code.get(code, [])
            if 0 < len(owners) < self._n:
                weight = math.log((self._n + 1) / (len(owners) + 0.5))
                for s in owners:
                    scores[s] = scores.get(s, 0.0) + weight
        return self._best(scores)

    def refine(self, question: str, found: Sequence[str]) -> list[str]:
        """``found`` (the products identified by title words) narrowed or filled in."""
        coded = self.codes(question)
        if coded:
            narrowed = [s for s in found if s in coded]
            if narrowed:
                found = narrowed
            elif len(coded) == 1 or not found:
                found = coded
        if len(found) == 1:
            return list(found)
        if found:
            best = self._best(self.scores(question, found)) or list(found)
            if len(best) > 1:  # a character only some of them have (男 of 男羽绒服, 跑 of 跑鞋)
                best = self._best(self._char_scores(question, best)) or best
            return best
        grams = _bigrams(question)
        rare = {g for g in grams if 0 < self._df.get(g, 0) * 2 <= self._n}
        if not rare:
            return self._by_variant(question)
        # the products with at least one distinctive bigram of their own, scored on all
        holders = {s for g in rare for s in self._by_gram[g]}
        scores = self.scores(question, holders)
        best = self._best(scores)
        return best if len(best) == 1 else self._by_variant(question)

    def _by_variant(self, question: str) -> list[str]:
        """The one product owning every variant name the question says ("强劲档" of a
        robot vacuum's modes), or none."""
        said = "".join(_CJK_RUN.findall(normalize(question)))
        found = {s for key in self._owners if key in said for s in [self._owner(key)] if s}
        return sorted(found) if len(found) == 1 else []

    def _char_scores(self, question: str, among: Sequence[str]) -> dict[str, float]:
        """Characters of the question some but not all of ``among`` have in their titles (the
        男 of 男羽绒服, the 跑 of 跑鞋). Where the question says a name the titles share, a
        character counts only on the side of it the title has it on: the 枕 after 记忆棉 of
        "记忆棉枕" names 记忆棉护颈枕, the 电 after 越野车 of "越野车电池" names no 电动越野车."""
        shared = set.intersection(*(self._chars[s] for s in among))
        shared_grams = set.intersection(*(self._grams[s] for s in among))
        sides: dict[str, set[int]] = {}  # a character said → its sides of the shared name
        said_grams: set[str] = set()  # the shared name as the question says it
        for part in normalize(question).split():  # as written, as repaired
            run = "".join(_CJK_RUN.findall(part))
            said_grams |= {run[k : k + 2] for k in range(len(run) - 1)} & shared_grams
            for ch, side in _sides(run, shared_grams).items():
                sides.setdefault(ch, set()).update(side)
        scores: dict[str, float] = {}
        for s in among:
            telling = [ch for ch in self._chars[s] - shared if ch in sides]
            if not telling:  # no character of its own the question says: nothing to place
                scores[s] = 0.0
                continue
            run = "".join(_CJK_RUN.findall(normalize(self._titles[s])))
            own = _sides(run, said_grams)
            scores[s] = float(sum(1 for ch in telling if sides[ch] & own[ch]))
        return scores

    @staticmethod
    def _best(scores: Mapping[str, float]) -> list[str]:
        if not scores:
            return []
        top = max(scores.values())
        if top <= 0:
            return []
        return sorted(s for s, v in scores.items() if v >= top * 0.999)
