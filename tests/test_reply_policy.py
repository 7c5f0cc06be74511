"""The policy said for a conversation: the bare reason of a refusal said by the policy, and the
document an FAQ answer was written from cited with it."""

from __future__ import annotations

import pytest

from kefu_copilot.config._shop import ShopConfig
from kefu_copilot.reply._advisor import ReplyAdvisor
from kefu_copilot.reply._phrases import shop_phrases

from .conftest import ingested_copilot


@pytest.fixture(scope="module")
def advisor(sample_copilot) -> ReplyAdvisor:
    _, answerer, shop = sample_copilot._current()
    return ReplyAdvisor(answerer, shop)


def test_a_bare_reason_of_a_refusal_is_said_by_the_policy(advisor) -> None:
    """A refusal after its bare reason ("过保了，没办法"): the reason is not said beside the
    policy that says it in full; the change names it."""
    conversation = [{"role": "customer", "text": "卫衣穿了一年开线了"}]
    reply = advisor.suggest(conversation, "过保了，没办法。")[0]
    assert "过保了" not in reply.text, reply.text
    assert any(c.kind == "reason" and c.before == "过保了" for c in reply.changes)


def test_a_curt_drafts_only_fact_stays(advisor) -> None:
    """A draft that refuses nothing ("没货了") keeps its one fact: the policy found for it may
    be about something else."""
    reply = advisor.suggest([{"role": "customer", "text": "卫衣没货了吗"}], "没货了")[0]
    assert "没货了" in reply.text, reply.text


def test_a_shop_can_keep_bare_reasons(sample_copilot) -> None:
    _, answerer, shop = sample_copilot._current()
    rules = {**(shop.rules or {}), "reply": {"bare_reason_words": 0}}
    keeps = ShopConfig.model_validate({**shop.model_dump(), "rules": rules})
    conversation = [{"role": "customer", "text": "卫衣穿了一年开线了"}]
    assert (
        "洗过了"
        not in ReplyAdvisor(answerer, shop).suggest(conversation, "洗过了，没办法。")[0].text
    )
    reply = ReplyAdvisor(answerer, keeps).suggest(conversation, "洗过了，没办法。")[0]
    assert "洗过了" in reply.text, reply.text


def test_bare_reason_words_must_be_a_whole_number(sample_copilot) -> None:
    _, _, shop = sample_copilot._current()
    rules = {**(shop.rules or {}), "reply": {"bare_reason_words": 2.5}}
    bad = ShopConfig.model_validate({**shop.model_dump(), "rules": rules})
    with pytest.raises(Exception, match="bare_reason_words"):
        shop_phrases(bad)


WARRANTY_SHOP = {
    "shop.yaml": "name: 光屿\n",
    "policies/warranty.md": "# 保修说明\n\n## 吸顶灯\n\n吸顶灯光源及驱动保修3年，灯罩五金保修1年。\n\n"
    "## 吊灯\n\n吊灯光源及驱动保修2年。\n\n## 灯带\n\n灯带本体保修2年，控制器保修1年。\n",
    "policies/shipping.md": "# 发货\n\n付款后48小时内发货，偏远地区加收运费20元。\n",
    "faq/faq.csv": "question,answer\n灯具保修多久,"
    "吸顶灯光源及驱动3年、灯罩五金1年；吊灯光源及驱动2年；灯带本体2年、控制器1年。\n",
}


def test_an_faq_answer_summing_up_a_document_is_cited_with_it(tmp_path) -> None:
    """An FAQ answer stating the numbers of several passages of one policy (a warranty's rows
    by product class) was written from that document: it is cited with it, though no single
    passage states half its numbers."""
    copilot = ingested_copilot(tmp_path, WARRANTY_SHOP)
    advisor = copilot._reply_advisor()
    answer = WARRANTY_SHOP["faq/faq.csv"].splitlines()[1].split(",", 1)[1]
    assert [c.source for c in advisor._backing(answer)] == ["policies/warranty.md"]
    other = "偏远地区运费30元、灯罩5年。"  # numbers no document states (3年 and 1年 it does)
    assert advisor._backing(other) == []


