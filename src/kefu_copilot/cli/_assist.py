"""The agent-side commands: ``kefu suggest``, ``flag``, ``lint``, ``recommend`` and ``compare`` —
what :meth:`Copilot.suggest_reply`, :meth:`~Copilot.emotion_flag`, :meth:`~Copilot.lint_reply`,
:meth:`~Copilot.recommend` and :meth:`~Copilot.compare` return, as rich panels and tables or as
JSON (``--json``), so a shop can try them on its own knowledge before wiring them in.

A conversation is given as its messages, oldest first; a message starting with ``客服:`` (or
``agent:``) is the agent's, any other the customer's. ``kefu lint`` exits with status 1 when the
reply has an error-level issue (a banned phrase, a promise beyond the shop's limits), so a
script or CI step can gate on it.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

from .._errors import InputError

__all__ = ["cmd_compare", "cmd_flag", "cmd_lint", "cmd_recommend", "cmd_suggest", "register"]

#: Prefixes marking an agent's message in a conversation given on the command line.
AGENT_PREFIXES = ("客服:", "客服：", "agent:", "Agent:")
_MESSAGES_HELP = "the conversation, oldest first; '客服:…' marks the agent's messages"


def messages_of(texts: Sequence[str]) -> list[dict[str, str]]:
    """Command-line messages as ``{"role", "text"}`` dicts: ``客服:``/``agent:`` → agent."""
    out: list[dict[str, str]] = []
    for raw in texts:
        text = raw.strip()
        prefix = next((p for p in AGENT_PREFIXES if text.startswith(p)), None)
        if prefix is not None:
            out.append({"role": "agent", "text": text[len(prefix) :].strip()})
        else:
            out.append({"role": "customer", "text": text})
    if not any(m["role"] == "customer" and m["text"] for m in out):
        raise InputError("give at least one customer message (a message without '客服:')")
    return out


def _dump(value: Any) -> None:
    if isinstance(value, list):
        print(json.dumps([v.model_dump(mode="json") for v in value], ensure_ascii=False, indent=2))
    else:
        print(value.model_dump_json(indent=2))


def _indexed(args: argparse.Namespace) -> tuple[Any, Any]:
    """The console and a copilot over ``--shop``, its index brought up to date."""
    from ._common import ensure_index, make_console, open_copilot

    console = make_console()
    copilot = open_copilot(args.shop, args)
    ensure_index(copilot, console, quiet=args.json)
    return console, copilot


def _show(args: argparse.Namespace, console: Any, value: Any) -> None:
    if args.json:
        _dump(value)
    else:
        for item in value if isinstance(value, list) else [value]:
            console.print(item)


def cmd_suggest(args: argparse.Namespace) -> int:
    """Reply drafts for the conversation (a rewrite of ``--draft`` when given)."""
    console, copilot = _indexed(args)
    _show(args, console, copilot.suggest_reply(messages_of(args.messages), args.draft, n=args.n))
    return 0


def cmd_flag(args: argparse.Namespace) -> int:
    """The emotion flag of the last customer message, the earlier messages as its context; with
    ``--shop``, by the shop's keywords, rules and trained model."""
    from ..emotion._flag import emotion_flag
    from ..present._assist import flag_panel
    from ._common import make_console, open_copilot

    messages = messages_of(args.messages)
    last = max(i for i, m in enumerate(messages) if m["role"] == "customer")
    text, context = messages[last]["text"], messages[:last]
    if args.shop:
        flag = open_copilot(args.shop, args).emotion_flag(text, context)
    else:
        flag = emotion_flag(text, context)
    if args.json:
        _dump(flag)
    else:
        make_console().print(flag_panel(flag, text))
    return 0


def cmd_lint(args: argparse.Namespace) -> int:
    """Style issues of an agent's reply by the shop's banned phrases and limits; exit status 1
    when one is an error."""
    from ..present._assist import lint_table
    from ._common import make_console, open_copilot

    copilot = open_copilot(args.shop, args)
    conversation = messages_of(args.customer) if args.customer else None
    issues = copilot.lint_reply(args.reply, conversation)
    if args.json:
        _dump(issues)
    else:
        console = make_console()
        if issues:
            console.print(lint_table(issues, args.reply))
        else:
            console.print("[green]no issues[/]")
    return 1 if any(issue.severity == "error" for issue in issues) else 0


def cmd_recommend(args: argparse.Namespace) -> int:
    """Products ranked against a shopper's need, with their deciding facts."""
    console, copilot = _indexed(args)
    _show(args, console, copilot.recommend(args.need))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """Two products side by side: the attributes that differ, then the shopper's sentences."""
    console, copilot = _indexed(args)
    comparison = copilot.compare(args.a, args.b)
    _show(args, console, comparison)
    if comparison.text and not args.json:
        console.print(comparison.text, highlight=False, markup=False)
    return 0


def _command(sub: Any, name: str, help: str, func: Any, shop: str | None, what: str) -> Any:
    """A sub-command with ``--shop`` (required unless ``shop`` is None), ``--json`` and the
    settings options; the caller adds its own arguments."""
    from ._common import add_settings_options

    p = sub.add_parser(name, help=help)
    if shop is None:
        p.add_argument("--shop", help="shop directory (its keywords, rules and trained model)")
    else:
        p.add_argument("--shop", required=True, help=shop)
    p.add_argument("--json", action="store_true", help=f"print the {what} as JSON")
    add_settings_options(p)
    p.set_defaults(func=func)
    return p


def register(sub: Any) -> None:
    """Add the agent-side commands to the ``kefu`` subparsers."""
    shop = "shop directory"
    p = _command(
        sub,
        "suggest",
        "draft or rewrite an agent's reply to a conversation",
        cmd_suggest,
        shop,
        "drafts",
    )
    p.add_argument("messages", nargs="+", metavar="MESSAGE", help=_MESSAGES_HELP)
    p.add_argument("--draft", help="the agent's own draft, to rewrite (its facts are kept)")
    p.add_argument("-n", type=int, default=1, help="number of distinct drafts (1)")

    p = _command(
        sub,
        "flag",
        "emotion, risk flags and escalation of a customer message",
        cmd_flag,
        None,
        "flag",
    )
    p.add_argument("messages", nargs="+", metavar="MESSAGE", help=_MESSAGES_HELP)

    p = _command(
        sub,
        "lint",
        "style issues of an agent's reply (exit 1 on an error)",
        cmd_lint,
        "shop directory (banned phrases, limits)",
        "issues",
    )
    p.add_argument("reply", help="the agent's reply")
    p.add_argument(
        "--customer",
        nargs="+",
        metavar="MESSAGE",
        help="the conversation so far: " + _MESSAGES_HELP,
    )

    p = _command(
        sub,
        "recommend",
        "products ranked against a shopper's need",
        cmd_recommend,
        shop,
        "recommendation",
    )
    p.add_argument("need", help="the shopper's words, e.g. '想给爸妈买…预算500'")

    p = _command(sub, "compare", "two products side by side", cmd_compare, shop, "comparison")
    p.add_argument("a", help="a product: SKU or title words")
    p.add_argument("b", help="another product")
