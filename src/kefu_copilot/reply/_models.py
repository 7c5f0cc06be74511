"""Models of reply drafting and the reply-style lint (pydantic v2): ``Draft``, ``LintIssue``,
``Change``, ``SimilarCase`` and ``QuickReply`` — and the text facts both read: clauses and
sentences, quantities ("48小时", "1-3个工作日"; read by :mod:`kefu_copilot.text._numbers`), money
offered as compensation.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .._errors import InputError
from .._models import Citation, Message
from ..config._shop import ShopConfig
from ..text._normalize import split_sentences
from ..text._numbers import Quantity, fold, quantities
from ..text._patterns import CN_NUMERAL
from . import _phrases as ph

__all__ = [
    "CLAUSE_DELIM",
    "ISSUE_TEXTS",
    "SENTENCE_DELIM",
    "SENTENCE_END",
    "URL",
    "Change",
    "ChangeKind",
    "Draft",
    "LintCode",
    "LintIssue",
    "Offer",
    "Quantity",
    "QuickReply",
    "Severity",
    "SimilarCase",
    "as_messages",
    "case_reply",
    "clause_spans",
    "compensation_offers",
    "fill_slots",
    "fold",
    "is_question",
    "merge_citations",
    "multiple_promises",
    "offer_limit",
    "quantities",
    "reply_sentence",
    "reply_sentences",
    "sentence_spans",
    "short_title",
    "span_around",
    "spans",
    "supported",
]

Conversation = Sequence[Message | Mapping[str, Any]]
_ROLES = {"customer": "customer", "user": "customer", "agent": "agent", "bot": "bot"}
_ROLES.update({"assistant": "agent", "staff": "agent", "system": "system", "客服": "agent"})

#: What the reply-style lint checks (see :func:`kefu_copilot.reply._lint.lint_reply`).
LintCode = Literal[
    "banned_phrase",  # a phrase the shop bans in shop.yaml `banned_phrases`
    "cold_phrase",  # a built-in cold / robotic phrase: 不可以的哦, 这是规定, 没办法, 听不懂吗 ...
    "blame_shifting",  # the customer is blamed: 是您自己…, 您没看…, 请您先检查…是否…
    "missing_empathy",  # the customer is upset and the reply acknowledges nothing
    "over_limit",  # money / compensation beyond shop.yaml `compensation`
    "fact_mismatch",  # a number the knowledge states differently (15天 where it says 7天)
    "unsupported_fact",  # a number with a unit found neither in the knowledge nor the conversation
    "unsupported_term",  # a policy promise (运费险, 上门取件 ...) the knowledge does not mention
    "wall_of_text",  # > 120 characters, >= 3 sentences, no numbered points
    "no_next_step",  # ends with neither a question nor an offer
]
Severity = Literal["error", "warning", "info"]
ChangeKind = Literal[
    "opener",  # an opening that answers the customer's feeling was added
    "remove_cold",  # a cold / banned clause without facts was dropped
    "soften",  # a cold or blaming phrase was replaced by a softer one
    "remove_blame",  # a blaming clause without facts was dropped
    "correct_fact",  # a draft fact the cited policy contradicts for this product was left out
    "remove_unsafe",  # a draft action the shop's rules forbid in this situation was dropped
    "cap_compensation",  # an amount above the shop's limit was lowered to the limit
    "remove_promise",  # a promise beyond policy (双倍赔偿 ...) was dropped
    "reason",  # the policy reason from the knowledge was added
    "alternative",  # an alternative the shop allows (换货/补发/优惠券) was added
    "closing",  # a closing question that moves things forward was added
    "format",  # the reply was laid out as numbered points
]


class LintIssue(BaseModel):
    """One problem of a reply: where it is (``span`` = ``text[start:end]``) and how to fix it."""

    model_config = ConfigDict(frozen=True)

    code: LintCode
    message: str
    span: tuple[int, int]
    severity: Severity
    suggestion: str


class Change(BaseModel):
    """One edit made to the agent's draft, and why (``before`` empty for additions)."""

    model_config = ConfigDict(frozen=True)

    kind: ChangeKind
    before: str = ""
    after: str = ""
    reason: str


class SimilarCase(BaseModel):
    """A past conversation of the case library: a reference for the agent, never a source of
    facts. ``snippet`` is the approved agent reply that best fits the current question."""

    model_config = ConfigDict(frozen=True)

    id: str
    snippet: str
    score: float = Field(ge=0, le=1)
    source: str = ""
    locator: str = ""
    chunk_id: str | None = None


