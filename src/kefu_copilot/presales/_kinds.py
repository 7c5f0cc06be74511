"""What each product *is* (its kind), read once at ingestion from the catalogue's own structure —
its category (front matter, JSON type, a ``分类`` fact) and the head of its title — never from every
word of the title: "保温杯 礼盒装" is a vacuum flask sold in a gift box, not a gift box, and
"金骏眉红茶礼盒 … 送长辈 送客户" is no product *for* 客户.

A title is read segment by segment (split at spaces, ｜, /, brackets). Its head is the first
segment — among the first :data:`HEAD_SEGMENTS` — that ends as a kind the catalogue's
categories name does (their parts of two or more characters; a Chinese noun phrase ends with its
head: 坚果礼盒 is a 礼盒, 轻弹缓震跑步鞋 a kind of 运动鞋, 礼盒装 is no 礼盒); failing that, the first segment
of at least :data:`HEAD_CHARS` Chinese characters that is not the shop's brand (a first segment
another title starts with too: 山间一叶, 栖木 of 栖木童装). The segments before the head (a
brand, a line name: 峰行, 速开, K87) are kept with it; the ones after it (礼盒装, 送客户, 男女同款)
describe it and are not its kind."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..text._normalize import normalize
from ._types import Profile

__all__ = [
    "HEAD_CHARS", "HEAD_SEGMENTS", "catalogue_kinds", "sibling_category", "title_kind", "with_kinds",
]  # fmt: skip

HEAD_SEGMENTS = 4  # a title names its kind this early, or not by a catalogue's category
HEAD_CHARS = 3  # a segment this long (in Chinese characters) names the product, not a line
_SPLIT = re.compile(r"[\s/／|｜【】\[\]()（）]+")
_CATEGORY_SPLIT = re.compile(r"[/／>＞\s,，、|｜]+")


def _segments(title: str) -> list[str]:
    return [s for s in _SPLIT.split(normalize(title)) if s]


def _cjk(text: str) -> int:
    return sum("\u4e00" <= ch <= "\u9fff" for ch in text)


def catalogue_kinds(categories: Sequence[str]) -> set[str]:
    """The kinds the catalogue's categories name: each part of two or more characters
    (童装/外套 → 童装, 外套)."""
    return {
        part for c in categories for part in _CATEGORY_SPLIT.split(normalize(c)) if len(part) > 1
    }


def _brands(titles: Sequence[str]) -> set[str]:
    """First segments shared by two or more titles (one the start of the other counts: 栖木 and
    栖木童装): the shop's brand, not what a product is."""
    firsts = [segs[0] for t in titles if (segs := _segments(t))]
    # A first segment is a brand when another title's first segment starts with it. In sorted
    # order the segments that start with ``s`` follow ``s`` itself, so one look at its next
    # neighbour decides (comparing every pair took over a minute at 12k products).
    ordered = sorted(firsts)
    out: set[str] = set()
    for at, first in enumerate(ordered[:-1]):
        if (
            ordered[at + 1].startswith(first)
            and _cjk(first) + sum(ch.isascii() for ch in first) >= 2
        ):
            out.add(first)
    return out


def title_kind(title: str, kinds: set[str], brands: set[str]) -> str:
    """The head of ``title`` with the segments before it (see the module's docstring)."""
    segments = _segments(title)
    if not segments:
        return ""
    brand = next((b for b in sorted(brands, key=len, reverse=True)
                  if segments[0].startswith(b)), "")  # fmt: skip
    own = [segments[0][len(brand) :], *segments[1:]]  # the first without the brand
    ends = {k[-1] for k in kinds}
    for at, segment in enumerate(own[:HEAD_SEGMENTS]):
        if any(segment.endswith(k) for k in kinds) or (
            _cjk(segment) >= HEAD_CHARS and segment[-1] in ends
        ):
            return " ".join(segments[: at + 1])
    for at, segment in enumerate(own):
        if _cjk(segment) >= HEAD_CHARS:
            return " ".join(segments[: at + 1])
    return " ".join(segments)


def _suffix(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[-1 - n] == b[-1 - n] and _cjk(a[-1 - n]):
        n += 1
    return n


class _Siblings:
    """The catalogue's category paths, split and counted once (a shop of 12k products has a
    few hundred distinct categories; reading every product's for every uncategorised one was
    quadratic), asked for the category of one head at a time."""

    def __init__(self, categories: Sequence[str]) -> None:
        counted: dict[tuple[str, ...], int] = {}
        for c in categories:
            path = tuple(part for part in _CATEGORY_SPLIT.split(normalize(c)) if part)
            counted[path] = counted.get(path, 0) + 1
        self._paths = list(counted.items())

    def category(self, head: str) -> str:
        noun = head.split()[-1] if head.split() else ""
        ends: dict[str, int] = {}  # a part's ending shared with the noun, read once

        def end_of(part: str) -> int:
            if part not in ends:
                ends[part] = _suffix(noun, part)
            return ends[part]

        best: list[tuple[tuple[str, ...], int]] = []
        most = 0
        for path, count in self._paths:
            end = max((end_of(part) for part in path), default=0)
            if end and end > most:
                most, best = end, [(path, count)]
            elif end and end == most:
                best.append((path, count))
        if not most or sum(count for _, count in best) < 2:
            return ""  # one product's category is no sign of a kind
        shared: list[str] = []
        for parts in zip(*(path for path, _ in best), strict=False):
            if len(set(parts)) > 1:
                break
            shared.append(parts[0])
        return "/".join(shared)


def sibling_category(head: str, categories: Sequence[str]) -> str:
    """The category a product the catalogue leaves uncategorised is of, by the products its
    head ends like (普洱熟茶 like 白茶, 红茶, 绿茶 → 茶叶; 长绒棉四件套 like 床品四件套): the
    category path the two or more categories that end most like its head share, "" when they
    share none (a head ending like 奶茶 of 冲饮 and 白茶 of 茶叶 is of neither)."""
    return _Siblings(categories).category(head)


def with_kinds(profiles: Sequence[Profile]) -> None:
    """Each profile's ``kind``: its category and the head of its title, normalised; a product
    with no category takes the one its siblings share (see :func:`sibling_category`), so that a
    kind a category names (茶叶) is found of every product of it."""
    categories = [p.category for p in profiles if p.category]
    kinds = catalogue_kinds(categories)
    brands = _brands([p.title for p in profiles])
    siblings = _Siblings(categories)
    for profile in profiles:
        head = title_kind(profile.title, kinds, brands)
        category = profile.category or siblings.category(head)
        profile.kind = normalize(f"{head} {category}".strip())
