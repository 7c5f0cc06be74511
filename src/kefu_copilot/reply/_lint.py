"""Reply-style lint: what a shop's QA would circle in an agent's reply (no LLM).

:func:`lint_reply` checks one reply, optionally against the conversation (is the customer upset?
did they already mention that number?), the shop (banned phrases, compensation limits) and the
knowledge the reply relies on (numbers and policy promises must be traceable). Every issue has a
span in the original text and a suggested fix. Rules favour precision: a conditional "不行的话…",
a question "是您自己穿吗？" or an agent's "我帮您联系快递" are not flagged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from .._errors import InputError
from .._models import Chunk, Citation, Message
from ..answer._claims import ClaimChecker
from ..config._shop import ShopConfig
from ..emotion._flag import emotion_flag
from ..text._numbers import measures
from ._models import (
    CLAUSE_DELIM,
    ISSUE_TEXTS,
    SENTENCE_DELIM,
    SENTENCE_END,
    URL,
    Change,
    ChangeKind,
    LintCode,
    LintIssue,
    Severity,
    as_messages,
    clause_spans,
    compensation_offers,
    fold,
    is_question,
    multiple_promises,
    offer_limit,
    quantities,
    sentence_spans,
    span_around,
    spans,
)
from ._phrases import PhraseRule, Phrases, shop_phrases

__all__ = [
    "Knowledge",
    "Mood",
    "PhraseMatch",
    "customer_mood",
    "knowledge_texts",
    "lint_reply",
    "phrase_matches",
    "rewrite_draft",
]

Knowledge = str | Citation | Chunk | Sequence[str | Citation | Chunk]
Conversation = Sequence[Message | Mapping[str, Any]]


# ------------------------------------------------------------------------------ phrases
@dataclass(frozen=True)
class PhraseMatch:
    """A cold, blaming or banned phrase at ``text[start:end]``; ``word`` is the part to replace."""

    rule: PhraseRule
    start: int
    end: int
    word: tuple[int, int]
    clause: tuple[int, int]


def _shop_rules(shop: ShopConfig | None, builtin: Sequence[PhraseRule]) -> list[PhraseRule]:
    """The shop's banned phrases as rules; a rewrite softens or drops them like the built-in
    rule they resemble ("自己看" like 自己看, "我也没办法" like 没办法)."""
    phrases = dict.fromkeys(p.strip() for p in (shop.banned_phrases if shop else []) if p.strip())
    rules = []
    for phrase in phrases:
        like = next((r for r in builtin if re.search(r.pattern, fold(phrase))), None)
        rules.append(
            PhraseRule(
                "banned_phrase",
                phrase,
                re.escape(fold(phrase)),
                f"店铺禁用语“{phrase}”",
                "删掉这句话：先回应顾客的感受，再说明原因和可以提供的办法",
                like.soft if like else "",
                drop=like.drop if like else True,
            )
        )
    return rules


def phrase_matches(text: str, shop: ShopConfig | None = None) -> list[PhraseMatch]:
    """Banned (shop), cold and blaming phrases (the shop's ``reply`` rules) of ``text``,
    non-overlapping, in text order."""
    folded = fold(text)
    clauses = spans(folded, CLAUSE_DELIM)
    sentences = spans(folded, SENTENCE_DELIM)
    found: list[PhraseMatch] = []
    phrases = shop_phrases(shop)
    rules = phrases.phrase_rules
    builtin = sorted(rules, key=lambda r: r.code != "blame_shifting")  # blame first
    for rule in [*_shop_rules(shop, rules), *builtin]:
        for m in re.finditer(rule.pattern, folded):
            if m.end() == m.start() or any(m.start() < f.end and f.start < m.end() for f in found):
                continue
            clause = span_around(clauses, m.start())
            if rule.not_before and re.search(rule.not_before, folded[clause[0] : m.start()]):
                continue
            if rule.not_after and re.search(rule.not_after, folded[m.end() :]):
                continue
            sentence = span_around(sentences, m.start())
            if not rule.questions and is_question(folded[sentence[0] : sentence[1]], phrases):
                continue
            word = m.span("w") if "w" in m.re.groupindex and m.group("w") else m.span()
            found.append(PhraseMatch(rule, m.start(), m.end(), word, clause))
    return sorted(found, key=lambda f: f.start)


# ------------------------------------------------------------------------------ the customer
@dataclass(frozen=True)
class Mood:
    """How the customer's last turn reads: ``emotion`` and whether they are upset."""

    emotion: str
    upset: bool
    text: str = ""


_STRONG_RISKS = {
    "complaint_threat",
    "bad_review_threat",
    "public_exposure",
    "legal_threat",
    "profanity",
    "sarcasm",
}


def customer_mood(conversation: Conversation | None, shop: ShopConfig | None = None) -> Mood:
    """The emotion of the last customer turn (``emotion_flag`` with the turns before it as
    context), sharpened by a few cues it may miss ("你们到底什么意思", "急用"); the shop's
    ``emotion`` and ``reply`` rules apply."""
    messages = as_messages(conversation)
    last = max((i for i, m in enumerate(messages) if m.role == "customer"), default=-1)
    if last < 0 or not messages[last].text.strip():
        return Mood("neutral", False)
    text = messages[last].text
    keywords = shop.escalation_keywords if shop else ()
    rules = shop.rule_set("emotion") if shop else None
    flag = emotion_flag(text, messages[:last], extra_keywords=keywords, rules=rules)
    emotion, folded, phrases = flag.emotion, fold(text), shop_phrases(shop)
    anxious_cue = bool(phrases.anxious_cues.search(folded))
    if emotion in ("neutral", "confused", "anxious") and phrases.angry_cues.search(folded):
        emotion = "angry"
    elif emotion in ("neutral", "confused") and anxious_cue:
        emotion = "anxious"
    upset = (
        emotion == "angry"
        or (emotion == "anxious" and (anxious_cue or flag.intensity >= 0.65))
        or bool(set(flag.risk) & _STRONG_RISKS)
    )
    return Mood(emotion, upset, text)


# ------------------------------------------------------------------------------ the checks
def _issue(key: str, span: tuple[int, int], **values: Any) -> LintIssue:
    code, severity, message, suggestion = ISSUE_TEXTS[key]
    return LintIssue(
        code=cast(LintCode, code),
        span=span,
        severity=cast(Severity, severity),
        message=message.format(**values),
        suggestion=suggestion.format(**values),
    )


def _phrase_issues(text: str, shop: ShopConfig | None) -> list[LintIssue]:
    severity = {"banned_phrase": "error", "blame_shifting": "error"}
    return [
        LintIssue(
            code=cast(LintCode, m.rule.code),
            span=(m.start, m.end),
            severity=cast(Severity, severity.get(m.rule.code, "warning")),
            message=_quoting(m.rule.message, text[m.start : m.end]),
            suggestion=m.rule.suggestion,
        )
        for m in phrase_matches(text, shop)
    ]


def _quoting(message: str, said: str) -> str:
    """A rule's message with the words of the reply it matched, unless it already quotes them
    (a banned phrase's message names the phrase: "店铺禁用语“不可以的哦”")."""
    quoted = f"“{said}”"
    return message if quoted in message else f"{message}：{quoted}"


def _empathy_issue(
    text: str, conversation: Conversation | None, shop: ShopConfig | None
) -> list[LintIssue]:
    phrases = shop_phrases(shop)
    if not conversation or phrases.empathy.search(fold(text)):
        return []
    mood = customer_mood(conversation, shop)
    if not mood.upset:
        return []
    first = (sentence_spans(text) or [(0, len(text))])[0]
    opener = phrases.openers.get(mood.emotion, phrases.openers["angry"])[0]
    return [_issue("empathy", first, emotion=mood.emotion, opener=opener)]


#: A run of clauses shorter than this (content characters) is not read as a quotation: "15元"
#: or "给您补10元" may stand in any policy without the reply quoting it.
_MIN_QUOTE = 8
_QUOTE_CONTENT = re.compile(r"[0-9a-z\u4e00-\u9fff]")


@lru_cache(maxsize=8)
def _layout(text: str) -> tuple[str, list[tuple[int, int]], list[tuple[int, int]]]:
    """``text`` folded, its sentences and its clauses: read once for all the amounts of a reply
    :func:`quoted` is asked about (a price list's hundred amounts read it a hundred times)."""
    folded = fold(text)
    return folded, sentence_spans(text), spans(folded, CLAUSE_DELIM)


def quoted(text: str, span: tuple[int, int], knowledge: str) -> bool:
    """Whether ``text[span]`` stands in a passage the reply quotes from the knowledge: a run of
    whole clauses around it, in its sentence, found word for word in ``knowledge`` (folded) and
    long enough to be a quotation (:data:`_MIN_QUOTE`). What the knowledge says in its own words
    ("新疆满199元包邮，不满收20元", "随单补偿（最高 15元）") is the shop's statement, quoted — not
    a value the reply asserts on its own nor an offer the agent makes."""
    if not knowledge:
        return False
    folded, sentences, all_clauses = _layout(text)
    first, last = span_around(sentences, span[0])
    end = max(last, span[1])
    clauses = [c for c in all_clauses if first <= c[0] and c[1] <= end]
    at = [n for n, (s, e) in enumerate(clauses) if s < span[1] and span[0] < e]
    if not at:
        return False
    lo, hi = at[0], at[-1]

    def said(i: int, j: int) -> str | None:
        """Clauses i..j, stripped, when the knowledge holds them word for word."""
        run = folded[clauses[i][0] : clauses[j][1]].strip(" ,.!?;~。、\n")
        return run if run in knowledge else None

    def enough(run: str) -> bool:
        return len(_QUOTE_CONTENT.findall(run)) >= _MIN_QUOTE

    # a run the knowledge holds holds every run of its clauses it contains, and a wider run says
    # more: for each start, from the amount's clause outwards, the end moves out while the run
    # is too short and still held, and in while it is not held — each end read a few times, not
    # every (start, end) pair once per amount (41 s for a line of 200 offers)
    j = hi
    for i in range(lo, -1, -1):
        run = said(i, j)
        while run is None and j > hi:
            j -= 1
            run = said(i, j)
        if run is None:
            return False  # not even the amount's own clauses, from here out
        while not enough(run) and j + 1 < len(clauses) and (wider := said(i, j + 1)) is not None:
            j, run = j + 1, wider
        if enough(run):
            return True
    return False


def _money_issues(text: str, shop: ShopConfig | None, knowledge: str) -> list[LintIssue]:
    out = []
    phrases = shop_phrases(shop)
    for offer in compensation_offers(text, phrases) if shop is not None else []:
        if quoted(text, offer.span, knowledge):
            continue  # the knowledge's own words (a tier table, a policy), not an offer
        limit = offer_limit(offer.kind, cast(ShopConfig, shop))
        if offer.amount > limit:
            label = {"coupon": "优惠券", "cash": "现金"}.get(offer.kind, "补偿")
            out.append(_issue("limit", offer.span, label=label, amount=offer.amount, limit=limit))
    for start, end in multiple_promises(text, phrases):
        if fold(text)[start:end] not in knowledge:
            out.append(_issue("promise", (start, end), phrase=text[start:end]))
    return out


def knowledge_texts(knowledge: Knowledge | None) -> list[str]:
    """The texts of knowledge given as a string, citations or chunks."""
    if knowledge is None:
        return []
    items: Iterable[Any] = (
        [knowledge] if isinstance(knowledge, str | Citation | Chunk) else knowledge
    )
    out = []
    for item in items:
        if isinstance(item, Citation):
            out.append(item.snippet)
        elif isinstance(item, Chunk):
            out.append(item.text)
        else:
            out.append(str(item))
    return out


#: The dimensions of policy facts the lint checks (money, durations, rates), as before.
_POLICY_DIMS = frozenset({"money", "time", "workday", "percent", "discount"})


def _unit_word(written: str) -> str:
    """The unit as written ("15天" → "天", "24小时" → "小时"): a mismatch is the same unit."""
    return re.sub(r"[\d.\s~\-–—至到零〇一二两三四五六七八九十百千万半个]", "", written)


def _fact_issues(
    text: str, knowledge: str, context: str, phrases: Phrases, shop: ShopConfig | None
) -> list[LintIssue]:
    """Numbers the knowledge states otherwise or not at all — by the claim checker answers and
    drafts use (:class:`~kefu_copilot.answer._claims.ClaimChecker`)."""
    folded = fold(text)
    clauses = clause_spans(text)
    # an offer is checked against shop.yaml instead, with the terms of its clause ("20元无门槛券")
    offered = [
        (min(o.span[0], c[0]), max(o.span[1], c[1]))
        for o in compensation_offers(text, phrases)
        for c in [span_around(clauses, o.span[0])]
    ]
    known_values = measures(knowledge)
    lowered = fold(knowledge)
    out = []
    for span, m, verdict in ClaimChecker(shop).facts(text, [knowledge], context=context):
        if m.dim not in _POLICY_DIMS or verdict in ("entailed", "neutral"):
            continue
        if any(s < span[1] and span[0] < e for s, e in offered):
            continue
        if quoted(text, span, lowered):
            continue  # said in the knowledge's own words: quoted, not asserted
        unit = _unit_word(m.text)
        known = list(
            dict.fromkeys(
                k.text for k in known_values if k.dim == m.dim and _unit_word(k.text) == unit
            )
        )[:3]
        key = "mismatch" if known else "unsupported"
        out.append(_issue(key, span, value=text[span[0] : span[1]], known="、".join(known)))
    grounded = fold(knowledge + "\n" + context)
    for group in phrases.promise_terms:
        hit = next((t for t in group if t in folded), None)
        if hit and not any(t in grounded for t in group):
            start = folded.index(hit)
            if any(s <= start < e for s, e in offered):
                continue  # a term of the agent's offer ("无门槛券"): the offer is held to shop.yaml
            out.append(_issue("term", (start, start + len(hit)), value=hit))
    return out


_PLACEHOLDER = re.compile(r"#e-s\[[^\]]{0,12}\]|\[[^\[\]]{1,16}\]")
_LIST_LINE = re.compile(r"^\s*(?:\d{1,2}[.、)]|[①-⑩]|[-•·*])\s*", re.M)
_INLINE_LIST = re.compile(r"(?:1[、.)]|①|一、|第一)[^\n]{1,200}?(?:2[、.)]|②|二、|第二)")


def _visible_length(text: str) -> int:
    return len(re.sub(r"\s|(?<=#)#+", "", _PLACEHOLDER.sub("#", fold(text))))


def _wall_issue(text: str) -> list[LintIssue]:
    folded, sentences = fold(text), sentence_spans(text)
    if _visible_length(text) <= 120 or len(sentences) < 3:
        return []
    if len(_LIST_LINE.findall(folded)) >= 2 or _INLINE_LIST.search(folded):
        return []
    points = "\n".join(f"{n}. {text[s:e].strip()}" for n, (s, e) in enumerate(sentences[:6], 1))
    length = _visible_length(text)
    return [_issue("wall", (0, len(text)), length=length, count=len(sentences), points=points)]


def _next_step_issue(
    text: str, conversation: Conversation | None, phrases: Phrases
) -> list[LintIssue]:
    folded = URL.sub(lambda m: "#" * len(m.group()), fold(text))
    noise = phrases.trailing_noise.search(folded)
    body = folded[: noise.start()] if noise else folded
    sentences = spans(body, SENTENCE_DELIM)
    if not sentences or phrases.sign_off.search(folded) or _visible_length(body) < 20:
        return []  # a short chat turn ("好的，已经帮您备注了") is not a reply to close
    customer = [m.text for m in as_messages(conversation) if m.role == "customer"]
    if (
        customer
        and _visible_length(customer[-1]) <= 12
        and phrases.closing_cues.search(fold(customer[-1]))
    ):
        return []  # the customer is closing: "嗯嗯谢谢喽~"
    start, end = sentences[-1]
    tail = body[sentences[-2][0] if len(sentences) > 1 else start : end]
    if phrases.question.search(tail) or phrases.offer_end.search(body):
        return []  # a question at the end, or an offer / request / instruction anywhere
    return [_issue("next", (start, end))]


def lint_reply(
    text: str,
    conversation: Conversation | None = None,
    shop: ShopConfig | None = None,
    knowledge: Knowledge | None = None,
) -> list[LintIssue]:
    """Reply-style issues of ``text``, in text order (empty list: clean).

    ``conversation`` (``Message`` objects or ``{"role", "text"}`` dicts, oldest first) enables the
    empathy check and lets numbers the customer mentioned pass; ``shop`` adds its
    ``banned_phrases``, its ``rules.reply`` phrases (and ``rules.emotion`` for the customer's
    mood) and compensation limits (without a shop no limit is checked);
    ``knowledge`` (text, citations or chunks) enables the fact checks: every number with a unit
    and every policy promise must be found in it or in the conversation.
    """
    if not isinstance(text, str):
        raise InputError(f"text must be a str, not {type(text).__name__}")
    grounded = "\n".join(knowledge_texts(knowledge))
    context = "\n".join(m.text for m in as_messages(conversation))
    phrases = shop_phrases(shop)
    issues = _phrase_issues(text, shop)
    issues += _empathy_issue(text, conversation, shop)
    issues += _money_issues(text, shop, fold(grounded))
    if knowledge is not None:
        issues += _fact_issues(text, grounded, context, phrases, shop)
    issues += _wall_issue(text) + _next_step_issue(text, conversation, phrases)
    return sorted(issues, key=lambda i: (i.span[0], i.code))


# ------------------------------------------------------------------------------ automatic fixes
_ADDRESS = re.compile(r"^\s*(?:亲爱的|亲爱哒|亲亲|亲|您好|你好)(?:[\s,，!！~～]+|$)")
_FILLER = re.compile(r"[亲的哦呢了啊呀哈啦嘛吧也就是真这个那我们您你\s,.!?;~，。！？；～、]")


def _has_fact(text: str, phrases: Phrases) -> bool:
    """Numbers, placeholders ([ORDERID_x]) or policy terms: what a rewrite must keep."""
    return bool(re.search(r"\d|\[[^\[\]]{1,20}\]", text) or quantities(text)) or any(
        term in text for term in phrases.policy_terms
    )


def _tidy(text: str) -> str:
    """Punctuation left behind by removed clauses: ",。" → "。", leading commas, spaces."""
    text = re.sub(r"[，,、\s]+([。！？!?；;])", r"\1", text)
    text = re.sub(r"([。！？!?；;\n])[，,、\s]+", r"\1", text)
    text = re.sub(r"(?<=[^\x00-\x7f])[ \t\u3000]+(?=[^\x00-\x7f])", "，", text)
    return re.sub(r"^[，,、\s。；;]+", "", text).strip()


@dataclass
class _Edit:
    start: int
    end: int
    new: str
    change: Change


def _cap_edits(text: str, shop: ShopConfig) -> list[_Edit]:
    """Money offered above the shop's limit is lowered to the limit (removed if the limit is 0);
    promises no agent may make (双倍赔偿...) are removed with their clause."""
    clauses, edits, phrases = clause_spans(text), [], shop_phrases(shop)
    for offer in compensation_offers(text, phrases):
        limit = offer_limit(offer.kind, shop)
        if offer.amount <= limit:
            continue
        reason = f"超过店铺补偿上限 {limit:g} 元（shop.yaml compensation）"
        if limit > 0:
            start, end = offer.number
            new = f"{limit:g}"
            change = Change(
                kind="cap_compensation", before=text[start:end], after=new, reason=reason
            )
            edits.append(_Edit(start, end, new, change))
        else:
            start, end = next((c for c in clauses if c[0] <= offer.span[0] < c[1]), offer.span)
            change = Change(kind="remove_promise", before=text[start:end], reason=reason)
            edits.append(_Edit(start, end, "", change))
    for span in multiple_promises(text, phrases):
        start, end = next((c for c in clauses if c[0] <= span[0] < c[1]), span)
        reason = "超出政策的赔偿承诺，需要主管决定"
        change = Change(kind="remove_promise", before=text[start:end], reason=reason)
        edits.append(_Edit(start, end, "", change))
    return edits


def _phrase_edits(text: str, shop: ShopConfig) -> list[_Edit]:
    """Cold / blaming clauses without facts are dropped; elsewhere the phrase is softened."""
    matches, edits, phrases = phrase_matches(text, shop), [], shop_phrases(shop)
    for m in matches:
        start, end = m.clause
        clause = text[start:end]
        rest = "".join(
            ch
            for i, ch in enumerate(clause, start)
            if not any(o.clause == m.clause and o.start <= i < o.end for o in matches)
        )
        blame = m.rule.code == "blame_shifting"
        drop = m.rule.drop or (blame and "(?P<w>" not in m.rule.pattern)
        empty = drop or len(_FILLER.sub("", rest)) <= 1
        if empty and not _has_fact(clause, phrases):
            keep = clause[-1] if clause and clause[-1] in SENTENCE_END else ""
            kind: ChangeKind = "remove_blame" if blame else "remove_cold"
            before = clause.strip(" ，,。")
            edits.append(
                _Edit(start, end, keep, Change(kind=kind, before=before, reason=m.rule.message))
            )
            continue
        tail = text[m.end : end].rstrip(" ，,。！？!?；;、\n")
        said_first = m.start > start and _FILLER.sub("", text[start : m.start])
        if blame and said_first and not _has_fact(tail, phrases):
            # the blame and what it governs close a clause that said something first ("送您一张
            # 运费险您没看详情页"): cut them there; a softening in mid-sentence reads badly
            cut = m.end + len(tail)
            before = text[m.start : cut]
            change = Change(kind="remove_blame", before=before, reason=m.rule.message)
            edits.append(_Edit(m.start, cut, "", change))
            continue
        w_start, w_end = m.word
        soft = m.rule.soft
        if not soft and w_start > 0 and w_end < len(text):
            soft = "，" if text[w_start - 1].isalnum() and text[w_end].isalnum() else ""
        change = Change(
            kind="soften", before=text[w_start:w_end], after=soft, reason=m.rule.message
        )
        edits.append(_Edit(w_start, w_end, soft, change))
    return edits


def _polite_you(text: str, phrases: Phrases, changes: list[Change]) -> tuple[str, list[Change]]:
    """The shopper addressed as 您 wherever the draft says 你 ("给你赔10元" → "给您赔10元"):
    ``informal_you`` of the shop's reply rules, replaced by ``polite_you``."""
    found = phrases.informal_you.search(text)
    if found is None:
        return text, changes
    polite = phrases.informal_you.sub(phrases.polite_you, text)
    why = f"用“{phrases.polite_you}”称呼顾客"
    said = Change(kind="soften", before=found.group(), after=phrases.polite_you, reason=why)
    return polite, [*changes, said]


def rewrite_draft(draft: str, shop: ShopConfig) -> tuple[str, list[Change]]:
    """The agent's draft with cold and blaming phrasing fixed and money capped to the shop's
    limits; every other number, placeholder and policy term of the draft is kept."""
    text = _tidy(draft)  # chat turns joined by spaces become one reply first
    applied: list[_Edit] = []
    edits = _cap_edits(text, shop) + _phrase_edits(text, shop)
    for edit in sorted(edits, key=lambda e: (-e.end, e.start)):  # a dropped clause wins
        if any(edit.start < a.end and a.start < edit.end for a in applied):
            continue
        text = text[: edit.start] + edit.new + text[edit.end :]
        applied.append(edit)
    changes = [e.change for e in sorted(applied, key=lambda e: e.start)]
    text = _tidy(_ADDRESS.sub("", _tidy(text)))
    text, changes = _polite_you(text, shop_phrases(shop), changes)
    # A dropped clause can join an offer to an amount it was apart from ("给您补偿，不可以的哦，
    # 6元" -> "给您补偿，6元"): cap again what now reads as an offer above the limit.
    for edit in sorted(_cap_edits(text, shop), key=lambda e: -e.start):
        text = text[: edit.start] + edit.new + text[edit.end :]
        changes.append(edit.change)
    return _tidy(text), changes
