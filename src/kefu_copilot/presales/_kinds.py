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

__all__ = ["HEAD_CHARS", "HEAD_SEGMENTS", "catalogue_kinds", "title_kind", "with_kinds"]

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
    out: set[str] = set()
    for i, a in enumerate(firsts):
        for b in firsts[i + 1 :]:
            short, long = sorted((a, b), key=len)
            if long.startswith(short) and _cjk(short) + sum(ch.isascii() for ch in short) >= 2:
                out.add(short)
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


def with_kinds(profiles: Sequence[Profile]) -> None:
    """Each profile's ``kind``: its category and the head of its title, normalised."""
    kinds = catalogue_kinds([p.category for p in profiles if p.category])
    brands = _brands([p.title for p in profiles])
    for profile in profiles:
        head = title_kind(profile.title, kinds, brands)
        profile.kind = normalize(f"{head} {profile.category}".strip())