class Draft(BaseModel):
    """A reply the agent may send after checking it.

    ``citations``: the knowledge the text relies on; ``similar_cases``: past conversations for
    reference; ``lint``: the reply-style lint of ``text`` (empty = clean); ``changes``: what was
    rewritten in the agent's draft and why (empty when drafting from scratch).
    """

    text: str
    citations: list[Citation] = Field(default_factory=list)
    similar_cases: list[SimilarCase] = Field(default_factory=list)
    lint: list[LintIssue] = Field(default_factory=list)
    changes: list[Change] = Field(default_factory=list)
    emotion: str = "neutral"
    mode: Literal["structured", "llm"] = "structured"

    def __rich__(self) -> Any:
        from ..present._assist import draft_panel

        return draft_panel(self)

    def _repr_html_(self) -> str:
        from ..present._assist import draft_html

        return draft_html(self)


class QuickReply(BaseModel):
    """An approved reply (快捷短语) for the conversation, its origin and the slots filled in.

    ``source`` is ``"<file> <locator>"`` (e.g. ``faq/faq.csv 第9行``, ``cases/cases.jsonl 案例
    case-002``, ``replies/common.yaml greet-1``); ``kind`` says where it comes from (an FAQ answer,
    a past case's agent turn, the shop's approved replies or its greetings); ``slots_filled`` maps slot names (``product``, ``order_id``, ``date``) to values.
    """

    model_config = ConfigDict(frozen=True)

    text: str
    source: str
    slots_filled: dict[str, str] = Field(default_factory=dict)
    kind: Literal["faq", "case", "approved", "greeting"] = "faq"
    score: float = Field(0.0, ge=0, le=1)


#: Lint texts: key → (code, severity, message, suggestion), formatted with the issue's values.
ISSUE_TEXTS: dict[str, tuple[str, str, str, str]] = {
    "empathy": (
        "missing_empathy",
        "warning",
        "顾客情绪为 {emotion}，回复没有先回应顾客的感受",
        "开头先共情，如“亲，{opener}”",
    ),
    "limit": (
        "over_limit",
        "error",
        "{label} {amount:g} 元超过店铺上限 {limit:g} 元（shop.yaml compensation）",
        "改为不超过 {limit:g} 元，或说明“这个需要请示主管，我帮您申请”",
    ),
    "promise": (
        "over_limit",
        "error",
        "承诺了超出政策的赔偿：“{phrase}”",
        "删掉这项承诺；赔偿诉求请转给主管处理",
    ),
    "mismatch": (
        "fact_mismatch",
        "error",
        "回复写的是“{value}”，知识库中是“{known}”",
        "按知识库改正这个数字",
    ),
    "unsupported": (
        "unsupported_fact",
        "warning",
        "“{value}”在引用的知识和对话中都找不到依据",
        "核实后再发，或删掉",
    ),
    "term": (
        "unsupported_term",
        "warning",
        "“{value}”是一项承诺，引用的知识里没有提到",
        "确认店铺确实提供后再写，或删掉",
    ),
    "wall": (
        "wall_of_text",
        "info",
        "{length} 个字、{count} 句连成一段，不好读",
        "拆成编号要点：\n{points}",
    ),
    "next": (
        "no_next_step",
        "info",
        "结尾没有下一步：既没有问题，也没有提出可以帮顾客做什么",
        "结尾加一个推进的问题，如“您看这样处理可以吗？”或“方便把订单号发给我吗？”",
    ),
}


# ------------------------------------------------------------------------------ text facts
def as_messages(conversation: Conversation | Any) -> list[Message]:
    """A conversation as messages: ``Message`` objects or ``{"role", "text"}`` dicts (unknown
    roles are the customer's), an object with ``.messages`` (``Conversation``), or one customer
    message as a string. Raises ``InputError`` for anything else."""
    if isinstance(conversation, str):
        return [Message(role="customer", text=conversation)]
    items = getattr(conversation, "messages", conversation) or []
    out: list[Message] = []
    for item in items if isinstance(items, Sequence) else [None]:
        if isinstance(item, Message):
            out.append(item)
        elif isinstance(item, Mapping):
            role = _ROLES.get(str(item.get("role", "customer")).lower(), "customer")
            text = item.get("text", item.get("content", ""))
            out.append(Message(role=role, text="" if text is None else str(text)))
        else:
            raise InputError(
                "a conversation is a list of Message objects or {'role', 'text'} dicts"
            )
    return out


