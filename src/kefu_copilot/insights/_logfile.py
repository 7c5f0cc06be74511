"""Conversation logs (``docs/conversation-logs.md``): reading, validating, writing, appending.

A log is JSONL, one conversation per line — the ``cases/`` format plus timestamps::

    {"id": "c000001", "messages": [
        {"role": "customer", "text": "...", "ts": "2024-11-11T20:15:03+08:00"},
        {"role": "bot", "text": "...", "ts": "2024-11-11T20:15:04+08:00"},
        {"role": "agent", "text": "...", "ts": "...", "agent_id": "a07"}],
     "rating": 5, "resolved": true, "tags": ["物流"]}

:func:`read_logs` streams records and collects one :class:`LogIssue` per malformed line (file and
line) without stopping; :class:`ConversationLog` is the append-only writer a live service uses
(thread-safe, one complete line per ``write`` call, optional fsync). JDDC research dialogues
(``{dialogue_id, turns: [{role, text}], overall_label}``) are read through a small adapter.
"""

from __future__ import annotations

import gzip
import json
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .._errors import InputError
from .._fs import write_text_atomic
from .._models import Message
from ..agent._conversation import ROLE_ALIASES, Conversation

__all__ = [
    "ConversationLog",
    "ConversationRecord",
    "LogFormat",
    "LogIssue",
    "LogReader",
    "Timing",
    "from_jddc",
    "iter_records",
    "parse_record",
    "read_logs",
    "validate_logs",
    "write_logs",
    "write_text_atomic",
]

LogFormat = Literal["auto", "kefu", "jddc"]
_ROLES = ROLE_ALIASES


class Timing(NamedTuple):
    """Service timing of one conversation (seconds; ``None`` where timestamps are missing)."""

    started: datetime | None  # time of the first timed message
    first_response_s: float | None  # first customer message → first agent/bot reply
    first_agent_response_s: float | None  # first customer message → first human agent reply
    handling_s: float | None  # first → last timed message
    bot: bool  # the bot took part
    agent: bool  # a human agent took part
    escalated: bool  # a human agent spoke after the bot


def _seconds(a: datetime | None, b: datetime | None) -> float | None:
    if a is None or b is None:
        return None
    if (a.tzinfo is None) != (b.tzinfo is None):  # mixed naive/aware: compare wall clocks
        a, b = a.replace(tzinfo=None), b.replace(tzinfo=None)
    return (b - a).total_seconds()


class ConversationRecord(BaseModel):
    """One logged conversation (one line of a log)."""

    model_config = ConfigDict(frozen=True)

    id: str
    messages: list[Message] = Field(min_length=1)
    rating: int | None = Field(default=None, ge=1, le=5)
    resolved: bool | None = None
    tags: list[str] = Field(default_factory=list)
    customer_id: str | None = None

    def conversation(self) -> Conversation:
        return Conversation(id=self.id, messages=self.messages, customer_id=self.customer_id)

    @classmethod
    def from_conversation(
        cls,
        conversation: Conversation,
        *,
        id: str | None = None,
        rating: int | None = None,
        resolved: bool | None = None,
        tags: Iterable[str] = (),
    ) -> ConversationRecord:
        cid = id or conversation.id
        if not cid:
            raise InputError("a logged conversation needs an id (Conversation.id or id=...)")
        return cls(
            id=cid,
            messages=conversation.messages,
            rating=rating,
            resolved=resolved,
            tags=list(tags),
            customer_id=conversation.customer_id,
        )

    def timing(self) -> Timing:
        """First-response and handling times, and who took part."""
        msgs = self.messages
        timed = [m.ts for m in msgs if m.ts is not None]
        first = next((i for i, m in enumerate(msgs) if m.role == "customer"), None)
        reply = agent = None
        if first is not None:
            later = [m for m in msgs[first + 1 :] if m.ts is not None]
            reply = next((m.ts for m in later if m.role in ("agent", "bot")), None)
            agent = next((m.ts for m in later if m.role == "agent"), None)
        t0 = msgs[first].ts if first is not None else None
        roles = [m.role for m in msgs]
        bot = "bot" in roles
        return Timing(
            started=timed[0] if timed else None,
            first_response_s=_seconds(t0, reply),
            first_agent_response_s=_seconds(t0, agent),
            handling_s=_seconds(timed[0], timed[-1]) if len(timed) > 1 else None,
            bot=bot,
            agent="agent" in roles,
            escalated=bot and "agent" in roles[roles.index("bot") :],
        )

    def to_line(self) -> str:
        """The record as one JSON line (with its newline), unset optional fields left out."""
        data = self.model_dump(mode="json", exclude_none=True)
        data["messages"] = [{k: v for k, v in m.items() if v is not None} for m in data["messages"]]
        if not data.get("tags"):
            data.pop("tags", None)
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"


