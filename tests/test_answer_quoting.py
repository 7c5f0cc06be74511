"""The fitted ranker of the line an extractive answer quotes (answer/_quoting.py)."""

from __future__ import annotations

from pathlib import Path

from kefu_copilot.answer._claims import claim_rules
from kefu_copilot.answer._quoting import (
    QuoteLine,
    answer_quote_model,
    asked_dimensions,
    quote_line_features,
)
from kefu_copilot.text._ranker import LineRanker

from .conftest import ingested_copilot

POLICY = """# 售后说明

## 验货说明
收到鱼缸请当面开箱验货，确认缸体完好后再签收。验货时请拍照留存。

## 破损理赔
运输途中鱼缸破损，请在签收后48小时内联系客服并提供照片，超过时限不予受理。
"""


def test_the_quantity_a_question_asks_for_is_read_where_it_asks() -> None:
    asks = claim_rules().asks
    # 一个 states a count; 几个 asks one — the count asked is the one at 几
    assert asked_dimensions("一个网关能连几个门磁", asks) == {"count:个"}
    assert asked_dimensions("这瓶多少毫升", asks) == {"volume"}
    assert "money" in asked_dimensions("运费多少钱", asks)  # by the claims rule set's cue
    assert asked_dimensions("能退吗", asks) == set()


def test_a_line_stating_the_quantity_asked_is_marked_so() -> None:
    lines = [
        QuoteLine(0, "验货时请拍照留存。", "policy", 0, 2, True, 1.0, 1.0, 0),
        QuoteLine(1, "请在签收后48小时内联系客服。", "policy", 0, 1, False, 0.5, 0.9, 1),
    ]
    feats = quote_line_features("几小时内要联系", "", lines, lambda _: "", {"time"})
    assert feats[1]["asked_dim"] == 1.0 and feats[0]["asked_dim"] == 0.0
    assert feats[0]["today"] == 1.0 and feats[0]["best_chunk"] == 1.0
    assert feats[1]["chars_top"] == 1.0 and feats[1]["support"] < 1.0


def test_the_ranker_quotes_another_chunk_of_the_best_file_and_cites_it(tmp_path: Path) -> None:
    assert answer_quote_model() is not None  # shipped in the package
    copilot = ingested_copilot(tmp_path, {"policies/aftersales.md": POLICY})
    answerer, _ = copilot._generation()
    question = "鱼缸验货时发现碎了 几小时内要联系客服"
    answerer.quote_ranker = LineRanker({"asked_dim": 5.0, "support": 0.1})
    answer = answerer.prepare(question, []).extractive
    assert "48小时" in answer.text and "拍照" not in answer.text
    assert answer.citations[0].source == "policies/aftersales.md"
    assert "理赔" in answer.citations[0].locator
    # the other way round: a line stating no time, of the other section (one of the two
    # choices is not the coverage choice, so the ranker's is what moved the quote)
    answerer.quote_ranker = LineRanker({"asked_none": 5.0, "chars": 0.1})
    answer = answerer.prepare(question, []).extractive
    assert "48小时" not in answer.text and "验货" in answer.citations[0].locator


def test_a_top_line_within_todays_quote_leaves_the_quote_as_it_was(tmp_path: Path) -> None:
    copilot = ingested_copilot(tmp_path, {"policies/aftersales.md": POLICY})
    answerer, _ = copilot._generation()
    question = "鱼缸验货时发现碎了 几小时内要联系客服"
    answerer.quote_ranker = None
    before = answerer.prepare(question, []).extractive
    answerer.quote_ranker = LineRanker({"today": 5.0})
    after = answerer.prepare(question, []).extractive
    assert after.text == before.text
    assert [c.chunk_id for c in after.citations] == [c.chunk_id for c in before.citations]


def test_the_quote_ranker_is_an_argument_of_the_answerer(tmp_path: Path) -> None:
    """Default: the packaged ranker; None: the coverage choice; a ranker of one's own."""
    from kefu_copilot.answer._extractive import Answerer

    copilot = ingested_copilot(tmp_path, {"policies/aftersales.md": POLICY})
    built, _ = copilot._generation()
    parts = (built.snapshot, built.retriever, built.tokenizer, built.shop, built.settings)
    assert Answerer(*parts).quote_ranker is answer_quote_model()
    question = "鱼缸验货时发现碎了 几小时内要联系客服"
    plain = Answerer(*parts, quote_ranker=None).prepare(question, []).extractive
    assert "48小时" in plain.text  # the best chunk's best sentence by coverage
    # a ranker that prefers a line stating no time moves the quote to the other section
    own = Answerer(*parts, quote_ranker=LineRanker({"asked_none": 5.0, "chars": 0.1}))
    moved = own.prepare(question, []).extractive
    assert "48小时" not in moved.text and "验货" in moved.citations[0].locator
