"""Product identification by title characters and codes; quotes focused on the subject asked."""

from kefu_copilot.answer._attributes import _in_range, _said_apart, _variant_of
from kefu_copilot.answer._claims import focused
from kefu_copilot.answer._identify import ProductFinder

TITLES = {
    "w.json": "栖木 女款轻薄羽绒服 90%白鸭绒 立领短款/长款",
    "m.html": "栖木 男款加厚连帽鹅绒羽绒服 可拆卸帽",
    "run.json": "栖木 轻弹缓震跑步鞋 男女同款 透气网面运动鞋",
    "kid.html": "栖木童鞋 儿童魔术贴运动鞋 男童女童",
    "tee.md": "230g重磅纯棉圆领T恤 男女同款",
    "k87.html": "极电 K87 三模机械键盘",
    "m1.json": "极电 M1 双模静音无线鼠标",
    "pro2.md": "极电 SoundPods Pro 2 主动降噪真无线蓝牙耳机",
    "r10.md": "极电 扫拖机器人 R10 / R10 Pro 全能基站",
}


def test_ties_narrowed_by_title_bigrams_and_characters() -> None:
    finder = ProductFinder(TITLES)
    assert finder.refine("女款羽绒服长款多少钱", ["m.html", "w.json"]) == ["w.json"]
    assert finder.refine("男羽绒服多少钱", ["m.html", "w.json"]) == ["m.html"]
    assert finder.refine("跑鞋 脚长245 穿几码", ["kid.html", "run.json"]) == ["run.json"]


def test_model_codes_name_the_product() -> None:
    finder = ProductFinder(TITLES)
    assert finder.refine("k87静音白轴多少钱", ["m1.json"]) == ["k87.html"]
    assert finder.refine("pro2雾霾蓝多少钱", []) == ["pro2.md"]
    # "pro" is in two titles, "pro 2" in one
    assert finder.refine("How long does Pro 2 last", ["pro2.md", "r10.md"]) == ["pro2.md"]


def test_a_distinctive_bigram_fills_in_and_numbers_do_not() -> None:
    finder = ProductFinder(TITLES)
    assert finder.refine("T恤 175 70公斤穿什么码", []) == ["tee.md"]
    assert finder.refine("预算1500 想要个礼物", []) == []
    assert finder.refine("今天能发货吗", []) == []


def test_filling_in_scores_only_titles_holding_a_distinctive_bigram() -> None:
    """The fill-in path reads the bigram postings, not every title: the same products as
    scoring the whole catalogue and keeping those with a distinctive bigram of their own."""
    import random

    rng = random.Random(3)
    chars = "羽绒服跑步鞋纯棉圆领恤机械键盘无线鼠标降噪耳机扫拖机器人全能基站男女款童"
    titles = {f"p{i}.md": "".join(rng.choices(chars, k=rng.randint(4, 12))) for i in range(300)}
    finder = ProductFinder(titles)
    for _ in range(300):
        question = "".join(rng.choices(chars + "的吗多少钱", k=rng.randint(3, 10)))
        grams = {question[k : k + 2] for k in range(len(question) - 1)}
        rare = {g for g in grams if 0 < finder._df.get(g, 0) * 2 <= finder._n}
        every = {s: v for s, v in finder.scores(question).items() if finder._grams[s] & rare}
        best = ProductFinder._best(every)
        expected = best if rare and len(best) == 1 else finder._by_variant(question)
        assert finder.refine(question, []) == expected


def test_attribute_words_inside_the_product_name_are_not_asked() -> None:
    title = "_".join(["磁吸无线充电宝", "5000mah"])
    assert _said_apart("磁吸充电宝安卓能用吗", "充电", title) == -1
    assert _said_apart("充电宝充电要多久", "充电", title) == 3


def test_a_variant_of_a_listed_fact_and_a_number_in_a_range() -> None:
    assert _in_range("童鞋34码多少钱", "33-37码") == ("34码", 2)
    assert _in_range("童鞋34码多少钱", "26-32码") is None
    covered: list[tuple[int, int]] = []
    values = _variant_of("童鞋34码多少钱", ["26-32码 ¥159；33-37码 ¥179"], covered)
    assert values == ["33-37码 ¥179"] and covered == [(2, 5)]
    assert _variant_of("童鞋多少钱", ["26-32码 ¥159；33-37码 ¥179"], []) == [
        "26-32码 ¥159；33-37码 ¥179"
    ]


def test_quotes_focus_on_the_member_tier_asked() -> None:
    text = "亲，满1000元为银卡95折，满3000元为金卡9折，满8000元为黑卡85折。"
    assert focused(text, "金卡打几折") == "亲，满3000元为金卡9折。"
    assert focused(text, "会员打几折") == text  # no tier named
    joint = "亲，大件商品全国包邮，含新疆、西藏等例外地区。"
    assert focused(joint, "寄新疆要运费吗") == joint  # a joint list states no value per region


