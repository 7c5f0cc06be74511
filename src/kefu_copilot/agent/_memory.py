"""Customer memory: a short record per ``customer_id`` that outlives a conversation and a channel.

Opt-in (``Settings.customer_memory``). Whichever channel a shopper comes back through, the agent
sees their recent conversations (one summary each), the order ids they mentioned, what they
said they prefer (size, colour — the ``memory`` rule set, ``data/memory.yaml``) and what is
still open (a write waiting for approval, a handoff). The record feeds the handoff packet and
the reply drafts; it is kept in the same :class:`~kefu_copilot.state._store.StateStore` as the
approvals, so every worker and machine sees the same record.

Privacy by construction: every text is redacted with :func:`kefu_copilot.redact` *before* it is
stored, so nothing read back from memory can carry a phone number, address, ID or card number
into an LLM prompt or a log. Entries older than the retention limit are dropped on every read
and write; :meth:`MemoryBook.forget` deletes a customer's record (a deletion request).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from .._data import RuleCompiler, compiled, packaged_rules
from .._errors import InputError
from ..state._store import StateStore, StoreHandle, update
from ..text._pii import redact
from ._conversation import Conversation

if TYPE_CHECKING:
    from ._router import Turn

__all__ = ["CustomerMemory", "MemoryBook", "MemoryItem", "stated_preferences"]

MEMORY, ACTION_OWNER = "memory", "memory-action"


class MemoryItem(BaseModel):
    """One remembered thing (redacted ``text``) with when and where it was learnt."""

    text: str
    at: datetime
    conversation_id: str | None = None
    channel: str | None = None


class CustomerMemory(BaseModel):
    """What is remembered of one customer, oldest first in each list; texts are redacted."""

    customer_id: str
    sessions: list[MemoryItem] = Field(default_factory=list, description="one per conversation")
    order_ids: list[MemoryItem] = Field(default_factory=list)
    preferences: dict[str, MemoryItem] = Field(default_factory=dict, description="kind → value")
    open_issues: dict[str, MemoryItem] = Field(default_factory=dict, description="key → issue")
    updated_at: datetime

    def lines(
        self, rules: Mapping[str, Any] | None = None, *, exclude_conversation: str | None = None
    ) -> list[str]:
        """Short lines for a human agent (the handoff packet) or a reply draft's context: the
        latest conversations other than ``exclude_conversation``, orders, preferences, open
        issues (the ``memory`` rule set's ``lines``)."""
        rules = packaged_rules("memory") if rules is None else rules
        line, out = rules["lines"], []
        sessions = [s for s in self.sessions if s.conversation_id != exclude_conversation]
        for s in sessions[-int(rules["sessions_shown"]) :][::-1]:
            channel = line["channel"].format(channel=s.channel) if s.channel else ""
            date = s.at.strftime(rules["date_format"])
            out.append(line["session"].format(date=date, channel=channel, text=s.text))
        if self.order_ids:
            out.append(line["order_ids"].format(items="、".join(o.text for o in self.order_ids)))
        if self.preferences:
            labels = {k: v.get("label", k) for k, v in rules["preferences"].items()}
            items = "、".join(
                line["preference"].format(label=labels.get(kind, kind), value=item.text)
                for kind, item in self.preferences.items()
            )
            out.append(line["preferences"].format(items=items))
        if self.open_issues:
            items = "；".join(i.text for i in self.open_issues.values())
            out.append(line["open_issues"].format(items=items))
        return out


# -- stated preferences --------------------------------------------------------------------------
@dataclass(frozen=True)
class _Preference:
    kind: str
    patterns: tuple[re.Pattern[str], ...]
    suffix: str


def _compile(rules: Mapping[str, Any]) -> tuple[_Preference, ...]:
    macros = {  # the longest alternative first: "XL" before "L", "米白" before "白"
        name: sorted(map(str, values), key=len, reverse=True)
        if isinstance(values, list)
        else values
        for name, values in (rules.get("macros") or {}).items()
    }
    compiler = RuleCompiler("memory", {**rules, "macros": macros})
    out = []
    for kind, spec in rules["preferences"].items():
        patterns = tuple(
            compiler.regex(f"preferences.{kind}.patterns", p, re.IGNORECASE)
            for p in spec.get("patterns") or []
        )
        out.append(_Preference(str(kind), patterns, str(spec.get("suffix", ""))))
    return tuple(out)


def stated_preferences(text: str, rules: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Preferences one customer message states, by kind (``{"size": "L码", "color": "黑色"}``).
    A kind with two different values in one message ("S码还是M码") is left out: not a choice."""
    rules = packaged_rules("memory") if rules is None else rules
    found: dict[str, str] = {}
    for pref in compiled(rules, _compile):
        values = {
            (m.group(1).upper() if m.group(1).isascii() else m.group(1)) + pref.suffix
            for pattern in pref.patterns
            for m in pattern.finditer(text)
        }
        if len(values) == 1:
            found[pref.kind] = values.pop()
    return found


# -- the book ----------------------------------------------------------------------------------
class MemoryBook:
    """Customer memory in a :class:`StateStore`: recall, observe a turn, forget."""

    def __init__(
        self,
        store: StateStore | Callable[[], StateStore],
        *,
        retention_days: float = 90.0,
        rules: Mapping[str, Any] | None = None,
        clock: Callable[[], datetime] = datetime.now,
        max_sessions: int = 5,
        max_orders: int = 10,
        max_issues: int = 5,
    ) -> None:
        self._handle = StoreHandle(store)
        self.retention = timedelta(days=retention_days)
        self.rules = packaged_rules("memory") if rules is None else rules
        self.clock = clock
        self.max_sessions, self.max_orders, self.max_issues = max_sessions, max_orders, max_issues

    @property
    def store(self) -> StateStore:
        return self._handle.get()

    # -- reading -----------------------------------------------------------------------------
    def recall(self, customer_id: str) -> CustomerMemory | None:
        """The customer's record within the retention limit, or None."""
        doc = self.store.get(MEMORY, _key(customer_id))
        if doc is None:
            return None
        memory = self._pruned(CustomerMemory.model_validate(doc.value))
        return memory if _has_content(memory) else None

    def lines(
        self, customer_id: str | None, *, exclude_conversation: str | None = None
    ) -> list[str]:
        """:meth:`CustomerMemory.lines` of the customer's record ([] when none)."""
        memory = self.recall(customer_id) if customer_id else None
        if memory is None:
            return []
        return memory.lines(self.rules, exclude_conversation=exclude_conversation)

    # -- writing -----------------------------------------------------------------------------
    def remember(
        self,
        customer_id: str,
        *,
        summary: str | None = None,
        order_ids: Iterable[str] = (),
        preferences: Mapping[str, str] | None = None,
        open_issues: Mapping[str, str] | None = None,
        resolved: Iterable[str] = (),
        conversation_id: str | None = None,
        channel: str | None = None,
    ) -> CustomerMemory:
        """Add to the customer's record (texts are redacted here): the conversation's summary
        (replacing an earlier one of the same conversation), order ids, preferences (the latest
        value of a kind wins), open issues by key; ``resolved`` issue keys are closed."""
        if not isinstance(customer_id, str) or not customer_id.strip():
            raise InputError("customer_id must be a non-empty str")
        now = self.clock()

        def item(text: str) -> MemoryItem:
            return MemoryItem(
                text=redact(text).text, at=now, conversation_id=conversation_id, channel=channel
            )

        issues = dict(open_issues or {})
        closed = set(resolved)

        def change(current: dict[str, Any] | None) -> tuple[dict[str, Any], str]:
            if current is None:
                memory = CustomerMemory(customer_id=customer_id, updated_at=now)
            else:
                memory = self._pruned(CustomerMemory.model_validate(current))
            if summary:
                memory.sessions = [
                    s for s in memory.sessions if s.conversation_id != conversation_id
                ] + [item(summary)]
            for order_id in dict.fromkeys(order_ids):
                memory.order_ids = [o for o in memory.order_ids if o.text != order_id]
                memory.order_ids.append(item(order_id))
            for kind, value in (preferences or {}).items():
                memory.preferences[kind] = item(value)
            for key in closed:
                memory.open_issues.pop(key, None)
            for key, text in issues.items():
                memory.open_issues.pop(key, None)  # re-added last: newest at the end
                memory.open_issues[key] = item(text)
            memory.sessions = memory.sessions[-self.max_sessions :]
            memory.order_ids = memory.order_ids[-self.max_orders :]
            memory.open_issues = dict(list(memory.open_issues.items())[-self.max_issues :])
            memory.updated_at = now
            return memory.model_dump(mode="json"), ""

        value = update(self.store, MEMORY, _key(customer_id), change)
        for key in issues:
            self.store.create(ACTION_OWNER, key, {"customer_id": customer_id})
        for key in closed:
            self.store.delete(ACTION_OWNER, key)
        assert value is not None
        return CustomerMemory.model_validate(value)

    def observe(
        self, conversation: Conversation, turn: Turn | None = None, *, channel: str | None = None
    ) -> CustomerMemory | None:
        """Learn from a routed turn of a conversation with a ``customer_id``: its summary, the
        order ids and preferences the customer stated, what was left open (a pending action,
        a handoff). None when the conversation has no customer id."""
        customer_id = conversation.customer_id
        if not customer_id:
            return None
        rules = self.rules
        conversation_id = conversation.id or _first_message_key(conversation)
        preferences: dict[str, str] = {}
        for text in conversation.customer_texts():
            preferences.update(stated_preferences(text, rules))
        issues: dict[str, str] = {}
        resolved: list[str] = []
        handoff_key = f"handoff:{conversation_id}"
        if turn is not None:
            for action in turn.pending_actions:
                issues[action.id] = rules["issues"]["pending"].format(summary=action.summary)
            if turn.decision == "handoff":
                text = redact(conversation.last_customer_text).text[: int(rules["request_chars"])]
                issues[handoff_key] = rules["issues"]["handoff"].format(text=text)
            else:
                resolved.append(handoff_key)  # the conversation moved on
        return self.remember(
            customer_id,
            summary=self.summary(conversation, turn),
            order_ids=conversation.order_ids(),
            preferences=preferences,
            open_issues=issues,
            resolved=resolved,
            conversation_id=conversation_id,
            channel=channel,
        )

    def summary(self, conversation: Conversation, turn: Turn | None = None) -> str:
        """A one-line summary of a conversation (redacted when stored): the customer's last
        requests and how it ended."""
        rules = self.rules
        cut, kept = int(rules["request_chars"]), int(rules["requests_kept"])
        # redacted before cutting: a cut phone number no longer looks like one
        texts = [redact(t.strip()).text[:cut] for t in conversation.customer_texts() if t.strip()]
        texts = texts[-kept:]
        outcome = rules["outcomes"].get(turn.decision, turn.decision) if turn else ""
        text = rules["summary"].format(requests="；".join(texts), outcome=outcome)
        return text.replace("（）", "")

    def resolve(self, issue_key: str) -> bool:
        """Close an open issue (an approved or rejected action's id) in whichever customer's
        record holds it. False when no record does."""
        owner = self.store.get(ACTION_OWNER, issue_key)
        if owner is None:
            return False
        self.remember(owner.value["customer_id"], resolved=[issue_key])
        return True

    def forget(self, customer_id: str) -> bool:
        """Delete everything remembered of the customer (a deletion request). True if there
        was a record."""
        doc = self.store.get(MEMORY, _key(customer_id))
        if doc is not None:
            for key in doc.value.get("open_issues") or {}:
                self.store.delete(ACTION_OWNER, key)
        return self.store.delete(MEMORY, _key(customer_id))

    def _pruned(self, memory: CustomerMemory) -> CustomerMemory:
        cutoff = self.clock() - self.retention
        memory.sessions = [s for s in memory.sessions if s.at >= cutoff]
        memory.order_ids = [o for o in memory.order_ids if o.at >= cutoff]
        memory.preferences = {k: v for k, v in memory.preferences.items() if v.at >= cutoff}
        memory.open_issues = {k: v for k, v in memory.open_issues.items() if v.at >= cutoff}
        return memory


def _has_content(memory: CustomerMemory) -> bool:
    return bool(memory.sessions or memory.order_ids or memory.preferences or memory.open_issues)


def _key(customer_id: str) -> str:
    return customer_id.strip()


def _first_message_key(conversation: Conversation) -> str:
    """A stable id for a conversation without one: its first message."""
    first: Sequence[Any] = conversation.messages[:1]
    text = first[0].text if first else ""
    return "conv-" + hashlib.sha256(text.encode()).hexdigest()[:12]
