"""Which of the package's compiled patterns cost a long run's length squared (a ReDoS audit).

    python scripts/pattern_timing.py [--chars 4000] [--min-ms 50]

Every module-level ``re.Pattern`` of ``kefu_copilot`` is run (``finditer``, ``search`` and
``fullmatch``) on runs of one short unit ("a", "1-", "（", " ", "1元", …) of ``chars // 4`` and
``chars`` characters; a pattern whose time grows ~16× for 4× the length, above ``--min-ms``, is
printed with the unit and the mode. Linear patterns grow ~4×.

Read the list with each pattern's use in mind: a pattern only ever ``fullmatch``-ed against a
table cell or a title segment cannot meet a long run in ``finditer`` mode, and every message the
copilot reads is bounded to ``Settings.max_input_chars`` first. Round 15 made the claim
checker's code/cell patterns and the pre-sales version header linear with it (a match that
starts inside a run of what its first part takes would have started at the run's start: a
lookbehind or a possessive quantifier keeps the same matches); tests/test_fuzz.py runs the
long runs through every public entry point.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import re
import time

import kefu_copilot

UNITS = [
    *("a", "1", "a1", "a-", "1-", "1.", "包", "包1", "1元", " ", "，", "a ", "1 ", "-", "1~"),
    *("(", "（", "1/", "x", "1x", "a.", "12:", "m-", "包-", "：", " ，"),
]
MODES = ("finditer", "search", "fullmatch")


def patterns() -> dict[str, re.Pattern[str]]:
    found: dict[str, re.Pattern[str]] = {}
    for info in pkgutil.walk_packages(kefu_copilot.__path__, "kefu_copilot."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern) and isinstance(value.pattern, str):
                found[f"{info.name}.{name}"] = value
    return found


def seconds(pattern: re.Pattern[str], text: str, mode: str) -> float:
    started = time.perf_counter()
    if mode == "finditer":
        for _ in pattern.finditer(text):
            pass
    elif mode == "search":
        pattern.search(text)
    else:
        pattern.fullmatch(text)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chars", type=int, default=4000)
    parser.add_argument("--min-ms", type=float, default=50.0)
    args = parser.parse_args()
    short, long = args.chars // 4, args.chars
    found = patterns()
    print(f"{len(found)} patterns; runs of {short} and {long} characters")
    for name, pattern in sorted(found.items()):
        for mode in MODES:
            unit = max(UNITS, key=lambda u: seconds(pattern, (u * short)[:short], mode))
            a = seconds(pattern, (unit * short)[:short], mode)
            b = seconds(pattern, (unit * long)[:long], mode)
            if b * 1000 >= args.min_ms and b / max(a, 1e-6) > 8:
                print(
                    f"{b * 1000:8.1f} ms  x{b / max(a, 1e-6):5.1f}  {mode:9} {name}  unit={unit!r}"
                )


if __name__ == "__main__":
    main()
