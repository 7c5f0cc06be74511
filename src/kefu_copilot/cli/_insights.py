"""``kefu insights``: analyse conversation logs — top questions, knowledge gaps, complaint themes
and service figures — as rich tables, an HTML report (``--html``) and JSON (``--json``).

``kefu insights LOGS.jsonl [MORE.jsonl ...] [--shop DIR] [--html OUT.html] [--json OUT.json]``.
Exit status 0 when the report was made (malformed log lines are reported, not fatal), 2 on a
:class:`KefuError` (e.g. an unreadable log, or ``--html`` without matplotlib).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .._errors import KefuError

__all__ = ["cmd_insights", "main", "register"]


def register(sub: Any) -> argparse.ArgumentParser:
    """Add ``insights`` to the ``kefu`` subparsers (``sub`` from ``add_subparsers``)."""
    from ._common import add_settings_options

    p = sub.add_parser(
        "insights",
        help="analyse conversation logs: top questions, knowledge gaps, complaints, service",
        usage="kefu insights LOGS.jsonl [LOGS ...] [--shop DIR] [--html OUT] [--json OUT] "
        "[options]",
        description="Analyse conversation logs (JSONL, see docs/conversation-logs.md; JDDC "
        "dialogues too): what shoppers ask, which questions the shop's knowledge does not cover "
        "(with proposed FAQ entries), complaint themes by cause and product, and service "
        "figures overall and by hour. Without --shop, knowledge gaps are not analysed.",
    )
    p.add_argument("logs", nargs="+", metavar="LOGS", help="conversation log(s): .jsonl or .gz")
    p.add_argument("--shop", help="shop directory (for knowledge gaps and products)")
    p.add_argument("--html", metavar="OUT", help="write the HTML report (charts need matplotlib)")
    p.add_argument(
        "--json", dest="json_out", metavar="OUT", help="write the report as JSON ('-': stdout)"
    )
    p.add_argument(
        "--format",
        choices=("auto", "kefu", "jddc"),
        default="auto",
        help="log shape (default: auto-detect per line)",
    )
    p.add_argument("--top", type=int, default=20, help="clusters/gaps/themes to keep (20)")
    p.add_argument(
        "--questions-per-conversation",
        type=int,
        default=1,
        help="customer questions counted per conversation (default 1: the first)",
    )
    p.add_argument(
        "--max-answers",
        type=int,
        default=3000,
        help="distinct questions answered with the copilot, most frequent first (3000)",
    )
    p.add_argument("--title", help="title of the HTML report")
    add_settings_options(p)
    p.set_defaults(func=cmd_insights)
    return p


def cmd_insights(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    from ..insights._analyze import analyze
    from ._common import ensure_index, make_console, open_copilot

    console, err = make_console(), Console(stderr=True, soft_wrap=True)
    to_stdout = args.json_out == "-"
    for log in args.logs:
        if not Path(log).is_file():
            raise KefuError(f"no such conversation log: {log}")
    if args.html:
        from ..present._insights import _matplotlib

        _matplotlib()  # fail before the analysis, not after it
    copilot = None
    if args.shop:
        copilot = open_copilot(args.shop, args)
        ensure_index(copilot, console, quiet=to_stdout)
    report = analyze(
        [Path(p) for p in args.logs],
        copilot,
        format=args.format,
        top=args.top,
        questions_per_conversation=args.questions_per_conversation,
        max_answers=args.max_answers,
        progress=console.is_terminal and not to_stdout,
    )
    for issue in report.issues[:20]:
        err.print(f"[yellow]warning:[/] {escape(str(issue))} (line skipped)", highlight=False)
    if report.malformed_lines > 20:
        err.print(f"[yellow]warning:[/] … {report.malformed_lines - 20} more malformed lines")
    if to_stdout:
        print(report.model_dump_json(indent=2))
    else:
        console.print(report)
    written = []
    try:
        if args.json_out and not to_stdout:
            written.append(report.save(args.json_out))
        if args.html:
            written.append(report.save_html(args.html, title=args.title))
    except OSError as exc:
        raise KefuError(f"cannot write the report: {exc}") from None
    for path in written:
        (err if to_stdout else console).print(f"[dim]written: {path}[/]", highlight=False)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``kefu insights ...`` on its own (tests, ``python -m``): same exit statuses as ``kefu``."""
    from ._common import run_alone

    return run_alone(register, argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
