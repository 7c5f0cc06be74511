"""Per-version spec tables: a table whose columns are the product's versions and whose rows are
attributes ("参数 | 3-4人 | 5-6人", "品名 | 8罐装（1488g） | 6罐装（1036g）"). Each row states
one attribute of every version ("外帐防水指数：3000mm / 3000mm", "黄桃干：170g / 无"); the
catalogue's typed facts and variant rows do not hold it (the priced table lists the versions,
this one what they are). Read from the profile's own table rows — the same inputs
:func:`._profiles.build_profiles` reads — into typed facts of the product and cells of each
version, so that a comparison, a version picked by a figure, and the selling points quoted see
them.

A row is read only when every column after the first is named by exactly one version (its
label opening the header, or the header opening its label: "8罐装（1488g）" / "8罐装",
"基础款" / "基础款（无坡度）"); a size chart (身高、胸围) or a table of anything else is left
alone. A row with one version column (a merged cell: "面料 | 190T 涂银聚酯布…") states the
attribute of every version."""

from __future__ import annotations

import dataclasses
import re

from ..text._normalize import normalize
from ._types import Fact, Profile, Variant

__all__ = ["with_version_specs"]

#: a column header after the text's start or a comma: the spaces before it are not part of it
#: (taken possessively: given back one by one, a long run of spaces cost its length squared
#: times the header's 30 — 7 s for 4,000 spaces)
_HEADER = re.compile(r"(?:^|[，,])\s*+([^，,：:]{1,30}?)\s*[：:]")


def _version_of(header: str, labels: dict[str, Variant]) -> Variant | None:
    """The one version a column header names, else None."""
    key = normalize(header).strip()
    hits = [
        v for label, v in labels.items()
        if len(label) > 1 and (key.startswith(label) or label.startswith(key)) and len(key) > 1
    ]  # fmt: skip
    return hits[0] if len(hits) == 1 else None


def _row(text: str, labels: dict[str, Variant]) -> tuple[str, list[tuple[Variant, str]]] | None:
    """(attribute, [(version, value)]) of a per-version row, else None."""
    marks = list(_HEADER.finditer(text))
    if len(marks) < 2 or marks[0].start() != 0:
        return None
    versions: list[Variant] = []
    for mark in marks[1:]:
        version = _version_of(mark.group(1), labels)
        if version is None or version in versions:
            return None
        versions.append(version)
    attribute = text[marks[0].end() : marks[1].start()].strip()
    if not attribute:
        return None
    values = []
    for i, (mark, version) in enumerate(zip(marks[1:], versions, strict=True)):
        end = marks[i + 2].start() if i + 2 < len(marks) else len(text)
        values.append((version, text[mark.end() : end].strip(" ，,")))
    return attribute, values


def with_version_specs(profile: Profile) -> Profile:
    """``profile`` with the attributes of its per-version spec table as facts (those no fact
    names yet) and as cells of each version; ``profile`` itself when it has none."""
    labels = {normalize(v.label).strip(): v for v in profile.variants if v.label}
    if len(labels) < 2:
        return profile
    priced = {v.chunk for v in profile.variants}
    rows: list[tuple[int, str, list[tuple[Variant, str]]]] = []
    for index, text in profile.parts:
        if index not in profile.rows or index in priced:
            continue
        found = _row(text, labels)
        if found is not None:
            rows.append((index, *found))
    if not any(len(values) > 1 for _, _, values in rows):
        return profile  # no row names two versions: not a table of the versions
    named = {f.name for f in profile.facts}
    facts = list(profile.facts)
    cells: dict[Variant, list[tuple[str, str]]] = {v: list(v.cells) for v in profile.variants}
    for index, attribute, values in rows:
        shown = list(dict.fromkeys(value for _, value in values))
        if attribute not in named:
            value = shown[0] if len(shown) == 1 else "；".join(
                f"{v.label} {value}" for v, value in values
            )  # fmt: skip
            facts.append(Fact(attribute, value, index))
            named.add(attribute)
        for variant in profile.variants:
            own = next((value for v, value in values if v is variant), None)
            if own is None and len(values) == 1:
                own = values[0][1]  # a merged cell: every version's
            if own is not None and all(h != attribute for h, _ in cells[variant]):
                cells[variant].append((attribute, own))
    variants = [dataclasses.replace(v, cells=tuple(cells[v])) for v in profile.variants]
    specs = {attribute: index for index, attribute, _ in rows}
    return dataclasses.replace(profile, facts=facts, variants=variants, specs=specs)
