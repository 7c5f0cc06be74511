"""The fitted line ranker choosing a shown product's quoted facts (presales/_quotes.py)."""

from __future__ import annotations

import pytest

from kefu_copilot._data import packaged_rules
from kefu_copilot.presales import _recommend
from kefu_copilot.presales._quotes import candidate_lines, line_features, quote_model
from kefu_copilot.presales._recommend import Scored, _quotes
from kefu_copilot.presales._types import Fact, Profile

QUESTION = "给家里老人买，口感软不软？"


def _profile() -> Profile:
    facts = [
        Fact("商品", "红枣夹核桃", 0),
        Fact("产地", "新疆和田", 1),
        Fact("净含量", "500g", 1),
        Fact("包装", "独立小袋", 1),
        Fact("规格", "单颗约8g", 1),
        Fact("口感", "枣肉软糯，老人也嚼得动", 1),
    ]
    parts = [(0, "商品：红枣夹核桃"), (1, "产地：新疆和田"), (2, "精选大枣，每颗手工去核。")]
    return Profile("products/zao.md", "红枣夹核桃", "", "零食", facts, [], parts, overview=0)


def test_candidate_lines_are_the_pages_facts_and_prose_not_its_overview() -> None:
    lines = candidate_lines(_profile(), ["包装"])
    texts = [line.text for line in lines]
    assert "商品：红枣夹核桃" not in texts and "包装：独立小袋" not in texts
    assert texts[0] == "产地：新疆和田" and "精选大枣" in texts[-1]
    assert [line.kind for line in lines] == ["fact", "fact", "fact", "fact", "prose"]


def test_a_line_stating_what_was_asked_shares_more_of_the_question() -> None:
    profile = _profile()
    lines = candidate_lines(profile)
    feats = line_features(QUESTION, profile, lines, {})
    asked = next(i for i, line in enumerate(lines) if line.text.startswith("口感"))
    assert all(feats[asked]["chars"] > f["chars"] for i, f in enumerate(feats) if i != asked)


def test_the_fitted_ranker_quotes_the_line_asked_about_not_the_first_facts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert quote_model() is not None  # shipped in the package
    rules = packaged_rules("presales")
    scored = Scored(_profile(), question=QUESTION)
    quoted = [t for _, t in _quotes(scored, rules)[0]]
    assert "口感：枣肉软糯，老人也嚼得动" in quoted
    assert len(quoted) <= int(rules["quoted_facts"])
    # without the model the page's facts fill the quote in page order: the fourth is left out
    monkeypatch.setattr(_recommend, "quote_model", lambda: None)
    assert "口感：枣肉软糯，老人也嚼得动" not in [t for _, t in _quotes(scored, rules)[0]]


def test_a_price_objection_quotes_first_the_selling_point_the_shopper_questions() -> None:
    from kefu_copilot.presales._objections import selling_points

    facts = [
        Fact("商品", "轻羽羽绒服", 0),
        Fact("保修", "质保1年", 1),
        Fact("面料", "防泼水面料", 1),
        Fact("充绒量", "200g", 1),
        Fact("蓬松度", "800+", 1),
        Fact("重量", "整衣仅重480g，轻到可以塞进口袋", 1),
    ]
    profile = Profile("products/down.md", "轻羽羽绒服", "", "服装", facts, [], [], overview=0)
    rules = packaged_rules("presales")
    question = "别家羽绒服才三百，你这件凭什么贵，真的很轻吗，重量多少"
    ranked = selling_points(profile, rules, question)
    assert ranked[0][1].startswith("重量")
    assert not selling_points(profile, rules)[0][1].startswith("重量")  # the strength order
