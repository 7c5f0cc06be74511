"""Shop-system tools: typed look-ups and actions the shop backend implements in plain Python.

A tool is a sync or async function with type hints; :class:`ToolRegistry` derives its JSON
schema (for LLM function calling) from them, validates arguments and results, runs it with a
per-call timeout and contains every failure in a :class:`ToolResult`. Read-only tools run
automatically. Tools that change anything (``writes=True``) become a :class:`PendingAction` a
human approves, unless ``shop.yaml`` lists the tool in ``auto_actions`` and every amount stays
within ``compensation`` — the copilot never has more authority than the shop gave it.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model

from .._errors import KefuError
from ..config._shop import ShopConfig
from ..state._store import InMemoryStore, StateStore
from ._approvals import ACTIONS, ApprovalLedger, AuditRecord

__all__ = [
    "AuditRecord",
    "Coupon",
    "Order",
    "OrderItem",
    "PendingAction",
    "Refund",
    "Shipment",
    "ShipmentEvent",
    "StockLevel",
    "Ticket",
    "Tool",
    "ToolError",
    "ToolRegistry",
    "ToolResult",
    "VariantStock",
    "approval_needed",
    "tool",
]

OrderStatus = Literal[
    "pending_payment", "paid", "shipped", "delivered", "completed", "cancelled", "refunding"
]


# -- the standard tools' data ------------------------------------------------------------------
class OrderItem(BaseModel):
    sku: str
    title: str
    quantity: int = 1
    unit_price: float = Field(description="what the customer paid per piece, yuan")
    color: str | None = None
    size: str | None = None


class Refund(BaseModel):
    status: Literal["processing", "approved", "refunded", "rejected"]
    amount_yuan: float
    updated_at: datetime
    expected_by: date | None = None
    note: str = ""


class Order(BaseModel):
    """``get_order(order_id) -> Order | None``."""

    order_id: str
    customer_id: str
    status: OrderStatus
    items: list[OrderItem] = Field(default_factory=list)
    paid_at: datetime | None = None
    goods_yuan: float = Field(0, description="goods total before coupons")
    paid_yuan: float = 0
    address: str = ""
    tracking_no: str | None = None
    coupon_id: str | None = None
    refund: Refund | None = None


class ShipmentEvent(BaseModel):
    time: datetime
    place: str = ""
    description: str


class Shipment(BaseModel):
    """``track_shipment(order_id=None, tracking_no=None) -> Shipment | None``."""

    order_id: str | None = None
    tracking_no: str
    carrier: str = ""
    status: Literal["waiting", "in_transit", "delivering", "delivered", "exception"]
    events: list[ShipmentEvent] = Field(default_factory=list, description="oldest first")
    estimated_delivery: date | None = None


class VariantStock(BaseModel):
    color: str | None = None
    size: str | None = None
    available: int


class StockLevel(BaseModel):
    """``check_stock(sku) -> StockLevel | None``."""

    sku: str
    title: str = ""
    price: float | None = None
    available: int
    variants: list[VariantStock] = Field(default_factory=list)
    restock_date: date | None = None


class Coupon(BaseModel):
    """``get_coupons(customer_id) -> list[Coupon]``; ``issue_coupon(...) -> Coupon``."""

    coupon_id: str
    customer_id: str
    title: str
    amount_yuan: float
    min_spend_yuan: float = 0
    valid_until: datetime
    status: Literal["unused", "used", "expired"] = "unused"
    skus: list[str] | None = Field(None, description="only these products; None: all")


class Ticket(BaseModel):
    """``create_ticket(summary, order_id=None, customer_id=None) -> Ticket``."""

    ticket_id: str
    summary: str
    order_id: str | None = None
    customer_id: str | None = None
    status: str = "open"
    created_at: datetime


# -- results -------------------------------------------------------------------------------------
class ToolError(KefuError):
    """A tool cannot be registered or called (unknown name, bad schema, no function calling)."""


class ToolResult(BaseModel):
    """One tool call. ``ok`` False: ``error`` says why (``timed_out`` for a timeout)."""

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    ok: bool
    value: Any = None
    error: str | None = None
    timed_out: bool = False
    seconds: float = 0.0
    at: datetime = Field(default_factory=datetime.now)

    def data(self) -> Any:
        """The value as JSON-compatible data."""
        return TypeAdapter(Any).dump_python(self.value, mode="json")

    def problem(self) -> str:
        return f"tool {self.name} failed: {self.error}"


class PendingAction(BaseModel):
    """A write a human must approve (:meth:`ToolRegistry.approve`) or reject.

    It lives in the registry's state store (shared by every worker when that store is SQLite or
    Redis): ``pending`` until someone decides, ``running`` while the approved write runs, then
    ``executed`` or ``failed`` (with ``result``); ``rejected``; ``expired`` when nobody approved
    it within the registry's ``max_age``.
    """

    id: str = Field(default_factory=lambda: uuid.uuid4().hex[:12])
    tool: str
    arguments: dict[str, Any]
    summary: str = Field("", description="what it does, for the agent")
    reason: str = Field("", description="why it needs a human")
    reply_on_success: str = Field("", description="what to tell the customer once it is done")
    conversation_id: str | None = None
    status: Literal["pending", "running", "executed", "failed", "rejected", "expired"] = "pending"
    result: ToolResult | None = None
    note: str = ""
    created_at: datetime = Field(default_factory=datetime.now)
    decided_by: str | None = Field(None, description="who approved or rejected it")
    decided_at: datetime | None = None


# -- declaring tools -----------------------------------------------------------------------------
@dataclass(frozen=True)
class _Spec:
    name: str | None
    description: str | None
    writes: bool
    timeout: float | None


def tool(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    writes: bool = False,
    timeout: float | None = None,
) -> Any:
    """Mark a function (or method) as a tool: ``@tool`` or ``@tool(writes=True)``; then
    ``registry.register(fn)`` or ``registry.register_all(obj)``."""

    def mark(f: Callable[..., Any]) -> Callable[..., Any]:
        f.__kefu_tool__ = _Spec(name, description, writes, timeout)  # type: ignore[attr-defined]
        return f

    return mark(fn) if fn is not None else mark


@dataclass
class Tool:
    name: str
    description: str
    fn: Callable[..., Any]
    writes: bool
    timeout: float
    arguments: type[BaseModel]
    returns: TypeAdapter[Any] | None
    is_async: bool

    @property
    def parameters(self) -> dict[str, Any]:
        schema = self.arguments.model_json_schema()
        schema.pop("title", None)
        for prop in schema.get("properties", {}).values():
            prop.pop("title", None)
        return schema

    def openai_schema(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }


def _build(
    fn: Callable[..., Any], name: str, description: str, writes: bool, timeout: float
) -> Tool:
    try:
        hints = get_type_hints(fn)
        signature = inspect.signature(fn)
    except (NameError, TypeError, ValueError) as exc:
        raise ToolError(f"tool {name!r}: cannot read its type hints ({exc})") from None
    fields: dict[str, Any] = {}
    for param in signature.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if param.name not in hints:
            raise ToolError(f"tool {name!r}: parameter {param.name!r} needs a type hint")
        default = ... if param.default is param.empty else param.default
        fields[param.name] = (hints[param.name], default)
    config = ConfigDict(coerce_numbers_to_str=True)  # an LLM may send 123 for an id
    model = create_model(f"{name}_arguments", __config__=config, **fields)
    ret = hints.get("return")
    returns = None if ret in (None, Any) else TypeAdapter(ret)
    doc = description or inspect.getdoc(fn) or name
    is_async = inspect.iscoroutinefunction(fn)
    return Tool(name, doc.strip().split("\n\n")[0], fn, writes, timeout, model, returns, is_async)


def _run_in_thread(fn: Callable[..., Any], kwargs: dict[str, Any], timeout: float) -> Any:
    """Run ``fn`` (sync, or async via its own event loop) in a daemon thread; a tool that hangs
    past the timeout is abandoned, never joined, and cannot hold up interpreter exit."""
    box: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        try:
            value = fn(**kwargs)
            box["value"] = asyncio.run(value) if inspect.iscoroutine(value) else value
        except BaseException as exc:
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=target, name="kefu-tool", daemon=True).start()
    if not done.wait(timeout):
        raise TimeoutError
    if "error" in box:
        raise box["error"]
    return box.get("value")


class ToolRegistry:
    """The shop's tools, and the write actions waiting for a human. Thread-safe."""

    def __init__(
        self,
        *,
        timeout: float = 5.0,
        store: StateStore | Callable[[], StateStore] | None = None,
        max_age: float | None = 24 * 3600.0,
    ) -> None:
        """``store`` keeps the write actions waiting for approval (a :class:`StateStore` or a
        function opening one on first use); default: this process's memory — a ``Copilot``
        gives its registry the store of its settings (``KEFU_STATE_URL``) instead. ``max_age``:
        seconds after which a pending action can no longer be approved (None: never)."""
        self.timeout = timeout
        self._tools: dict[str, Tool] = {}
        self._lock = threading.RLock()
        self._store_given = store is not None
        # the default store is made on first use, so that a Copilot can still adopt the registry
        self.ledger = ApprovalLedger(store if store is not None else InMemoryStore, max_age=max_age)

    # -- registering ---------------------------------------------------------------------------
    def register(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        writes: bool | None = None,
        timeout: float | None = None,
    ) -> Tool:
        spec: _Spec = getattr(fn, "__kefu_tool__", None) or _Spec(None, None, False, None)
        name = name or spec.name or getattr(fn, "__name__", "")
        if not name or not name.replace("_", "").isalnum() or not name.isascii():
            raise ToolError(f"tool name {name!r} must be ASCII letters, digits and underscores")
        writes = spec.writes if writes is None else writes
        timeout = float(timeout or spec.timeout or self.timeout)
        built = _build(fn, name, description or spec.description or "", writes, timeout)
        with self._lock:
            self._tools[name] = built
        return built

    def register_all(self, obj: Any) -> list[Tool]:
        """Register every ``@tool``-marked function or method of ``obj``."""
        marked = [getattr(obj, n) for n in dir(obj) if not n.startswith("_")]
        return [self.register(f) for f in marked if hasattr(f, "__kefu_tool__")]

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def get(self, name: str) -> Tool:
        try:
            return self._tools[name]
        except KeyError:
            raise ToolError(f"no tool named {name!r} is registered") from None

    @property
    def tools(self) -> list[Tool]:
        return list(self._tools.values())

    def schemas(self) -> list[dict[str, Any]]:
        """The ``tools=[...]`` list for an OpenAI-compatible chat completion."""
        return [t.openai_schema() for t in self.tools]

    # -- calling -------------------------------------------------------------------------------
    def _prepare(self, name: str, arguments: dict[str, Any]) -> tuple[Tool, dict[str, Any]]:
        tool_ = self.get(name)
        parsed = tool_.arguments.model_validate(arguments)
        return tool_, {k: getattr(parsed, k) for k in type(parsed).model_fields}

    def _finish(self, tool_: Tool, args: dict[str, Any], value: Any, start: float) -> ToolResult:
        if tool_.returns is not None:
            value = tool_.returns.validate_python(value)
        return ToolResult(
            name=tool_.name, arguments=args, ok=True, value=value, seconds=_since(start)
        )

    def _failed(
        self, name: str, arguments: dict[str, Any], exc: BaseException, start: float, limit: float
    ) -> ToolResult:
        timed_out = isinstance(exc, TimeoutError)
        if timed_out:
            error = f"timed out after {limit:g} s"
        elif isinstance(exc, ValidationError):
            error = f"invalid arguments or result: {exc.errors()[0].get('msg', exc)}"
        else:
            error = f"{type(exc).__name__}: {exc}"[:300]
        return ToolResult(
            name=name,
            arguments=arguments,
            ok=False,
            error=error,
            timed_out=timed_out,
            seconds=_since(start),
        )

    def call(self, name: str, arguments: dict[str, Any] | None = None) -> ToolResult:
        """Run a tool now (no approval check); any failure or timeout comes back in the result."""
        arguments, start, limit = dict(arguments or {}), time.monotonic(), self.timeout
        try:
            tool_, args = self._prepare(name, arguments)
            limit = tool_.timeout
            value = _run_in_thread(tool_.fn, args, tool_.timeout)
            return self._finish(tool_, args, value, start)
        except Exception as exc:
            return self._failed(name, arguments, exc, start, limit)

    async def acall(self, name: str, arguments: dict[str, Any] | None = None) -> ToolResult:
        """Async :meth:`call`: async tools on this loop, sync ones in a daemon thread."""
        arguments, start, limit = dict(arguments or {}), time.monotonic(), self.timeout
        try:
            tool_, args = self._prepare(name, arguments)
            limit = tool_.timeout
            if tool_.is_async:
                value = await asyncio.wait_for(tool_.fn(**args), tool_.timeout)
            else:
                value = await asyncio.to_thread(_run_in_thread, tool_.fn, args, tool_.timeout)
            return self._finish(tool_, args, value, start)
        except Exception as exc:
            return self._failed(name, arguments, exc, start, limit)

    # -- approvals -----------------------------------------------------------------------------
    def adopt_store(
        self, store: StateStore | Callable[[], StateStore], *, max_age: float | None
    ) -> bool:
        """Keep approvals in ``store`` unless this registry was given one or has queued an
        action already (a ``Copilot`` calls this with the store of its settings)."""
        with self._lock:
            if self._store_given or self.ledger._handle.opened:
                return False
            self.ledger = ApprovalLedger(store, max_age=max_age)
            self._store_given = True
            return True

    @property
    def store(self) -> StateStore:
        """Where the pending actions and the approval audit log are kept."""
        return self.ledger.store

    def queue(self, action: PendingAction) -> PendingAction:
        self.get(action.tool)
        self.ledger.add(action.model_dump(mode="json"))
        return action

    def action(self, action_id: str) -> PendingAction:
        """The action as it stands now (any status); :class:`InputError` if unknown."""
        return PendingAction.model_validate(
            self.ledger.get(action_id, timeout=self._limit_of(action_id))
        )

    def pending(self, conversation_id: str | None = None) -> list[PendingAction]:
        """Actions waiting for a human (expired ones left out), oldest first."""
        return [PendingAction.model_validate(a) for a in self.ledger.pending(conversation_id)]

    def _limit_of(self, action_id: str) -> float:
        found = self.ledger.store.get(ACTIONS, action_id)
        name = found.value["action"]["tool"] if found else ""
        return self._tools[name].timeout if name in self._tools else self.timeout

    def approve(self, action_id: str, *, by: str | None = None) -> PendingAction:
        """Execute a pending action once; ``result`` and ``status`` say how it went.

        Safe to call from any worker sharing the store, and to retry: if the action was already
        executed (or failed) the recorded outcome is returned and nothing runs again; if another
        worker is running it, this waits for its result. An unknown, rejected or expired action
        is an :class:`InputError`."""
        claim = self.ledger.claim(action_id, by, timeout=self._limit_of(action_id))
        if not claim.run:
            return PendingAction.model_validate(claim.action)
        action = PendingAction.model_validate(claim.action)
        if not self.ledger.start(claim):  # released while this worker stalled: approve again
            return self.approve(action_id, by=by)
        result = self.call(action.tool, action.arguments)
        settled = self.ledger.settle(claim, result.model_dump(mode="json"), result.ok)
        return PendingAction.model_validate({**settled, "result": result})

    def reject(self, action_id: str, reason: str = "", *, by: str | None = None) -> PendingAction:
        """Discard a pending action (it is never executed); retrying a reject is harmless."""
        limit = self._limit_of(action_id)
        return PendingAction.model_validate(
            self.ledger.reject(action_id, reason, by, timeout=limit)
        )

    def audit(self, action_id: str | None = None, *, limit: int | None = None) -> list[AuditRecord]:
        """The append-only approval audit log (personal data redacted), oldest first."""
        return self.ledger.audit(action_id, limit=limit)


