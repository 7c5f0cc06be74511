"""Which sentences of the chosen policy passage a reply says: those behind the agent's own
facts first, and none about another product class than the conversation's."""

from __future__ import annotations

import pytest

from kefu_copilot.reply._advisor import ReplyAdvisor, _citation, _leads_with
from kefu_copilot.reply._topic import Subject

from .conftest import ingested_copilot


@pytest.fixture(scope="module")
def advisor(sample_copilot) -> ReplyAdvisor:
    _, answerer, shop = sample_copilot._current()
    return ReplyAdvisor(answerer, shop)


def test_a_row_about_another_product_class_is_recognised_by_its_label() -> None:
    poles = Subject(frozenset({"登山杖"}))
    others = {"登山包", "睡袋"}
    assert _leads_with("登山包 BP-1101：背负系统、拉链、织带 1 年保修。", others, poles)
    assert not _leads_with("登山杖 TP-701：杖身 1 年内非人为断裂免费换节。", others, poles)
    # named later in the sentence (an example, an exception): not a row about that class
    assert not _leads_with("签收后15天内可退换，睡袋拆封后不退。", others, poles)
    # a row naming both the conversation's class and another is about ours too
    assert not _leads_with("登山杖、登山包：1 年保修。", others, poles)
    assert not _leads_with("登山包：1 年保修。", set(), poles)


def test_the_sentence_stating_the_drafts_number_is_said_first(advisor) -> None:
    body = [
        "本店商品支持无理由退换货，请保持吊牌完好。",
        "羽绒服等冬装享受15天无理由退换。",
        "退换货请在订单页申请售后。",
    ]
    topic = "羽绒服 想退 无理由退换"
    assert advisor._ranked_sentences(body, topic, "过了15天")[0] == body[1]
    # without facts of its own, coverage of the turn's words decides
    ranked = advisor._ranked_sentences(body, "退换货 申请售后 订单页", "")
    assert ranked[0] == body[2]
    assert len(advisor._ranked_sentences(body, topic, "")) == 2


def test_other_names_leave_out_the_conversations_own_words(advisor) -> None:
    products = set(list(advisor._names)[:1])
    others = advisor._other_names(products, "")
    ours = advisor._subject(products).words
    assert others and not any(w in o or o in w for w in others for o in ours)
    said = next(iter(others))
    assert said not in advisor._other_names(products, f"我想问{said}")


def _returns_rule(advisor):
    """The sample shop's seven-day rule, said as a policy and cited from its passage."""
    chunk = next(
        c
        for c in advisor.answerer.snapshot.chunks
        if c.source == "policies/returns.md" and "自签收次日起7天内" in c.text
    )
    text = "自签收次日起7天内，可以申请七天无理由退货。"
    return text, [_citation(chunk, text, 1.0)]


def test_the_clause_leading_with_the_turns_deciding_term_is_said_too(advisor) -> None:
    """The policy said for "拒签了…" is the general seven-day rule; the clause of the same
    document whose condition is 拒签 is what the turn turns on, and is said after it, cited."""
    text, cited = advisor._with_deciding(_returns_rule(advisor), "我拒签了包裹 运费谁出", [])
    assert text.startswith("自签收次日起7天内")
    assert "拒签包裹按七天无理由退货处理" in text and "买家承担" in text
    assert {c.source for c in cited} == {"policies/returns.md"}


def test_a_term_said_only_in_passing_or_already_said_adds_nothing(advisor) -> None:
    found = _returns_rule(advisor)
    # 香水 is named in a clause about trying on at home, not a rule's condition
    assert advisor._with_deciding(found, "沾了点香水还能退吗", [])[0] == found[0]
    # every topic word of the turn is said already
    assert advisor._with_deciding(found, "七天无理由退货", [])[0] == found[0]
    # a document not cited is not read: a rule found nowhere else stays as it was
    assert advisor._with_deciding((found[0], []), "我拒签了包裹 运费谁出", []) == (found[0], [])


def test_a_policys_table_row_said_brings_its_documents_deciding_clause(tmp_path) -> None:
    """A policy said from a row of its table ("银卡…98折") is the policy's document too: its
    clause on 秒杀 is said for "金卡还不能和秒杀一起打折"; a product page's table is no policy."""
    copilot = ingested_copilot(
        tmp_path,
        {
            "shop.yaml": "name: 测试店\n",
            "policies/membership.md": "# 会员\n\n## 等级\n\n| 等级 | 条件 | 权益 |\n|---|---|---|\n"
            "| 银卡会员 | 累计实付满1000元 | 全店98折 |\n| 金卡会员 | 累计实付满3000元 | 全店95折 |\n\n"
            "## 说明\n\n- 会员折扣不与秒杀、直播间专享价同享。\n- 会员等级每月1日更新。\n",
        },
    )
    _, answerer, shop = copilot._current()
    advisor = ReplyAdvisor(answerer, shop)
    row = next(c for c in answerer.snapshot.chunks if c.kind == "table_row" and "银卡" in c.text)
    found = (row.text, [_citation(row, row.text, 1.0)])
    text, cited = advisor._with_deciding(found, "为什么我金卡还不能和秒杀一起打折", [])
    assert text.startswith(row.text) and "会员折扣不与秒杀、直播间专享价同享" in text
    assert "每月1日" not in text and {c.source for c in cited} == {"policies/membership.md"}


def test_a_clause_of_a_passage_cited_already_is_quoted_by_that_citation(advisor) -> None:
    """The deciding clause from the passage the policy was said from: the one citation of that
    passage quotes both (the lint checks the reply's numbers against what citations quote)."""
    found = _returns_rule(advisor)
    text, cited = advisor._with_deciding(found, "吊牌剪了还能退吗", [])
    added = text[len(found[0]) :]
    assert "吊牌" in added and len(cited) == 1
    assert cited[0].snippet == f"{found[0]}{added}"