# ------------------------------------------------------------------------------ text structure
URL = re.compile(r"https?://[\x21-\x7e]+|www\.[\x21-\x7e]+")
CLAUSE_DELIM = re.compile(r"[!?;~\n。]|\s+(?![a-z])|(?<![a-z])\s+|[,.](?!\d)|(?<!\d)[,.]")
SENTENCE_DELIM = re.compile(r"[!?;\n。]+|(?<!\d)\.(?!\d)|(?<=[^\x00-\x7f])\s+(?=[^\x00-\x7f])")


def spans(folded: str, delim: re.Pattern[str]) -> list[tuple[int, int]]:
    """Non-empty spans of ``folded`` between matches of ``delim`` (delimiter included)."""
    out, start = [], 0
    for m in delim.finditer(folded):
        if m.start() > start:
            out.append((start, m.end()))
        start = m.end()
    if start < len(folded) and folded[start:].strip():
        out.append((start, len(folded)))
    return [(s, e) for s, e in out if folded[s:e].strip()]


def clause_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the clauses of ``text`` (split at commas and sentence ends, delimiter included;
    a comma or point between digits does not split: "1,000" "3.5")."""
    return spans(fold(text), CLAUSE_DELIM)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences of ``text`` (end punctuation included; chat turns joined by spaces
    count as separate sentences)."""
    return spans(fold(text), SENTENCE_DELIM)


def span_around(spans: list[tuple[int, int]], pos: int) -> tuple[int, int]:
    """The span containing ``pos`` (``(pos, pos)`` if none); ``spans`` sorted and apart, as
    :func:`spans` gives them (found by bisection: one look-up per money amount of a long
    draft must not read every clause)."""
    at = bisect_right(spans, pos, key=lambda span: span[0]) - 1
    if at >= 0 and spans[at][0] <= pos < spans[at][1]:
        return spans[at]
    return pos, pos


def is_question(sentence: str, phrases: ph.Phrases | None = None) -> bool:
    """A question: "?" or a question particle at the end ("…吗", "什么时候…呢")."""
    question_end = (phrases or ph.phrases()).question_end
    return "?" in sentence or bool(question_end.search(sentence.strip()))


@dataclass(frozen=True)
class Offer:
    """Money offered as compensation: ``amount`` yuan of ``kind`` coupon | cash | any."""

    amount: float
    kind: str
    span: tuple[int, int]
    number: tuple[int, int]


def compensation_offers(text: str, phrases: ph.Phrases | None = None) -> list[Offer]:
    """Amounts of money the reply offers as compensation (coupon, cash, red packet...), leaving
    out prices, thresholds, refunds of price differences and refused demands. ``phrases``: the
    shop's reply phrases (``shop_phrases(shop)``; default: the packaged ones)."""
    p = phrases or ph.phrases()
    folded = fold(text)
    clauses = spans(folded, CLAUSE_DELIM)
    sentences = spans(folded, SENTENCE_DELIM)
    offers = []
    stated = [q for q in quantities(text) if q.unit == "元"]
    bare = list(re.finditer(p.bare_money, folded))
    money = _Money([q.span for q in stated] + [m.span("amount") for m in bare])
    # each clause (and each clause with the one before it) searched once, however many
    # amounts it holds: a draft of a thousand amounts in one clause is not read a thousand times
    searched: dict[tuple[Any, ...], bool] = {}

    def found(pattern: re.Pattern[str], start: int, end: int) -> bool:
        key = (pattern.pattern, start, end)
        if key not in searched:
            searched[key] = bool(pattern.search(folded[start:end]))
        return searched[key]

    for q in stated:
        clause = span_around(clauses, q.span[0])
        if not found(p.compensation_cues, *_near(clauses, sentences, q.span[0])) or found(
            p.not_an_offer, *clause
        ):
            continue
        kind = _offer_kind(folded, clauses, q.span, money, p, found)
        digits = re.search(rf"(?:\d|{CN_NUMERAL})+(?:\.\d+)?", folded[q.span[0] : q.span[1]])
        start = q.span[0] + (digits.start() if digits else 0)
        number = (start, start + (len(digits.group()) if digits else 0))
        offers.append(Offer(q.low, kind, q.span, number))
    for m in bare:  # "赔50红包", "补200现金": yuan left unsaid
        start, end = m.span("amount")
        if any(o.span[0] <= start < o.span[1] for o in offers):
            continue
        if found(p.not_an_offer, *span_around(clauses, start)):
            continue
        kind = _offer_kind(folded, clauses, (start, m.end()), money, p, found)
        offers.append(Offer(float(m.group("amount")), kind, (start, m.end()), (start, end)))
    return sorted(offers, key=lambda o: o.span)


