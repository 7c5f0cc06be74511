"""Two products — or two versions of one — side by side, from the catalogue only.

Between products: their facts of the same name whose values differ, then the facts only one of
them has, and their prices. Between two versions of one product (R10 标准版 / Pro, 短款 / 长款):
the cells of their variant rows that differ. ``Comparison.rows`` is the agent's table; ``text``
the shopper's two or three sentences (the first ``compared`` rows)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .._models import Citation
from ..text._normalize import normalize
from ..text._tokenize import STOPWORDS
from ._models import Comparison
from ._profiles import Fact, Profile, Variant, is_stock
from ._recommend import prices_text
from ._text import bigrams

__all__ = [
    "compare_products",
    "compare_variants",
    "most_said",
    "named_variants",
    "told_apart",
    "version_label",
]

Cite = Callable[[int, float], Citation]


def _short(title: str) -> str:
    return title.split(" ", 1)[-1] if " " in title and len(title) > 14 else title


def compare_products(
    a: Profile,
    b: Profile,
    rules: Mapping[str, Any],
    cite: Cite,
    asked: str = "",
    budget: tuple[float, float] | None = None,
) -> Comparison:
    """``asked``: the shopper's question; the attributes it names (哪个保质期长) come first.
    ``budget``: the one the shopper said — each product's prices within it are shown (all when
    none is)."""
    rows: list[tuple[str, str, str]] = []
    chunks: list[int] = []
    skip = {str(s) for s in rules["not_selling_points"]} - {"价格"}
    pa, pb = prices_text(_within(a.prices, budget)), prices_text(_within(b.prices, budget))
    if pa != pb:
        rows.append(("价格", pa, pb))
        chunks += [a.price_chunk(), b.price_chunk()]
    if a.category and b.category and normalize(a.category) != normalize(b.category):
        rows.append(("分类", a.category, b.category))  # what each is (绿茶 / 乌龙茶) first
        chunks += [f.chunk for p in (a, b) for f in p.facts if f.value == p.category][:2]
    kept = [f for f in a.facts if f.name not in skip and f.name not in ("价格", "货号", "分类")]
    pairs = _aligned(kept, b.facts)
    for fact in kept:
        other = pairs.get(fact.name)
        if other is not None and normalize(other.value) != normalize(fact.value):
            rows.append((fact.name, fact.value, other.value))
            chunks += [fact.chunk, other.chunk]
    paired_b = {f.name for f in pairs.values()}
    for fact, mine in [*((f, True) for f in a.facts), *((f, False) for f in b.facts)]:
        if fact.name in skip or fact.name in ("价格", "货号", "分类"):
            continue
        if (fact.name in pairs) if mine else (fact.name in paired_b):
            continue
        rows.append((fact.name, fact.value, "—") if mine else (fact.name, "—", fact.value))
        chunks.append(fact.chunk)
    said = normalize(asked)
    rows.sort(key=lambda r: not (len(r[0]) > 1 and normalize(r[0]) in said))  # stable
    return _comparison(
        [a.title, b.title], [a.source, b.source], rows, chunks, rules, cite, asked, [a, b]
    )


def _aligned(facts_a: Sequence[Fact], facts_b: Sequence[Fact]) -> dict[str, Fact]:
    """Each fact of ``a`` → the fact of ``b`` stating the same attribute: the same name, else
    the one name containing the other (鞋面 / 鞋面材质, 重量 / 单只重量) when that pairing is
    unique — catalogues name one attribute with more or fewer words."""
    by_name = {f.name: f for f in facts_b}
    out = {f.name: by_name[f.name] for f in facts_a if f.name in by_name}
    taken = {f.name for f in out.values()}
    for fact in facts_a:
        if fact.name in out or len(fact.name) < 2:
            continue
        like = [
            g for g in facts_b
            if g.name not in taken and len(g.name) >= 2
            and (fact.name in g.name or g.name in fact.name)
        ]  # fmt: skip
        if len(like) == 1:
            out[fact.name] = like[0]
            taken.add(like[0].name)
    return out


_SENTENCE = re.compile(r"[。；;！!\n]")
_BARE = re.compile(r"\d+(?:\.\d+)?")  # a price cell with no unit (129 from JSON)
_TOKEN = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?|[\u4e00-\u9fff]+")


def _says(norm: str, token: str) -> bool:
    """Whether the normalised message says a cell's word: a figure (1, 2, 1.5) only as a whole
    number — the 1 of 大1匹 is not said by "12平", nor the 2 of 2匹 by "孩子房12平"."""
    if not token[:1].isdigit() and not token[-1:].isdigit():
        return token in norm
    return bool(re.search(rf"(?<![0-9.]){re.escape(token)}(?![0-9]|\.[0-9])", norm))


def named_variants(
    profile: Profile, text: str, *, one_said: bool = True, suffixes: Sequence[str] = ()
) -> list[Variant]:
    """The variants of ``profile`` the message tells apart: in one column of the variant table,
    the rows whose own words (not shared by every other row: "标准版", "pro") the message says,
    one row per value named; of a column with two values, one named is enough ("L5和L5 Pro":
    the other is the one not told apart) — unless ``one_said`` is false. A word ending in one
    of ``suffixes`` (款, 版: ``version_suffixes``) is said without it too ("软头" of 软头款)."""
    norm = normalize(text)

    def said(token: str) -> bool:
        if _says(norm, token):
            return True
        stem = next((token[: -len(s)] for s in suffixes if s and token.endswith(s)), "")
        return len(stem) > 1 and stem in norm

    columns = list(dict.fromkeys(h for v in profile.variants for h, _ in v.cells))
    pairs: list[Variant] = []
    for header in columns:
        values = {v: normalize(dict(v.cells).get(header, "")) for v in profile.variants}
        tokens = {v: set(_TOKEN.findall(value)) for v, value in values.items()}
        seen: dict[str, Variant] = {}
        for variant, own in tokens.items():
            others = [t for v, t in tokens.items() if values[v] != values[variant]]
            if not others:
                continue
            distinct = {t for t in own if not all(t in o for o in others)}
            if any(said(t) for t in distinct if len(t) > 1 or t.isascii()):
                seen.setdefault(values[variant], variant)
        if len(seen) >= 2:
            return list(seen.values())
        distinct_values = list(dict.fromkeys(values.values()))
        if one_said and len(seen) == 1 and len(distinct_values) == 2 and not pairs:
            other = next(v for v, value in values.items() if value not in seen)
            pairs = [next(iter(seen.values())), other]
    return pairs


def told_apart(variants: Sequence[Variant], text: str) -> list[Variant]:
    """Of ``variants``, the first of each set sharing the words ``text`` says of them ("单驱和
    双驱": 单驱, and the first of the two 双驱 versions) — the versions a comparison pairs."""
    norm = normalize(text)
    first: dict[frozenset[str], Variant] = {}
    for variant in variants:
        said = frozenset(
            t
            for _, cell in variant.cells
            for t in _TOKEN.findall(normalize(cell))
            if (len(t) > 1 or t.isascii()) and _says(norm, t)
        )
        if said:
            first.setdefault(said, variant)
    return list(first.values())


def _within(prices: Sequence[float], budget: tuple[float, float] | None) -> list[float]:
    """The prices within ``budget`` (all of them when none is, or no budget was said)."""
    if budget is None:
        return list(prices)
    return [p for p in prices if budget[0] <= p <= budget[1]] or list(prices)


def most_said(variants: Sequence[Variant], text: str) -> list[Variant]:
    """Of ``variants``, those whose cells' words ``text`` says most of ("24枚中果和30枚大果":
    24枚装 中果 and 30枚装 大果 of four, each said by two words) — all when none is said."""
    norm = normalize(text)
    counts = {
        v: sum(
            1
            for _, cell in v.cells
            for t in set(_TOKEN.findall(normalize(cell)))
            if (len(t) > 1 or t.isascii()) and _says(norm, t)
        )
        for v in variants
    }
    best = max(counts.values(), default=0)
    return [v for v in variants if counts[v] == best] if best else list(variants)


def compare_variants(
    profile: Profile,
    variants: Sequence[Variant],
    rules: Mapping[str, Any],
    cite: Cite,
    asked: str = "",
) -> Comparison:
    """Rows: the cells that differ, then the page's facts that speak of both versions
    (``asked``: the shopper's question; see :func:`_by_asked`)."""
    a, b = variants[0], variants[1]
    cells_b = dict(b.cells)
    rows = [
        (h, c, cells_b[h])
        for h, c in a.cells
        if h in cells_b and cells_b[h] != c and not is_stock(h)  # a count left is no difference
    ]
    # what one version has and the other has not (黄桃干：170g / 无) before how much of it
    absent = {normalize(str(w)) for w in rules["absent_values"]}
    rows.sort(key=lambda r: not ({normalize(r[1]).strip(), normalize(r[2]).strip()} & absent))
    chunks = [a.chunk, b.chunk, *(profile.specs[h] for h, _, _ in rows if h in profile.specs)]
    labels = [version_label(a, b), version_label(b, a)]
    skip = {str(s) for s in rules["not_selling_points"]}
    for fact in profile.facts:
        if fact.name in skip:
            continue  # a licence number holding both labels' digits says nothing of them
        value = normalize(fact.value)
        if all(label and normalize(label) in value for label in labels):
            rows.append((fact.name, fact.value, ""))
            chunks.append(fact.chunk)
    # the page's own sentences about both ("30ml、50ml 为同一配方，只是容量不同"), after the
    # cells: what the shop says of the difference
    stated = {normalize(r[1]) for r in rows}
    said: list[tuple[str, str, str]] = []
    for index, text in profile.parts:
        if index in profile.rows or any(f.chunk == index for f in profile.facts):
            continue  # the rows and facts are compared above (a size chart's row is no remark)
        for sentence in _SENTENCE.split(text):
            norm = normalize(sentence).strip(" >-*")
            if (
                norm
                and norm not in stated
                and all(label and normalize(label) in norm for label in labels)
            ):
                stated.add(norm)
                said.append(("", sentence.strip(" >-*"), ""))
                chunks.append(index)
    rows[len(rows) - len([r for r in rows if not r[2]]) :] = [
        *said[:2], *(r for r in rows if not r[2])
    ]  # fmt: skip
    names = [a.label or a.name, b.label or b.name]
    if normalize(names[0]) == normalize(names[1]):
        names = labels  # 黑色 短款 / 黑色 长款: named by the cells telling them apart
    return _comparison(names, [profile.source], rows, chunks, rules, cite, asked, [profile])


def version_label(a: Variant, b: Variant) -> str:
    """The cell telling ``a`` from ``b`` ("长款（过膝）" → "长款")."""
    other = dict(b.cells)
    for header, cell in a.cells:
        if other.get(header) != cell and _TOKEN.findall(normalize(cell)):
            return _TOKEN.findall(normalize(cell))[0]
    return ""


def _priced(name: str, value: str) -> str:
    """A price cell with no unit (129 from JSON) gets its 元."""
    return f"{value}元" if name == "价格" and _BARE.fullmatch(value.strip()) else value


def _by_asked(
    rows: list[tuple[str, str, str]], asked: str, profiles: Sequence[Profile]
) -> list[tuple[str, str, str]]:
    """``rows`` with those stating more of the question's own character pairs first ("层高2.7米"
    → the 层高要求 row; an ASCII run, APP, is one), the rest in their order — a pair of the
    products' titles, a stop word or a bare figure (差了300 is in 3000K) tells no row apart,
    nor does a character alone (更 of 更准 is in 可自行更换)."""
    titles = set(bigrams(" ".join(f"{p.title} {p.category}" for p in profiles)))
    said = [
        b
        for b in bigrams(asked)
        if b not in titles and b not in STOPWORDS and not b.replace(".", "").isdigit()
    ]  # fmt: skip  (a figure said is a price or a measure, not what a row is about)
    if not said:
        return rows

    def shared(row: tuple[str, str, str]) -> int:
        text = normalize(" ".join(row))
        return sum(b in text for b in said)

    return sorted(rows, key=lambda r: -shared(r))  # stable: the rest keep their order


def _comparison(
    names: list[str],
    sources: list[str],
    rows: list[tuple[str, str, str]],
    chunks: list[int],
    rules: Mapping[str, Any],
    cite: Cite,
    asked: str = "",
    profiles: Sequence[Profile] = (),
) -> Comparison:
    texts = rules["texts"]
    if asked:
        rows = _by_asked(rows, asked, profiles)
    names_of = {str(k).lower(): str(v) for k, v in rules["attribute_names"].items()}
    rows = [(names_of.get(n.strip().lower(), n), x, y) for n, x, y in rows]
    rows = [(n, _priced(n, x), _priced(n, y)) for n, x, y in rows]
    shown = rows[: int(rules["compared"])]
    lines = "；".join(
        str(texts["compare_row"]).format(name=n, a=x, b=y) if y else f"{n}：{x}" if n else x
        for n, x, y in shown
    )
    text = str(texts["compare"]).format(a=_short(names[0]), b=_short(names[1]), rows=lines)
    return Comparison(
        names=names,
        sources=sources,
        rows=rows,
        text=text if rows else "",
        citations=[cite(c, 1.0) for c in dict.fromkeys(chunks)],
    )
