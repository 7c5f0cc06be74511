"""Ingest peak RSS as the shop grows (issue 22 item 2): is memory flat in the shop's size?

    python benchmarks/bench_memory.py --sizes 10000 30000 60000            # dense (static model)
    python benchmarks/bench_memory.py --sizes 10000 30000 60000 --lexical  # BM25 only
    python benchmarks/bench_memory.py --src /path/to/other/src ...         # another checkout

Each size is ingested from scratch in a fresh process (``corpus.py`` shops, written once under
``--root``), with the default worker plan (one parse worker per spare core). Reported per size:
the peak RSS of the process and its parse workers together (sampled every 50 ms, as
``worker.py ingest`` does), the process's own peak (``ru_maxrss``), wall and CPU seconds; and the
slope between the smallest and the largest size in MB per 1,000 chunks.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_MODEL = HERE.parent.parent / "shared" / "models" / "w2v-zh-synonyms-100d"

CHILD = """
import json, resource, shutil, sys, time
sys.path.insert(0, {here!r})
from worker import RssByPhase
from kefu_copilot import Copilot
shop, index, model = sys.argv[1:4]
shutil.rmtree(index, ignore_errors=True)
memory = RssByPhase()
copilot = Copilot(shop, index_dir=index, embed_model=model, offline=True)
wall, cpu = time.perf_counter(), time.process_time()
report = copilot.ingest()
children = resource.getrusage(resource.RUSAGE_CHILDREN)
out = {{
    "chunks": report.chunks_total,
    "seconds": round(time.perf_counter() - wall, 1),
    "cpu_s": round(time.process_time() - cpu + children.ru_utime + children.ru_stime, 1),
    "peak_rss_mb": max(memory.stop().values()),
    "own_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
}}
print("BENCH-RESULT " + json.dumps(out))
"""


def measure(args: argparse.Namespace, size: int) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    from corpus import generate_shop

    shop = args.root / f"shop-{size}"
    if not (shop / "shop.yaml").is_file():
        generate_shop(shop, size, questions=10)
    env = dict(os.environ, ANONYMIZED_TELEMETRY="False", HF_HUB_OFFLINE="1")
    if args.src:
        env["PYTHONPATH"] = str(args.src)
    model = "none" if args.lexical else str(args.model)
    code = CHILD.format(here=str(HERE))
    index = args.root / f"index-{size}"
    done = subprocess.run(
        [sys.executable, "-c", code, str(shop), str(index), model],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        check=True,
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("BENCH-RESULT "))
    return {"size": size, **json.loads(line.removeprefix("BENCH-RESULT "))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 30000, 60000])
    parser.add_argument("--root", type=Path, default=Path("/tmp/kefu-bench-memory"))
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--lexical", action="store_true", help="no embeddings")
    parser.add_argument("--src", type=Path, help="import kefu_copilot from this src directory")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    rows = []
    for size in sorted(args.sizes):
        rows.append(measure(args, size))
        print(json.dumps(rows[-1]), flush=True)
    first, last = rows[0], rows[-1]
    result: dict[str, Any] = {"dense": not args.lexical, "rows": rows}
    if len(rows) > 1 and last["chunks"] > first["chunks"]:
        per_k = 1000 / (last["chunks"] - first["chunks"])
        result["slope_mb_per_1k_chunks"] = {
            "peak": round((last["peak_rss_mb"] - first["peak_rss_mb"]) * per_k, 2),
            "own": round((last["own_peak_rss_mb"] - first["own_peak_rss_mb"]) * per_k, 2),
        }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