class LogIssue(BaseModel):
    """A log line that could not be read (it was skipped)."""

    model_config = ConfigDict(frozen=True)

    path: str
    line: int
    problem: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.problem}"


def _validation_problem(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err["loc"])
        parts.append(f"{where}: {err['msg']}" if where else str(err["msg"]))
    return "; ".join(parts)


def from_jddc(data: Mapping[str, Any]) -> dict[str, Any]:
    """A JDDC dialogue ``{dialogue_id, turns: [{role, text}], overall_label}`` in log shape.

    JDDC has no timestamps, ratings or resolution; ``overall_label`` becomes the tag
    ``label:<value>``.
    """
    turns = data.get("turns")
    if not isinstance(turns, list):
        raise ValueError("turns: expected a list")
    label = data.get("overall_label")
    return {
        "id": str(data.get("dialogue_id") or data.get("id") or ""),
        "messages": [
            {"role": t.get("role"), "text": t.get("text")} for t in turns if isinstance(t, Mapping)
        ],
        "tags": [f"label:{label}"] if label else [],
    }


def parse_record(
    data: Any, *, format: LogFormat = "auto", default_id: str | None = None
) -> ConversationRecord:
    """Validate one decoded log line; raises ``ValueError`` saying what is wrong."""
    if not isinstance(data, Mapping):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    if format == "jddc" or (format == "auto" and "turns" in data and "messages" not in data):
        data = from_jddc(data)
    messages = data.get("messages")
    if not isinstance(messages, list):
        raise ValueError("messages: expected a list of {role, text, ts?} objects")
    fixed = []
    for i, m in enumerate(messages):
        if not isinstance(m, Mapping):
            raise ValueError(f"messages.{i}: expected an object")
        role = _ROLES.get(str(m.get("role", "")).strip().lower())
        if role is None:
            raise ValueError(f"messages.{i}.role: unknown role {m.get('role')!r}")
        fixed.append({**m, "role": role})
    record = {**data, "messages": fixed}
    if not record.get("id"):
        if default_id is None:
            raise ValueError("id: missing")
        record["id"] = default_id
    try:
        return ConversationRecord.model_validate(record)
    except ValidationError as exc:
        raise ValueError(_validation_problem(exc)) from None


