"""Where the answerable questions go: the answer cases accepting an answer sent as is, by the
path that decided them and by what happened to them end to end.

    python benchmarks/answer_routes.py ROWS EVAL_OUT [shop ...]

``ROWS``: the rows file of ``fit_calibration.py --rows`` (its ``routes``: per case, the path —
a message rule, the typed catalogue sure or not, the pre-sales advisor, retrieval by the kind of
chunk quoted); ``EVAL_OUT``: a directory of ``kefu eval --json`` outputs named
``<shop>-answer.json`` (``/work/tools/run.py`` writes them). A drafted answer is told apart by
whether it would have passed sent as is (the right source, every ``contains``, no
``not_contains``): the drafts a better confidence could send.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

COLUMNS = (
    "auto right",
    "auto wrong",
    "draft, would pass",
    "draft, wrong source",
    "draft, lacks contains",
    "draft, forbidden",
    "handoff",
)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def _as_sent(case: dict[str, Any]) -> str:
    """What sending the case's answer as is would fail on ("ok": nothing)."""
    expect = case.get("expect") or {}
    sources, cited = _list(expect.get("sources")), set(case.get("sources") or [])
    if sources and not cited & set(sources):
        return "wrong source"
    text = case.get("text") or ""
    if any(str(t) not in text for t in _list(expect.get("contains"))):
        return "lacks contains"
    if any(str(t) in text for t in _list(expect.get("not_contains"))):
        return "forbidden"
    return "ok"


def main() -> None:
    rows, out = json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2])
    shops = sys.argv[3:] or sorted({r["shop"] for r in rows["routes"]})
    route = {(r["shop"], r["id"]): r["route"] for r in rows["routes"]}
    table: Counter[tuple[str, str]] = Counter()
    total: Counter[str] = Counter()
    for shop in shops:
        for case in json.loads((out / f"{shop}-answer.json").read_text())["cases"]:
            if "auto" not in _list((case.get("expect") or {}).get("decision")):
                continue
            where = route.get((shop, case["id"]), "?")
            decision = case["decision"]
            if decision == "auto":
                what = "auto right" if case["passed"] else "auto wrong"
            elif decision == "draft":
                sent = _as_sent(case)
                what = "draft, would pass" if sent == "ok" else f"draft, {sent}"
            else:
                what = "handoff"
            table[where, what] += 1
            total[where] += 1
    print("| path | answerable | " + " | ".join(COLUMNS) + " |")
    print("|---" * (len(COLUMNS) + 2) + "|")
    for where in sorted(total, key=lambda w: -total[w]):
        cells = " | ".join(str(table[where, c]) for c in COLUMNS)
        print(f"| {where} | {total[where]} | {cells} |")
    cells = " | ".join(str(sum(table[w, c] for w in total)) for c in COLUMNS)
    print(f"| all | {sum(total.values())} | {cells} |")


if __name__ == "__main__":
    main()
