"""Per customer message: send the answer (auto), draft it for an agent, or hand off to a human.

The decision combines answer confidence, the emotion flag, risk flags and shop rules
(``escalation_keywords``, compensation limits, service hours); every reason is on the result.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, time
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from ._conversation import Conversation
from ._errors import InputError
from ._handoff import HandoffPacket
from ._models import Answer, Decision, Message
from ._shop import ShopConfig

if TYPE_CHECKING:
    from ._emotion import EmotionFlag

__all__ = ["Router", "Turn", "within_service_hours"]

_ORDER: dict[Decision, int] = {"handoff": 0, "draft": 1, "auto": 2}
HANDOFF_RISKS = frozenset(
    {
        "complaint_threat",
        "bad_review_threat",
        "public_exposure",
        "legal_threat",
        "repeated_question",
        "human_requested",
        "profanity",
    }
)
DRAFT_RISKS = frozenset({"refund_demand", "compensation_demand", "long_wait", "sarcasm"})
_HOURS = re.compile(r"(\d{1,2})[:：](\d{2})\s*[-~～至到]\s*(\d{1,2})[:：](\d{2})")


class Turn(BaseModel):
    """The router's verdict on one customer message."""

    conversation_id: str | None = None
    message: str
    decision: Decision
    text: str = Field(
        description="auto: send it; draft: for an agent to check; handoff: the handoff message"
    )
    answer: Answer
    emotion: Any = Field(description="the EmotionFlag of the message")
    reasons: list[str] = Field(default_factory=list)
    handoff: HandoffPacket | None = None
    within_service_hours: bool | None = None


def within_service_hours(hours: str | None, now: datetime) -> bool | None:
    """Whether ``now`` falls in "09:00-23:00" (overnight ranges allowed); None if unknown."""
    match = _HOURS.search(hours or "")
    if not match:
        return None
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if not (h1 < 25 and h2 < 25 and m1 < 60 and m2 < 60):
        return None
    start, end = time(min(h1, 23), m1), time(min(h2, 23), m2 if h2 < 24 else 59)
    current = now.time()
    return start <= current <= end if start <= end else (current >= start or current <= end)


def _lower(decision: Decision, to: Decision) -> Decision:
    return to if _ORDER[to] < _ORDER[decision] else decision


