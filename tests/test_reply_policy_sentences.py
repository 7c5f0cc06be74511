"""Which sentences of the chosen policy passage a reply says: those behind the agent's own
facts first, and none about another product class than the conversation's."""

from __future__ import annotations

import pytest

from kefu_copilot.reply._advisor import ReplyAdvisor, _leads_with
from kefu_copilot.reply._topic import Subject


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
