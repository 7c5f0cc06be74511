"""Products as typed data (issue 15): the catalogue every format lands in, attribute-aware
answers, the size advisor, and what bad typed input does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kefu_copilot._models import Message
from kefu_copilot.ingest._catalog import build_catalog, parse_chart
from kefu_copilot.ingest._loaders import load_file
from tests.conftest import make_shop

_JACKET = {
    "title": "轻羽 女款羽绒服",
    "sku": "QY-DJ01",
    "price": 399,
    "attributes": {"含绒量": "90%", "面料": "20D尼龙"},
    "variants": [
        {"color": "黑色", "style": "短款", "price": 399},
        {"color": "奶白", "style": "中长款", "price": 499},
    ],
    "size_chart": {
        "columns": ["尺码", "建议身高(cm)", "建议体重(斤)", "胸围(cm)"],
        "rows": [
            ["S", "150-158", "80-95", "96"],
            ["M", "158-165", "95-110", "100"],
            ["L", "165-172", "110-125", "104"],
        ],
    },
}
_VACUUM = """---
title: 云扫 扫地机器人 V8
sku: YS-V8
price: 1999
---

# 云扫 扫地机器人 V8

## 清扫模式参数

| 清扫模式 | 吸力 | 续航 | 运行噪音 |
|---|---|---|---|
| 静音 | 1500Pa | 约210分钟 | 约55dB |
| 标准 | 3000Pa | 约160分钟 | 约62dB |

## 套装与价格

| 套装 | 价格 |
|---|---|
| 三件套 | 199元 |
| 礼盒四件套 | 299元 |
"""
_ORANGE = """---
title: 赣南脐橙 中果/大果/特大果
sku: QC-01
price: 39.9
---

# 赣南脐橙

## 规格与价格

| 规格 | 单果重 | 5斤约个数 | 5斤装价格 | 10斤装价格 |
|---|---|---|---|---|
| 中果 | 150g | 14个 | 39.9元 | 69.9元 |
| 大果 | 200g | 11个 | 45.9元 | 82.9元 |
| 特大果 | 250g | 9个 | 52.9元 | 96.9元 |

## 组合价格

| 组合 | 价格 | 说明 |
|---|---|---|
| 单箱 | 39.9元 | 普通纸箱装 |
| 三箱装 | 109元 | 赣南脐橙产地直发，三箱同一地址 |

## 礼盒库存

