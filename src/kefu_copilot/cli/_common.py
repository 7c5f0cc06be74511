"""What every ``kefu`` command shares: the console, settings options, opening a copilot, and
running a parsed command with one-line errors."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from .._errors import KefuError

__all__ = [
    "add_settings_options",
    "ensure_index",
    "make_console",
    "open_copilot",
    "run_alone",
    "run_command",
]


def make_console() -> Any:
    from rich.console import Console
    from rich.console import Console as _C

    probe = _C()
    # Piped output (CI logs, files) gets a readable width instead of rich's 80 columns.
    return Console(width=None if probe.is_terminal else 140)


def add_settings_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--index",
        dest="index_dir",
        help="index directory (default: SHOP/.kefu-index; env KEFU_INDEX_DIR)",
    )
    p.add_argument(
        "--embed-model",
        help="fastembed model name, local model dir, or 'none' (env KEFU_EMBED_MODEL)",
    )
    p.add_argument(
        "--chroma-url", help="Chroma server URL, e.g. http://127.0.0.1:8000 (env KEFU_CHROMA_URL)"
    )
    p.add_argument(
        "--offline", action="store_true", default=None, help="never try to download a model"
    )
    p.add_argument(
        "--auto-threshold", type=float, help="confidence for auto answers (env KEFU_AUTO_THRESHOLD)"
    )
    p.add_argument(
        "--draft-threshold", type=float, help="confidence for drafts (env KEFU_DRAFT_THRESHOLD)"
    )


def open_copilot(shop: str, args: argparse.Namespace) -> Any:
    from .._copilot import Copilot

    return Copilot(
        shop,
        index_dir=args.index_dir,
        embed_model=args.embed_model,
        chroma_url=args.chroma_url,
        offline=args.offline,
        auto_threshold=args.auto_threshold,
        draft_threshold=args.draft_threshold,
    )


def ensure_index(copilot: Any, console: Any, quiet: bool = False) -> None:
    """Ingest when the index is missing or stale (cheap when nothing changed)."""
    report = copilot.ingest(progress=not quiet and console.is_terminal)
    if report.changed and not quiet:
        console.print(
            f"[dim]indexed {report.chunks_total} chunks from {copilot.shop_dir} "
            f"in {report.seconds:.1f}s[/]"
        )
    if copilot.embedding_problem and not quiet:
        embedding_note(console, copilot.embedding_problem)


def embedding_note(console: Any, problem: str) -> None:
    console.print(
        f"[yellow]note:[/] {problem}.\n      Answering with lexical retrieval (BM25) only."
    )


def run_command(args: argparse.Namespace) -> int:
    """Run a parsed command: exit status 2 with a one-line message on a KefuError."""
    verbose = int(getattr(args, "verbose", 0) or 0)
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    # Only the copilot's own loggers get chattier; third-party libraries stay at ERROR.
    logging.getLogger("kefu_copilot").setLevel(
        logging.DEBUG if verbose >= 2 else logging.INFO if verbose else logging.ERROR
    )
    try:
        return int(args.func(args) or 0)
    except KefuError as exc:
        print(f"kefu: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader went away (`kefu eval … --json - | head`): stop quietly, and keep Python's
        # flush at exit from raising it again (as the standard library's documentation advises)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


def run_alone(register: Callable[[Any], Any], argv: list[str] | None = None) -> int:
    """One sub-command on its own: a ``kefu`` parser holding only what ``register`` adds to
    its subparsers, run like :func:`run_command` (2 on a KefuError)."""
    parser = argparse.ArgumentParser(prog="kefu")
    register(parser.add_subparsers(dest="command", required=True))
    return run_command(parser.parse_args(argv))
