"""``kefu eval``: run a suite or compare two runs.

``kefu eval SUITE [--shop DIR] [--json OUT] [--index DIR] [--strict]`` runs a suite;
``kefu eval compare OLD.json NEW.json`` compares two ``--json`` outputs. Exit status 0 when the
report was made (even with failed cases), 2 on a :class:`KefuError` (e.g. an unreadable suite).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .._errors import EvalError, KefuError
from ..evals._compare import compare_results
from ..evals._runner import EvalResult, run_suite
from ..present._evals import comparison_renderable, result_renderable

__all__ = ["cmd_eval", "main", "register"]


# -- command line --------------------------------------------------------------------------------
def register(sub: Any) -> argparse.ArgumentParser:
    """Add ``eval`` to the ``kefu`` subparsers (``sub`` from ``add_subparsers``)."""
    from ._common import add_settings_options

    p = sub.add_parser(
        "eval",
        help="run an eval suite (or: eval compare OLD.json NEW.json)",
        usage="kefu eval SUITE [--shop DIR] [--json OUT] [--index DIR] [--strict] [options]\n"
        "       kefu eval compare OLD.json NEW.json [--json OUT]",
        description="Run an eval suite — a JSONL file of answer/emotion/reply cases or a "
        "retrieval directory (corpus/queries/qrels.jsonl) — and report per-case results and "
        "metrics; or compare two --json outputs. Exit status 0 even when cases fail.",
    )
    p.add_argument(
        "targets",
        nargs="+",
        metavar="SUITE",
        help="suite file or retrieval directory; or `compare OLD.json NEW.json`",
    )
    p.add_argument("--shop", help="shop directory (needed by answer and reply cases)")
    p.add_argument(
        "--json",
        dest="json_out",
        metavar="OUT",
        help="write the results as JSON to OUT ('-': stdout)",
    )
    p.add_argument(
        "--strict", action="store_true", help="stop at the first malformed suite line (exit 2)"
    )
    p.add_argument("--max-failures", type=int, default=30, help="failed cases to show (default 30)")
    p.add_argument(
        "--judge",
        action="store_true",
        help="also grade answers and replies with the configured LLM (KEFU_LLM_* settings): "
        "judge.empathy, judge.faithful, judge.helpful, judge.next_step, judge.tone, judge.overall",
    )
    add_settings_options(p)
    p.set_defaults(func=cmd_eval)
    return p


def _llm_judge() -> Any:
    from ..config._settings import resolve_settings
    from ..evals._judge import LLMJudge
    from ..llm._chat import build_llm

    settings = resolve_settings(None)
    llm = build_llm(settings)
    if llm is None:
        raise KefuError(
            "--judge needs an LLM: set KEFU_LLM_PRESET (deepseek, qwen, ...) or "
            "KEFU_LLM_BASE_URL and KEFU_LLM_MODEL, and KEFU_LLM_API_KEY"
        )
    return LLMJudge(llm, prompts_dir=settings.prompts_dir)


def cmd_eval(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ._common import make_console

    console, err = make_console(), Console(stderr=True, soft_wrap=True)
    targets = list(args.targets)
    if targets[0] == "compare" and not (len(targets) == 1 and Path("compare").exists()):
        if len(targets) != 3:
            raise KefuError("usage: kefu eval compare OLD.json NEW.json")
        return _cmd_compare(targets[1], targets[2], args.json_out, console)
    if len(targets) != 1:
        raise KefuError(f"give one suite, not {len(targets)} (or: kefu eval compare OLD NEW)")
    to_stdout = args.json_out == "-"
    judges = [_llm_judge()] if getattr(args, "judge", False) else []
    result = run_suite(
        targets[0],
        shop=args.shop,
        index_dir=args.index_dir,
        strict=args.strict,
        progress=console.is_terminal and not to_stdout,
        embed_model=args.embed_model,
        chroma_url=args.chroma_url,
        offline=args.offline,
        auto_threshold=args.auto_threshold,
        draft_threshold=args.draft_threshold,
        judges=judges,
    )
    _print_problems(result, err)
    if to_stdout:
        print(result.to_json())
        return 0
    for note in result.notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    console.print(result_renderable(result, max_failures=args.max_failures))
    if args.json_out:
        console.print(f"[dim]results written to {result.save(args.json_out)}[/]", highlight=False)
    return 0


def _print_problems(result: EvalResult, err: Any, limit: int = 20) -> None:
    from rich.markup import escape

    for error in result.errors[:limit]:
        err.print(f"[yellow]warning:[/] {escape(str(error))} (line skipped)", highlight=False)
    if len(result.errors) > limit:
        err.print(f"[yellow]warning:[/] … {len(result.errors) - limit} more malformed lines")


def _cmd_compare(old: str, new: str, json_out: str | None, console: Any) -> int:
    from ..evals._suite import atomic_write

    comparison = compare_results(old, new)
    text = json.dumps(comparison.to_dict(), ensure_ascii=False, indent=2)
    if json_out == "-":
        print(text)
        return 0
    console.print(comparison_renderable(comparison))
    if json_out:
        try:
            atomic_write(Path(json_out), text + "\n")
        except OSError as exc:
            raise EvalError(f"cannot write comparison: {exc}", path=json_out) from None
    return 0


def main(argv: list[str] | None = None) -> int:
    """``kefu eval ...`` on its own (tests, ``python -m``): same exit statuses as ``kefu``."""
    from ._common import run_alone

    return run_alone(register, argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
