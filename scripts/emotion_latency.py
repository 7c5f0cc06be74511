"""Latency of `emotion_flag` (packaged model) per call: p50 / p99 / max over realistic turns.

    python scripts/emotion_latency.py [--repeat 5]

Turns: the sample suite and the JDDC satisfaction turns (long contexts, up to 20 turns), each
first read once (cold: a conversation's earlier turns not yet cached), then `--repeat` times
(warm: as in a live chat, where every new turn re-reads the same earlier turns).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from kefu_copilot.emotion._flag import emotion_flag  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    turns = []
    for path in (
        ROOT / "evals/emotion.jsonl",
        ROOT.parent / "shared/evaldata/emotion/jddc_satisfaction_turns.jsonl",
    ):
        if path.is_file():
            turns += [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
    emotion_flag("预热")  # compiles the rules and loads the model
    cold = []
    for t in turns:  # first read of each conversation (its earlier turns not yet cached)
        start = time.perf_counter()
        emotion_flag(t["text"], t.get("context"))
        cold.append((time.perf_counter() - start) * 1000)
    cold.sort()
    print(
        f"first pass, {len(cold)} calls: p50 {cold[len(cold) // 2]:.3f} ms, "
        f"p99 {cold[int(0.99 * len(cold))]:.3f} ms, max {cold[-1]:.3f} ms"
    )
    times = []
    for _ in range(args.repeat):
        for t in turns:
            start = time.perf_counter()
            emotion_flag(t["text"], t.get("context"))
            times.append((time.perf_counter() - start) * 1000)
    best = [min(times[k :: len(turns)]) for k in range(len(turns))]  # before sorting: by turn
    best.sort()
    print(
        f"best of {args.repeat} per turn (a busy machine's preemptions left out): "
        f"p50 {best[len(best) // 2]:.3f} ms, p99 {best[int(0.99 * len(best))]:.3f} ms, "
        f"max {best[-1]:.3f} ms"
    )
    times.sort()
    pick = lambda q: times[min(len(times) - 1, int(q * len(times)))]  # noqa: E731
    print(
        f"{len(times)} calls: p50 {pick(0.5):.3f} ms, p99 {pick(0.99):.3f} ms, max {times[-1]:.3f} ms"
    )


if __name__ == "__main__":
    main()