class LogReader:
    """Streams the records of one log file; malformed lines land in :attr:`issues`.

    Iterating again re-reads the file (and resets ``issues``). ``position``/``size`` (bytes)
    drive progress bars. ``.gz`` files are decompressed on the fly.
    """

    def __init__(
        self, path: str | Path, *, format: LogFormat = "auto", strict: bool = False
    ) -> None:
        self.path = Path(path)
        self.format: LogFormat = format
        self.strict = strict
        self.issues: list[LogIssue] = []
        self.records = 0
        self.lines = 0
        self.position = 0
        try:
            self.size = self.path.stat().st_size
        except OSError as exc:
            raise InputError(f"cannot read conversation log {self.path}: {exc}") from None

    def _issue(self, line: int, problem: str) -> None:
        issue = LogIssue(path=str(self.path), line=line, problem=problem)
        if self.strict:
            raise InputError(str(issue))
        self.issues.append(issue)

    def __iter__(self) -> Iterator[ConversationRecord]:
        self.issues, self.records, self.lines, self.position = [], 0, 0, 0
        stem = self.path.name.split(".")[0]
        with self.path.open("rb") as raw:
            gz = self.path.suffix == ".gz"
            f: IO[bytes] = gzip.GzipFile(fileobj=raw) if gz else raw  # type: ignore[assignment]
            for number, line in enumerate(f, start=1):
                self.lines = number
                self.position = raw.tell()
                if not line.strip():
                    continue
                try:
                    data = json.loads(line.decode("utf-8-sig" if number == 1 else "utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                    self._issue(number, f"not valid JSON ({str(exc)[:80]})")
                    continue
                try:
                    record = parse_record(data, format=self.format, default_id=f"{stem}:{number}")
                except ValueError as exc:
                    self._issue(number, str(exc))
                    continue
                self.records += 1
                yield record
        self.position = self.size


def read_logs(path: str | Path, *, format: LogFormat = "auto", strict: bool = False) -> LogReader:
    """Stream the conversations of a JSONL log (``.jsonl`` or ``.jsonl.gz``).

    >>> reader = read_logs("logs.jsonl")          # doctest: +SKIP
    >>> for record in reader: ...                 # doctest: +SKIP
    >>> reader.issues                             # file:line: problem, one per skipped line

    ``format``: ``auto`` (kefu log, or JDDC when a line has ``turns``), ``kefu`` or ``jddc``.
    ``strict=True`` raises :class:`InputError` at the first malformed line instead.
    """
    return LogReader(path, format=format, strict=strict)


def validate_logs(path: str | Path, *, format: LogFormat = "auto") -> list[LogIssue]:
    """Every problem of a log file (empty list: every line is a valid conversation)."""
    reader = read_logs(path, format=format)
    for _ in reader:
        pass
    return reader.issues


def iter_records(
    logs: Any, *, format: LogFormat = "auto", issues: list[LogIssue] | None = None
) -> Iterator[tuple[ConversationRecord, int, int]]:
    """``(record, done, total)`` from log paths or readers (progress in bytes), or from
    conversations in memory (records, :class:`Conversation` or dicts; progress in items).

    Malformed lines and items are appended to ``issues`` (when given) and skipped.
    """
    issues = [] if issues is None else issues
    items = [logs] if isinstance(logs, str | Path | LogReader) else logs
    items = items if isinstance(items, Iterator) else list(items)
    if isinstance(items, list) and all(isinstance(x, str | Path | LogReader) for x in items):
        readers = [x if isinstance(x, LogReader) else read_logs(x, format=format) for x in items]
        total, done = sum(r.size for r in readers), 0
        for reader in readers:
            for record in reader:
                yield record, done + reader.position, total
            done += reader.size
            issues.extend(reader.issues)
        return
    total = len(items) if isinstance(items, list) else 0
    for n, item in enumerate(items, start=1):
        try:
            if isinstance(item, Conversation):
                item = ConversationRecord.from_conversation(item, id=item.id or f"#{n}")
            elif not isinstance(item, ConversationRecord):
                item = parse_record(item, format=format, default_id=f"#{n}")
        except ValueError as exc:  # InputError is a ValueError too
            issues.append(LogIssue(path="<memory>", line=n, problem=str(exc)))
            continue
        yield item, n, total


def _as_record(item: ConversationRecord | Conversation | Mapping[str, Any]) -> ConversationRecord:
    if isinstance(item, ConversationRecord):
        return item
    if isinstance(item, Conversation):
        return ConversationRecord.from_conversation(item)
    try:
        return parse_record(item, format="kefu")
    except ValueError as exc:
        raise InputError(f"not a valid conversation record: {exc}") from None


def write_logs(
    records: Iterable[ConversationRecord | Conversation | Mapping[str, Any]], path: str | Path
) -> int:
    """Write a whole log atomically (temp file + rename). Returns the number of lines."""
    count = 0

    def lines() -> Iterator[str]:
        nonlocal count
        for item in records:
            yield _as_record(item).to_line()
            count += 1

    write_text_atomic(path, lines())
    return count


class ConversationLog:
    """Append-only conversation log for a live service (e.g. after the router closes a chat).

    Thread-safe: each record is encoded first, then written as one complete line with a single
    ``write`` on an ``O_APPEND`` descriptor under a lock, so concurrent writers (threads, or
    processes appending to the same local file) never interleave or leave half lines. If the file
    ends in a torn line (a crash mid-write), a newline is added on open so that only that line is
    lost. ``fsync=True`` makes every append durable before it returns (slower).

    >>> with ConversationLog("logs/2024-11.jsonl") as log:          # doctest: +SKIP
    ...     log.append(conversation, rating=5, resolved=True)
    """

    def __init__(self, path: str | Path, *, fsync: bool = False) -> None:
        self.path = Path(path)
        self.fsync = fsync
        self.appended = 0
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._repair_tail()

    def _repair_tail(self) -> None:
        with self.path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            if f.tell() == 0:
                return
            f.seek(-1, os.SEEK_END)
            torn = f.read(1) != b"\n"
        if torn:
            self._write(b"\n")

    def _write(self, data: bytes) -> None:
        if self._fd is None:
            raise InputError(f"conversation log {self.path} is closed")
        view = memoryview(data)
        while view:  # regular files take the whole buffer at once; loop only on a short write
            written = os.write(self._fd, view)
            view = view[written:]
        if self.fsync:
            os.fsync(self._fd)

    def write(self, record: ConversationRecord | Conversation | Mapping[str, Any]) -> None:
        """Append one record (validated first: a bad record raises and writes nothing)."""
        data = _as_record(record).to_line().encode("utf-8")
        with self._lock:
            self._write(data)
            self.appended += 1

    def append(
        self,
        conversation: Conversation | ConversationRecord | Mapping[str, Any],
        *,
        rating: int | None = None,
        resolved: bool | None = None,
        tags: Iterable[str] = (),
        id: str | None = None,
    ) -> ConversationRecord:
        """Log a finished conversation with its outcome; returns the record written."""
        record = _as_record(conversation)
        updates: dict[str, Any] = {}
        if id is not None:
            updates["id"] = id
        if rating is not None:
            updates["rating"] = rating
        if resolved is not None:
            updates["resolved"] = resolved
        if tags:
            updates["tags"] = [*record.tags, *tags]
        if updates:
            record = ConversationRecord.model_validate({**record.model_dump(), **updates})
        self.write(record)
        return record

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> ConversationLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ConversationLog({str(self.path)!r}, appended={self.appended})"
