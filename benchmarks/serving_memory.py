"""Serving memory of one shop: open, N answers on one thread, an optional round on several
threads; RSS split into anonymous and file-backed memory after each phase (issue 22).

    python benchmarks/serving_memory.py SHOP_DIR INDEX_DIR --questions Q.json [--n 320]
        [--threads 8] [--embed-model ../shared/models/w2v-zh-synonyms-100d] [--smaps]

``Q.json`` is a list of questions (strings or ``{"text": ...}``), e.g. the one ``bench.py``
writes beside its generated shop. Answer times are CPU times (``time.process_time``): they stay
comparable on a busy machine, wall times do not. Linux only (reads ``/proc/self``).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from kefu_copilot import Copilot  # noqa: E402


def status() -> dict[str, int]:
    """VmRSS, RssAnon, RssFile and the peak VmHWM of this process, in MB."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
            out[key] = int(value.split()[0]) // 1024
    return out


def smaps() -> list[tuple[float, str]]:
    """Resident MB per mapping (file path or [anon]), largest first."""
    sizes: dict[str, int] = {}
    current = "[anon]"
    for line in Path("/proc/self/smaps").read_text().splitlines():
        parts = line.split()
        if parts and "-" in parts[0] and not parts[0].endswith(":"):
            current = parts[5] if len(parts) > 5 else "[anon]"
        elif parts and parts[0] == "Rss:":
            sizes[current] = sizes.get(current, 0) + int(parts[1])
    return sorted(((kb / 1024, name) for name, kb in sizes.items()), reverse=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("shop")
    parser.add_argument("index")
    parser.add_argument("--questions", required=True)
    parser.add_argument("--n", type=int, default=320, help="answers on one thread")
    parser.add_argument("--threads", type=int, default=0, help="then n more on this many threads")
    parser.add_argument(
        "--embed-model", default=str(ROOT.parent / "shared/models/w2v-zh-synonyms-100d")
    )
    parser.add_argument("--smaps", action="store_true", help="resident MB per mapping at the end")
    args = parser.parse_args()
    raw = json.loads(Path(args.questions).read_text(encoding="utf-8"))
    questions = [q if isinstance(q, str) else q["text"] for q in raw]

    cpu, wall = time.process_time(), time.perf_counter()
    copilot = Copilot(args.shop, index_dir=args.index, embed_model=args.embed_model, offline=True)
    copilot.answer(questions[0])
    opened = time.process_time() - cpu, time.perf_counter() - wall
    print(f"open + first answer: CPU {opened[0]:.2f} s, wall {opened[1]:.2f} s", status())
    times = []
    for question in questions[1 : args.n]:
        started = time.process_time()
        copilot.answer(question)
        times.append(time.process_time() - started)
    times.sort()
    if times:
        p50, p99 = times[len(times) // 2], times[int(len(times) * 0.99)]
        print(f"after {args.n}: CPU p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms", status())
    if args.threads:
        with ThreadPoolExecutor(args.threads) as pool:
            list(pool.map(copilot.answer, questions[args.n : 2 * args.n]))
        print(f"after a round on {args.threads} threads:", status())
    gc.collect()
    print("after gc:", status(), f"load {os.getloadavg()[0]:.1f}")
    if args.smaps:
        for mb, name in smaps()[:30]:
            print(f"{mb:8.1f} MB  {name}")


if __name__ == "__main__":
    main()