def test_a_variant_only_one_product_has_identifies_it() -> None:
    variants = {
        "r10.md": ["标准", "强劲", "安静"],
        "m1.json": ["雾蓝", "奶白"],
        "k87.html": ["奶白"],
    }
    finder = ProductFinder(TITLES, variants)
    assert finder.refine("强劲档能跑多久", []) == ["r10.md"]
    assert finder.refine("奶白的多少钱", []) == []  # two products have it


def test_weak_matches_reach_the_llm_missing_knowledge_does_not() -> None:
    from kefu_copilot._models import Answer, Chunk
    from kefu_copilot.answer._extractive import Candidate, Prepared
    from kefu_copilot.answer._generate import MISSING, GroundedGenerator
    from kefu_copilot.retrieval._hybrid import Hit

    chunk = Chunk(id="c1", source="faq.csv", locator="第1行", kind="faq", text="签收后15天内可退")
    cand = Candidate(Hit(chunk=chunk, score=1.0, index=0), 0.4, chunk.text, chunk.text, 0)

    def prepared(confidence: float, ruled: bool = False, found: bool = True) -> Prepared:
        answer = Answer(question="q", text="转人工", decision="handoff", confidence=confidence)
        return Prepared("q", [], answer, [cand] if found else [], ruled)

    assert not GroundedGenerator.settled(prepared(MISSING + 0.1))  # a weak match
    assert GroundedGenerator.settled(prepared(MISSING / 2))  # nothing about it
    assert GroundedGenerator.settled(prepared(0.9, ruled=True))
    assert GroundedGenerator.settled(prepared(0.5, found=False))


def test_a_transposed_table_answers_by_the_variant_column() -> None:
    from kefu_copilot._data import packaged_rules
    from kefu_copilot.answer._attributes import Attributes

    header = ["使用场景", "41mm", "46mm"]
    rows = [[header, ["典型使用", "7天", "10天"], 1], [header, ["重度使用", "3天", "5天"], 2]]
    tables = {"w.html": [{"name": "智能手表 / 续航", "rows": rows}]}
    attrs = Attributes({}, tables, packaged_rules("attributes"))
    found = attrs.answer("46mm续航多久", "w.html", "智能手表")
    assert found is not None and found.sure
    assert (
        "典型使用 10天" in found.text and "重度使用 5天" in found.text and "7天" not in found.text
    )


def test_parallel_lists_of_a_row_reduce_to_the_tier_asked() -> None:
    row = "券种：生日券，面额：30元 / 50元，门槛：满200元 / 满300元，发放：金卡 / 黑卡"
    assert (
        focused(row, "我是金卡 生日券多少钱")
        == "券种：生日券，面额：30元，门槛：满200元，发放：金卡"
    )
    assert focused(row, "生日券多少钱") == row


def test_two_attributes_asked_together_are_both_answered() -> None:
    from kefu_copilot._data import packaged_rules
    from kefu_copilot.answer._attributes import Attributes

    facts = {"p.json": [["重量", "约 115g", 1], ["厚度", "12.8mm", 2], ["颜色", "白", 3]]}
    attrs = Attributes(facts, {}, packaged_rules("attributes"))
    found = attrs.answer("厚度多少 重不重", "p.json", "磁吸充电宝")
    assert found is not None and found.sure and found.chunks == [1, 2]
    assert "重量：约 115g" in found.text and "厚度：12.8mm" in found.text


def test_a_variant_named_by_a_quantity_in_other_units() -> None:
    from kefu_copilot._data import packaged_rules
    from kefu_copilot.answer._attributes import Attributes

    header = ["规格", "价格"]
    rows = [[header, ["C to C 1m", "29"], 1], [header, ["C to C 2m", "39"], 2]]
    attrs = Attributes(
        {}, {"c.json": [{"name": "数据线 / 规格", "rows": rows}]}, packaged_rules("attributes")
    )
    found = attrs.answer("数据线2米的多少钱", "c.json", "数据线")
    assert found is not None and found.sure and "39" in found.text and "29" not in found.text


def test_a_variant_is_named_without_its_bracketed_note() -> None:
    from kefu_copilot.answer._extractive import _name_parts

    assert _name_parts("极光紫（限定配色）") == ["极光紫（限定配色）", "极光紫"]
    assert _name_parts("白色 / 浅蓝") == ["白色 / 浅蓝", "白色", "浅蓝"]
    variants = {
        s: [p for c in cells for p in _name_parts(c)]
        for s, cells in {
            "shoes.json": ["极光紫（限定配色）"],
            "coat.html": ["亮橙（限定色）"],
        }.items()
    }
    finder = ProductFinder(TITLES, variants)
    assert finder.refine("极光紫那个配色多少钱", []) == ["shoes.json"]
