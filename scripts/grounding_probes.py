"""Grounding probes built from a shop's own knowledge: subject swaps and polarity flips.

usage: python scripts/grounding_probes.py SHOP_DIR OUT.jsonl [--per-kind N] [--seed S]

Reads the shop's knowledge through the ingest loaders (tables come out as rows of cells:
"等级：金卡会员，会员折扣：9折") and finds values bound to one subject among siblings:

- table rows of one file sharing their first key (等级 / 地区 / 规格): the same column's values
  of two rows — "金卡会员的会员折扣是9折" (faithful) against "银卡会员的会员折扣是9折" (swap);
- clauses of one sentence that each give a subject and a value of one dimension ("银卡95折、
  金卡9折", "新疆20元，青海15元"): one clause's value moved onto its sibling;
- value asides ("7天内（羽绒服、大衣为15天）"): the host's value said of the aside's subjects;
- polarity: a clause with a yes/no word (支持/不支持, 可以/不可以, 免费/收费 ...) flipped.

Each probe pair writes the swapped reply (kind ``subject_swap`` / ``polarity``, expected draft or
handoff) and the faithful reply of the same template (kind ``faithful``) as grounding eval cases
citing the passage's file. Run them with ``kefu eval OUT.jsonl --shop SHOP_DIR`` and read the
auto rates by kind (``python /work/tools/gkinds.py`` reads results named <shop>-grounding.json).
Never write the output into evals/: probes are a development battery, not a suite.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import defaultdict
from pathlib import Path

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
                        {
                            "source": source,
                            "q_swap": f"{sb}的{key}是多少？",
                            "swap": f"亲，{sb}的{key}是{ma.text}哦。",
                            "q_faithful": f"{sa}的{key}是多少？",
                            "faithful": f"亲，{sa}的{key}是{ma.text}哦。",
                            "how": "table",
                        }
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


def clause_pairs(chunks: list[tuple[str, str]]) -> list[dict[str, str]]:
    """Clauses of one sentence each giving a subject a value of one dimension."""
    out = []
    for source, text in chunks:
        if _cells(text):
            continue
        for sentence in _SENTENCE_SPLIT.split(text):
            clauses = [c for c in _CLAUSE_SPLIT.split(sentence) if c.strip()]
            bound = [(c, _subject_clause(c)) for c in clauses]
            bound = [(c, sm) for c, sm in bound if sm is not None]
            for ca, (sa, ma) in bound:
                for cb, (sb, mb) in bound:
                    if sa == sb or sa in sb or sb in sa or ma.dim != mb.dim or ma.low == mb.low:
                        continue
                    swapped = cb[: mb.span[0]] + ma.text + cb[mb.span[1] :]
                    out.append(
                        {
                            "source": source,
                            "q_swap": f"{sb}是多少？",
                            "swap": f"亲，{swapped.strip()}哦。",
                            "q_faithful": f"{sa}是多少？",
                            "faithful": f"亲，{ca.strip()}哦。",
                            "how": "clause",
                        }
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
                    {
                        "source": source,
                        "q_swap": f"{subject}{pred}多久？",
                        "swap": f"亲，{subject}{pred}{mh.text}哦。",
                        "q_faithful": f"{subject}{pred}多久？",
                        "faithful": f"亲，{subject}{pred}{ma_.text}哦。",
                        "how": "aside",
                    }
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
                        {
                            "source": source,
                            "q_swap": f"{topic}吗？",
                            "swap": f"亲，{flipped}哦。",
                            "q_faithful": f"{topic}吗？",
                            "faithful": f"亲，{clause}哦。",
                            "how": "polarity",
                        }
                    )
                    break
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("shop")
    parser.add_argument("out")
    parser.add_argument("--per-kind", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    shop = Path(args.shop)
    if "evals" in Path(args.out).resolve().parts:
        sys.exit("write probes outside evals/ (they are a development battery)")
    chunks = _chunks(shop)
    rng = random.Random(args.seed)
    name = shop.resolve().parent.name if shop.name == "shop" else shop.name
    cases = []
    groups = {
        "subject_swap": table_pairs(chunks) + clause_pairs(chunks),
        "polarity": polarity_pairs(chunks),
    }
    for kind, pairs in groups.items():
        seen, unique = set(), []
        for p in pairs:
            if p["swap"] not in seen and p["swap"] != p["faithful"]:
                seen.add(p["swap"])
                unique.append(p)
        rng.shuffle(unique)
        for n, p in enumerate(unique[: args.per_kind]):
            for which, k in (("swap", kind), ("faithful", "faithful")):
                cases.append(
                    {
                        "id": f"{name}-probe-{kind}-{n:03d}-{which}",
                        "type": "grounding",
                        "question": p[f"q_{which}"],
                        "llm_reply": p[which],
                        "kind": k,
                        "source": p["source"],
                        "expect": {
                            "decision": ["auto", "draft"]
                            if which == "faithful"
                            else ["draft", "handoff"]
                        },
                        "note": p["how"],
                    }
                )
    with open(args.out, "w", encoding="utf-8") as f:
        for case in cases:
            f.write(json.dumps(case, ensure_ascii=False) + "\n")
    print(
        f"{name}: {len(cases)} probes ({', '.join(f'{k} {min(len(v), args.per_kind)}' for k, v in groups.items())})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
