"""The :class:`Conversation` model shared by answering, routing, drafting and insights."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .._errors import InputError
from .._models import Message
from ..text._patterns import order_references as find_order_ids
from ..text._patterns import skus as find_skus

__all__ = ["Conversation", "find_order_ids", "find_skus"]  # the finders live in text._patterns

ROLE_ALIASES = {  # role names seen in exports -> ours
    "customer": "customer",
    "agent": "agent",
    "bot": "bot",
    "system": "system",
    "user": "customer",
    "assistant": "bot",
    "客服": "agent",
    "顾客": "customer",
}


def _message(item: Message | dict[str, Any] | Any) -> Message:
    if isinstance(item, Message):
        return item
    if isinstance(item, dict):
        role = ROLE_ALIASES.get(str(item.get("role", "customer")).lower(), "customer")
        text = item.get("text", item.get("content", ""))
        ts = item.get("ts")
        try:
            return Message.model_validate(
                {
                    "role": role,
                    "text": str(text if text is not None else ""),
                    "ts": ts,
                    "agent_id": item.get("agent_id"),
                }
            )
        except ValueError as exc:
            raise InputError(f"bad message {item!r}: {exc}") from None
    raise InputError("messages must be Message objects or {'role', 'text'} dicts")


class Conversation(BaseModel):
    """Messages in order, each with a role (customer | agent | bot | system) and optional time."""

    model_config = ConfigDict(frozen=True)

    id: str | None = None
    messages: list[Message] = Field(default_factory=list)
    customer_id: str | None = None

    @classmethod
    def of(
        cls, value: Conversation | Sequence[Message | dict[str, Any]] | str, **kw: Any
    ) -> Conversation:
        """Accept a Conversation, a list of messages/dicts, or a single customer message."""
        if isinstance(value, Conversation):
            return value
        if isinstance(value, str):
            return cls(messages=[Message(role="customer", text=value)], **kw)
        return cls(messages=[_message(m) for m in value], **kw)

    def add(self, role: str, text: str, ts: datetime | None = None) -> Conversation:
        """A new conversation with one more message (conversations are immutable)."""
        return self.model_copy(
            update={"messages": [*self.messages, _message({"role": role, "text": text, "ts": ts})]}
        )

    @property
    def last_customer_index(self) -> int | None:
        for i in range(len(self.messages) - 1, -1, -1):
            if self.messages[i].role == "customer":
                return i
        return None

    @property
    def last_customer_text(self) -> str:
        i = self.last_customer_index
        return self.messages[i].text if i is not None else ""

    def before_last_customer(self) -> list[Message]:
        i = self.last_customer_index
        return list(self.messages[:i]) if i is not None else list(self.messages)

    def customer_texts(self) -> list[str]:
        return [m.text for m in self.messages if m.role == "customer"]

    def order_ids(self) -> list[str]:
        return list(
            dict.fromkeys(
                o for m in self.messages if m.role == "customer" for o in find_order_ids(m.text)
            )
        )

    def skus(self) -> list[str]:
        return list(dict.fromkeys(s for m in self.messages for s in find_skus(m.text)))

    def tail(self, n: int = 6) -> Iterable[Message]:
        return self.messages[-n:]
