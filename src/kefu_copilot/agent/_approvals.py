"""The approval ledger: write actions waiting for a human, kept in a shared state store.

Shop backends run several workers on several machines; an approval may reach any of them, after
a restart too. The ledger keeps each action as a document in a
:class:`~kefu_copilot.state._store.StateStore` and moves it through its states only by
compare-and-set, so that whatever the number of workers:

* **exactly once**: ``pending → running`` is one atomic swap; of two workers approving the same
  action at the same moment, one wins and runs the write, the other waits for its result;
* **idempotent approve**: approving an action already executed (or failed) returns the recorded
  result and runs nothing;
* **expiry**: a pending action older than ``max_age`` can no longer be approved;
* **crash safety**: the winner records ``started`` (a second swap) just before it calls the
  tool. A claim whose worker died before that point goes back to ``pending`` after
  ``claim_grace`` seconds; a worker that died *while* the write ran leaves an action that may or
  may not have been applied: it becomes ``failed`` ("interrupted") and is never retried by
  itself. Either way the write runs at most once;
* **audit**: every step appends an :class:`AuditRecord` to the append-only ``approvals`` log,
  personal data redacted with :func:`kefu_copilot.redact`.

Documents hold the action as JSON (``action``) and the ledger's bookkeeping (``lease``: epoch
seconds, comparable across machines with synchronised clocks).
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from .._errors import InputError
from ..state._store import Document, StateStore, StoreHandle
from ..text._pii import PLACEHOLDERS, redact

__all__ = ["ACTIONS", "AUDIT_LOG", "ApprovalLedger", "AuditRecord", "Claim", "redacted"]

ACTIONS = "action"
AUDIT_LOG = "approvals"
Event = Literal[
    "requested", "approved", "executed", "failed", "rejected", "expired", "released", "interrupted"
]
_SETTLED = ("executed", "failed")


class AuditRecord(BaseModel):
    """One step in the life of a write action, as the append-only audit log keeps it.

    ``arguments`` and ``result`` are redacted (phone numbers, addresses, ID and card numbers
    become placeholders); ``by`` is whoever approved or rejected it (``None`` for the system).
    """

    event: Event
    action_id: str
    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    summary: str = ""
    conversation_id: str | None = None
    requested_at: datetime | None = None
    at: datetime
    by: str | None = None
    ok: bool | None = None
    result: Any = None
    error: str | None = None
    note: str = ""


def redacted(value: Any, key: str = "") -> Any:
    """``value`` with personal data replaced by kefu's placeholders: strings go through
    :func:`~kefu_copilot.redact`; a value under a key named after a kind of personal data
    (``address``, ``new_address``, ``phone``, ``email`` …) is replaced whole."""
    name = key.lower()
    for kind, placeholder in PLACEHOLDERS.items():
        if name == kind or name.endswith("_" + kind):
            return placeholder if value not in (None, "") else value
    if isinstance(value, str):
        return redact(value).text
    if isinstance(value, Mapping):
        return {str(k): redacted(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redacted(v, key) for v in value]
    return value


@dataclass(frozen=True)
class Claim:
    """What :meth:`ApprovalLedger.claim` decided: ``run`` True means this worker won the action
    and must call the tool (then :meth:`~ApprovalLedger.settle`); False means ``action`` holds
    the recorded outcome (another worker ran it, or it ran before)."""

    run: bool
    action: dict[str, Any]
    token: str = ""


_WORKER = f"{socket.gethostname()}:{os.getpid()}"


class ApprovalLedger:
    """Pending write actions in a :class:`StateStore`, moved through their states atomically."""

    def __init__(
        self,
        store: StateStore | Callable[[], StateStore],
        *,
        max_age: float | None = 24 * 3600.0,
        claim_grace: float = 10.0,
        run_grace: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._handle = StoreHandle(store)
        self.max_age = max_age
        self.claim_grace = claim_grace
        self.run_grace = run_grace
        self.clock = clock

    @property
    def store(self) -> StateStore:
        return self._handle.get()

    # -- reading -----------------------------------------------------------------------------
    def add(self, action: Mapping[str, Any]) -> None:
        now = self.clock()
        lease = {"requested": now, "claimed": None, "started": None, "worker": None}
        doc = {"action": dict(action), "lease": lease}
        if not self.store.create(ACTIONS, action["id"], doc, tag=action["status"]):
            raise InputError(f"an action with id {action['id']!r} is already queued")
        self._audit("requested", doc, now)

    def get(self, action_id: str, *, timeout: float = 0.0) -> dict[str, Any]:
        """The action (recovering it when its worker died), or :class:`InputError`."""
        return self._read(action_id, timeout)[0].value["action"]

    def _read(self, action_id: str, timeout: float) -> tuple[Document, bool]:
        """The document and whether it is expired; a stale claim is recovered first."""
        doc = self.store.get(ACTIONS, action_id)
        if doc is None:
            raise InputError(f"no pending action with id {action_id!r}")
        recovered = self._recover(doc, timeout)
        if recovered is not None:
            return recovered, False
        return doc, self._expired(doc)

    def _expired(self, doc: Document) -> bool:
        requested = doc.value["lease"]["requested"]
        return (
            doc.tag == "pending"
            and self.max_age is not None
            and self.clock() - requested > self.max_age
        )

    def pending(self, conversation_id: str | None = None) -> list[dict[str, Any]]:
        """Actions waiting for a human (not expired), oldest first; stale claims are released."""
        docs = self.store.documents(ACTIONS, tag="pending")
        for doc in self.store.documents(ACTIONS, tag="running"):
            back = self._recover(doc, None)  # only released claims: tool timeouts unknown here
            if back is not None and back.tag == "pending":
                docs.append(back)
        docs = [d for d in docs if not self._expired(d)]
        docs.sort(key=lambda d: (d.value["lease"]["requested"], d.key))
        actions = [d.value["action"] for d in docs]
        return [
            a for a in actions if conversation_id is None or a["conversation_id"] == conversation_id
        ]

    def audit(self, action_id: str | None = None, *, limit: int | None = None) -> list[AuditRecord]:
        """The audit trail, oldest first: every action's (or one action's) steps."""
        entries = self.store.entries(AUDIT_LOG, limit=None if action_id else limit)
        records = [AuditRecord.model_validate(e) for e in entries]
        if action_id is not None:
            records = [r for r in records if r.action_id == action_id]
        return records[-limit:] if limit else records

    # -- the state machine -------------------------------------------------------------------
    def _swap(
        self, doc: Document, action: dict[str, Any], lease: dict[str, Any]
    ) -> Document | None:
        value = {"action": action, "lease": lease}
        if self.store.swap(ACTIONS, doc.key, value, version=doc.version, tag=action["status"]):
            return Document(doc.key, value, doc.version + 1, action["status"])
        return None

    def _recover(self, doc: Document, timeout: float | None) -> Document | None:
        """A running action whose worker is gone: back to pending if the write never started,
        ``failed`` (interrupted, never retried) if it may have run — judged only with the
        tool's ``timeout`` given. None: nothing to recover."""
        if doc.tag != "running":
            return None
        lease, now = doc.value["lease"], self.clock()
        action = dict(doc.value["action"])
        if lease["started"] is None and now - (lease["claimed"] or 0) > self.claim_grace:
            action.update(status="pending", decided_by=None, decided_at=None, note="")
            event: Event = "released"
            note = "the approving worker stopped before the write ran; waiting for approval again"
            lease = {**lease, "claimed": None, "worker": None}
        elif (
            timeout is not None
            and lease["started"] is not None
            and now - lease["started"] > timeout + self.run_grace
        ):
            note = (
                "interrupted: the worker stopped while the write was running; it may or may not "
                "have been applied — check the shop system (never retried automatically)"
            )
            action.update(status="failed", note=note)
            event = "interrupted"
        else:
            return None
        swapped = self._swap(doc, action, lease)
        if swapped is None:  # someone else changed it: read it again
            fresh = self.store.get(ACTIONS, doc.key)
            return fresh if fresh is not None else doc
        self._audit(event, swapped.value, now, note=note)
        return swapped

    def claim(self, action_id: str, by: str | None, *, timeout: float) -> Claim:
        """Win the right to run the action (``pending → running``), or learn its outcome.

        ``timeout`` is the tool's: a losing approver waits that long (plus ``run_grace``) for the
        winner's result. Raises :class:`InputError` for an unknown, rejected or expired action.
        """
        deadline = time.monotonic() + timeout + self.run_grace
        delay = 0.005
        while True:
            doc, expired = self._read(action_id, timeout)
            action = doc.value["action"]
            status = action["status"]
            if status in _SETTLED:
                return Claim(False, action)  # idempotent: the recorded outcome
            if status in ("rejected", "expired"):
                note = f" ({action['note']})" if action.get("note") else ""
                raise InputError(f"action {action_id} is {status}{note}; it cannot be approved")
            if expired:
                self._expire(doc)
                continue
            if status == "running":
                if time.monotonic() > deadline:
                    return Claim(False, action)  # still running elsewhere: status says so
                time.sleep(delay)
                delay = min(0.1, delay * 2)
                continue
            now, token = self.clock(), f"{_WORKER}:{uuid.uuid4().hex[:8]}"
            won = self._swap(
                doc,
                {**action, "status": "running", "decided_by": by, "decided_at": _iso(now)},
                {**doc.value["lease"], "claimed": now, "worker": token},
            )
            if won is not None:
                self._audit("approved", won.value, now, by=by)
                return Claim(True, won.value["action"], token)

    def start(self, claim: Claim) -> bool:
        """Record that the write is about to run (the point of no return). False: the claim was
        lost (this worker paused past ``claim_grace`` and the action was released)."""
        doc = self.store.get(ACTIONS, claim.action["id"])
        if doc is None or doc.tag != "running" or doc.value["lease"]["worker"] != claim.token:
            return False
        lease = {**doc.value["lease"], "started": self.clock()}
        return self._swap(doc, doc.value["action"], lease) is not None

    def settle(self, claim: Claim, result: Mapping[str, Any], ok: bool) -> dict[str, Any]:
        """Record the write's result (``executed`` or ``failed``) and audit it."""
        by = claim.action.get("decided_by")
        status: Event = "executed" if ok else "failed"
        while True:
            doc = self.store.get(ACTIONS, claim.action["id"])
            if doc is None:  # deleted meanwhile: the result still goes to the audit log
                action = {**claim.action, "status": status, "result": dict(result)}
                break
            action = {
                **doc.value["action"],
                "status": status,
                "result": dict(result),
                "note": f"approved by {by}" if by else "approved",
            }
            if self._swap(doc, action, doc.value["lease"]) is not None:
                break
        self._audit(status, {"action": action, "lease": {}}, self.clock(), by=by, result=result)
        return action

    def reject(
        self, action_id: str, reason: str, by: str | None, *, timeout: float
    ) -> dict[str, Any]:
        """``pending → rejected`` (``timeout``: the tool's, to judge a running action)."""
        while True:
            doc, expired = self._read(action_id, timeout)
            action = doc.value["action"]
            if action["status"] == "rejected":
                return action  # a retried reject
            if expired:
                self._expire(doc)
                continue
            if action["status"] != "pending":
                raise InputError(f"action {action_id} is already {action['status']}")
            now = self.clock()
            note = "; ".join(x for x in (f"rejected by {by}" if by else "", reason) if x)
            changed = {
                **action,
                "status": "rejected",
                "decided_by": by,
                "decided_at": _iso(now),
                "note": note,
            }
            done = self._swap(doc, changed, doc.value["lease"])
            if done is not None:
                self._audit("rejected", done.value, now, by=by, note=reason)
                return changed

    def _expire(self, doc: Document) -> None:
        hours = (self.max_age or 0) / 3600
        note = f"expired: not approved within {hours:g} h"
        action = {**doc.value["action"], "status": "expired", "note": note}
        done = self._swap(doc, action, doc.value["lease"])
        if done is not None:
            self._audit("expired", done.value, self.clock(), note=note)

    def _audit(
        self,
        event: Event,
        doc: Mapping[str, Any],
        at: float,
        *,
        by: str | None = None,
        result: Mapping[str, Any] | None = None,
        note: str = "",
    ) -> None:
        action = doc["action"]
        entry = AuditRecord(
            event=event,
            action_id=action["id"],
            tool=action["tool"],
            arguments=redacted(action.get("arguments") or {}),
            summary=redacted(action.get("summary") or ""),
            conversation_id=action.get("conversation_id"),
            requested_at=action.get("created_at"),
            at=datetime.fromtimestamp(at),
            by=by,
            ok=None if result is None else bool(result.get("ok")),
            result=None if result is None else redacted(result.get("value")),
            error=None if result is None else result.get("error"),
            note=redacted(note),
        )
        self.store.append(AUDIT_LOG, entry.model_dump(mode="json"))


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts).isoformat()