class Router:
    """Routes customer messages. ``answer`` is :meth:`Copilot.answer`; ``products`` names the
    products a text mentions (for the handoff packet)."""

    def __init__(
        self,
        answer: Callable[[str, list[Message]], Answer],
        shop: ShopConfig,
        *,
        escalation_model: Any = None,
        products: Callable[[str], list[str]] | None = None,
        clock: Callable[[], datetime] = datetime.now,
    ) -> None:
        self._answer = answer
        self.shop = shop
        self.escalation_model = escalation_model
        self._products = products or (lambda text: [])
        self._clock = clock

    def flag(self, text: str, context: list[Message]) -> EmotionFlag:
        from ._emotion import emotion_flag

        return emotion_flag(
            text, context, extra_keywords=self.shop.escalation_keywords, model=self.escalation_model
        )

    def handle(self, conversation: Conversation) -> Turn:
        text = conversation.last_customer_text.strip()
        if not text:
            raise InputError("the conversation has no customer message to handle")
        history = conversation.before_last_customer()
        emotion = self.flag(text, history)
        answer = self._answer(text, history)
        decision: Decision = answer.decision
        reasons = list(answer.reasons)

        if emotion.escalate:
            decision = "handoff"
            reasons.append(
                f"emotion: {emotion.emotion} ({emotion.intensity:.2f}) escalates"
                + (f"; risks: {', '.join(emotion.risk)}" if emotion.risk else "")
            )
        hard = sorted(set(emotion.risk) & HANDOFF_RISKS)
        if hard:
            decision = "handoff"
            reasons.append(f"risk: {', '.join(hard)}")
        soft = sorted(set(emotion.risk) & DRAFT_RISKS)
        if soft and decision == "auto":
            decision = "draft"
            reasons.append(f"a human checks the reply (risk: {', '.join(soft)})")
        if (
            decision == "auto"
            and emotion.emotion in ("angry", "anxious")
            and emotion.intensity >= 0.4
        ):
            decision = "draft"
            reasons.append(f"upset customer ({emotion.emotion}): a human checks the reply first")

        in_hours = within_service_hours(self.shop.service_hours, self._clock())
        if decision == "handoff":
            reply = self.shop.handoff_message
            if in_hours is False:
                reply += f"（人工客服服务时间 {self.shop.service_hours}，上班后第一时间为您处理。）"
            packet = self.packet(conversation, answer, emotion, reasons)
            return Turn(
                conversation_id=conversation.id,
                message=text,
                decision="handoff",
                text=reply,
                answer=answer,
                emotion=emotion,
                reasons=reasons,
                handoff=packet,
                within_service_hours=in_hours,
            )
        return Turn(
            conversation_id=conversation.id,
            message=text,
            decision=decision,
            text=answer.text,
            answer=answer,
            emotion=emotion,
            reasons=reasons,
            within_service_hours=in_hours,
        )

    # -- the packet ------------------------------------------------------------------------------
    def packet(
        self, conversation: Conversation, answer: Answer, emotion: EmotionFlag, reasons: list[str]
    ) -> HandoffPacket:
        customer = conversation.customer_texts()
        earlier = [t for t in customer[:-1] if t.strip()][-3:]
        answered = [m.text[:80] for m in conversation.messages if m.role in ("agent", "bot")][-3:]
        products: list[str] = []
        for text in customer:
            for name in self._products(text):
                if name not in products:
                    products.append(name)
        tail = [{"role": m.role, "text": m.text} for m in conversation.tail(6)]
        return HandoffPacket(
            conversation_id=conversation.id,
            customer_wants=customer[-1] if customer else "",
            earlier_requests=earlier,
            order_ids=conversation.order_ids(),
            products=products + [s for s in conversation.skus() if s not in products],
            already_answered=answered,
            emotion=emotion.emotion,
            intensity=emotion.intensity,
            risks=list(emotion.risk),
            reasons=reasons,
            citations=answer.citations,
            suggested_next_step=self.next_step(conversation, answer, emotion, reasons),
            transcript_tail=tail,
        )

    def next_step(
        self, conversation: Conversation, answer: Answer, emotion: EmotionFlag, reasons: list[str]
    ) -> str:
        limit = self.shop.compensation
        risks = set(emotion.risk)
        joined = " ".join(reasons)
        steps: list[str] = []
        if (
            risks
            & {
                "complaint_threat",
                "bad_review_threat",
                "public_exposure",
                "legal_threat",
                "profanity",
            }
            or emotion.emotion == "angry"
        ):
            steps.append("先真诚致歉、安抚情绪，确认问题细节，并给出明确的处理时限")
        if "order system" in joined or conversation.order_ids():
            ids = "、".join(conversation.order_ids()) or "（先向顾客要订单号）"
            steps.append(f"在后台查询订单 {ids} 的状态/物流后答复")
        if (
            risks & {"compensation_demand", "refund_demand"}
            or "compensation" in joined
            or "limit" in joined
        ):
            steps.append(
                f"核实后在权限内提出方案（优惠券≤{limit.max_coupon_yuan:g}元、现金≤"
                f"{limit.max_cash_yuan:g}元），超出需主管审批"
            )
        if "repeated_question" in risks:
            steps.append(f"直接回答顾客反复询问的问题：“{conversation.last_customer_text[:40]}”")
        if "instruct" in joined:
            steps.append("顾客消息含有试图操控机器人的内容，按正常问题礼貌答复，不做规则外承诺")
        if "knowledge does not" in joined or "no knowledge" in joined:
            steps.append("人工答复后，把这个问题补充进FAQ")
        if not steps:
            steps.append("查看对话并直接答复顾客的问题")
        return "；".join(steps) + "。"
