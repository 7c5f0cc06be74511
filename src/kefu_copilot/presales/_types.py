"""The catalogue's products as the advisor types them: :class:`Profile` (one product page),
its :class:`Fact` and :class:`Variant` records. Built by :mod:`._profiles`, refined by
:mod:`._versions`; plain dataclasses of plain fields, so a profile is stored at ingestion
field by field."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from ..text._normalize import normalize
from ..text._numbers import money_amounts, number

__all__ = ["PRICE_HEADERS", "Fact", "Profile", "Variant"]

PRICE_HEADERS = ("price", "价格", "售价", "单价", "到手价", "现价")


@dataclass(frozen=True)
class Fact:
    name: str
    value: str
    chunk: int  # index of the chunk that states it

    @property
    def text(self) -> str:
        return f"{self.name}：{self.value}" if self.name else self.value


@dataclass(frozen=True)
class Variant:
    name: str  # the variant's cells other than price and stock ("黑色 短款")
    price: float | None
    in_stock: bool
    chunk: int
    cells: tuple[tuple[str, str], ...] = ()  # (header, cell) of the row
    label: str = ""  # its first cell other than price and stock ("R10 标准版")
    typed: bool = True  # from a table; False: an offer read from the page's prose


@dataclass
class Profile:
    source: str
    title: str
    sku: str
    category: str
    facts: list[Fact]
    variants: list[Variant]
    parts: list[tuple[int, str]]  # (chunk index, text) of every part of the page
    related: list[str] = field(default_factory=list)  # SKUs the page declares as complements
    marks: str = ""  # normalised title + category: what the product is, and for whom
    overview: int = -1  # the chunk of the page's overview (title, SKU, price, category …)
    rows: frozenset[int] = frozenset()  # the chunks that are rows of its tables (one version each)
    # attribute → the chunk of the row of a per-version spec table stating it (see _versions.py;
    # derived from ``parts``, ``rows`` and ``variants`` as build_profiles' last step)
    specs: dict[str, int] = field(default_factory=dict)
    # what it is: its category and the head of its title, normalised (see _kinds.py; the words
    # after the head — 礼盒装, 送客户 — describe it; build_profiles' last step)
    kind: str = ""

    # Normalised once per profile (not fields: never stored, never compared): the advisor reads
    # every page for each word a need says, and a recommendation over a catalogue of thousands
    # of products normalised each page again per word (~90 % of a recommendation's time).
    @cached_property
    def normalized_facts(self) -> list[tuple[str, str]]:
        """(name, value) of each of :attr:`facts`, normalised."""
        return [(normalize(f.name), normalize(f.value)) for f in self.facts]

    @cached_property
    def normalized_parts(self) -> list[tuple[int, str]]:
        """(chunk index, text) of each of :attr:`parts`, normalised."""
        return [(i, normalize(t)) for i, t in self.parts]

    @cached_property
    def normalized_texts(self) -> list[tuple[int, str]]:
        """Its title and category (as the overview's chunk), then :attr:`normalized_parts`."""
        return [(self.overview, normalize(f"{self.title} {self.category}")), *self.normalized_parts]

    @cached_property
    def normalized_page(self) -> str:
        """Every normalised fact name, value and part, joined by NULs: a word not in it is
        nowhere on the page (looked for before the facts and parts one by one)."""
        facts = [t for pair in self.normalized_facts for t in pair]
        return "\0".join([*facts, *(t for _, t in self.normalized_parts)])

    def points(self, skip: set[str]) -> list[Fact]:
        """The facts that can sell it: not the overview's bookkeeping, not ``skip``'s names."""
        return [
            f for f in self.facts
            if f.chunk != self.overview and f.name not in skip and f.name.lower() not in skip
        ]  # fmt: skip

    @cached_property  # read for every product by each recommendation (never mutated)
    def prices(self) -> list[float]:
        listed = [v.price for v in self.variants if v.price is not None]
        if listed:
            return sorted(set(listed))
        fact = next((f for f in self.facts if f.name in PRICE_HEADERS), None)
        return sorted(set(money_amounts(fact.value) or [number(fact.value) or 0])) if fact else []

    @property
    def typed_prices(self) -> bool:
        """Whether its prices come from the catalogue's types (a price fact, a priced table),
        not read from its prose (:func:`_offers`): only those back an answer sent as is."""
        return any(v.typed for v in self.variants if v.price is not None) or any(
            f.name in PRICE_HEADERS for f in self.facts
        )

    def prices_within(self, low: float, high: float) -> list[Variant]:
        return [
            v for v in self.variants
            if v.price is not None and v.in_stock and low <= v.price <= high
        ]  # fmt: skip

    def price_chunk(self) -> int:
        fact = next((f for f in self.facts if f.name in PRICE_HEADERS), None)
        if fact is not None:
            return fact.chunk
        return self.variants[0].chunk if self.variants else self.parts[0][0]
