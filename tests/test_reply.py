"""suggest_reply: drafts and rewrites keep the agent's facts, stay within the shop's limits, pass
the reply-style lint, and the reply eval suite passes."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kefu_copilot import ConfigError, InputError
from kefu_copilot.config._shop import load_shop_config
from kefu_copilot.evals._suite import read_suite
from kefu_copilot.reply._advisor import ReplyAdvisor
from kefu_copilot.reply._lint import rewrite_draft
from kefu_copilot.reply._models import compensation_offers, offer_limit, quantities
from kefu_copilot.reply._phrases import POLICY_TERMS

from .conftest import KNOWLEDGE, ROOT

REPLY_SUITE = ROOT / "evals" / "reply.jsonl"
SHOP = load_shop_config(KNOWLEDGE)
NUMBER = re.compile(r"\d+(?:\.\d+)?")


@pytest.fixture(scope="session")
def advisor(sample_copilot) -> ReplyAdvisor:
    _, answerer, shop = sample_copilot._current()
    return ReplyAdvisor(answerer, shop)


# ------------------------------------------------------------------------------ the eval suite
def check_reply_case(case, draft) -> list[str]:
    """Failures of one reply case: cited sources, (not_)contains, and the lint must be empty."""
    expect = case["expect"]
    cited, wanted = {c.source for c in draft.citations}, set(expect.get("sources", []))
    failures = (
        [f"cited {sorted(cited)}, expected {wanted}"] if wanted and not wanted & cited else []
    )
    failures += [f"lacks {t!r}" for t in expect.get("contains", []) if t not in draft.text]
    failures += [f"has {t!r}" for t in expect.get("not_contains", []) if t in draft.text]
    return failures + [f"lint {i.code}: {i.message}" for i in draft.lint]


def test_reply_suite_is_well_formed() -> None:
    cases, errors = read_suite(REPLY_SUITE, strict=True)
    assert not errors and len(cases) >= 45
    assert sum("draft" in c for c in cases) >= 20 and sum("draft" not in c for c in cases) >= 15
    for case in cases:
        assert case["type"] == "reply" and case["conversation"][-1]["role"] == "customer"
        for source in case["expect"].get("sources", []):
            assert (KNOWLEDGE / source).is_file(), (case["id"], source)


def test_reply_suite_passes(advisor) -> None:
    cases, _ = read_suite(REPLY_SUITE)
    results = [(c, advisor.suggest(c["conversation"], c.get("draft"))[0]) for c in cases]
    failures = {c["id"]: check_reply_case(c, d) for c, d in results if check_reply_case(c, d)}
    lint_pass_rate = sum(not d.lint for _, d in results) / len(results)
    print(
        f"reply suite (lexical only): pass_rate {1 - len(failures) / len(results):.3f}, "
        f"lint_pass_rate {lint_pass_rate:.3f}"
    )
    # Measured 2026-11: pass_rate 1.000, lint_pass_rate 1.000 (54 cases).
    assert not failures
    assert lint_pass_rate == 1.0


# ------------------------------------------------------------------------------ rewrites
def test_a_cold_refusal_becomes_an_empathetic_reply(advisor) -> None:
    conversation = [{"role": "customer", "text": "我买的卫衣已经10天了，不想要了能退吗？"}]
    draft = advisor.suggest(conversation, "亲,不可以的哦,超过7天了不能退")[0]
    assert "不可以的哦" not in draft.text and "7天" in draft.text
    assert draft.text.startswith("亲，") and draft.text.endswith("？")
    # the return rule (a topic-class choice: not the coupon rule the product's words once
    # pulled in) with the route the shop allows for a quality problem
    assert "七天无理由" in draft.text and "质量问题" in draft.text
    kinds = [c.kind for c in draft.changes]
    assert kinds[0] == "remove_cold" and {"opener", "reason", "closing"} <= set(kinds)
    cited = {c.source for c in draft.citations}
    assert cited & {"faq/faq.csv", "faq/more.jsonl", "policies/returns.md"}
    assert draft.lint == []


def test_money_above_the_limit_is_capped(advisor) -> None:
    conversation = [{"role": "customer", "text": "衣服有个破洞，太让人失望了！"}]
    draft = advisor.suggest(conversation, "给您补偿20元优惠券，您看行吗")[0]
    assert "20元" not in draft.text and "10元优惠券" in draft.text
    cap = next(c for c in draft.changes if c.kind == "cap_compensation")
    assert (cap.before, cap.after) == ("20", "10")


def test_drafts_from_scratch_quote_the_knowledge_and_offer_at_most_the_limit(advisor) -> None:
    angry = [{"role": "customer", "text": "你们到底什么时候发货？三天了还不发！"}]
    draft = advisor.suggest(angry)[0]
    assert "48小时" in draft.text and "抱歉" in draft.text
    limit = advisor.shop.compensation.max_coupon_yuan
    assert all(o.amount <= limit for o in compensation_offers(draft.text))
    assert draft.changes == [] and draft.emotion == "angry"


def test_variants_are_distinct_and_deterministic(advisor) -> None:
    conversation = [{"role": "customer", "text": "吊牌我剪掉了，还能退吗？"}]
    first = advisor.suggest(conversation, "吊牌剪了就不能退了，这是规定", n=3)
    again = advisor.suggest(conversation, "吊牌剪了就不能退了，这是规定", n=3)
    assert len({d.text for d in first}) == 3
    assert [d.model_dump() for d in first] == [d.model_dump() for d in again]
    assert all("这是规定" not in d.text and "吊牌" in d.text and not d.lint for d in first)


def test_similar_cases_come_only_from_the_case_library(advisor, sample_copilot) -> None:
    snapshot, _, _ = sample_copilot._current()
    conversation = [{"role": "customer", "text": "卫衣买大了，能换小一码吗？"}]
    similar = advisor.suggest(conversation)[0].similar_cases
    assert similar and similar[0].id == "case-002"
    for case in similar:
        assert snapshot.chunks[snapshot.by_id[case.chunk_id]].kind == "case"
        assert case.snippet and 0 < case.score <= 1


def test_quick_replies_fill_the_conversations_slots(advisor) -> None:
    conversation = [{"role": "customer", "text": "加绒连帽卫衣买的L，穿上太大了，能换M吗？"}]
    replies = advisor.quick_replies(conversation, k=3)
    assert 1 <= len(replies) <= 3
    assert replies[0].source.startswith(("cases/", "faq/")) and "7天" in replies[0].text
    assert [r.score for r in replies] == sorted((r.score for r in replies), reverse=True)
    assert advisor.quick_replies([{"role": "agent", "text": "您好"}]) == []


def test_bad_input_and_the_llm_hook(advisor) -> None:
    with pytest.raises(InputError):
        advisor.suggest([{"role": "customer", "text": "在吗"}], n=0)
    with pytest.raises(InputError):
        advisor.suggest([])
    with pytest.raises(ConfigError, match="not available yet"):
        ReplyAdvisor(advisor.answerer, advisor.shop, llm=lambda messages: "")


# ------------------------------------------------------------------------------ properties
FILLER = ["亲", "您好", "我看了一下", "这边帮您查了", "签收后", "仓库", "发货", "退款", "您的订单"]
COLD = ["不可以的哦", "这是规定", "没办法", "不行", "自己看", "你自己", "听不懂吗", "系统问题"]
COLD += ["是您自己", "您没看详情页", "请您先检查一下是否", "爱买不买", "我也没办法", "跟我们没关系"]
PUNCT = ["", "，", "。", "！", "？", " "]
segment = st.one_of(
    st.sampled_from(FILLER),
    st.sampled_from(COLD),
    st.sampled_from(POLICY_TERMS),
    st.builds(
        lambda n, u: f"{n}{u}", st.integers(1, 500), st.sampled_from(["元", "天", "小时", "件"])
    ),
    st.sampled_from(["送您一张", "给您补偿", "优惠券", "现金"]),
)
drafts = st.lists(st.tuples(segment, st.sampled_from(PUNCT)), min_size=1, max_size=10).map(
    lambda parts: "".join(a + b for a, b in parts)
)


def _expected_numbers(draft: str, shop) -> Counter[str]:
    """The draft's numbers, less the compensation offered above the shop's limit (capped).
    Like the rewrite, chat turns joined by spaces are read as one reply."""
    draft = re.sub(r"(?<=[^\x00-\x7f])\s+(?=[^\x00-\x7f])", "，", draft)
    numbers = Counter(NUMBER.findall(draft))
    for offer in compensation_offers(draft):
        if offer.amount > offer_limit(offer.kind, shop):
            numbers[draft[offer.number[0] : offer.number[1]]] -= 1
    return numbers


def _check_kept(draft: str, text: str, shop, knowledge: str = "", changes=()) -> None:
    """Every number (less capped offers) and policy term of the draft is in the text; offers are
    within the shop's limits; money above the limits only comes from the draft or knowledge.
    An amount the rewrite reports capping (an offer formed once a cold clause between the
    offer and the amount was dropped) must have been above the limit."""
    expected = _expected_numbers(draft, shop)
    for change in changes:
        if change.kind == "correct_fact":
            # a fact the policy states otherwise is said by the policy: only then may its
            # numbers go, and the policy said instead is in the reply
            said = Counter(NUMBER.findall(text))
            assert change.after and not Counter(NUMBER.findall(change.after)) - said, (change, text)
            expected -= Counter(NUMBER.findall(change.before))
        if change.kind == "cap_compensation":
            assert float(change.before) > min(
                shop.compensation.max_coupon_yuan, shop.compensation.max_cash_yuan
            ), change
            expected[change.before] -= 1
    missing = expected - Counter(NUMBER.findall(text))
    assert not missing, (draft, text)
    for term in POLICY_TERMS:
        assert term not in draft or term in text, (draft, text, term)
    for offer in compensation_offers(text):
        assert offer.amount <= offer_limit(offer.kind, shop), (draft, text)
    money = {q.low for q in quantities(draft + "\n" + knowledge) if q.unit == "元"}
    limit = shop.compensation.max_any_yuan
    assert all(q.low in money for q in quantities(text) if q.unit == "元" and q.low > limit)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(draft=drafts)
def test_rewrites_keep_every_number_and_policy_term(draft) -> None:
    text, changes = rewrite_draft(draft, SHOP)
    _check_kept(draft, text, SHOP, changes=changes)
    assert all(c.reason for c in changes)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(draft=drafts)
def test_suggestions_keep_the_drafts_facts_and_the_limits(advisor, draft) -> None:
    conversation = [{"role": "customer", "text": "你们这个怎么回事？我要退款！"}]
    for suggestion in advisor.suggest(conversation, draft, n=2):
        knowledge = "\n".join(c.snippet for c in suggestion.citations)
        _check_kept(draft, suggestion.text, advisor.shop, knowledge, changes=suggestion.changes)
        assert not any(issue.code == "over_limit" for issue in suggestion.lint)


def test_a_blame_closing_a_sentence_is_cut_there_not_softened_in_mid_sentence() -> None:
    text, changes = rewrite_draft("送您一张运费险您没看详情页", SHOP)
    assert text == "送您一张运费险" and [c.kind for c in changes] == ["remove_blame"]
    text, _ = rewrite_draft("已经给您补发了您没看物流吗", SHOP)
    assert text == "已经给您补发了"
    # the blamed part holding a fact is softened, the fact kept
    text, _ = rewrite_draft("这款是7天无理由您没看7天无理由的说明", SHOP)
    assert text.count("7天无理由") == 2 and "您没看" not in text
