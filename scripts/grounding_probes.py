"""Grounding probes built from a shop's own knowledge: subject swaps and polarity flips.

usage: python scripts/grounding_probes.py SHOP_DIR OUT.jsonl [--per-kind N] [--seed S]

Reads the shop's knowledge through the ingest loaders (tables come out as rows of cells:
"等级：金卡会员，会员折扣：9折") and finds values bound to one subject among siblings:

- table rows of one file sharing their first key (等级 / 地区 / 规格): the same column's values
  of two rows — "金卡会员的会员折扣是9折" (faithful) against "银卡会员的会员折扣是9折" (swap);
- clauses of one sentence that each give a subject and a value of one dimension ("银卡95折、
  金卡9折", "新疆20元，青海15元"): one clause's value moved onto its sibling;
- value asides ("7天内（羽绒服、大衣为15天）"): the host's value said of the aside's subjects;
- polarity: a clause with a yes/no word (支持/不支持, 可以/不可以, 免费/收费 ...) flipped; and the
  whole sentence flipped where a condition or an exception frames it (如果…, 除…外, 仅限…), so the
  frame stays with the flipped word;
- subjects of a class (``data/claims.yaml`` subjects: member tiers, regions, products, coupons):
  a value the knowledge binds to one member said of another member the same file names, in
  three surface forms — the clause with the subject replaced, "S的<attribute>是<value>", and the
  subject named only by the question;
- rows of one table with the same first cell told apart by another (``row-cell``: 品种：红樱桃虾
  … 数量：20只 / 50只): one row's price said with the other's count;
- items of one list in one passage (``list``: 耗材：签收后7天内 / 打印机：签收后15天内): one
  item's first clause said of another item's key;
- model codes (``code``): a value a table row or a clause gives one model code (商品：电子血压计
  （HK-B30、HK-W12）… 保修期：主机5年; HK-N50 主机3年) said of another code the file gives the
  same attribute;
- negations through a light verb, a range or a payer (``pol-light``: 无法享受, 不参与, 不予,
  不在…范围, 需自行承担) flipped to their yes;
- invented offers (kind ``invented_offer``): a sentence of the knowledge with a gift of a thing
  its file names added (``offer-gift``: "…，另外再送您一个抄网") or money back of an amount the
  file states (``offer-cash``);
- units (kind ``unit``): a value's unit changed to another of its dimension (7天 → 7个月,
  30cm → 30mm);
- faithful paraphrases: a value's unit rewritten (30天/一个月, 1.5倍/一倍半, 16:00/下午四点,
  9折/九折, 100元/一百元) and the clauses of a sentence reordered.

Each probe pair writes the swapped reply (kind ``subject_swap`` / ``polarity`` / ``unit``, expected draft or
handoff) and the faithful reply of the same template (kind ``faithful``) as grounding eval cases
citing the passage's file; ``note`` names the generator (``table``, ``class-de``, ``pol-frame``,
``para-unit`` ...), so ``--table RESULTS.json ...`` prints the confusion by kind and generator. Run them with ``kefu eval OUT.jsonl --shop SHOP_DIR`` and read the
auto rates by kind (``python /work/tools/gkinds.py`` reads results named <shop>-grounding.json).
Never write the output into evals/: probes are a development battery, not a suite.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import re
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kefu_copilot.ingest._loaders import load_file
from kefu_copilot.text._numbers import measures

_CELL_SPLIT = re.compile(r"[，,](?=[^，,：:（）()]{1,12}[：:])")
_CLAUSE_SPLIT = re.compile(r"[，,、；;]")
_SENTENCE_SPLIT = re.compile(r"[。！!？?\n]")
_CJK_HEAD = re.compile(r"([\u4e00-\u9fffA-Za-z]{2,10})$")
#: (yes, no) pairs a flip swaps; the longer negative is tried first
_FLIPS = [
    ("不支持", "支持"),
    ("不可以", "可以"),
    ("不包邮", "包邮"),
    ("不需要", "需要"),
    ("无需", "需要"),
    ("不可以", "可以"),
    ("不提供", "提供"),
    ("不退", "可退"),
    ("不叠加", "叠加"),
    ("自费", "免费"),
    ("收费", "免费"),
]


#: what may not stand right before a flipped word
_BOUND = "不无非未没需请也仍可要能将会"


def _chunks(shop: Path) -> list[tuple[str, str]]:
    out = []
    for path in sorted(shop.rglob("*")):
        rel = path.relative_to(shop).as_posix()
        if not path.is_file() or rel.split("/")[0] not in ("policies", "products", "faq"):
            continue
        try:
            chunks, _ = load_file(rel, path.read_bytes())
        except Exception:  # a probe battery skips what it cannot read
            continue
        out += [(rel, c.text) for c in chunks]
    return out


def _cells(text: str) -> list[tuple[str, str]] | None:
    parts = _CELL_SPLIT.split(text.strip().rstrip("。"))
    cells = []
    for part in parts:
        key, colon, value = part.replace("：", ":").partition(":")
        if not colon or not key.strip() or not value.strip():
            return None
        cells.append((key.strip(), value.strip()))
    return cells if len(cells) >= 2 else None


def _one_measure(value: str):  # type: ignore[no-untyped-def]
    found = measures(value)
    return found[0] if len(found) == 1 else None


def table_pairs(chunks: list[tuple[str, str]]) -> list[dict[str, str]]:
    """Rows of one file sharing their first key: the same column's values of two rows."""
    rows: dict[tuple[str, str], list[list[tuple[str, str]]]] = defaultdict(list)
    for source, text in chunks:
        for line in text.split("\n"):
            cells = _cells(line)
            if cells and len(cells[0][1]) <= 16:
                rows[(source, cells[0][0])].append(cells)
    out = []
    for (source, _), group in rows.items():
        # what each label's rows state under each key: a swap onto a label stating the same
        # value in another row (口味：香辣 in its 200g and 500g rows) is no swap
        said: dict[tuple[str, str], set[float]] = defaultdict(set)
        for row in group:
            for key, value in row[1:]:
                said[(row[0][1], key)] |= {m.low for m in measures(value)}
        for a in group:
            for b in group:
                sa, sb = a[0][1], b[0][1]
                if sa == sb or sa in sb or sb in sa:
                    continue
                cols_b = dict(b[1:])
                for key, va in a[1:]:
                    vb = cols_b.get(key)
                    ma, mb = _one_measure(va), (_one_measure(vb) if vb else None)
                    if ma is None or mb is None or ma.dim != mb.dim or ma.low == mb.low:
                        continue
                    if ma.low in said[(sb, key)]:
                        continue
                    out.append(
                        _pair(
                            source,
                            f"{sb}的{key}是多少？",
                            f"亲，{sb}的{key}是{ma.text}哦。",
                            f"{sa}的{key}是多少？",
                            f"亲，{sa}的{key}是{ma.text}哦。",
                            "table",
                        )
                    )
    return out


