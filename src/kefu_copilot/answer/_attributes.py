"""Attribute-aware answers: the product's typed value, stated as a sentence with its citation.

The question's product (in it, else in the last turns), its attribute (a cue of the
``attributes`` rule set — 多少钱, 能用多久, 吸力 … — or the name of one of the product's facts
or table columns said as is) and its qualifiers (cells of the product's tables it names:
a colour, a style, a mode, a set, a size) select the value: a fact, a table cell, or — when the
value differs by variant and none is named — every variant's value. A follow-up without an
attribute ("那中长款呢？") takes the previous customer turn's.

The answer is sure (sent as is) only when the whole question is that lookup: the product, the
attribute, the qualifiers and filler words. Anything more it asks ("…够不够", "有36码吗") makes
it a draft for an agent; a product with several candidates, an attribute it has no value for, or
a named qualifier the attribute's table does not have leaves the question to the retrieval path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

from ..text._normalize import normalize
from ._cells import (
    _ASCII_TOKEN,
    _CJK,
    _NUMBER_UNIT,
    _find,
    _in_range,
    _pairs,
    _question_pairs,
    said_of,
)

__all__ = ["AttributeAnswer", "Attributes"]

_TABLES_REMEMBERED = 1024
_BRACKET = re.compile(r"[（(].*?[)）]")


_KEY_PUNCT = re.compile(r"[\s:：*()（）\[\]【】_/·,，、]+")


@lru_cache(maxsize=8192)
def _key(text: str) -> str:
    """``text`` normalised without spaces and punctuation, for comparing names (remembered:
    a question compares the same column and fact names many times)."""
    return _KEY_PUNCT.sub("", normalize(text))


#: the best table of _from_tables: score, values, chunks, spans, rows, columns, rows read
_Best = tuple[int, list[str], list[int], list[tuple[int, int]], Sequence[Any], list[int], list[int]]


class RowChooser(Protocol):
    """What reads one row of a table (:class:`._rows.RowChoice`): the row's position among the
    candidates and its probability, or None."""

    def choose(self, features: Sequence[dict[str, float]]) -> tuple[int, float] | None: ...


@dataclass
class AttributeAnswer:
    text: str
    sure: bool
    chunks: list[int] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


@dataclass
class _Asked:
    names: list[str]  # keys of the headers / fact names that hold it
    label: str  # how the answer names it
    spans: list[tuple[int, int]]
    title: str = ""  # the product's name (a key), whose words name no variant inside a cell


class Attributes:
    """Attribute questions over one catalogue (``facts`` and ``tables`` per product source)."""

    def __init__(
        self,
        facts: Mapping[str, list[list[Any]]],
        tables: Mapping[str, list[dict[str, Any]]],
        rules: Mapping[str, Any],
    ) -> None:
        self.facts = facts
        self.tables = tables
        self.rules = rules
        self._cues: list[tuple[str, str]] = sorted(
            (
                (normalize(cue), str(attr))
                for attr, spec in rules["attributes"].items()
                for cue in [attr, *spec["cues"]]
            ),
            key=lambda x: -len(x[0]),
        )
        self._filler = sorted({normalize(w) for w in rules["filler"]}, key=len, reverse=True)
        self._keyed: dict[str, tuple[tuple[str, str], ...]] = {}  # see _own_name
        self._parts_of: dict[int, tuple[Any, _RowParts]] = {}  # see _row_parts
        from ._rows import row_model

        #: which row to read when the question names none alone (:mod:`._rows`); None: list
        #: every row's value
        self.row_choice: RowChooser | None = row_model()

    # -- reading the question ----------------------------------------------------------------
    def asked(self, norm: str, source: str, title: str = "") -> _Asked | None:
        """The attribute ``norm`` asks about ``source``: a vocabulary cue, else a fact or column
        name of the product said as is — not where the words are part of the product's name
        (the 充电 of 充电宝, the 容量 of 大容量…, in ``title``)."""
        title_key = _key(title)
        own = self._own_name(norm, source, title_key)
        for cue, attr in self._cues:
            if not cue or cue not in norm:  # most cues: not said at all
                continue
            at = _said_apart(norm, cue, title_key)
            if at >= 0:
                spec = self.rules["attributes"][attr]
                names = [_key(n) for n in [attr, *spec["names"]]]
                if (
                    own is not None
                    and len(own.names[0]) > len(_key(cue))
                    and (_inside((cue, at), own.spans) or own.names[0] in names)
                ):
                    # the product's own name for it said whole (限制温度 around the 温度 cue,
                    # 舒适温度 beside 多少度): that one value, not every name of the attribute
                    if not _inside((cue, at), own.spans):
                        own.spans.append((at, at + len(cue)))  # the cue asks nothing more
                    return own
                return _Asked(names, attr, [(at, at + len(cue))], title_key)
        return own

    def _own_name(self, norm: str, source: str, title_key: str) -> _Asked | None:
        """The longest fact or column name of the product ``norm`` says as is, or None."""
        best: tuple[int, str, int] | None = None
        keyed = self._keyed.get(source)
        if keyed is None:  # the product's names read once, not for every question about it
            keyed = self._keyed[source] = tuple((n, _key(n)) for n in self._names(source))
        for name, key in keyed:
            if len(key) < 2 or (best is not None and len(key) <= best[0]) or key not in norm:
                continue
            at = _said_apart(norm, key, title_key)
            if at >= 0:
                best = (len(key), name, at)
        if best is None:
            return None
        return _Asked([_key(best[1])], best[1], [(best[2], best[2] + best[0])], title_key)

    def _names(self, source: str) -> list[str]:
        names = [str(f[0]) for f in self.facts.get(source, ())]
        for table in self.tables.get(source, ()):
            for header, _, _ in table["rows"][:1]:
                names.extend(str(h) for h in header[1:])
        return names

    # -- answering -----------------------------------------------------------------------------
    def answer(
        self,
        question: str,
        source: str,
        title: str,
        previous: Sequence[str] = (),
        *,
        context: bool = False,
    ) -> AttributeAnswer | None:
        """The typed answer to ``question`` about product ``source`` (``previous``: earlier
        customer turns, the latest last, for a follow-up's attribute), or None. ``context``:
        the product was named in an earlier turn, not in the question ("这个多少钱")."""
        norm = normalize(question)
        asked = self.asked(norm, source, title)
        if asked is not None:
            pieces = self._variant_pieces(norm, source, asked)
            if pieces:  # the 电池 of "那双电池的呢" names the variant 双电池版, not the attribute
                masked = list(norm)
                for begin, end in pieces:
                    masked[begin:end] = ["\x00"] * (end - begin)
                asked = self.asked("".join(masked), source, title)
        follow_up = False
        if asked is None:
            for turn in reversed(previous):
                asked = self.asked(normalize(turn), source, title)
                if asked is not None:
                    asked.spans = []
                    follow_up = True
                    break
        if asked is None:
            return None
        covered: list[tuple[int, int]] = list(asked.spans)
        before = normalize(previous[-1]) if previous else ""
        looked = self._lookup(norm, source, asked, covered, follow_up, before)
        if looked is None:
            return None
        parts = [(asked, *looked)]
        if not follow_up:  # a second attribute asked beside it ("厚度多少 重不重")
            masked = list(norm)  # the attribute and the qualifiers it was read with
            for begin, end in covered:
                masked[begin:end] = ["\x00"] * (end - begin)
            other = self.asked("".join(masked), source, title)
            if other is not None and other.label != asked.label:
                more = list(covered) + list(other.spans)
                second = self._lookup(norm, source, other, more, False, before)
                if second is not None:
                    covered[:] = more
                    parts.append((other, *second))
        headers = " ".join(
            h for table in self.tables.get(source, ()) for h in table["rows"][0][0]
        )  # a column's name said with it ("静音模式": 清扫模式) asks nothing more
        extra = self._residual(norm, f"{title} {headers}", covered, strict=True)
        labels = "、".join(part[0].label for part in parts)
        reasons = [f"typed {labels} of {source}"]
        if extra:
            reasons.append(f"the question asks more than the {labels}: {extra}")
        for one, _, _, ambiguous in parts:
            if ambiguous:
                reasons.append(f"the {one.label} is not one value: {ambiguous}")
        unmeasured = [
            f"the {one.label} value states no {' or '.join(kinds)}"
            for one, values, _, _ in parts
            if (kinds := self._measures(one.label)) and not _states(values, kinds)
        ]
        reasons += unmeasured
        listed = context and any(len(values) > 1 for _, values, _, _ in parts)
        if listed:
            # "这个多少钱" after a turn that chose the 4/4 size: every variant's price answers
            # the product, not the conversation — which variant it chose is an agent's reading
            reasons.append("a follow-up answered with every variant's value")
        if follow_up:
            reasons.append(f"the {asked.label} asked in the previous turn")
        said = "；".join(f"{one.label}：{'；'.join(values)}" for one, values, _, _ in parts)
        text = f"亲，这款{title}的{said}。".replace("。。", "。")
        chunks = list(dict.fromkeys(c for _, _, found, _ in parts for c in found))
        sure = not extra and not unmeasured and not listed
        sure = sure and not any(ambiguous for _, _, _, ambiguous in parts)
        return AttributeAnswer(text, sure, chunks, reasons)

    def _variant_pieces(self, norm: str, source: str, asked: _Asked) -> list[tuple[int, int]]:
        """The pieces of variants the question names (双电池 of the row 双电池版) when every
        word the attribute was read from lies inside a longer one of them, else []: the
        question names that variant, and asks an attribute only by other words if at all."""
        if not asked.spans:
            return []
        pieces: list[tuple[int, int]] = []
        for table in self.tables.get(source, ()):
            _, spans = self._qualified(norm, table["rows"], asked.title)
            pieces.extend(spans)
        inside = all(
            any(a <= begin and end <= b and b - a > end - begin for a, b in pieces)
            for begin, end in asked.spans
        )
        return pieces if inside else []

    def _measures(self, label: str) -> list[str]:
        """The kinds of quantity the attribute's value must state (its ``measures``)."""
        return [str(k) for k in (self.rules["attributes"].get(label) or {}).get("measures", ())]

    def _lookup(
        self,
        norm: str,
        source: str,
        asked: _Asked,
        covered: list[tuple[int, int]],
        follow_up: bool,
        previous: str = "",
    ) -> tuple[list[str], list[int], str] | None:
        """The values of one attribute asked, their chunks and why they may not be one value
        ("" when they are); None when the product has no value for it. ``previous``: the
        customer's previous turn, normalised (a row it named, :mod:`._rows`)."""
        ambiguous = ""
        found, tied, modelled = self._from_tables(norm, source, asked, covered, previous)
        if tied:
            ambiguous = "several tables hold it"
        elif modelled:
            ambiguous = modelled
        if found is None:
            if follow_up:
                return None  # a follow-up names a variant: its value must come from a table
            facts = self._from_facts(source, asked)
            if facts is not None:
                values, chunks, single = facts
                values = _variant_of(norm, values, covered)
                found = values, chunks
                if not single:
                    ambiguous = "several facts could be it"
                elif self._by_variant(source, asked):
                    # "价格 499元" beside a price table per size and thickness: the fact is one
                    # variant's (or a "from" price), and the variant named was not read
                    ambiguous = "a table gives it per variant, none of them read"
        if found is None:
            return None
        return found[0], found[1], ambiguous

    def _by_variant(self, source: str, asked: _Asked) -> bool:
        """Whether a table of the product holds the attribute in several rows (a column named
        for it, or a table named for it)."""
        for table in self.tables.get(source, ()):
            rows = table["rows"]
            if len(rows) < 2:
                continue
            title = _key(str(table["name"]).rsplit("/", 1)[-1])
            header = rows[0][0]
            if any(n and n in title for n in asked.names) or any(
                any(n and n in _key(str(h)) for n in asked.names) for h in header[1:]
            ):
                return True
        return False

    def _from_tables(
        self,
        norm: str,
        source: str,
        asked: _Asked,
        covered: list[tuple[int, int]],
        previous: str = "",
    ) -> tuple[tuple[list[str], list[int]] | None, bool, str]:
        """The attribute's values from the table that holds it for the rows named (all rows
        when none is, or the one the row model reads: :meth:`_row_read`), whether another
        table holds it as well as that one, and why the row read is the model's ("" when it
        is not)."""
        best: _Best | None = None
        tied = False
        named_anywhere = False
        for table in self.tables.get(source, ()):
            rows = table["rows"]
            header = rows[0][0]
            columns = [
                j
                for j, h in enumerate(header)
                if j > 0 or len(header) == 1
                if any(n and (n in _key(h) or _key(h) == n) for n in asked.names)
            ]
            picked, spans = self._qualified(norm, rows, asked.title, covered)
            named_anywhere = named_anywhere or bool(picked)
            columns, heads = _narrowed(norm, header, columns, asked.names)
            spans = spans + heads
            if not columns:
                # a transposed table: named for the attribute ("续航"), a column per variant
                # (41mm | 46mm), a row per condition — the variant named picks the column
                columns, heads = _variant_columns(norm, table["name"], header, asked.names)
                if not columns:
                    continue
                spans = spans + heads
            chosen = picked or list(range(len(rows)))
            values, chunks, read = [], [], []
            for i in chosen:
                row_header, row, chunk = rows[i]
                cells = [
                    self._said_count(asked.label, str(row[j]))
                    for j in columns
                    if j < len(row) and row[j]
                ]
                if not cells:
                    continue
                value = "，".join(cells)
                notes = self._notes(row_header, row, columns)
                if notes:
                    value += f"（{'；'.join(notes)}）"
                label = row[0] if row and row[0] and 0 not in columns else ""
                values.append(f"{label} {value}".strip() if (len(chosen) > 1 or picked) else value)
                chunks.append(chunk)
                read.append(i)
            if not values:
                continue
            if not picked and len({v.split(" ", 1)[-1] for v in values}) == 1:
                values = [values[0].split(" ", 1)[-1]] if len(values) > 1 else values
                read = read[:1]
            score = (2 if picked else 1) * 10 - len(values)
            if best is not None and score == best[0] and values != best[1]:
                tied = True
            if best is None or score > best[0]:
                best, tied = (score, values, chunks, spans, rows, columns, read), False
        if best is None:
            return None, False, ""
        if named_anywhere and not best[3]:
            return None, False, ""  # a variant is named, but not in the table holding it
        covered.extend(best[3])
        _, values, chunks, _, rows, columns, read = best
        modelled = ""
        if not tied and len(read) > 1:
            row = self._row_read(norm, previous, asked.title, rows, columns, read, covered)
            if row is not None:
                k, p = row
                values, chunks = [values[k]], [chunks[k]]
                modelled = f"the row read ({values[0]}) is the row model's reading (p={p:.2f})"
        return (values, chunks), tied, modelled

    def _row_read(
        self,
        norm: str,
        previous: str,
        title: str,
        rows: Sequence[Sequence[Any]],
        columns: Sequence[int],
        read: Sequence[int],
        covered: Sequence[tuple[int, int]],
    ) -> tuple[int, float] | None:
        """Of the rows ``read`` (their values all listed), the position of the one the row
        model reads and its probability, or None (:mod:`._rows`). The attribute's own words
        and its columns' cells are left out of what names a row."""
        if self.row_choice is None:
            return None
        from ._rows import row_features

        masked = list(norm)
        for begin, end in covered:
            masked[begin:end] = ["\x00"] * (end - begin)
        cells = [
            [str(c) for j, c in enumerate(rows[i][1]) if j not in columns and str(c).strip()]
            for i in read
        ]
        parts = [[p for cell in row for p in _parts(cell)] for row in cells]
        features = row_features("".join(masked), previous, title, cells, parts)
        return self.row_choice.choose(features)

    def _said_count(self, label: str, cell: str) -> str:
        """A cell that is a bare count said as the attribute's ``counts`` say (stock 0 →
        缺货, 120 → 有货); any other cell as it is."""
        counts = (self.rules["attributes"].get(label) or {}).get("counts")
        if not counts or not re.fullmatch(r"\d+", cell.strip()):
            return cell
        return str(counts["zero"] if int(cell) == 0 else counts["some"])

    def _notes(
        self, header: Sequence[Any], row: Sequence[Any], columns: Sequence[int]
    ) -> list[str]:
        """The row's note cells (a ``notes`` column not read as the value): what qualifies
        every value of that variant ("预计10天后到货")."""
        names = {_key(str(n)) for n in self.rules.get("notes", ())}
        return [
            str(row[j]).strip()
            for j, h in enumerate(header)
            if j not in columns and j < len(row) and str(row[j]).strip() and _key(str(h)) in names
        ]

    def _row_parts(self, rows: Sequence[Sequence[Any]]) -> _RowParts:
        """:func:`_all_parts` of each row of a table of the catalogue, and what tells quickly
        that a question does not say a part (:func:`_screen`); read once per table (a question
        reads the same product's tables for its attribute and its variants)."""
        known = self._parts_of.get(id(rows))
        if known is None or known[0] is not rows:
            if len(self._parts_of) >= _TABLES_REMEMBERED:  # the recent products' tables
                self._parts_of.clear()
            parts = [_all_parts(row) for _, row, _ in rows]
            screens = [[_screen(part) for part in row] for row in parts]
            known = self._parts_of[id(rows)] = (rows, (parts, screens))
        return known[1]

    def _qualified(
        self,
        norm: str,
        rows: Sequence[Sequence[Any]],
        title: str = "",
        covered: Sequence[tuple[int, int]] = (),
    ) -> tuple[list[int], list[tuple[int, int]]]:
        """Rows of a table the question names by a piece of one of their cells that no other
        row has ("杏色" of "杏色碎花（加长款）", "pro" of "R10 Pro 全能基站版"), and where."""
        parts, screens = self._row_parts(rows)
        pairs = _question_pairs(norm)
        said: dict[int, list[tuple[str, int]]] = {}
        for i, row_screens in enumerate(screens):
            for part, its_pairs, number in row_screens:
                if (
                    part not in norm and (number is None or number not in norm)
                    if its_pairs is None
                    else its_pairs.isdisjoint(pairs)
                ):
                    continue  # not said (said_of's own first tests, without the calls)
                hit = said_of(norm, part, pairs)
                # a word of the product's name inside a long cell (the 插座 of 智能插座 in
                # "需墙面为16A插座") names no variant; a whole cell (大果 of 中果/大果) does
                if (
                    hit is not None
                    and not (hit[0] in title and hit[0] not in parts[i])
                    and not _inside(hit, covered)  # the attribute's own word (颜色 of 几个颜色)
                ):
                    said.setdefault(i, []).append(hit)
        if not said:  # a number said inside a row's range ("34码" of "33-37码")
            for i, (_, row, _) in enumerate(rows):
                for cell in row:
                    hit = _in_range(norm, str(cell))
                    if hit is not None:
                        said.setdefault(i, []).append(hit)
        if not said:  # a quantity said in other units ("2米" of "C to C 2m", "两万毫安")
            from ..text._numbers import measures

            asked = [m for m in measures(norm) if m.low == m.high]
            for i, (_, row, _) in enumerate(rows):
                for cell in row:
                    for m in measures(str(cell)) if asked else ():
                        for q in asked:
                            if q.dim == m.dim and m.low == m.high and abs(q.low - m.low) < 1e-9:
                                said.setdefault(i, []).append((q.text, q.span[0]))
        keep: list[int] = []
        spans: list[tuple[int, int]] = []
        for i, hits in said.items():
            own = [
                (text, at)
                for text, at in hits
                if not any(j != i and any(text in p for p in parts[j]) for j in range(len(parts)))
                or _named_whole(
                    norm, text, at, parts[i], [p for j in said if j != i for p in parts[j]]
                )
            ]
            if own:
                keep.append(i)
                spans.extend((at, at + len(text)) for text, at in own)
        if not keep and len(said) > 1:
            # several cells, none of one row alone (香辣 of two rows, 500g of three): the one row
            # that holds more of them than any other ("香辣味500g")
            texts = {i: {text for text, _ in hits} for i, hits in said.items()}
            most = max(len(t) for t in texts.values())
            top = [i for i, t in texts.items() if len(t) == most]
            if most > 1 and len(top) == 1:
                keep = top
                spans = [(at, at + len(text)) for text, at in said[top[0]]]
        return sorted(keep), spans

    def _from_facts(self, source: str, asked: _Asked) -> tuple[list[str], list[int], bool] | None:
        """The fact named as asked (an exact name before one that holds it), and whether it is
        the only candidate: two facts that could both be it (价格 and 会员价格) are a guess."""
        exact, partial = [], []
        for name, value, chunk in self.facts.get(source, ()):
            key, text = _key(str(name)), str(value).strip()
            if not text:
                continue
            if key in asked.names:
                exact.append((text, int(chunk)))
            elif any(n and n in key for n in asked.names):
                partial.append((text, int(chunk)))
        found = exact or partial
        if not found:
            return None
        distinct = {text for text, _ in found}
        return [found[0][0]], [found[0][1]], len(distinct) == 1

    def _residual(
        self, norm: str, title: str, covered: list[tuple[int, int]], *, strict: bool = False
    ) -> str:
        """What the question says beyond the product, the attribute, its qualifiers and filler.

        ``strict`` (whether a typed answer may be sent as is): one character left over counts
        (the 米 of "多少米", the 热 of "能装热水吗"), and a run of the question's characters
        names the product only when they come in the title's order (跑鞋 of 跑步鞋), not when
        each merely occurs somewhere in a long title."""
        mask = [False] * len(norm)
        for a, b in covered:
            for k in range(max(0, a), min(len(norm), b)):
                mask[k] = True
        title_key = _key(title)
        for n, ch in enumerate(norm):
            if not _CJK.match(ch) and not ch.isalnum():
                mask[n] = True
        # the product's or a column's name said in other words: a run of two or more of the
        # question's characters all from their names (跑鞋 of 跑步鞋, 碎花裙 of 碎花雪纺连衣裙;
        # not a lone 加 or 长 that some name happens to hold)
        n = 0
        while n < len(norm):
            end = n
            while end < len(norm) and norm[end] in title_key and norm[end].isalnum():
                end += 1
            if strict and end - n >= 2:
                end = n + _in_order(norm[n:end], title_key)
            if end - n >= 2:
                for k in range(n, end):
                    mask[k] = True
            n = max(end, n + 1)
        for word in self._filler:  # every non-overlapping occurrence, left to right
            at = norm.find(word) if word else -1
            while at >= 0:
                for k in range(at, at + len(word)):
                    mask[k] = True
                at = norm.find(word, at + len(word))
        # title words said in parts (碎花裙 for 碎花雪纺连衣裙) are covered char by char above
        rest = "".join(ch for ch, done in zip(norm, mask, strict=True) if not done)
        tokens = [
            m.group()
            for m in _ASCII_TOKEN.finditer(norm)
            if not all(mask[m.start() : m.end()]) and m.group() not in title_key
        ]
        return " ".join(filter(None, [rest if len(rest) >= (1 if strict else 2) else "", *tokens]))


def _in_order(run: str, title: str) -> int:
    """How many characters of ``run``, from its start, occur in ``title`` in that order."""
    at = 0
    for n, ch in enumerate(run):
        at = title.find(ch, at) + 1
        if not at:
            return n
    return len(run)


_SEGMENTS = re.compile(r"[；;]")
_CLAUSES = re.compile(r"[，,](?![^（(]*[)）])")


_SENTENCES = re.compile(r"[。！？!?\n；;]+")


def _fit_note(norm: str, extra: str, page: str, cues: Sequence[str]) -> str:
    """The page's fitting note (a sentence advising another size: a ``notes`` cue of the size
    rules — 大一码, 偏小…) that speaks of what the size question ``norm`` adds beyond its
    measures (``extra``): two characters of the question, one of them added, said in the note
    (the 脚背 of "脚长245穿几码 脚背有点高" in "脚背高的亲建议选大一码"), or ""."""
    added = set(_CJK.findall(extra))
    pieces = {
        norm[k : k + 2]
        for k in range(len(norm) - 1)
        if len(_CJK.findall(norm[k : k + 2])) == 2 and added & set(norm[k : k + 2])
    }
    cue_words = [normalize(str(c)) for c in cues]  # read once, not for every sentence
    for sentence in _SENTENCES.split(page):
        said = normalize(sentence)
        if any(c in said for c in cue_words) and any(p in said for p in pieces):
            return sentence.strip()
    return ""


def _states(values: Sequence[str], kinds: Sequence[str]) -> bool:
    """Whether every value states a quantity of one of ``kinds`` ("约 215g" a weight; "±3%",
    a weight's tolerance, none)."""
    from ..text._numbers import measures

    return all(any(m.dim in kinds for m in measures(normalize(v))) for v in values)


def _inside(hit: tuple[str, int], spans: Sequence[tuple[int, int]]) -> bool:
    """Whether the words ``hit`` says lie within one of ``spans`` (already read as another
    part of the question)."""
    text, at = hit
    return any(a <= at and at + len(text) <= b for a, b in spans)


def _named_whole(norm: str, text: str, at: int, own: Sequence[str], others: Sequence[str]) -> bool:
    """Whether ``text`` (said at ``at``) is one of a row's whole names, and no longer name of
    another row that holds it is said around it: the 大果 of 大果 against 特大果 in "大果5斤多少钱"
    (an exact name beats a name that merely contains it), not in "特大果多少钱"."""
    if text not in own or text in others:  # not a whole name, or another row's too
        return False
    for longer in others:
        if text in longer and longer != text:
            start = norm.find(longer, max(0, at - len(longer)))
            if 0 <= start <= at and start + len(longer) >= at + len(text):
                return False
    return True


def _narrowed(
    norm: str, header: Sequence[str], columns: list[int], names: Sequence[str]
) -> tuple[list[int], list[tuple[int, int]]]:
    """Of several columns holding the attribute (5斤装价格 | 10斤装价格), the ones whose header,
    beyond the attribute's name, the question names ("5斤"), and where; all of them when the
    question names none or every one."""
    if len(columns) < 2:
        return columns, []
    named: dict[int, tuple[str, int]] = {}
    for j in columns:
        rest = _key(str(header[j]))
        for n in sorted(names, key=len, reverse=True):
            if n:
                rest = rest.replace(n, " ")
        hits = []
        for part in rest.split():
            m = re.search(rf"(?<![\d.]){re.escape(part)}", norm) if part else None
            if m is not None:
                hits.append((part, m.start()))
            elif qty := re.match(r"[\d.]+[^\d.]", part):  # 5斤装: its quantity said ("5斤")
                q = re.search(rf"(?<![\d.]){re.escape(qty.group())}", norm)
                if q is not None:
                    hits.append((qty.group(), q.start()))
        if hits:
            named[j] = max(hits, key=lambda h: len(h[0]))
    if not named or len(named) == len(columns):
        return columns, []
    return sorted(named), [(at, at + len(text)) for text, at in named.values()]


def _variant_columns(
    norm: str, name: str, header: Sequence[str], names: Sequence[str]
) -> tuple[list[int], list[tuple[int, int]]]:
    """The columns of a table named for the attribute asked whose header the question names
    (the 46mm of a 续航 table with columns 使用场景 | 41mm | 46mm), and where it names them."""
    title = _key(name.rsplit("/", 1)[-1])
    if len(header) < 3 or not any(n and n in title for n in names):
        return [], []
    columns, spans = [], []
    for j, head in enumerate(header):
        if j == 0:
            continue
        hits = [h for part in _parts(str(head)) if (h := said_of(norm, part)) is not None]
        if hits:
            text, at = max(hits, key=lambda h: len(h[0]))
            columns.append(j)
            spans.append((at, at + len(text)))
    return columns, spans


def _variant_of(norm: str, values: list[str], covered: list[tuple[int, int]]) -> list[str]:
    """A fact whose value lists variants ("26-32码 ¥159；33-37码 ¥179"): the one segment the
    question names (a piece of it, or a number inside its range), its span added to
    ``covered``; else the value as it is."""
    if len(values) != 1:
        return values
    segments = [p.strip() for p in _SEGMENTS.split(values[0]) if p.strip()]
    if len(segments) < 2:  # "42码单只约265g，37码单只约215g": clauses, outside brackets
        segments = [p.strip() for p in _CLAUSES.split(values[0]) if p.strip()]
    if len(segments) < 2:
        return values
    rows = [[seg, *seg.split()] for seg in segments]
    parts = [_all_parts(row) for row in rows]
    named: list[tuple[int, tuple[str, int]]] = []
    for i, row in enumerate(rows):
        hits = [
            h for p in parts[i] if (h := said_of(norm, p)) is not None and not _inside(h, covered)
        ]
        own = [
            h
            for h in hits
            if not any(j != i and any(h[0] in q for q in parts[j]) for j in range(len(rows)))
        ]
        own += [h for cell in row if (h := _in_range(norm, cell)) is not None]
        if own:
            named.append((i, max(own, key=lambda h: len(h[0]))))
    if len(named) != 1:
        return values
    i, (text, at) = named[0]
    covered.append((at, at + len(text)))
    return [segments[i]]


def _said_apart(norm: str, word: str, title_key: str) -> int:
    """Where ``word`` is said in ``norm`` other than as part of a longer word of the product's
    name (``title_key``), or -1."""
    at = norm.find(word)
    while at >= 0:
        end = at + len(word)
        inside = (at > 0 and norm[at - 1 : end] in title_key) or (
            end < len(norm) and norm[at : end + 1] in title_key
        )
        if not inside:
            return at
        at = norm.find(word, at + 1)
    return -1


@lru_cache(maxsize=16_384)
def _parts(cell: str) -> tuple[str, ...]:
    """The pieces of a table cell a shopper may name a variant by: the cell, the cell without
    its bracketed note, and its space-separated words (two characters at least; a one-letter
    size label only as a token of its own). Remembered: a question reads the same product's
    cells several times (its attribute, its variants named, the quote's variant)."""
    norm = normalize(cell).strip()
    if not norm or len(norm) > 40:
        return ()
    out = {norm.replace(" ", ""), _BRACKET.sub("", norm).replace(" ", "")}
    out.update(w for w in re.split(r"[\s/、,，]+", _BRACKET.sub("", norm)) if w)
    out.update(_CN_COUNT.sub(_arabic, p) for p in list(out))  # 四只装 said as 4只装
    return tuple(p for p in out if p and (len(p) >= 2 or p.isalnum()))


_CN_COUNT = re.compile(
    "(?<![一二两三四五六七八九十])([一二两三四五六七八九十]+)(?=[只个件袋包盒箱瓶片支双套斤克])"
)


def _arabic(m: re.Match[str]) -> str:
    from ..text._numbers import cn_number

    value = cn_number(m.group(1))
    return str(value) if value is not None else m.group(1)


def _all_parts(row: Sequence[Any]) -> list[str]:
    return [p for cell in row for p in _parts(str(cell))]


#: A table's parts per row, and per part what :func:`_screen` reads.
_RowParts = tuple[list[list[str]], list[list[tuple[str, frozenset[str] | None, str | None]]]]


def _screen(part: str) -> tuple[str, frozenset[str] | None, str | None]:
    """A part, its two-character pieces (:func:`_pairs`) and, for a part said only whole, the
    number a question may name it by alone (50 of 50ml): a question that says neither the
    part, nor its number, nor two characters of it does not say it (:func:`said_of`)."""
    unit = _NUMBER_UNIT.match(part)
    return part, _pairs(part), unit[1] if unit else None


@dataclass
class Typed:
    """A typed answer: its text, whether it may be sent as is, the chunks it rests on."""

    text: str
    sure: bool
    chunks: list[int]
    reasons: list[str]


class CatalogAnswers:
    """Size advice and attribute values from a snapshot's typed catalogue (one per Answerer)."""

    def __init__(
        self,
        titles: Mapping[str, str],
        facts: Mapping[str, list[list[Any]]],
        tables: Mapping[str, list[dict[str, Any]]],
        rules: Mapping[str, Any],
    ) -> None:
        self.titles = titles
        self.tables = tables
        self.rules = rules
        self.attributes = Attributes(facts, tables, rules)
        self._charts: dict[str, list[Any]] = {}
        self._variants: dict[str, tuple[str, ...]] = {}  # see variants_named
        self._size_words: list[str] | None = None  # longest first; see _beyond_size

    def variants_named(self, norm: str, source: str) -> set[str]:
        """The variant names (cells of the product's tables, two characters at least) that the
        normalised text ``norm`` says."""
        parts = self._variants.get(source)
        if parts is None:  # the product's cells read once, not for every question about it
            parts = self._variants[source] = tuple(
                part
                for table in self.tables.get(source, ())
                for _, row, _ in table["rows"]
                for part in _all_parts(row)
                if len(part) >= 2
            )
        return {part for part in parts if part in norm}

    def asks_size(self, question: str, *, measured: bool = False) -> bool:
        """Whether ``question`` gives body measures and asks for a size, or (not ``measured``)
        asks which size to choose (穿什么码, 多大码) without them."""
        from ..text._numbers import body_measures
        from ._sizes import is_size_question

        norm = normalize(question)
        if body_measures(question):
            return is_size_question(norm, self.rules)
        return not measured and any(normalize(w) in norm for w in self.rules["size"]["advice"])

    def _beyond_size(
        self, question: str, title: str, source: str, labels: Sequence[str] = ()
    ) -> str:
        """What a size question says beyond its measures, the words of a size question and of
        the chart's dimensions, its size ``labels`` ("S还是M"), the product and filler ("" when
        nothing)."""
        from ..text._numbers import body_measures

        norm = normalize(question)
        covered = [m.span for m in body_measures(question)]
        if self._size_words is None:  # the rules' words, read once
            size = self.rules["size"]
            words = {
                normalize(str(w))
                for key in ("questions", "advice", "labels", "filler")
                for w in size.get(key, ())
            } | {
                normalize(str(w))
                for spec in size["dimensions"].values()
                for w in [*spec["names"], *spec["cues"]]
            }
            self._size_words = sorted(words, key=len, reverse=True)
        for word in self._size_words:
            at = norm.find(word) if word else -1
            while at >= 0:
                covered.append((at, at + len(word)))
                at = norm.find(word, at + len(word))
        for label in labels:
            at = _find(norm, normalize(str(label)))
            if at >= 0:
                covered.append((at, at + len(normalize(str(label)))))
        headers = " ".join(
            str(h) for table in self.tables.get(source, ()) for h in table["rows"][0][0]
        )
        return self.attributes._residual(norm, f"{title} {headers}", covered)

    def answer(
        self,
        question: str,
        products: Sequence[str],
        previous: Sequence[str],
        page: Callable[[], str] = str,
        *,
        context: bool = False,
    ) -> Typed | None:
        """The typed answer about the one product asked about, or None (the retrieval path
        answers: no product, several, or nothing typed fits). ``page``: the product page's
        text, read only when a size question says more than its measures; ``context``: the
        product was taken from an earlier turn."""
        from ._sizes import advise, charts_of

        if len(products) != 1:
            return None
        source = products[0]
        title = self.titles.get(source, "")
        if self.asks_size(question, measured=True):
            charts = self._charts.get(source)
            if charts is None:
                charts = self._charts[source] = charts_of(self.tables.get(source, ()), self.rules)
            advice = advise(question, title, charts, self.rules) if charts else None
            if advice is not None:
                reasons, text, sure = list(advice.reasons), advice.text, advice.sure
                extra = self._beyond_size(question, title, source, advice.chart.labels)
                notes = self.rules["size"].get("notes", ())
                note = _fit_note(normalize(question), extra, page(), notes) if extra else ""
                if note:
                    # "脚长260 穿几码 下坡老顶脚" beside "越野下坡容易顶脚，建议…选大半码": the page
                    # weighs what the question adds, the chart alone does not — an agent checks
                    reasons.append(
                        f"the page's fitting note speaks of what the question adds: {extra}"
                    )
                    text, sure = f"{text}页面提示：{note}。", False
                return Typed(text, sure, advice.rows, reasons)
        found = self.attributes.answer(question, source, title, previous, context=context)
        if found is None:
            return None
        return Typed(found.text, found.sure, found.chunks, found.reasons)