#: Words joining two offers in one clause ("10元现金和20元券", "券再加现金")
_JOINING = re.compile(r"[和及与跟、+]|再加|外加|另加|加上|再送|还有|另外")


class _Money:
    """The spans of the amounts of a text, sorted by start and by end for bisection."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        self.starts = sorted(a for a, _ in spans)
        self.ends = sorted(b for _, b in spans)

    def end_before(self, low: int, high: int, default: int) -> int:
        """The last end of an amount in ``[low, high]`` (``default`` if none)."""
        at = bisect_right(self.ends, high) - 1
        return self.ends[at] if at >= 0 and self.ends[at] >= low else default

    def start_after(self, low: int, high: int, default: int) -> int:
        """The first start of an amount in ``[low, high)`` (``default`` if none)."""
        at = bisect_left(self.starts, low)
        return self.starts[at] if at < len(self.starts) and self.starts[at] < high else default


def _offer_kind(
    folded: str,
    clauses: list[tuple[int, int]],
    span: tuple[int, int],
    money: _Money,
    p: ph.Phrases,
    found: Callable[[re.Pattern[str], int, int], bool],
) -> str:
    """Whether the amount at ``span`` is a coupon or cash (``any``: neither said): by the cues
    of its own part of the clause — what follows it up to the next amount or a joining word
    ("30元无门槛券", "10元现金"), else what precedes it from the amount or joining word before
    ("现金10元") — when that part has one ("送30元无门槛券再加10元现金": 30元 a coupon, 10元
    cash), else by the clause's."""
    start, end = span_around(clauses, span[0])
    before = money.end_before(start, span[0], start)
    after = money.start_after(span[1], end, end)
    following = _JOINING.split(folded[span[1] : after], maxsplit=1)[0]
    preceding = _JOINING.split(folded[before : span[0]])[-1]
    for part in (following, preceding):
        cash, coupon = re.search(p.cash_cues, part), re.search(p.coupon_cues, part)
        if cash or coupon:
            return "cash" if cash else "coupon"
    if found(p.cash_cues, start, end) or found(p.coupon_cues, start, end):  # the clause's
        return "cash" if found(p.cash_cues, start, end) else "coupon"
    return "any"


def _near(
    clauses: list[tuple[int, int]], sentences: list[tuple[int, int]], pos: int
) -> tuple[int, int]:
    """The clause at ``pos`` and the one before it in the same sentence ("为了表达歉意，送您
    10元"): where a compensation cue makes money an offer. A cue further away belongs to
    another fact ("运费一并退还，最高15元，…领取5元新人券")."""
    start, end = span_around(clauses, pos)
    first = span_around(sentences, pos)[0]
    at = bisect_right(clauses, start, key=lambda span: span[1]) - 1  # the last clause before
    before = clauses[at][0] if at >= 0 and clauses[at][0] >= first else start
    return before, end


def offer_limit(kind: str, shop: ShopConfig) -> float:
    """The most an agent may offer of this kind without a human (``any``: the stricter limit)."""
    comp = shop.compensation
    if kind == "coupon":
        return comp.max_coupon_yuan
    if kind == "cash":
        return comp.max_cash_yuan
    return min(comp.max_coupon_yuan, comp.max_cash_yuan)


def multiple_promises(text: str, phrases: ph.Phrases | None = None) -> list[tuple[int, int]]:
    """Spans of compensation promises no agent may make (双倍赔偿, 假一赔三...), not negated;
    ``phrases`` as for :func:`compensation_offers`."""
    folded = fold(text)
    clauses = spans(folded, CLAUSE_DELIM)
    out = []
    for m in (phrases or ph.phrases()).multiple_promise.finditer(folded):
        before = folded[span_around(clauses, m.start())[0] : m.start()]
        if not re.search(r"不|无法|没法|没有|超出|超过", before):
            out.append(m.span())
    return out