def row_cell_pairs(chunks: list[tuple[str, str]]) -> list[dict[str, str]]:
    """Rows of one file with the same first cell, told apart by another cell (品种：红樱桃虾 …
    数量：20只 / 数量：50只): a third column's value of one row said with the other's cell."""
    rows: dict[tuple[str, str, str], list[list[tuple[str, str]]]] = defaultdict(list)
    for source, text in chunks:
        for line in text.split("\n"):
            cells = _cells(line)
            if cells and len(cells) >= 3:
                rows[(source, cells[0][0], cells[0][1])].append(cells)
    out = []
    for (source, _, first), group in rows.items():
        for a in group:
            for b in group:
                if a is b:
                    continue
                da, db = dict(a[1:]), dict(b[1:])
                for key, va in a[1:]:  # the cell telling the rows apart
                    if db.get(key) in (None, va) or _one_measure(va) is None:
                        continue
                    for col, xa in a[1:]:
                        xb = db.get(col)
                        ma = _one_measure(xa)
                        mb = _one_measure(xb) if xb else None
                        if col == key or ma is None or mb is None or ma.low == mb.low:
                            continue
                        if da.get(key) == db.get(key):
                            continue
                        out.append(
                            _pair(
                                source,
                                f"{first}{db[key]}的{col}是多少？",
                                f"亲，{first}{db[key]}的{col}是{xa}哦。",
                                f"{first}{va}的{col}是多少？",
                                f"亲，{first}{va}的{col}是{xa}哦。",
                                "row-cell",
                            )
                        )
    return out