def _since(start: float) -> float:
    return round(time.monotonic() - start, 4)


# -- authority ----------------------------------------------------------------------------------
def approval_needed(tool_: Tool, arguments: dict[str, Any], shop: ShopConfig) -> str | None:
    """Why a human must approve this call, or None when the copilot may run it now.

    Read-only tools run. A write runs only if ``shop.yaml`` ``auto_actions`` names it and every
    amount argument (``*_yuan``/``amount``) is within ``compensation`` (coupons:
    ``max_coupon_yuan``; anything else: ``max_cash_yuan``).
    """
    if not tool_.writes:
        return None
    allowed = (shop.model_extra or {}).get("auto_actions") or []
    allowed = [allowed] if isinstance(allowed, str) else allowed
    names = {str(a) for a in allowed} if isinstance(allowed, list) else set(allowed)
    if tool_.name not in names:
        return f"{tool_.name} changes data: a human approves it (not in shop.yaml auto_actions)"
    comp = shop.compensation
    limit = comp.max_coupon_yuan if "coupon" in tool_.name else comp.max_cash_yuan
    for key, value in arguments.items():
        if not (key.endswith("yuan") or key == "amount"):
            continue
        try:
            amount = float(value)
        except (TypeError, ValueError):
            return f"{tool_.name}: amount {key}={value!r} is not a number"
        if amount > limit or amount < 0:
            return f"{tool_.name}: {amount:g} 元 is above the shop's limit of {limit:g} 元"
    return None