def test_the_agents_own_point_in_more_words_stays(advisor) -> None:
    """A clause of more content words or naming a size or mode is the agent's point, not a
    bare reason: it stays beside the policy."""
    conversation = [{"role": "customer", "text": "卫衣穿了一年开线了"}]
    reply = advisor.suggest(conversation, "您洗衣机甩干太猛了，没办法。")[0]
    assert "甩干" in reply.text, reply.text
    assert not advisor._bare_reason("选M码") and advisor._bare_reason("过保了")


def test_a_rule_cut_at_its_semicolon_is_said_with_its_condition() -> None:
    """A passage's lines are cut at "；": a rule said up to one is said with the rest of it (its
    condition), not with a row about another product class, and not twice."""
    from kefu_copilot.reply._advisor import _continued

    body = [
        "签收7天内支持无理由退货。",
        "无理由退货的来回运费由顾客承担；",
        "下单时购买了运费险的，按运费险理赔。",
        "偏远地区每单补运费15元；",
        "轮椅发往偏远地区每单补运费40元。",
    ]
    never = lambda t: False  # noqa: E731
    said = "无理由退货的来回运费由顾客承担。"
    assert _continued(body, said, never) == (
        "无理由退货的来回运费由顾客承担；下单时购买了运费险的，按运费险理赔。"
    )
    whole = "无理由退货的来回运费由顾客承担；下单时购买了运费险的，按运费险理赔。"
    assert _continued(body, whole, never) == whole
    other = "偏远地区每单补运费15元；"
    assert _continued(body, other, lambda t: t.startswith("轮椅")) == other


TABLE_WARRANTY_SHOP = {
    "shop.yaml": "name: 帘语\n",
    "policies/warranty.md": "# 质保说明\n\n| 商品/部件 | 质保期 |\n|---|---|\n"
    "| 静音直轨、罗马杆 | 2年 |\n| 电动轨道电机 | 3年 |\n| 遥控器、充电器 | 1年 |\n\n"
    "质保期从签收之日起计算，质保期内的质量问题免费维修。\n",
    "policies/returns.md": "# 退换货\n\n按尺寸定做的商品属于定制商品，包括布艺窗帘、卷帘，以及按长度"
    "裁切的静音直轨和电动轨道；定制商品非质量问题不支持退换货。\n",
    "policies/shipping.md": "# 发货\n\n一个订单最多拆成两个包裹发出，都包邮。\n",
    "faq/faq.csv": "question,answer\n电机保修多久,"
    "电动轨道电机保修3年，遥控器和充电器保修1年，静音直轨和罗马杆质保2年。\n",
}


def test_an_faq_answer_is_cited_with_the_policy_table_stating_its_figures(tmp_path) -> None:
    """An FAQ answer summing up a policy's table (a warranty's rows, one figure each) was
    written from that policy, though retrieval ranks another policy sharing its words (定制
    商品…电动轨道) first and no row states two of its figures: the document stating them is
    cited. One figure alone ("7天") names no rule, nor do counts."""
    copilot = ingested_copilot(tmp_path, TABLE_WARRANTY_SHOP)
    advisor = copilot._reply_advisor()
    answer = TABLE_WARRANTY_SHOP["faq/faq.csv"].splitlines()[1].split(",", 1)[1]
    assert [c.source for c in advisor._backing(answer)] == ["policies/warranty.md"]
    assert advisor._numbered_policy("电动轨道电机保修3年。", []) is None
    # counts say how many of something ("两个包裹", "另一个"): no rule's figures
    assert advisor._numbered_policy("罗马杆和电机分两个包裹发出，另一个包裹晚到。", []) is None