def list_pairs(chunks: list[tuple[str, str]]) -> list[dict[str, str]]:
    """Items of one list in one passage (耗材：签收后7天内… / 打印机：签收后15天内…), each a key and
    a first clause of one value of one dimension: one item's clause said of another's key."""
    out = []
    for source, text in chunks:
        items = []
        for line in text.split("\n"):
            m = re.match(r"^[\s\-*•·]*([^：:，,。；;]{1,30})[：:]([^，,；;。]+)", line)
            if not m or _cells(line):
                continue
            key = re.sub(r"[（(][^）)]*[）)]", "", m.group(1)).strip()
            value = _one_measure(m.group(2))
            if value is not None and re.fullmatch(r"[\u4e00-\u9fff]{2,8}", key):
                items.append((key, m.group(2).strip(), value))
        for ka, ca, va in items:
            for kb, _cb, vb in items:
                if ka == kb or ka in kb or kb in ka or va.dim != vb.dim or va.low == vb.low:
                    continue
                out.append(
                    _pair(
                        source,
                        f"{kb}是怎样的？",
                        f"亲，{kb}{ca}哦。",
                        f"{ka}是怎样的？",
                        f"亲，{ka}{ca}哦。",
                        "list",
                    )
                )
    return out


def _subject_clause(clause: str):  # type: ignore[no-untyped-def]
    """(subject, measure) of a clause giving one subject one value ("金卡9折", "青海15元")."""
    m = _one_measure(clause)
    if m is None or re.search(r"[（()）]", clause):
        return None
    head = clause[: m.span[0]].strip()
    if not re.fullmatch(r"[\u4e00-\u9fffA-Za-z0-9]{2,10}", head):
        return None
    head = re.sub(r"(为|是|享|享受|可享|运费|补收|收取|需|需要|满)+$", "", head)
    found = _CJK_HEAD.search(head)
    return (found.group(1), m) if found else None


