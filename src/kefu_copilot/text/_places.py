"""Places a shopper names, read as the province the shop's rules speak of.

Shipping rules name provinces (新疆、西藏不包邮), shoppers name cities (乌鲁木齐能包邮吗) or paste
an address that is masked before matching (:func:`~._pii.redact`). :class:`Places` finds the
places of a question — a city or a province, inside an address or not — and says which province
each stands for, so the question can be matched with the rule that applies to it.

A name counts only where it reads as a place (the ``before``/``after`` words of
``data/places.yaml``): 中山 in 中山装 or 黄山 in 黄山毛峰 is not a place. A province counts as one
the shop's rules speak of when the knowledge lists it with another (:meth:`Places.regions`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .._data import compiled, packaged_rules

__all__ = ["Place", "Places", "places"]


@dataclass(frozen=True)
class Place:
    """``name`` as written at ``span``; ``province`` it lies in (the province itself for one)."""

    name: str
    province: str
    span: tuple[int, int]


class Places:
    """The places of one rule set (``data/places.yaml`` with a shop's extension). Thread-safe."""

    def __init__(self, rules: Mapping[str, Any]) -> None:
        self._province: dict[str, str] = {}
        for province, cities in (rules.get("provinces") or {}).items():
            self._province[str(province)] = str(province)
            for city in cities or ():
                self._province.setdefault(str(city), str(province))
        names = sorted(self._province, key=len, reverse=True)
        delivery = sorted(map(str, rules["delivery"]), key=len, reverse=True)
        self._delivery = re.compile("|".join(map(re.escape, delivery))) if delivery else None
        provinces = "|".join(map(re.escape, sorted(set(self._province.values()), key=len)[::-1]))
        self._listed = (
            re.compile(f"(?=({provinces})\\s*[、,，/和及与\\s]\\s*({provinces}))")
            if provinces
            else None
        )
        before = "|".join(map(re.escape, sorted(map(str, rules["before"]), key=len, reverse=True)))
        after = "|".join(map(re.escape, sorted(map(str, rules["after"]), key=len, reverse=True)))
        self._re = (
            re.compile(
                f"(?P<before>{before})?(?P<name>{'|'.join(map(re.escape, names))})"
                f"(?=(?P<after>{after}|[^\\u4e00-\\u9fff]|$))?"
            )
            if names
            else None
        )

    def find(self, text: str, *, anywhere: bool = False) -> list[Place]:
        """The places ``text`` names where they read as places (``anywhere``: every name, for a
        text known to be an address), in order."""
        if self._re is None:
            return []
        found = []
        for m in self._re.finditer(text):
            if not anywhere and m.group("before") is None and m.group("after") is None:
                continue
            name = m.group("name")
            found.append(Place(name, self._province[name], m.span("name")))
        return found

    def about_delivery(self, text: str) -> bool:
        """Whether ``text`` asks about sending something (the ``delivery`` words)."""
        return self._delivery is not None and self._delivery.search(text) is not None

    def regions(self, texts: Iterable[str]) -> frozenset[str]:
        """The provinces ``texts`` name as regions of a rule: in a list with another province
        (新疆、西藏、青海不包邮), not as a product's origin (四川眉山果冻橙, 广东顺德产)."""
        if self._listed is None:
            return frozenset()
        found: set[str] = set()
        for text in texts:
            for m in self._listed.finditer(text):
                found.update(m.groups())
        return frozenset(found)


def places(rules: Mapping[str, Any] | None = None) -> Places:
    """The :class:`Places` of ``rules`` (a shop's merged ``places`` set), compiled once."""
    return compiled(packaged_rules("places") if rules is None else rules, Places)
