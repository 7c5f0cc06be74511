"""Pre-sales answer time on a big catalogue (issue 22 item 4: p50/p99 per question kind).

    python benchmarks/bench_presales.py --shop /tmp/b/shop-100000 \\
        --index /tmp/b/index-kefu-100000 --json presales-100k.json

``bench.py``'s question mix is the knowledge's (attributes, sizes, FAQ, policies, handoffs):
its fair baseline retrieves and quotes, and has no answer to a shopper's need. Pre-sales
questions rank the catalogue instead (a recommendation reads every product of the kind said, a
need naming no kind every product), so their time grows with the catalogue, not with the
index: they are measured here, apart, on an index ``bench.py`` built and kept
(``--keep-indexes``), with questions made from the catalogue's own products (seeded):

- ``need``: a kind and a budget ("想买个连衣裙，预算300以内");
- ``feature``: a kind with a word its products' pages state ("有没有透气的T恤推荐");
- ``for_whom``: a kind bought for someone ("给爸妈买羽绒服，有推荐吗");
- ``compare``: two products of one kind by their titles ("A和B哪个好");
- ``objection``: a product's price questioned ("A太贵了，贵在哪");
- ``vague``: a need naming no kind ("送女朋友什么礼物好").

After a dozen other questions (the advisor's indexes read once), each question is answered
once, timed in CPU time with the tokenizer's memory emptied before it, as ``bench.py`` times
its answers. Prints a table and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from worker import percentiles  # noqa: E402

DEFAULT_MODEL = HERE.parent.parent / "shared" / "models" / "w2v-zh-synonyms-100d"
WHO = ["爸妈", "老婆", "孩子", "男朋友", "同事", "奶奶"]
VAGUE = ["送女朋友什么礼物好", "给刚毕业的学生买点什么好", "有什么适合送长辈的吗", "推荐几款热卖的"]
FEATURES = ["透气", "保暖", "防水", "轻便", "耐磨", "显瘦", "加厚", "速干"]


def questions(profiles: list[Any], n: int, seed: int) -> list[tuple[str, str]]:
    """``n`` (kind, question) pairs made from the catalogue's products, in a seeded order."""
    rng = random.Random(seed)
    by_category: dict[str, list[Any]] = defaultdict(list)
    for p in profiles:
        if p.category and p.prices:
            by_category[p.category].append(p)
    categories = sorted(c for c, ps in by_category.items() if len(ps) >= 2)
    if not categories:
        raise SystemExit("the catalogue has no category with two priced products")
    out: list[tuple[str, str]] = []
    kinds = ["need", "feature", "for_whom", "compare", "objection", "vague"]
    for i in range(n):
        kind = kinds[i % len(kinds)]
        category = rng.choice(categories)
        a, b = rng.sample(by_category[category], 2)
        price = int(min(a.prices) * rng.choice([0.8, 1.0, 1.5]))
        text = {
            "need": f"想买个{category}，预算{price}以内",
            "feature": f"有没有{rng.choice(FEATURES)}的{category}推荐",
            "for_whom": f"给{rng.choice(WHO)}买{category}，有推荐吗",
            "compare": f"{a.title}和{b.title}哪个好",
            "objection": f"{a.title}太贵了，贵在哪",
            "vague": rng.choice(VAGUE),
        }[kind]
        out.append((kind, text))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--shop", type=Path, required=True)
    p.add_argument("--index", type=Path, required=True)
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    p.add_argument("--questions", type=int, default=120)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)

    from kefu_copilot import Copilot

    copilot = Copilot(args.shop, index_dir=args.index, embed_model=str(args.model), offline=True)
    copilot.warm_up()
    t = time.process_time()
    profiles = list(copilot.advisor().profiles)
    opened = time.process_time() - t
    asked = questions(profiles, args.questions, args.seed)
    tokenizer = copilot.retriever.tokenizer
    forget = getattr(tokenizer, "forget", lambda: None)
    times: dict[str, list[float]] = defaultdict(list)
    decisions: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    slowest: list[tuple[float, str, str]] = []
    for _, text in questions(profiles, 12, args.seed + 1):
        copilot.answer(text)  # warm up (first use of the advisor's indexes) on other questions
    for kind, text in asked:
        forget()
        c = time.process_time()
        answer = copilot.answer(text)
        best = time.process_time() - c
        decisions[kind][answer.decision] += 1
        times[kind].append(best)
        times["all"].append(best)
        slowest.append((best * 1000, kind, text))
    rows = {k: percentiles(v) | {"max_ms": max(v) * 1000} for k, v in times.items()}
    result = {
        "products": len(profiles),
        "advisor_open_cpu_s": round(opened, 3),
        "kinds": rows,
        "decisions": {k: dict(v) for k, v in decisions.items()},
        "slowest": [list(s) for s in sorted(slowest, reverse=True)[:10]],
    }
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"pre-sales answers, CPU ms ({len(profiles):,} products)")
    for col in ("kind", "n", "p50", "p99", "max", "decisions"):
        table.add_column(col, justify="left" if col in ("kind", "decisions") else "right")
    for kind, row in rows.items():
        table.add_row(
            kind, str(row["n"]), f"{row['p50_ms']:.1f}", f"{row['p99_ms']:.1f}",
            f"{row['max_ms']:.1f}",
            ", ".join(f"{d} {c}" for d, c in sorted(decisions.get(kind, {}).items())),
        )  # fmt: skip
    Console().print(table)
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1), "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