def _prose(chunks: list[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    """(source, sentence) of the chunks that are not table rows."""
    for source, text in chunks:
        if not _cells(text):
            for sentence in _SENTENCE_SPLIT.split(text):
                yield source, sentence


def clause_pairs(chunks: list[tuple[str, str]]) -> list[dict[str, str]]:
    """Clauses of one sentence each giving a subject a value of one dimension."""
    out = []
    for source, sentence in _prose(chunks):
        clauses = [c for c in _CLAUSE_SPLIT.split(sentence) if c.strip()]
        bound = [(c, _subject_clause(c)) for c in clauses]
        bound = [(c, sm) for c, sm in bound if sm is not None]
        for ca, (sa, ma) in bound:
            for cb, (sb, mb) in bound:
                if sa == sb or sa in sb or sb in sa or ma.dim != mb.dim or ma.low == mb.low:
                    continue
                swapped = cb[: mb.span[0]] + ma.text + cb[mb.span[1] :]
                out.append(
                    _pair(
                        source,
                        f"{sb}是多少？",
                        f"亲，{swapped.strip()}哦。",
                        f"{sa}是多少？",
                        f"亲，{ca.strip()}哦。",
                        "clause",
                    )
                )
        # a value aside: 7天内（羽绒服、大衣为15天） — the host's value said of the aside's subjects
        for m in re.finditer(r"([^，,；;（(]{2,30}?)[（(]([^）)]{2,30})[）)]", sentence):
            host, aside = m.group(1), m.group(2)
            mh, ma_ = _one_measure(host), _one_measure(aside)
            if mh is None or ma_ is None or mh.dim != ma_.dim or mh.low == ma_.low:
                continue
            subject = re.sub(r"(为|是|的|均为)$", "", aside[: ma_.span[0]]).strip("，, ")
            subject = subject.split("、")[0]
            if not re.fullmatch(r"[\u4e00-\u9fff]{2,8}", subject):
                continue
            pred = host[: mh.span[0]].strip()
            out.append(
                _pair(
                    source,
                    f"{subject}{pred}多久？",
                    f"亲，{subject}{pred}{mh.text}哦。",
                    f"{subject}{pred}多久？",
                    f"亲，{subject}{pred}{ma_.text}哦。",
                    "aside",
                )
            )
    return out


def polarity_pairs(chunks: list[tuple[str, str]]) -> list[dict[str, str]]:
    """A clause with a yes/no word, and the same clause with the word flipped."""
    out = []
    for source, text in chunks:
        for sentence in _SENTENCE_SPLIT.split(text):
            for clause in _CLAUSE_SPLIT.split(sentence):
                clause = clause.strip()
                if not (6 <= len(clause) <= 30) or "：" in clause[:3]:
                    continue
                for no, yes in _FLIPS:
                    # a word read as a verb of its own: not after another verb (需提供, 请勿,
                    # 仍可), where a flip would write nonsense (需不提供)
                    if re.search(rf"(?<![{_BOUND}]){no}", clause):
                        flipped = re.sub(rf"(?<![{_BOUND}]){no}", yes, clause, count=1)
                    elif re.search(rf"(?<![{_BOUND}]){yes}", clause):
                        flipped = re.sub(rf"(?<![{_BOUND}]){yes}", no, clause, count=1)
                    else:
                        continue
                    topic = re.sub(rf"{no}|{yes}", "", clause)
                    out.append(
                        _pair(
                            source,
                            f"{topic}吗？",
                            f"亲，{flipped}哦。",
                            f"{topic}吗？",
                            f"亲，{clause}哦。",
                            "polarity",
                        )
                    )
                    break
    return out


#: what frames a sentence's yes or no: a condition, an exception, a restriction
_FRAME = re.compile(
    r"如果|若|一旦|如需|如|除[^，,。；;]{1,20}?(?:外|以外|之外)|仅限|只限|仅|只有|凡|未|超过|以外"
)
_FLIP_WORDS = [
    *_FLIPS,
    ("不可退", "可退"),
    ("不能", "能"),
    ("不可", "可"),
    ("不参与", "参与"),
    ("不包含", "包含"),
    ("不含", "含"),
    ("不接受", "接受"),
]


def _flip(text: str) -> str | None:
    for no, yes in _FLIP_WORDS:
        if re.search(rf"(?<![{_BOUND}]){no}", text):
            return re.sub(rf"(?<![{_BOUND}]){no}", yes, text, count=1)
        if re.search(rf"(?<![{_BOUND}]){yes}(?!费用)", text):
            return re.sub(rf"(?<![{_BOUND}]){yes}", no, text, count=1)
    return None


def frame_pairs(chunks: list[tuple[str, str]]) -> list[dict[str, str]]:
    """A sentence framed by a condition or an exception (如果…可以…, 除…外均支持…, 仅限…): its
    first yes/no word after the frame flipped, the frame kept."""
    out = []
    for source, sentence in _prose(chunks):
        sentence = sentence.strip()
        frame = _FRAME.search(sentence)
        if not frame or not (8 <= len(sentence) <= 60) or "：" in sentence[:6]:
            continue
        head, tail = sentence[: frame.end()], sentence[frame.end() :]
        flipped = _flip(tail)
        if flipped is None:
            continue
        out.append(
            _pair(
                source,
                f"{sentence[:12]}吗？",
                f"亲，{head}{flipped}哦。",
                f"{sentence[:12]}吗？",
                f"亲，{sentence}哦。",
                "pol-frame",
            )
        )
    return out


def _subject_names(rules, text: str) -> list[tuple[str, re.Match[str]]]:  # type: ignore[no-untyped-def]
    """(kind, match) of the class subjects ``text`` names (tiers, regions, products, coupons)."""
    found = []
    for kind, pattern in rules.subjects:
        if kind in ("tier", "region", "product", "coupon"):
            found += [(kind, m) for m in pattern.finditer(text)]
    return found


def class_pairs(chunks: list[tuple[str, str]], rules) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    """A value bound to one member of a subject class said of another member its file names."""
    by_file: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    stated: dict[str, set[tuple[str, str, float]]] = defaultdict(set)  # file → (subject, dim, low)
    units: list[tuple[str, str]] = []
    for source, text in chunks:
        for unit in re.split(r"[。！!？?；;\n]", text):
            if not unit.strip():
                continue
            units.append((source, unit))
            names = _subject_names(rules, unit)
            for kind, m in names:
                by_file[source][kind].add(m.group())
                for q in measures(unit):
                    stated[source].add((m.group(), q.dim, q.low))
    out = []
    for source, unit in units:
        for clause in _CLAUSE_SPLIT.split(unit):
            clause = clause.strip()
            names = _subject_names(rules, clause)
            if len(names) != 1 or "：" in clause or ":" in clause:
                continue
            kind, sm = names[0]
            after = [q for q in measures(clause) if q.span[0] >= sm.end()]
            if len(after) != 1 or not (4 <= len(clause) <= 30):
                continue
            q = after[0]
            attr = re.sub(r"^(的|会员|用户|地区)+", "", clause[sm.end() : q.span[0]])
            attr = re.sub(r"(为|是|享|享受|可享|均为|需|满)+$", "", attr).strip()
            name = clause[: sm.end()]
            if not re.fullmatch(r"[\u4e00-\u9fffA-Za-z0-9]{0,12}", name) or not re.fullmatch(
                r"[\u4e00-\u9fff]{2,8}", attr
            ):
                continue
            subject = sm.group()
            for other in sorted(by_file[source][kind]):
                if other == subject or other in subject or subject in other:
                    continue
                if (other, q.dim, q.low) in stated[source]:
                    continue
                swapped = clause[: sm.start()] + other + clause[sm.end() :]
                rest = clause[q.span[0] :]
                for how, swap, faithful, q_swap, q_faithful in (
                    (
                        "class-clause",
                        swapped,
                        clause,
                        f"{other}{attr}多少？",
                        f"{subject}{attr}多少？",
                    ),
                    (
                        "class-de",
                        f"{other}的{attr}是{q.text}",
                        f"{subject}的{attr}是{q.text}",
                        f"{other}的{attr}是多少？",
                        f"{subject}的{attr}是多少？",
                    ),
                    (
                        "class-question",
                        f"{attr}是{rest}",
                        f"{attr}是{rest}",
                        f"{other}的{attr}是多少？",
                        f"{subject}的{attr}是多少？",
                    ),
                ):
                    out.append(
                        _pair(
                            source,
                            q_swap,
                            f"亲，{swap}哦。",
                            q_faithful,
                            f"亲，{faithful}哦。",
                            how,
                        )
                    )
    return out


#: a model code as written (HK-B30, WC-18, KF-T-03, X9): letters and digits, maybe joined by
#: hyphens, with a letter and a digit — not a range (90-100cm) nor an encoding (UTF-8)
_CODE = re.compile(r"(?<![A-Za-z0-9-])[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*(?![A-Za-z0-9-])")
_NOT_CODE = re.compile(
    r"(?i)utf-?8|gbk|\d+(?:\.\d+)?(?:-+\d+(?:\.\d+)?)+[a-z]*|\d+(?:\.\d+)?[a-z]{1,3}"
)


def _model_codes(text: str) -> list[str]:
    """The model codes ``text`` names, in order, each once."""
    found = [
        m.group()
        for m in _CODE.finditer(text)
        if re.search(r"[A-Za-z]", m.group())
        and re.search(r"\d", m.group())
        and not _NOT_CODE.fullmatch(m.group())
    ]
    return list(dict.fromkeys(found))


def code_pairs(chunks: list[tuple[str, str]]) -> list[dict[str, str]]:
    """A value one model code is given said of another code the same file gives that value's
    attribute: a table row whose first cell names codes (商品：电子血压计（HK-B30、HK-W12）,
    型号：WC-18), or a clause naming one code and one value (HK-N50 主机3年)."""
    said: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        dict
    )  # (file, attribute) → code → value
    for source, text in chunks:
        for line in text.split("\n"):
            cells = _cells(line)
            if cells:
                codes = _model_codes(cells[0][1])
                for key, value in cells[1:]:
                    m = _one_measure(value)
                    if m is not None and not _model_codes(value):
                        for code in codes:
                            said[(source, key)].setdefault(code, m)
                continue
            for clause in _CLAUSE_SPLIT.split(line):
                codes = _model_codes(clause)
                m = _one_measure(clause)
                if len(codes) != 1 or m is None or clause.find(codes[0]) > m.span[0]:
                    continue
                attr = clause[clause.find(codes[0]) + len(codes[0]) : m.span[0]].strip()
                attr = re.sub(r"^(的|为|是)+|(为|是|约|：|:)+$", "", attr).strip()
                if re.fullmatch(r"[\u4e00-\u9fff]{2,8}", attr):
                    said[(source, attr)].setdefault(codes[0], m)
    out = []
    for (source, attr), values in said.items():
        for a, ma in values.items():
            for b, mb in values.items():
                if a == b or ma.dim != mb.dim or ma.low == mb.low:
                    continue
                out.append(
                    _pair(
                        source,
                        f"{b}的{attr}是多少？",
                        f"亲，{b}的{attr}是{ma.text}哦。",
                        f"{a}的{attr}是多少？",
                        f"亲，{a}的{attr}是{ma.text}哦。",
                        "code",
                    )
                )
    return out


#: a no said through a light verb, a range or a payer, and its yes (无法享受 / 可以享受, 不在保修范围
#: / 在保修范围, 需自行承担 / 由本店承担): the negation reaches its predicate past other words
_LIGHT_FLIPS = [
    ("无法享受", "可以享受"),
    ("不享受", "享受"),
    ("不参与", "参与"),
    ("不予", "可以"),
    ("不在", "在"),
    ("不具备", "具备"),
    ("不负责", "负责"),
    ("需自行承担", "由本店承担"),
    ("由买家承担", "由本店承担"),
    ("不提供", "提供"),
]


def light_pairs(chunks: list[tuple[str, str]]) -> list[dict[str, str]]:
    """A clause saying no through a light verb, a range or a payer, and the same clause saying
    yes (only the no flipped: the yes side is how a wrong reply says it)."""
    out = []
    for source, text in chunks:
        for sentence in _SENTENCE_SPLIT.split(text):
            for clause in _CLAUSE_SPLIT.split(sentence):
                clause = clause.strip().lstrip("-*0123456789. ")
                if not (5 <= len(clause) <= 30) or "：" in clause[:3]:
                    continue
                for no, yes in _LIGHT_FLIPS:
                    if no not in clause or (no == "不在" and "范围" not in clause):
                        continue
                    flipped = clause.replace(no, yes, 1)
                    topic = clause.replace(no, "", 1)
                    out.append(
                        _pair(
                            source,
                            f"{topic}吗？",
                            f"亲，{flipped}哦。",
                            f"{topic}吗？",
                            f"亲，{clause}哦。",
                            "pol-light",
                        )
                    )
                    break
    return out


#: another unit of the same dimension, a different amount (7天 → 7个月, 30cm → 30mm)
_UNIT_SWAPS = [
    ("个工作日", "个月"),
    ("工作日", "个月"),
    ("小时", "天"),
    ("个月", "年"),
    ("天", "个月"),
    ("年", "个月"),
    ("周", "个月"),
    ("分钟", "小时"),
    ("mm", "cm"),
    ("cm", "mm"),
    ("kg", "g"),
    ("公斤", "克"),
    ("ml", "l"),
    ("mah", "wh"),
]


def unit_pairs(chunks: list[tuple[str, str]]) -> list[dict[str, str]]:
    """A sentence's value with its unit changed to another of its dimension (7天 → 7个月)."""
    out = []
    for source, sentence in _prose(chunks):
        sentence = sentence.strip()
        if not (6 <= len(sentence) <= 50) or "：" in sentence[:8]:
            continue
        for q in measures(sentence):
            m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([^\d\s].*)", q.text, re.I)
            if not m:
                continue
            for unit, other in _UNIT_SWAPS:
                if m.group(2).lower() == unit:
                    changed = sentence[: q.span[0]] + m.group(1) + other + sentence[q.span[1] :]
                    after = [x for x in measures(changed) if x.span[0] == q.span[0]]
                    if not after or after[0].dim != q.dim or after[0].low == q.low:
                        break  # the other unit reads as another dimension or the same amount
                    out.append(
                        _pair(
                            source,
                            f"{sentence[:10]}？",
                            f"亲，{changed}哦。",
                            f"{sentence[:10]}？",
                            f"亲，{sentence}哦。",
                            "unit",
                        )
                    )
                    break
            break
    return out


#: what a reply adds to a true sentence to invent an offer: a gift of a thing its file names, or
#: money back of an amount its file states (the knowledge makes neither offer)
_GIFT_ADD = "另外再送您一个{}"
_CASH_ADD = "另外再给您返现{}元"


def _named_things(rules, text: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Things a file names: the first cells of its table rows (规格：大果, 名称：抄网) and the
    products of the claim rules' classes it names."""
    out = []
    for line in text.split("\n"):
        cells = _cells(line)
        if cells and re.fullmatch(r"[\u4e00-\u9fffA-Za-z0-9-]{2,10}", cells[0][1]):
            out.append(cells[0][1])
    for kind, m in _subject_names(rules, text):
        if kind == "product":
            out.append(m.group())
    return list(dict.fromkeys(out))


def offer_pairs(chunks: list[tuple[str, str]], rules) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    """A sentence of the knowledge making an offer said as it is (faithful), and with an offer added the
    knowledge does not make: a gift of a thing the same file names (``offer-gift``), money back
    of an amount the file states (``offer-cash``)."""
    by_file: dict[str, str] = defaultdict(str)
    for source, text in chunks:
        by_file[source] += text + "\n"
    out = []
    for source, text in by_file.items():
        things = _named_things(rules, text)
        amounts = sorted(
            {int(m.low) for m in measures(text) if m.dim == "money" and 5 <= m.low <= 50}
        )
        for sentence in _SENTENCE_SPLIT.split(text):
            sentence = sentence.strip().lstrip("-*#0123456789. ").rstrip("；;，,：:")
            if not (8 <= len(sentence) <= 40) or "：" in sentence[:6] or "|" in sentence:
                continue
            # a sentence making an offer (送, 补偿, 免费, 折 ...): the invented one sits beside it
            if not any(p.search(sentence) for _, p in rules.offer_kinds):
                continue
            extra = [t for t in things if t not in sentence]
            added = []  # (what the invented reply adds to the sentence, the probe's kind)
            if extra:
                added.append((_GIFT_ADD.format(extra[len(sentence) % len(extra)]), "offer-gift"))
            if amounts:
                added.append(
                    (_CASH_ADD.format(amounts[len(sentence) % len(amounts)]), "offer-cash")
                )
            question = f"{sentence[:12]}吗？"
            for addition, kind in added:
                out.append(
                    _pair(
                        source,
                        question,
                        f"亲，{sentence}，{addition}哦。",
                        question,
                        f"亲，{sentence}哦。",
                        kind,
                    )
                )
    return out


_CN = "零一二三四五六七八九"
_DAYS = {
    7: ["一周", "七天"],
    14: ["两周", "十四天"],
    15: ["半个月", "十五天"],
    30: ["一个月", "三十天"],
    60: ["两个月"],
    90: ["三个月"],
    180: ["半年"],
    365: ["一年"],
    3: ["三天"],
    1: ["一天"],
}
_HALF = {"上午": range(5, 12), "中午": range(12, 13), "下午": range(13, 18), "晚上": range(18, 24)}


def _cn(n: int) -> str | None:
    if 0 <= n <= 10:
        return "零一二三四五六七八九十"[n]
    if n < 20:
        return "十" + _CN[n % 10] if n % 10 else "十"
    if n < 100:
        return _CN[n // 10] + "十" + (_CN[n % 10] if n % 10 else "")
    if n < 1000 and n % 100 == 0:
        return _CN[n // 100] + "百"
    return None


def _rewrites(text: str) -> list[str]:
    """Other ways of writing one value (30天 → 一个月, 16:00 → 下午四点, 9折 → 九折)."""
    out: list[str] = []
    if m := re.fullmatch(r"(\d+)天", text):
        out += _DAYS.get(int(m.group(1)), [])
    elif m := re.fullmatch(r"(\d+)个?(工作日|小时|个月|年)", text):
        if cn := _cn(int(m.group(1))):
            out.append(
                f"{'两' if cn == '二' else cn}{'个' if m.group(2) == '月' else ''}{m.group(2)}"
            )
    elif m := re.fullmatch(r"(\d)(\d)?折", text):
        out.append(_CN[int(m.group(1))] + (_CN[int(m.group(2))] if m.group(2) else "") + "折")
    elif m := re.fullmatch(r"(\d)\.5倍", text):
        out.append(f"{'一两三四五'[int(m.group(1)) - 1]}倍半")
    elif m := re.fullmatch(r"(\d{1,2})[:：](00|30)", text):
        hour = int(m.group(1))
        for half, hours in _HALF.items():
            if hour in hours and (cn := _cn(hour - 12 if hour > 12 else hour)):
                out.append(f"{half}{cn}点{'半' if m.group(2) == '30' else ''}")
    elif (m := re.fullmatch(r"(\d+)元", text)) and (cn := _cn(int(m.group(1)))):
        out += [f"{cn}元", f"{m.group(1)}块"]
    return out


def paraphrase_pairs(chunks: list[tuple[str, str]]) -> list[dict[str, str]]:
    """Faithful paraphrases: a value's unit rewritten, the clauses of a sentence reordered."""
    out = []
    for source, sentence in _prose(chunks):
        sentence = sentence.strip()
        if not (6 <= len(sentence) <= 50) or "：" in sentence[:8]:
            continue
        for q in measures(sentence):
            for other in _rewrites(q.text):
                rewritten = sentence[: q.span[0]] + other + sentence[q.span[1] :]
                out.append(
                    {
                        "source": source,
                        "q": f"{sentence[:10]}？",
                        "reply": rewritten,
                        "how": "para-unit",
                    }
                )
        clauses = [c for c in re.split(r"[，,]", sentence) if c.strip()]
        if len(clauses) == 2 and measures(sentence) and all(len(c) >= 4 for c in clauses):
            out.append(
                {
                    "source": source,
                    "q": f"{sentence[:10]}？",
                    "reply": f"{clauses[1]}，{clauses[0]}",
                    "how": "para-order",
                }
            )
    return out


def _pair(
    source: str, q_swap: str, swap: str, q_faithful: str, faithful: str, how: str
) -> dict[str, str]:
    """A probe pair: a reply made wrong (``swap``, asked by ``q_swap``) and the faithful reply it
    was made from, with the source file and the generator (``how``)."""
    return {
        "source": source, "q_swap": q_swap, "swap": swap,
        "q_faithful": q_faithful, "faithful": faithful, "how": how,
    }  # fmt: skip


def _unique(pairs: list[dict[str, str]], key: str) -> list[dict[str, str]]:
    seen, out = set(), []
    for p in pairs:
        said = (p.get("q_swap", p.get("q")), p[key])
        if said not in seen and said != (p.get("q_faithful"), p.get("faithful")):
            seen.add(said)
            out.append(p)
    return out


def _case(
    name: str, kind: str, n: int, which: str, question: str, reply: str, p: dict[str, str]
) -> dict[str, object]:
    faithful = kind == "faithful"
    return {
        "id": f"{name}-probe-{p['how']}-{n:03d}-{which}",
        "type": "grounding",
        "question": question,
        "llm_reply": reply if reply.startswith("亲") else f"亲，{reply}哦。",
        "kind": kind,
        "source": p["source"],
        "expect": {"decision": ["auto", "draft"] if faithful else ["draft", "handoff"]},
        "note": p["how"],
    }


def table(paths: list[str]) -> None:
    """The confusion by kind and generator of probe results (``kefu eval --json`` files)."""
    counts: dict[tuple[str, str], collections.Counter[str]] = defaultdict(collections.Counter)
    for path in paths:
        cases = {}
        probes = Path(path).with_suffix("").as_posix().removesuffix("-out") + ".jsonl"
        if Path(probes).exists():
            with open(probes, encoding="utf-8") as f:
                cases = {c["id"]: c for c in map(json.loads, f)}
        with open(path, encoding="utf-8") as f:
            rows = json.load(f)["cases"]
        for row in rows:
            note = cases.get(row["id"], {}).get("note", "?")
            for key in ((row["kind"], note), (row["kind"], "all")):
                counts[key][row["decision"]] += 1
    print("| kind | generator | auto | draft | handoff | n |")
    print("|---|---|---|---|---|---|")
    for (kind, note), c in sorted(counts.items()):
        print(
            f"| {kind} | {note} | {c['auto']} | {c['draft']} | {c['handoff']} | {sum(c.values())} |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("shop", help="the shop directory (or, with --table, a results file)")
    parser.add_argument("out", nargs="*")
    parser.add_argument("--per-kind", type=int, default=30, help="probes per generator")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--table", action="store_true", help="print the confusion of results")
    args = parser.parse_args(argv)
    if args.table:
        table([args.shop, *args.out])
        return 0
    shop = Path(args.shop)
    out_path = Path(args.out[0])
    if "evals" in out_path.resolve().parts:
        sys.exit("write probes outside evals/ (they are a development battery)")
    from kefu_copilot.answer._claims import claim_rules
    from kefu_copilot.config._shop import load_shop_config

    rules = claim_rules(load_shop_config(shop))
    chunks = _chunks(shop)
    rng = random.Random(args.seed)
    name = shop.resolve().parent.name if shop.name == "shop" else shop.name
    cases: list[dict[str, object]] = []
    swaps = {
        "subject_swap": table_pairs(chunks)
        + row_cell_pairs(chunks)
        + list_pairs(chunks)
        + clause_pairs(chunks)
        + class_pairs(chunks, rules)
        + code_pairs(chunks),
        "polarity": polarity_pairs(chunks) + frame_pairs(chunks) + light_pairs(chunks),
        "unit": unit_pairs(chunks),
        "invented_offer": offer_pairs(chunks, rules),
    }
    for kind, pairs in swaps.items():
        by_how: dict[str, list[dict[str, str]]] = defaultdict(list)
        for p in _unique(pairs, "swap"):
            by_how[p["how"]].append(p)
        for _how, group in sorted(by_how.items()):
            rng.shuffle(group)
            for n, p in enumerate(group[: args.per_kind]):
                cases.append(_case(name, kind, n, "swap", p["q_swap"], p["swap"], p))
                cases.append(
                    _case(name, "faithful", n, "faithful", p["q_faithful"], p["faithful"], p)
                )
    by_how = defaultdict(list)
    for p in _unique(paraphrase_pairs(chunks), "reply"):
        by_how[p["how"]].append(p)
    for _how, group in sorted(by_how.items()):
        rng.shuffle(group)
        for n, p in enumerate(group[: args.per_kind]):
            cases.append(_case(name, "faithful", n, "para", p["q"], p["reply"], p))
    with open(out_path, "w", encoding="utf-8") as f:
        for case in cases:
            f.write(json.dumps(case, ensure_ascii=False) + "\n")
    kinds = collections.Counter(f"{c['kind']}/{c['note']}" for c in cases)
    print(
        f"{name}: {len(cases)} probes ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
