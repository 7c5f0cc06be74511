"""The catalogue as the advisor sees it: one :class:`Profile` per product page — its title, SKU,
category, facts, variants with their prices and stock, and the text of every part, each with the
chunk it came from (so any fact quoted is cited).

Built from the typed catalogue (:class:`~kefu_copilot.ingest._catalog.Products`): only sources
with a ``product`` chunk count (a policy's table is not a product). Prices are the ``价格`` fact
and the price column of the variant table; a variant out of stock does not count for a budget.

Built once per generation, at ingestion (:func:`profile_deriver`, stored in the generation's
``derived/`` folder) and loaded at open (:func:`stored_profiles`): building them read every
product page and every product file again, half of opening a 300k-chunk shop. Stored field by
field from the dataclasses' own types, so a field added to :class:`Profile` is stored with the
others; what they were built by (this module's and its helpers' sources, the rules) keys the
file, and a profile set built otherwise — an older index, other rules — is built at open."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import re
import sys
import types
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._fs import json_bytes, load_json
from .._models import Chunk
from ..text._normalize import normalize
from ..text._numbers import money_amounts, money_spans, number
from ._kinds import with_kinds
from ._types import PRICE_HEADERS as _PRICE_HEADERS
from ._types import Fact, Profile, Variant
from ._versions import with_version_specs

if TYPE_CHECKING:
    from ..index._generations import Derive, Snapshot

__all__ = [
    "Fact",
    "Profile",
    "Variant",
    "build_profiles",
    "is_stock",
    "profile_deriver",
    "related_rules",
    "stored_profiles",
]

_CODE_FACTS = ("货号", "商品编号", "商品编码", "sku", "SKU", "型号", "款号")
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*[A-Za-z0-9]")  # the code of "SH-CR01 价格：¥329"
_STOCK_HEADERS = ("stock", "库存", "现货", "状态")
_SOLD_OUT = ("售罄", "缺货", "无货", "停产", "下架")
_FRONT = re.compile(r"\A---\s*\n(.*?)\n---", re.S)
OFFER_PARTS = 3  # a page with no price fact nor priced table states its offers this early
_OFFER_SPLIT = re.compile(r"[|｜/\n;；。]")
_LABEL_CUT = re.compile(r"[:：，,、]")


def is_stock(header: str) -> bool:
    """Whether a table column holds the stock (库存, stock, 状态)."""
    return any(p in header.lower() for p in _STOCK_HEADERS)


def _price(cell: str) -> float | None:
    amounts = money_amounts(cell)
    if amounts:
        return amounts[0]
    value = number(cell.strip().rstrip("元"))
    return value if value and value > 0 else None


def _money(cell: str) -> bool:
    return bool(money_amounts(cell))


def _variants(tables: Sequence[Mapping[str, Any]]) -> list[Variant]:
    """The priced rows of a product's tables. The price column is named (price, 价格, 售价 …) or,
    in a table without a header row (its first row read as one), the column whose every cell
    is an amount of money (459元, ¥1299) — and then that first row is a variant too."""
    out: list[Variant] = []
    for table in tables:
        rows = table["rows"]
        if not rows:
            continue
        header = [str(h) for h in rows[0][0]]
        low = [h.lower() for h in header]
        price_at = next((i for i, h in enumerate(low) if any(p in h for p in _PRICE_HEADERS)), -1)
        headless = False
        if price_at < 0:
            columns = range(min(len(r[1]) for r in rows))
            price_at = next(
                (i for i in columns if all(_money(str(r[1][i])) for r in rows) and i < len(header)),
                -1,
            )
            headless = price_at >= 0 and _money(header[price_at])
        if price_at < 0:
            continue
        stock_at = next((i for i, h in enumerate(low) if any(p in h for p in _STOCK_HEADERS)), -1)
        listed = [(header, header, rows[0][2])] if headless else []
        for head, row, index in [*listed, *rows]:
            cells = [str(c) for c in row]
            if price_at >= len(cells):
                continue
            stock = cells[stock_at] if 0 <= stock_at < len(cells) else ""
            in_stock = not (stock.strip() in ("0", "0件") or any(w in stock for w in _SOLD_OUT))
            own = [c for i, c in enumerate(cells) if i not in (price_at, stock_at) and c.strip()]
            names = head if not headless else [f"列{i + 1}" for i in range(len(cells))]
            pairs = tuple((str(h), c) for h, c in zip(names, cells, strict=False))
            out.append(
                Variant(
                    " ".join(own), _price(cells[price_at]), in_stock, int(index), pairs,
                    own[0] if own else "",
                )
            )  # fmt: skip
    return out


def _offers(parts: Sequence[tuple[int, Chunk]]) -> list[Variant]:
    """The priced versions a page states in its opening text when it has no price fact nor a
    priced table ("单支50ml ¥169 / 双支装 50ml×2 ¥299", "6罐装 ¥128 ｜ 8罐装 ¥168", "价格：¥329"):
    each amount with a currency mark, labelled by the words before it. Only the first
    ``OFFER_PARTS`` parts before the page's first table are read (a component's price in a gift
    set's table, a free gift's list price in the returns notes are not offers), and only the
    first of them stating an amount."""
    texts: list[tuple[int, str]] = []
    for index, chunk in parts:
        if chunk.kind == "table_row" or len(texts) >= OFFER_PARTS:
            break
        texts.append((index, chunk.text))
    for index, text in texts:
        out: list[Variant] = []
        for segment in _OFFER_SPLIT.split(normalize(text)):
            start = 0
            for price, at, end in money_spans(segment):
                said = segment[start:at].strip(" :：")
                start = end
                label = _LABEL_CUT.split(said)[-1].strip().removesuffix("价")
                label = "" if any(h in label for h in _PRICE_HEADERS) else label
                cells = (("规格", label),) if label else ()
                out.append(Variant(label, price, True, index, cells, label, typed=False))
        if out:
            return out
    return []


def _declared_related(shop_dir: Path | None, source: str, keys: Sequence[str]) -> list[str]:
    """The complements a product file declares (``related`` in its front matter or JSON): read
    from the file itself, as ingestion keeps only scalar front-matter values."""
    if shop_dir is None:
        return []
    path = shop_dir / source
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    if not any(key in text for key in keys) and "\\u" not in text:
        return []  # no key named: skip parsing (a large shop has thousands of pages)
    data: Any = None
    if path.suffix == ".json":
        import json

        try:
            data = json.loads(text)
        except ValueError:
            return []
    else:
        m = _FRONT.match(text)
        if m:
            import yaml

            try:
                data = yaml.safe_load(m.group(1))
            except yaml.YAMLError:
                return []
    if not isinstance(data, dict):
        return []
    out: list[str] = []
    for key in keys:
        value = data.get(key)
        if isinstance(value, str):
            value = re.split(r"[,，、\s]+", value)
        if isinstance(value, list):
            out.extend(str(v).strip() for v in value if str(v).strip())
    return out


def build_profiles(
    products: Any,
    chunks: Sequence[Chunk],
    *,
    shop_dir: Path | None = None,
    related_keys: Sequence[str] = ("related",),
    related_cues: Sequence[str] = (),
) -> list[Profile]:
    """One profile per product page of the catalogue ``products``
    (:class:`~kefu_copilot.ingest._catalog.Products`). ``related_cues``: words that make the
    products a part of a page names by SKU its declared complements (see :func:`_named_related`)."""
    skus = products.sku_by_source()
    out: list[Profile] = []
    for source in sorted(products.titles):
        parts = list(products.read_chunks(source))
        if not any(c.kind == "product" for _, c in parts):
            continue
        title = next((c.title for _, c in parts if c.title), "") or source
        facts = [Fact(str(n), str(v), int(i)) for n, v, i in products.facts.get(source, ())]
        variants = _variants(products.tables.get(source, ()))
        if not any(v.price is not None for v in variants) and not any(
            f.name in _PRICE_HEADERS for f in facts
        ):
            variants = [*variants, *_offers(parts)]
        category = next((f.value for f in facts if f.name in ("分类", "category")), "")
        codes = [m.group() for f in facts if f.name in _CODE_FACTS and (m := _CODE.search(f.value))]
        out.append(
            Profile(
                source=source,
                title=title,
                sku=codes[0] if codes else skus.get(source, ""),
                category=category,
                facts=facts,
                variants=variants,
                parts=[(i, c.text) for i, c in parts],
                related=_declared_related(shop_dir, source, related_keys),
                marks=normalize(f"{title} {category}"),
                overview=next((i for i, c in parts if c.locator == "商品信息"), -1),
                rows=frozenset(i for i, c in parts if c.kind == "table_row"),
            )
        )
    _named_related(out, related_cues)
    out = [with_version_specs(p) for p in out]
    with_kinds(out)
    return out


def _named_related(profiles: Sequence[Profile], cues: Sequence[str]) -> None:
    """Complements a page declares in its own words: a part with one of ``cues`` ("推荐搭配：…
    （JD-MS-M1）", "相关推荐：… SH-FD01") naming another product of the catalogue by its SKU."""
    skus = {normalize(p.sku): p.sku for p in profiles if len(p.sku) >= 4}
    if not cues or not skus:
        return
    said = [normalize(str(c)) for c in cues]
    order = {key: at for at, key in enumerate(skus)}
    # a part is read once per length of SKU (a few), not once per SKU of the catalogue
    lengths = sorted({len(key) for key in skus})
    for profile in profiles:
        own = normalize(profile.sku)
        for _, text in profile.parts:
            norm = normalize(text)
            if not any(c in norm for c in said):
                continue
            named = {norm[at : at + n] for n in lengths for at in range(len(norm) - n + 1)}
            named.intersection_update(skus)
            for key in sorted(named, key=order.__getitem__):  # in catalogue order
                if key != own and skus[key] not in profile.related:
                    profile.related.append(skus[key])


# -- stored at ingestion ---------------------------------------------------------------------------
PROFILES_FILE = "profiles.jsonl"  # in a generation's derived/ folder: a header line, then one
# line per profile, each field in declaration order (nested dataclasses as lists too)


def related_rules(rules: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """The ``related_keys`` and ``related_cues`` of a ``presales`` rule set."""
    return [str(k) for k in rules["related_keys"]], [str(k) for k in rules["related_cues"]]


def profile_deriver(
    shop_dir: Path | None, rules: Mapping[str, Any], words: Callable[[str], list[str]]
) -> Derive:
    """What ingestion derives for the advisor from a new generation: its profiles, built with
    the ``presales`` ``rules`` and the product files of ``shop_dir``, stored (see
    :func:`stored_profiles`). ``words``: the shop's tokenizer's (the catalogue's reader)."""
    keys, cues = related_rules(rules)

    def derive(snapshot: Snapshot) -> dict[str, Iterator[bytes]]:
        from ..index._coverage import Idf
        from ..ingest._catalog import Products

        products = Products.of(snapshot.catalog, snapshot.chunks, words, Idf(snapshot.lexical))
        profiles = build_profiles(
            products, snapshot.chunks, shop_dir=shop_dir, related_keys=keys, related_cues=cues
        )
        return {PROFILES_FILE: _encoded(profiles, _key(keys, cues, shop_dir is not None))}

    return derive


def stored_profiles(
    snapshot: Snapshot, related_keys: Sequence[str], related_cues: Sequence[str], with_files: bool
) -> list[Profile] | None:
    """The profiles stored with ``snapshot`` at ingestion when they were built as they would be
    now (same code, same rules, product files read or not: ``with_files``); else None."""
    path = snapshot.derived(PROFILES_FILE)
    codec = _codec(Profile)
    if path is None or codec is None:
        return None
    key = _key(list(related_keys), list(related_cues), with_files)
    from ..index._generations import gc_paused

    try:
        with open(path, "rb") as fh, gc_paused():
            header = load_json(fh.readline())
            if not isinstance(header, dict) or header.get("key") != key:
                return None
            decode = codec[1]
            out = [decode(load_json(line)) for line in fh]
    except (OSError, ValueError, TypeError, IndexError):  # damaged: built afresh
        return None
    return out if len(out) == header.get("profiles") else None


def _encoded(profiles: Sequence[Profile], key: str) -> Iterator[bytes]:
    """The lines of :data:`PROFILES_FILE`; each profile is checked to read back equal (a value
    JSON cannot hold — NaN, a type without a codec — fails the file, built at open instead)."""
    codec = _codec(Profile)
    if codec is None:
        raise TypeError("a Profile field has a type profiles cannot be stored with")
    encode, decode = codec
    yield json_bytes({"key": key, "profiles": len(profiles)}) + b"\n"
    for profile in profiles:
        line = json_bytes(encode(profile))
        if decode(load_json(line)) != profile:
            raise ValueError(f"the profile of {profile.source} does not read back equal")
        yield line + b"\n"


@lru_cache(maxsize=1)
def _sources_digest() -> str:
    """What the profiles are built by: this module, their types, the version tables' reader
    and the text helpers they read with."""
    digest = hashlib.sha256()
    modules = (__name__, Profile.__module__, with_version_specs.__module__, with_kinds.__module__,
               normalize.__module__, money_amounts.__module__, Chunk.__module__)  # fmt: skip
    for name in modules:
        file = getattr(sys.modules[name], "__file__", None)
        digest.update(Path(file).read_bytes() if file else name.encode())
    return digest.hexdigest()


def _key(keys: list[str], cues: list[str], with_files: bool) -> str:
    layout = [[f.name for f in dataclasses.fields(c)] for c in (Profile, Fact, Variant)]
    rules = json_bytes([layout, keys, cues, with_files])
    return hashlib.sha256(_sources_digest().encode() + rules).hexdigest()


_Codec = tuple[Callable[[Any], Any], Callable[[Any], Any]]
_PLAIN = (str, int, float, bool, type(None))


def _same(value: Any) -> Any:
    return value


#: the decoders that make a dataclass of plain fields from its list (a list of them is read
#: with ``starmap``: reading 170k facts one call at a time was a third of loading)
_STAR: dict[Callable[[Any], Any], type] = {}


@cache
def _codec(hint: Any) -> _Codec | None:
    """(to JSON, from JSON) for a value of type ``hint``: plain values, lists, tuples, sets,
    str-keyed dicts and dataclasses of them; None for anything else (then nothing is stored
    and the advisor builds its profiles at open, as for an older index)."""
    if hint in _PLAIN or hint is Any:
        return (_same, _same)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _dataclass_codec(hint)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return (_same, _same) if all(a in _PLAIN for a in args) else None
    inner = [_codec(a) for a in args if a is not Ellipsis]
    if not inner or any(c is None for c in inner):
        return None
    codecs = typing.cast(list[_Codec], inner)
    plain = all(c[1] is _same for c in codecs)
    if origin is list and len(codecs) == 1:
        return (list, _same) if plain else (_each(codecs[0][0], list), _each(codecs[0][1], list))
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return (list, tuple) if plain else (_each(codecs[0][0], list), _each(codecs[0][1], tuple))
    if origin is tuple:
        if plain:
            return (list, tuple)
        return (
            lambda v: [c[0](x) for c, x in zip(codecs, v, strict=True)],
            lambda v: tuple(c[1](x) for c, x in zip(codecs, v, strict=True)),
        )
    if origin in (frozenset, set) and len(codecs) == 1 and plain:
        return (sorted, origin)
    if origin is dict and len(args) == 2 and args[0] is str:
        enc, dec = codecs[1]
        return (
            lambda v: {k: enc(x) for k, x in v.items()},
            lambda v: {k: dec(x) for k, x in v.items()},
        )
    return None


def _each(convert: Callable[[Any], Any], into: type) -> Callable[[Any], Any]:
    """``convert`` applied to every item of a list, gathered ``into`` a list or tuple."""
    if convert in _STAR:
        cls = _STAR[convert]
        return lambda v: into(itertools.starmap(cls, v))
    return lambda v: into(map(convert, v))


def _dataclass_codec(cls: type) -> _Codec | None:
    """A dataclass as the list of its fields' values, in declaration order."""
    fields = dataclasses.fields(cls)
    if any(not f.init for f in fields):
        return None
    try:
        hints = typing.get_type_hints(cls)
    except (NameError, TypeError):  # a type only known to type checkers
        return None
    codecs = [_codec(hints[f.name]) for f in fields]
    if any(c is None for c in codecs):
        return None
    pairs = [(typing.cast(_Codec, c)[0], f.name) for c, f in zip(codecs, fields, strict=True)]
    special = [
        (i, c[1]) for i, c in enumerate(typing.cast(list[_Codec], codecs)) if c[1] is not _same
    ]
    width = len(fields)

    def encode(value: Any) -> list[Any]:
        return [enc(getattr(value, name)) for enc, name in pairs]

    def decode(value: list[Any]) -> Any:
        if len(value) != width:
            raise ValueError(f"{cls.__name__}: {len(value)} fields stored, {width} declared")
        for i, dec in special:
            value[i] = dec(value[i])
        return cls(*value)

    if not special:
        _STAR[decode] = cls
    return (encode, decode)