| 包装 | 净含量 | 库存 |
|---|---|---|
| 纸箱 | 5斤 | 有货 |
| 纸箱 | 10斤 | 有货 |
| 礼盒 | 5斤 | 有货 |
| 礼盒 | 10斤 | 缺货 |
"""
_POWDER = {
    "title": "柔焦控油散粉 8g",
    "sku": "SF-01",
    "price": 159,
    "attributes": {"色号": "01 透明色（不改变底妆颜色）；02 自然色（适合自然肤色）"},
}
_SHOES = """<html><body><h1>轻跑 跑步鞋</h1>
<h2>尺码表</h2><table><tr><th>鞋码</th><th>脚长(mm)</th></tr>
<tr><td>38</td><td>240</td></tr><tr><td>39</td><td>245</td></tr><tr><td>40</td><td>250</td></tr></table>
<p>脚背高、脚宽的亲建议选大一码。</p>
<h2>商品参数</h2><table><tr><th>参数</th><th>说明</th></tr><tr><td>鞋面</td><td>飞织网布</td></tr></table>
</body></html>"""


@pytest.fixture(scope="module")
def copilot(tmp_path_factory: pytest.TempPathFactory):
    from kefu_copilot import Copilot

    root = tmp_path_factory.mktemp("shop")
    make_shop(
        root,
        {
            "products/jacket.json": json.dumps(_JACKET, ensure_ascii=False),
            "products/vacuum.md": _VACUUM,
            "products/shoes.html": _SHOES,
            "products/orange.md": _ORANGE,
            "products/powder.json": json.dumps(_POWDER, ensure_ascii=False),
            "faq/faq.csv": "question,answer\n几天发货？,付款后48小时内发货。\n",
        },
    )
    cp = Copilot(root, index_dir=tmp_path_factory.mktemp("index"), embed_model="none")
    cp.ingest()
    return cp


# -- ingestion: every format lands in the same typed catalogue --------------------------------
def test_loaders_mark_facts_variants_and_tables() -> None:
    chunks, issues = load_file("products/j.json", json.dumps(_JACKET, ensure_ascii=False).encode())
    facts = {k: v for c in chunks for k, v in (c.meta.get("facts") or {}).items()}
    assert facts["含绒量"] == "90%" and facts["价格"] == "399元"
    variants = [c.meta for c in chunks if c.meta.get("table") == "规格"]
    assert variants[1]["header"] == ["color", "style", "price"]
    assert variants[1]["row"] == ["奶白", "中长款", "499"]
    assert not issues
    chunks, _ = load_file("products/v.md", _VACUUM.encode())
    rows = [c.meta for c in chunks if c.meta.get("header")]
    assert rows[0]["table"].endswith("清扫模式参数") and rows[0]["row"][1] == "1500Pa"
    chunks, _ = load_file("products/s.html", _SHOES.encode())
    catalog = build_catalog(chunks, lambda title: [title])
    facts = {f[0]: f[1] for f in catalog["products"]["products/s.html"]["facts"]}
    assert facts["鞋面"] == "飞织网布"  # a two-column spec table is facts too


def test_size_chart_is_typed_ranges() -> None:
    chart = parse_chart("尺码表", _JACKET["size_chart"]["columns"], _JACKET["size_chart"]["rows"])
    assert chart is not None and chart.labels == ["S", "M", "L"]
    height, weight, chest = chart.columns
    assert (height.dimension, height.ranges[0]) == ("height", (150.0, 158.0))
    assert (weight.dimension, weight.ranges[1]) == ("weight", (47.5, 55.0))  # 斤 → kg
    assert chest.points and not chart.problems


@pytest.mark.parametrize(
    ("columns", "rows", "problem"),
    [
        (["尺码", "身高(cm)"], [["S", "150-155"], ["M", "160-165"]], "a gap between S and M"),
        (["尺码", "身高(cm)"], [["S", "150-162"], ["M", "158-165"]], "S and M overlap"),
        (["尺码", "身高"], [["S", "150-155"], ["M", "155-160"]], "has no unit"),
        (["尺码", "体重"], [["S", "50kg"], ["M", "100-110斤"]], "mixes units"),
    ],
)
def test_bad_size_charts_are_reported(columns, rows, problem) -> None:
    data = {
        "title": "T恤",
        "attributes": {"面料": "棉"},
        "size_chart": {"columns": columns, "rows": rows},
    }
    _, issues = load_file("products/t.json", json.dumps(data, ensure_ascii=False).encode())
    assert any(problem in i.problem for i in issues), [i.problem for i in issues]


def test_products_without_attributes_and_unpriced_variants_are_reported() -> None:
    _, issues = load_file("products/a.json", json.dumps({"title": "袜子"}).encode())
    assert any("without attributes" in i.problem for i in issues)
    data = {"title": "袜子", "variants": [{"color": "黑", "price": 9}, {"color": "白"}]}
    _, issues = load_file("products/b.json", json.dumps(data, ensure_ascii=False).encode())
    assert any("variants without a price (第2项)" in i.problem for i in issues)


# -- attribute-aware answers ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("question", "decision", "contains", "absent"),
    [
        ("女款羽绒服含绒量多少", "auto", "90%", ""),
        ("女款羽绒服中长款多少钱", "auto", "499", "399"),
        ("扫地机器人静音模式能跑多久", "auto", "210分钟", "160分钟"),
        ("扫地机器人吸力多大", "auto", "1500Pa", ""),  # no mode named: every mode's value
        ("扫地机器人三件套和礼盒四件套各多少钱", "auto", "299", ""),
        # a row's exact name beats a longer name that holds it; the column its header names
        ("脐橙大果5斤多少钱", "auto", "45.9", "52.9"),
        ("脐橙特大果多少钱", "auto", "52.9", "45.9"),
        ("脐橙大果5斤多少钱", "auto", "45.9", "82.9"),
        # the one row named by two cells that each name several rows
        ("脐橙礼盒10斤还有吗", "auto", "缺货", "有货"),
        # a count said in digits for a cell's numeral; the product's name inside a cell names
        # no variant
        ("脐橙3箱装多少钱", "auto", "109", "39.9"),
        # 繁體 read as retrieval reads it; the attribute's own word in a variant's note (颜色)
        # names no variant
        ("女款羽絨服含絨量多少", "auto", "90%", ""),
        ("散粉有几个颜色", "auto", "自然色", ""),
        # asks more than the value: a draft for an agent
        ("女款羽绒服含绒量多少 零下十度够不够", "draft", "90%", ""),
    ],
)
def test_attribute_answers(copilot, question, decision, contains, absent) -> None:
    answer = copilot.answer(question)
    assert answer.decision == decision, answer.reasons
    assert contains in answer.text and (not absent or absent not in answer.text), answer.text
    assert answer.citations and answer.citations[0].source.startswith("products/")


def test_a_follow_up_takes_the_previous_turns_attribute(copilot) -> None:
    history = [Message(role="customer", text="女款羽绒服短款多少钱")]
    answer = copilot.answer("那中长款呢？", history)
    assert answer.decision == "auto" and "499" in answer.text, answer.text


# -- the size advisor -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("question", "decision", "contains"),
    [
        ("1米6 100斤 女款羽绒服穿什么码", "auto", "M码"),
        ("一米六七 112斤 女款羽绒服选啥码", "auto", "L码"),
        ("女款羽绒服 身高168 体重57 穿几码", "auto", "L码"),  # 57 read as kg: 57斤 is off the chart
        ("女款羽绒服 身高152 体重120斤 穿什么码", "draft", "S码"),  # height S, weight L: both named
        ("女款羽绒服 身高155 体重200斤 穿什么码", "draft", "超出"),  # off the chart
        ("女款羽绒服160斤穿什么码", "draft", "超出"),  # 160斤 is a weight, not a height
        ("女款羽绒服 身高160 穿什么码", "draft", "M码"),  # one number of a two-measure chart
        ("女款羽绒服 身高165 体重110斤 穿什么码", "draft", "M码或L码"),  # on both boundaries
        ("跑步鞋脚长245穿几码", "auto", "39码"),  # the chart measures only foot length
        # who wears it and the sizes weighed ("S还是M") ask nothing more
        ("女生 1米6 100斤 女款羽绒服穿S还是M", "auto", "M码"),
        # a circumstance the page's fitting note weighs: a draft quoting the note
        ("跑步鞋脚长245穿几码 脚背有点高", "draft", "建议选大一码"),
        # one the page says nothing of
        ("跑步鞋脚长245穿几码 平时跑步用", "auto", "39码"),
    ],
)
def test_size_advice(copilot, question, decision, contains) -> None:
    answer = copilot.answer(question)
    assert answer.decision == decision, (answer.text, answer.reasons)
    assert contains in answer.text, answer.text
    assert answer.citations[0].source.startswith("products/")


def test_disagreeing_measures_name_both_sizes(copilot) -> None:
    answer = copilot.answer("女款羽绒服 身高152 体重120斤 穿什么码")
    assert "S码" in answer.text and "L码" in answer.text


def test_typed_catalogue_is_persisted_with_the_generation(copilot) -> None:
    index = Path(copilot.index_dir) if hasattr(copilot, "index_dir") else None
    if index is None:
        pytest.skip("no index_dir attribute")
    catalogs = list(index.rglob("catalog.json"))
    assert catalogs
    data = json.loads(catalogs[-1].read_text(encoding="utf-8"))
    jacket = data["products"]["products/jacket.json"]
    # the typed parts are stored apart, one line per product (parsed when asked)
    start, end = jacket["typed"]
    typed = json.loads((catalogs[-1].parent / "catalog_typed.jsonl").read_bytes()[start:end])
    assert any(f[:2] == ["含绒量", "90%"] for f in typed["facts"])
    assert any(t["name"] == "尺码表" for t in typed["tables"])


def test_a_catalogue_with_its_typed_parts_inline_still_reads(tmp_path: Path) -> None:
    """An index of version 3 held the typed parts in catalog.json itself."""
    from kefu_copilot.index._coverage import Idf
    from kefu_copilot.index._generations import StoredCatalog
    from kefu_copilot.ingest._catalog import Products

    entry = {"title": "T", "name": "T", "chunks": [0], "facts": [["颜色", "红", 0]],
             "tables": [{"name": "规格", "rows": [[["颜色"], ["红"], 0]]}]}  # fmt: skip
    catalog = {"version": 3, "products": {"p.json": entry}, "skus": {}, "words": {"T": []}}
    stored = StoredCatalog(catalog, b"", tmp_path / "catalog_typed.jsonl")
    idf = Idf.__new__(Idf)
    products = Products.of(stored, [], lambda text: [], idf)
    assert products.facts["p.json"] == [["颜色", "红", 0]]
    assert products.tables.get("p.json")[0]["name"] == "规格"
    assert products.facts.get("nothing", ()) == ()
    assert list(products.facts) == ["p.json"]


def test_a_variant_named_by_its_number_alone() -> None:
    from kefu_copilot.answer._attributes import _find

    assert _find("那50的呢", "50ml") == 1  # a follow-up: 50 of 50ml
    assert _find("41款续航多久", "41mm") == 0
    assert _find("满50包邮吗", "50ml") == -1  # a number in other words
    assert _find("那50g的呢", "50ml") == -1  # another unit
    assert _find("那150的呢", "50ml") == -1


def _attributes(facts: dict[str, str], rows: list[list[str]] | None = None):
    from kefu_copilot._data import packaged_rules
    from kefu_copilot.answer._attributes import Attributes

    table = (
        [{"name": "products/bag.md/规格", "rows": [(rows[0], row, 1) for row in rows[1:]]}]
        if rows
        else []
    )
    return Attributes(
        {"p": [[name, value, 0] for name, value in facts.items()]},
        {"p": table},
        packaged_rules("attributes"),
    )


def test_the_products_own_name_for_an_attribute_beats_the_vocabulary_cue() -> None:
    """A cue (多少度, 温度) names every name of its attribute; the product's own fact said whole
    beside it (舒适温度, 极限温度) is the one value asked, and its cue asks nothing more."""
    attributes = _attributes({"舒适温度": "-5℃", "极限温度": "-15℃"})
    comfort = attributes.answer("睡袋舒适温度是多少度", "p", "极光睡袋")
    assert comfort is not None and comfort.sure, comfort
    assert "-5℃" in comfort.text and "-15℃" not in comfort.text
    limit = attributes.answer("极限温度呢", "p", "极光睡袋")
    assert limit is not None and "-15℃" in limit.text and "-5℃" not in limit.text
    # the cue alone: both facts could be it, a draft
    either = attributes.answer("睡袋能扛多少度", "p", "极光睡袋")
    assert either is not None and not either.sure