def supported(q: Quantity, pool: Sequence[Quantity]) -> bool:
    """Whether a quantity of ``pool`` states ``q`` (same unit; equal, or a range containing it)."""
    return any(p.unit == q.unit and p.low <= q.low and q.high <= p.high for p in pool)


# ------------------------------------------------------------------------------ reply text
SENTENCE_END = "。！？!?；;\n"


def reply_sentence(answer_text: str) -> str:
    """An extractive answer as a sentence of the reply: no "亲，", no leading apology, no "哦"."""
    text = re.sub(r"^亲[，,]\s*", "", answer_text.strip())
    text = re.sub(r"^(?:(?:可以|支持|需要|好|是)的[，,]\s*)", "", text)
    text = re.sub(r"^(?:非常|真的很|很)抱歉[^，。]{0,12}[，,]", "", text)
    text = re.sub(r"(照片|拍照)联系客服", r"\1发给我们", text).replace("联系客服", "联系我们")
    text = re.sub(r"[哦呢啦]+(?=[；;，,。！!]|$)", "", text)
    return text if text.endswith(tuple(SENTENCE_END)) else text + "。"


def reply_sentences(text: str) -> list[str]:
    """Sentences, each ending with punctuation ("您看行吗" → "您看行吗？")."""
    out = []
    for sentence in split_sentences(text, semicolons=False):
        sentence = sentence.strip(" ，,、")
        if not sentence:
            continue
        if re.search(r"[吗么嘛]$", sentence.rstrip("。.")):
            sentence = sentence.rstrip("。.") + "？"
        elif not sentence.endswith(tuple(SENTENCE_END)):
            sentence += "。"
        out.append(sentence)
    return out


def short_title(title: str) -> str:
    """ "木棉生活 加绒连帽卫衣 男女同款 MM-HD-003" → "加绒连帽卫衣"."""
    words = [
        w for w in title.split() if not re.fullmatch(r"[A-Za-z0-9-]+|男女同款|男款|女款|\d+双装", w)
    ]
    return max(words[1:] or words or [title], key=len)


def fill_slots(
    text: str, slots: dict[str, str], phrases: ph.Phrases | None = None
) -> tuple[str, dict[str, str]]:
    """Placeholders ({product}, [ORDERID_x], [日期x]...) and generic mentions ("这款", "您的订单")
    replaced by the conversation's values; ``phrases`` as for :func:`compensation_offers`."""
    filled: dict[str, str] = {}
    for name, pattern in (phrases or ph.phrases()).slot_placeholders.items():
        if name in slots and re.search(pattern, text):
            text = re.sub(pattern, slots[name].replace("\\", "\\\\"), text)
            filled[name] = slots[name]
    product = slots.get("product")
    if product and "product" not in filled and product not in text:
        new = re.sub(
            r"该商品|这个商品|这件商品|这款(?![\u4e00-\u9fff]{0,2}(?:衣|裤|鞋|衫|裙))",
            f"这款{product}",
            text,
            count=1,
        )
        if new != text:
            text, filled["product"] = new, product
    order = slots.get("order_id")
    if order and "order_id" not in filled and order not in text:
        new = re.sub(r"(您的|这个|该)订单(?!号)", rf"\g<1>订单（{order}）", text, count=1)
        if new != text:
            text, filled["order_id"] = new, order
    return text, filled


def case_reply(
    case_text: str, question: str, rules: Mapping[str, Any] | None = None
) -> tuple[str, float]:
    """The agent reply that follows the customer turn most like ``question`` in a case chunk
    ("顾客：…" / "客服：…" lines), and how alike the two customer turns are."""
    from ..emotion._flag import question_similarity

    turns = [line.split("：", 1) for line in case_text.splitlines() if "：" in line]
    best, best_sim = "", -1.0
    for i, (role, text) in enumerate(turns):
        reply = next((t for r, t in turns[i + 1 :] if r == "客服"), "")
        sim = question_similarity(question, text, rules=rules) if role == "顾客" and reply else -1.0
        if sim > best_sim:
            best, best_sim = reply, sim
    return best, max(best_sim, 0.0)


def merge_citations(a: Sequence[Citation], b: Sequence[Citation]) -> list[Citation]:
    """``a`` then the citations of ``b`` to a place (source, locator) ``a`` does not cite."""
    out = list(a)
    for citation in b:
        if all((c.source, c.locator) != (citation.source, citation.locator) for c in out):
            out.append(citation)
    return out
