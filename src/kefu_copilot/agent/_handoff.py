"""The handoff packet: everything a human agent needs to take over without asking again."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from .._models import Citation

__all__ = ["HandoffPacket"]

_ROLE = {"customer": "顾客", "agent": "客服", "bot": "机器人", "system": "系统"}
_RISK_LABEL = {
    "complaint_threat": "投诉威胁",
    "bad_review_threat": "差评威胁",
    "public_exposure": "曝光威胁",
    "legal_threat": "法律威胁",
    "refund_demand": "退款诉求",
    "compensation_demand": "赔偿诉求",
    "repeated_question": "重复提问未解决",
    "long_wait": "等待过久",
    "profanity": "辱骂",
    "sarcasm": "反讽",
    "human_requested": "要求人工",
}
_EMOTION_LABEL = {
    "angry": "愤怒",
    "anxious": "焦虑",
    "confused": "困惑",
    "neutral": "平稳",
    "satisfied": "满意",
}


class HandoffPacket(BaseModel):
    """A short brief for the human agent who takes over a conversation."""

    conversation_id: str | None = None
    customer_wants: str = Field(description="what the customer is asking for, in their words")
    earlier_requests: list[str] = Field(default_factory=list)
    order_ids: list[str] = Field(default_factory=list)
    products: list[str] = Field(default_factory=list)
    already_answered: list[str] = Field(default_factory=list, description="replies already given")
    emotion: str = "neutral"
    intensity: float = 0.0
    risks: list[str] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list, description="why a human is needed")
    citations: list[Citation] = Field(default_factory=list)
    suggested_next_step: str = ""
    transcript_tail: list[dict[str, Any]] = Field(default_factory=list)

    def render(self) -> str:
        """Plain text for an agent console, ticket or chat note."""
        lines = [f"【转人工】{self.conversation_id or ''}".rstrip()]
        lines.append(f"顾客诉求：{self.customer_wants}")
        if self.earlier_requests:
            lines.append("此前提到：" + "；".join(self.earlier_requests))
        if self.order_ids:
            lines.append("订单号：" + "、".join(self.order_ids))
        if self.products:
            lines.append("涉及商品：" + "、".join(self.products))
        if self.already_answered:
            lines.append("已答复：" + "；".join(self.already_answered))
        mood = _EMOTION_LABEL.get(self.emotion, self.emotion)
        lines.append(
            f"情绪：{mood}（强度 {self.intensity:.1f}）"
            + (
                "；风险：" + "、".join(_RISK_LABEL.get(r, r) for r in self.risks)
                if self.risks
                else ""
            )
        )
        if self.reasons:
            lines.append("转人工原因：" + "；".join(self.reasons))
        for c in self.citations[:3]:
            lines.append(f"相关知识：{c.source}（{c.locator}）{c.snippet[:60]}")
        if self.suggested_next_step:
            lines.append(f"建议下一步：{self.suggested_next_step}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()
