"""Many shops in one process (issue 22 item 5): a :class:`CopilotPool` over N small shops.

    python benchmarks/bench_shops.py --shops 1000 --json shops.json     # the issue's figure
    python benchmarks/bench_shops.py --shops 150 --json shops.json      # a busy 2-core machine

Writes N synthetic shops of ~``--chunks`` chunks each (``corpus.py``, seed = shop number) under
``--root`` and ingests them (once: kept between runs), then measures serving in a fresh process
so that ingestion's memory is not counted:

- **RSS per idle shop**: (RSS with every shop open − RSS with one shop open) / (N − 1); the
  first shop also pays the shared resources (tokenizer dictionary, embedding model, imports).
- **first-question open**: wall and CPU time of each shop's first ``pool.answer`` (opening
  included), p50/p99 across shops.
- **warm answers**: p50/p99 of answers spread over all the open shops (random shop per question).
- **churn** (``--churn-open K``): the same questions with at most K shops open, so that most
  questions reopen an evicted shop (p50/p99 and how many opens).

``--own-vocabulary`` gives every shop a synonym group of its own: each then needs its own
tokenizer (a jieba dictionary copy, ~12 MB), the worst case for sharing. ``--lexical`` serves
without embeddings (no vector store per shop).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from worker import RssByPhase, percentiles  # noqa: E402

DEFAULT_MODEL = HERE.parent.parent / "shared" / "models" / "w2v-zh-synonyms-100d"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def shop_dir(root: Path, n: int) -> Path:
    return root / f"shop-{n:05d}"


def prepare(args: argparse.Namespace) -> None:
    """Write and ingest the shops that are not there yet (questions saved per shop)."""
    from corpus import generate_shop

    from kefu_copilot import Copilot, SharedResources

    shared = SharedResources()
    started = time.perf_counter()
    made = 0
    for n in range(args.shops):
        where = shop_dir(args.root, n)
        if (where / "questions.json").is_file():
            continue
        info = generate_shop(where, args.chunks, seed=1000 + n, questions=args.questions)
        if args.own_vocabulary:
            with open(where / "shop.yaml", "a", encoding="utf-8") as fh:
                fh.write(f"  - [店铺{n}专享, 专享{n}号]\n")
        options: dict[str, Any] = {"embed_model": "none" if args.lexical else str(args.model)}
        Copilot(where, resources=shared, offline=True, **options).ingest()
        questions = [{"text": q.text, "kind": q.kind} for q in info.questions]
        (where / "questions.json").write_text(json.dumps(questions, ensure_ascii=False))
        made += 1
        if made % 25 == 0:
            log(f"prepared {n + 1}/{args.shops} shops")
    if made:
        log(f"prepared {made} shops in {time.perf_counter() - started:.0f} s")


def rss_mb() -> float:
    return RssByPhase.rss_mb()


def serve(args: argparse.Namespace) -> dict[str, Any]:
    """The measurements, in this (fresh) process."""
    rng = random.Random(7)
    questions = {
        n: json.loads((shop_dir(args.root, n) / "questions.json").read_text(encoding="utf-8"))
        for n in range(args.shops)
    }
    started_rss = rss_mb()
    import kefu_copilot
    from kefu_copilot import CopilotPool

    embed = "none" if args.lexical else str(args.model)
    pool = CopilotPool(
        lambda shop_id: shop_dir(args.root, int(shop_id)),
        max_open=args.shops,
        embed_model=embed,
        offline=True,
    )
    imported_rss = rss_mb()
    first: list[float] = []
    first_cpu: list[float] = []  # CPU time: comparable on a busy machine, wall time is not
    rss_after: list[float] = []
    for n in range(args.shops):
        q = questions[n][0]["text"]
        t, c = time.perf_counter(), time.process_time()
        pool.answer(str(n), q)
        first.append(time.perf_counter() - t)
        first_cpu.append(time.process_time() - c)
        rss_after.append(rss_mb())
        if (n + 1) % 50 == 0:
            log(f"opened {n + 1} shops, RSS {rss_after[-1]:,.0f} MB")
    n_shops = args.shops
    per_shop = (rss_after[-1] - rss_after[0]) / (n_shops - 1) if n_shops > 1 else 0.0

    warm: list[float] = []
    for _ in range(args.answers):
        n = rng.randrange(n_shops)
        q = rng.choice(questions[n][1:])["text"]
        t = time.perf_counter()
        pool.answer(str(n), q)
        warm.append(time.perf_counter() - t)
    out: dict[str, Any] = {
        "shops": n_shops,
        "chunks_per_shop": args.chunks,
        "dense": not args.lexical,
        "own_vocabulary": args.own_vocabulary,
        "rss_mb": {
            "start": round(started_rss, 1),
            "imported": round(imported_rss, 1),
            "one_shop_open": round(rss_after[0], 1),
            "all_open": round(rss_after[-1], 1),
            "peak": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        },
        "rss_per_idle_shop_mb": round(per_shop, 2),
        # the first shop pays the shared resources; the others' spread is across shops
        "first_question_ms": {
            "first_shop": round(first[0] * 1000, 1),
            **percentiles(first[1:] or first),
        },
        "first_question_cpu_ms": percentiles(first_cpu[1:] or first_cpu),
        "warm": percentiles(warm),
        "tokenizers_loaded": pool.resources.tokenizers_loaded,
        "estimated_bytes_per_shop": pool.stats.estimated_bytes // max(1, n_shops),
        "kefu_copilot": kefu_copilot.__file__,
    }
    if args.churn_open:
        pool.close()
        churn = CopilotPool(
            lambda shop_id: shop_dir(args.root, int(shop_id)),
            max_open=args.churn_open,
            resources=pool.resources,
            embed_model=embed,
            offline=True,
        )
        times: list[float] = []
        for _ in range(args.answers):
            n = rng.randrange(n_shops)
            q = rng.choice(questions[n])["text"]
            t = time.perf_counter()
            churn.answer(str(n), q)
            times.append(time.perf_counter() - t)
        out["churn"] = percentiles(times) | {
            "max_open": args.churn_open,
            "opens": churn.stats.opens,
            "rss_mb": round(rss_mb(), 1),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shops", type=int, default=150)
    parser.add_argument("--chunks", type=int, default=1000, help="chunks per shop (about)")
    parser.add_argument("--questions", type=int, default=40, help="questions generated per shop")
    parser.add_argument("--answers", type=int, default=2000, help="warm answers measured")
    parser.add_argument("--churn-open", type=int, default=0, help="max_open for the churn run")
    parser.add_argument("--root", type=Path, default=Path("/tmp/kefu-bench-shops"))
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--lexical", action="store_true", help="no embeddings")
    parser.add_argument("--own-vocabulary", action="store_true")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--serve-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.own_vocabulary:
        args.root = args.root.with_name(args.root.name + "-vocab")
    if args.lexical:
        args.root = args.root.with_name(args.root.name + "-lexical")
    if args.serve_only:
        print("BENCH-RESULT " + json.dumps(serve(args)), flush=True)
        return 0
    prepare(args)
    log(f"serving {args.shops} shops in a fresh process")
    argv = [sys.executable, __file__, *(argv if argv is not None else sys.argv[1:]), "--serve-only"]
    done = subprocess.run(argv, stdout=subprocess.PIPE, text=True, check=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("BENCH-RESULT "))
    result = json.loads(line.removeprefix("BENCH-RESULT "))
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
