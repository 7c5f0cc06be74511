"""Synthetic but realistic Chinese shop directories (data-contract format) for the benchmark.

``generate_shop(root, target_chunks, seed)`` writes ``shop.yaml``, ``products/`` (.json, .md with
front matter and size tables, .html with scripts/styles), ``faq/`` (.csv and .jsonl with similar
phrasings), ``policies/`` (.md, .txt) and ``cases/`` (.jsonl), sized so that kefu-copilot's
loaders produce about ``target_chunks`` chunks. It also returns benchmark questions, each with
the source file that answers it (``None`` for messages a human must take).
Everything is drawn from a seeded ``random.Random``: the same seed gives the same bytes.
"""

from __future__ import annotations

import csv
import io
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Question", "ShopInfo", "generate_shop"]

BRANDS = ["木棉生活", "云朵家", "北纬织造", "素野", "森屿", "初禾", "棉田记", "山川集", "拾光"]
ADJECTIVES = [
    "加绒", "加厚", "轻薄", "宽松", "修身", "复古", "简约", "重磅", "防风", "速干", "冰丝",
    "纯色", "条纹", "格纹", "刺绣", "印花", "水洗", "高腰", "直筒", "落肩", "法式", "日系",
    "国潮", "极简", "通勤", "基础款", "保暖", "透气", "弹力", "无痕",
]  # fmt: skip
MATERIALS = [
    "纯棉", "长绒棉", "莫代尔", "亚麻", "真丝", "羊毛", "羊绒", "涤纶", "锦纶", "天丝",
    "灯芯绒", "牛仔", "摇粒绒", "华夫格", "竹纤维", "珊瑚绒",
]  # fmt: skip
AUDIENCES = ["男女同款", "男款", "女款", "儿童款", "情侣款"]
COLORS = ["白色", "黑色", "雾霾蓝", "燕麦色", "卡其色", "藏青", "墨绿", "酒红", "浅灰", "杏色"]
CATEGORIES: dict[str, list[str]] = {
    "top": ["T恤", "卫衣", "衬衫", "针织衫", "羽绒服", "冲锋衣", "夹克", "风衣", "马甲", "棉服"],
    "bottom": ["牛仔裤", "休闲裤", "运动裤", "阔腿裤", "短裤", "半身裙", "连衣裙", "工装裤"],
    "shoe": ["运动鞋", "帆布鞋", "板鞋", "老爹鞋", "乐福鞋", "马丁靴", "雪地靴", "凉鞋"],
    "goods": ["保温杯", "双肩包", "斜挎包", "棒球帽", "渔夫帽", "围巾", "袜子", "四件套"],
}
REGIONS = ["新疆", "西藏", "青海", "内蒙古", "宁夏", "甘肃", "海南", "港澳台"]
CITIES = ["北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "西安", "南京", "重庆"]
COURIERS = ["中通", "圆通", "韵达", "申通", "顺丰", "京东物流", "邮政EMS"]
SYNONYMS = [
    ["发货", "寄出", "出库", "发出"], ["快递", "物流", "包裹"], ["退货", "退回", "退掉"],
    ["退款", "退钱"], ["尺码", "码数", "尺寸"], ["优惠券", "券", "红包"], ["运费", "邮费"],
    ["起球", "起毛球"], ["缩水", "变小"], ["价保", "保价"], ["发票", "开票"],
]  # fmt: skip
HANDOFF_QUESTIONS = [
    "我的订单到哪了？", "我要投诉你们，东西质量太差了", "转人工客服", "帮我改一下收货地址",
    "怎么还没发货，都三天了", "不给我赔偿我就给差评", "你是机器人吗？我要找真人",
    "昨天下单的衣服怎么还没发货", "取消订单", "退款怎么还没到账",
]  # fmt: skip
# Policy topics: (file stem, title, [(section, [sentence templates])]).
POLICY_TOPICS: list[tuple[str, str, list[tuple[str, list[str]]]]] = [
    ("returns", "退换货政策", [
        ("七天无理由", ["签收后7天内，{cat}类商品吊牌完好、未洗涤未穿着，可申请七天无理由退货。",
                   "定制商品、贴身衣物（{cat}中的内衣袜类）拆封后不支持无理由退货。",
                   "无理由退货的寄回运费由买家承担，运费险可抵扣部分运费。"]),
        ("质量问题", ["收到商品存在破损、污渍、开线等质量问题，签收后{days}天内可申请退换。",
                  "质量问题退换的来回运费由本店承担，请拍照上传问题部位。",
                  "经核实为质量问题的，可选择退款、换新或补发。"]),
        ("退款时效", ["仓库签收退货后{hours}小时内完成验货并原路退款。",
                  "花呗、信用卡支付的退款退回原支付账户，到账时间以银行为准，一般1-{days}个工作日。"]),
    ]),
    ("shipping", "发货与配送说明", [
        ("发货时间", ["现货商品付款后{hours}小时内从{wh}发货，预售商品按详情页标注时间发货。",
                  "大促期间（618、双11）发货时间顺延，最晚付款后{days}天内发出。"]),
        ("快递与运费", ["默认发{courier}快递，如需顺丰请补差价{yuan}元。",
                   "全场实付满{free}元包邮，{region}等偏远地区运费{yuan}元。",
                   "{city}同城订单一般次日送达，其他地区2-{days}天送达。"]),
        ("收货注意", ["签收前请当面检查外包装，如有破损请拒收并联系客服。",
                  "快递显示签收但未收到的，请在{days}天内联系我们处理。"]),
    ]),
    ("membership", "会员等级与权益", [
        ("等级规则", ["近12个月累计实付满{free}元升级为银卡会员，满{big}元升级为金卡会员。",
                  "会员等级每月1日根据消费记录自动更新。"]),
        ("会员权益", ["金卡会员享受{cat}类商品{pct}折优惠，并可免费升级顺丰。",
                  "银卡会员生日当月领取{yuan}元无门槛优惠券一张。",
                  "会员积分每消费1元积1分，{big}积分可兑换{yuan}元优惠券。"]),
    ]),
    ("invoice", "发票说明", [
        ("开票方式", ["本店支持开具电子普通发票和增值税专用发票，开票内容为商品明细。",
                  "确认收货后可在订单详情页申请开票，{days}个工作日内开具。"]),
        ("注意事项", ["发票金额为实付金额，优惠券、积分抵扣部分不开票。",
                  "已开发票的订单申请退货时，需先冲红原发票。"]),
    ]),
    ("price-protection", "价格保护规则", [
        ("价保范围", ["签收后{days}天内，同一商品同规格降价可申请价保，补差价以优惠券形式返还。",
                  "{cat}类商品参与价保，秒杀、清仓和赠品不参与。"]),
        ("申请方式", ["联系客服并提供订单号和降价截图，核实后{hours}小时内处理。"]),
    ]),
    ("coupons", "优惠券使用规则", [
        ("使用规则", ["满{free}减{yuan}优惠券适用于{cat}类商品，每笔订单限用一张。",
                  "优惠券不可叠加使用，不可兑换现金，过期自动作废。",
                  "使用优惠券的订单退货后，未过期的优惠券自动退回账户。"]),
    ]),
    ("after-sales", "售后服务说明", [
        ("保修与维修", ["{cat}类商品自签收起{days}天内出现非人为质量问题，可免费维修或更换。",
                   "人为损坏（剪裁、烫坏、洗涤不当）不在免费售后范围内，可付费修补。"]),
        ("处理流程", ["在订单页提交售后申请并上传照片，客服{hours}小时内审核。",
                  "审核通过后按页面地址寄回，仓库签收后{days}天内处理完毕。"]),
    ]),
    ("size-guide", "尺码选择指南", [
        ("测量方法", ["胸围请在腋下最丰满处水平测量一周，腰围在肚脐上方最细处测量。",
                  "脚长请站立测量脚跟到最长脚趾的距离，单位为毫米。"]),
        ("选码建议", ["身高{h}厘米、体重{w}斤左右一般选择{size}码，喜欢宽松可选大一码。",
                  "{cat}类商品版型偏{fit}，两个尺码之间建议选大一码。"]),
    ]),
]  # fmt: skip
POLICY_FILLERS = [
    "如有疑问请联系在线客服，服务时间为每天9:00-23:00。",
    "本规则自发布之日起执行，此前订单按原规则处理。",
    "{city}地区的线下门店同样适用本规则。",
    "大促期间的特殊规则以活动页面公示为准。",
    "因不可抗力导致的延误，本店将第一时间通知您。",
    "",
]
POLICY_QUESTIONS = {
    "returns": ["{cat}可以七天无理由退货吗？", "质量问题退货运费谁出？", "退款多久能到账？"],
    "shipping": ["付款后多久发货？", "{region}运费多少钱？", "可以发顺丰吗，要加多少钱？"],
    "membership": ["金卡会员有什么权益？", "怎么升级银卡会员？", "积分怎么兑换优惠券？"],
    "invoice": ["可以开增值税专用发票吗？", "发票怎么申请？"],
    "price-protection": ["买了以后降价了能补差价吗？", "价保怎么申请？"],
    "coupons": ["优惠券可以叠加使用吗？", "退货后优惠券还能退回来吗？"],
    "after-sales": ["{cat}坏了可以免费维修吗？", "售后申请多久审核？"],
    "size-guide": ["胸围怎么量？", "脚长怎么测量？"],
}


@dataclass
class Question:
    text: str
    sources: tuple[str, ...]  # prefixes of the files that answer it; () = a human must take it
    kind: str

    def answered_by(self, source: str | None, locator: str = "") -> bool:
        """Whether a citation of ``source`` (at ``locator``) answers it. An expected entry is a
        source prefix, or ``source#locator`` for one FAQ row."""
        cited = f"{source}#{locator}"
        return source is not None and any(
            cited == s if "#" in s else source.startswith(s) for s in self.sources
        )


@dataclass
class ShopInfo:
    root: Path
    files: int = 0
    products: int = 0
    faq_rows: int = 0
    policies: int = 0
    cases: int = 0
    questions: list[Question] = field(default_factory=list)


@dataclass
class _Product:
    sku: str
    title: str
    short: str
    group: str
    category: str
    attrs: dict[str, str]
    size_header: list[str]
    size_rows: list[list[str]]
    colors: list[str]
    price: int
    description: str


def _size_chart(rng: random.Random, group: str) -> tuple[list[str], list[list[str]]]:
    if group == "top":
        header = ["尺码", "身高(cm)", "胸围(cm)", "衣长(cm)", "袖长(cm)", "建议体重(斤)"]
        base_chest, base_len = rng.choice([92, 96, 100, 104]), rng.choice([62, 64, 66, 68])
        rows = [
            [s, f"{150 + 6 * i}-{155 + 6 * i}", str(base_chest + 4 * i), str(base_len + 2 * i),
             str(56 + 2 * i), f"{85 + 20 * i}-{105 + 20 * i}"]
            for i, s in enumerate(["S", "M", "L", "XL", "2XL", "3XL"])
        ]  # fmt: skip
    elif group == "bottom":
        header = ["尺码", "腰围(cm)", "臀围(cm)", "裤长(cm)", "建议体重(斤)"]
        waist = rng.choice([62, 64, 66, 68])
        rows = [
            [s, str(waist + 4 * i), str(waist + 28 + 4 * i), str(96 + 2 * i),
             f"{85 + 15 * i}-{100 + 15 * i}"]
            for i, s in enumerate(["26", "27", "28", "29", "30", "31", "32"])
        ]  # fmt: skip
    elif group == "shoe":
        header = ["尺码", "脚长(mm)", "脚宽(mm)", "对应欧码"]
        rows = [[str(35 + i), str(225 + 5 * i), str(85 + 2 * i), str(35 + i)] for i in range(10)]
    else:
        return [], []
    return header, rows


def _attributes(rng: random.Random, group: str, material: str, colors: list[str]) -> dict[str, str]:
    pct = rng.choice([60, 70, 80, 90, 95, 100])
    attrs = {
        "面料成分": f"{pct}%{material}" + (f" {100 - pct}%聚酯纤维" if pct < 100 else ""),
        "颜色": "、".join(colors),
        "产地": rng.choice(["浙江杭州", "广东广州", "福建泉州", "江苏苏州", "山东青岛"]),
        "洗涤方式": rng.choice(
            ["30℃以下冷水机洗，反面洗涤，不可漂白", "建议手洗，中性洗涤剂，平铺晾干",
             "可机洗，轻柔模式，不可烘干", "建议干洗，避免暴晒"]
        ),
    }  # fmt: skip
    if group in ("top", "bottom"):
        attrs |= {
            "克重": f"{rng.randrange(160, 420, 20)}克",
            "厚度": rng.choice(["轻薄", "适中", "加厚"]),
            "弹力": rng.choice(["无弹", "微弹", "高弹"]),
            "版型": rng.choice(["宽松版型", "修身版型", "直筒版型", "落肩宽松"]),
            "适用季节": rng.choice(["春秋", "夏季", "冬季", "四季"]),
            "起球说明": rng.choice(
                ["经抗起球处理，正常穿着不易起球", "与粗糙表面长期摩擦可能轻微起球，可用剃毛器处理"]
            ),
            "缩水率": f"预缩处理，正常洗涤缩水率在{rng.choice([2, 3, 5])}%以内",
        }
    elif group == "shoe":
        attrs |= {
            "鞋面材质": rng.choice(["头层牛皮", "网布", "帆布", "超纤皮"]),
            "鞋底材质": rng.choice(["橡胶", "EVA", "MD", "TPR"]),
            "鞋码偏差": rng.choice(["标准码", "偏大半码", "偏小半码，建议拍大一码"]),
            "防滑": rng.choice(["防滑耐磨", "一般"]),
        }
    else:
        attrs |= {
            "尺寸": f"{rng.randrange(20, 60)}×{rng.randrange(10, 40)}厘米",
            "重量": f"约{rng.randrange(80, 900, 10)}克",
            "容量": f"{rng.randrange(300, 1200, 50)}毫升" if rng.random() < 0.5 else "不适用",
        }
    return attrs


def _product(rng: random.Random, n: int) -> _Product:
    group = rng.choice(list(CATEGORIES))
    category = rng.choice(CATEGORIES[group])
    material, adj = rng.choice(MATERIALS), rng.choice(ADJECTIVES)
    brand = rng.choice(BRANDS)
    short = f"{adj}{material}{category}"
    title = f"{brand} {short} {rng.choice(AUDIENCES)}"
    colors = rng.sample(COLORS, rng.randint(2, 4))
    header, rows = _size_chart(rng, group)
    attrs = _attributes(rng, group, material, colors)
    description = (
        f"这款{short}选用{material}面料，{rng.choice(['手感柔软亲肤', '挺括有型', '轻盈透气'])}。"
        f"{rng.choice(['版型经过多次打版调整', '细节处采用双针走线', '领口袖口加固处理'])}，"
        f"{rng.choice(['日常通勤和周末出游都合适', '适合运动和户外', '居家外出两相宜'])}。"
        f"颜色以实物为准，不同显示器可能略有色差。"
    )
    sku = f"{brand[:1]}{group[:1].upper()}-{n:05d}"
    return _Product(
        sku=f"KF-{sku[1:]}".upper(), title=title, short=short, group=group, category=category,
        attrs=attrs, size_header=header, size_rows=rows, colors=colors,
        price=rng.randrange(39, 999), description=description,
    )  # fmt: skip


def _product_json(p: _Product) -> str:
    data: dict[str, Any] = {
        "title": p.title, "sku": p.sku, "price": p.price, "category": p.category,
        "attributes": p.attrs,
        "variants": [{"color": c, "stock": "现货，付款后48小时内发货"} for c in p.colors],
        "description": p.description,
    }  # fmt: skip
    if p.size_rows:
        data["size_chart"] = {"columns": p.size_header, "rows": p.size_rows}
    return json.dumps(data, ensure_ascii=False, indent=2)


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _product_md(p: _Product) -> str:
    front = (
        f"---\ntitle: {p.title}\nsku: {p.sku}\nprice: {p.price}\ncategory: {p.category}\n"
        f"colors: [{', '.join(p.colors)}]\n---\n\n"
    )
    body = [f"# {p.title}", "", p.description, "", "## 商品参数", ""]
    body += [f"- {k}：{v}。" for k, v in p.attrs.items()]
    if p.size_rows:
        body += ["", "## 尺码表", "", _md_table(p.size_header, p.size_rows)]
    body += [
        "",
        "## 洗涤与保养",
        "",
        f"{p.attrs['洗涤方式']}。深浅颜色请分开洗涤，避免长时间浸泡。",
    ]
    return front + "\n".join(body) + "\n"


def _product_html(p: _Product) -> str:
    rows = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in p.attrs.items())
    size = ""
    if p.size_rows:
        head = "".join(f"<th>{h}</th>" for h in p.size_header)
        body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in p.size_rows)
        size = f"<h2>尺码表</h2><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{p.title} - 旗舰店</title>"
        "<style>.x{color:red}</style><script>var track = {page: 'detail'};</script></head><body>"
        f"<h1>{p.title}</h1><p>货号：{p.sku}　价格：{p.price}元</p><p>{p.description}</p>"
        f"<h2>商品参数</h2><table><tr><th>参数</th><th>说明</th></tr>{rows}</table>{size}"
        "<div style='display:none'>隐藏的促销文字</div></body></html>\n"
    )


def _product_questions(
    rng: random.Random, p: _Product, source: str, faq: dict[str, str]
) -> list[Question]:
    """Questions about one product; ``faq`` maps a topic to the product's FAQ row (also right)."""
    name = p.sku if rng.random() < 0.5 else p.short
    attr = rng.choice([k for k in p.attrs if k not in ("颜色",)])
    src = (source,)
    topic = {"起球说明": "起球", "缩水率": "缩水"}.get(attr, "")
    also = (faq[topic],) if topic in faq else ()
    out = [Question(f"{name}的{attr}是什么？", src + also, "attribute")]
    if p.group == "top":
        h, w = rng.randrange(155, 185), rng.randrange(90, 180)
        out.append(Question(f"身高{h}体重{w}斤，{name}穿什么码？", src, "size"))
    elif p.group == "shoe":
        out.append(Question(f"脚长{rng.randrange(230, 270)}毫米穿{name}多大码？", src, "size"))
    elif p.group == "bottom":
        out.append(Question(f"腰围{rng.randrange(64, 88)}厘米{name}选几码？", src, "size"))
    if "起球说明" in p.attrs:
        also = (faq["起球"],) if "起球" in faq else ()
        out.append(Question(f"{name}会起球吗？", src + also, "attribute"))
    return out


def _general_faq() -> list[dict[str, Any]]:
    """Every shop-wide FAQ row the templates can make (each question once)."""
    rows: list[dict[str, Any]] = []
    for n, region in enumerate(REGIONS):
        rows.append({"question": f"{region}包邮吗？", "answer": f"亲，{region}属于偏远地区，运费{8 + n}元，实付满299元包邮哦。",
                     "similar": [f"{region}运费多少", f"寄{region}要加钱吗"], "tags": ["物流", "运费"]})  # fmt: skip
    for n, city in enumerate(CITIES):
        rows.append({"question": f"发到{city}要几天？", "answer": f"亲，发往{city}一般{1 + n % 4}天送达，以物流实际为准哦。",
                     "similar": [f"{city}多久能到", f"寄到{city}几天"], "tags": ["物流"]})  # fmt: skip
    for n, courier in enumerate(COURIERS):
        rows.append({"question": f"可以发{courier}吗？", "answer": f"亲，默认发中通，指定{courier}需补差价{5 + n}元哦。",
                     "similar": [f"能不能走{courier}", f"{courier}要加多少钱"], "tags": ["物流", "快递"]})  # fmt: skip
    for group, cats in CATEGORIES.items():
        for cat in cats:
            wash = "可以机洗，建议装洗衣袋" if group != "shoe" else "不建议机洗，请用软毛刷清洁"
            rows += [
                {"question": f"{cat}可以机洗吗？", "answer": f"亲，{cat}{wash}哦。",
                 "similar": [f"{cat}怎么洗", f"{cat}能放洗衣机吗"], "tags": ["洗涤"]},
                {"question": f"{cat}尺码偏大还是偏小？", "answer": f"亲，{cat}按平时尺码选择即可，详细数据请看商品页尺码表哦。",
                 "similar": [f"{cat}码数标准吗", f"{cat}要不要拍大一码"], "tags": ["尺码"]},
                {"question": f"{cat}有运费险吗？", "answer": f"亲，{cat}类商品下单赠送运费险，退货时可抵扣寄回运费哦。",
                 "similar": [f"{cat}退货运费能报销吗"], "tags": ["运费险"]},
            ]  # fmt: skip
    return rows


SIMILAR: dict[str, Any] = {
    "缩水": lambda p: [f"{p.short}洗了会不会缩", f"{p.sku}缩水严重吗"],
    "起球": lambda p: [f"{p.short}穿久了起不起球", f"{p.sku}容易起球吗"],
    "掉色": lambda p: [f"{p.short}洗的时候掉不掉色", f"{p.sku}会褪色吗"],
    "尺码": lambda p: [f"{p.short}选多大码", f"{p.sku}码数偏大吗"],
    "发货": lambda p: [f"{p.short}几天能发出", f"{p.sku}多久发货"],
}


def _faq_rows(
    rng: random.Random, products: list[tuple[_Product, str]], n: int
) -> list[dict[str, Any]]:
    """``n`` FAQ rows: the shop-wide ones (up to 20 %), the rest about single products.
    Product rows carry ``product_source`` (not written to the files)."""
    general = _general_faq()
    rng.shuffle(general)
    rows = general[: max(1, n // 5)]
    pairs = [(i, t) for i in range(len(products)) for t in ("缩水", "起球", "掉色", "尺码", "发货")]
    rng.shuffle(pairs)
    for i, topic in pairs[: n - len(rows)]:
        p, source = products[i]
        answer = {
            "缩水": f"亲，{p.short}（{p.sku}）{p.attrs.get('缩水率', '经过预缩处理，正常洗涤基本不缩水')}哦。",
            "起球": f"亲，{p.short}（{p.sku}）{p.attrs.get('起球说明', '正常使用不易起球')}哦。",
            "掉色": f"亲，{p.short}（{p.sku}）首次洗涤可能有少量浮色，建议单独冷水洗涤哦。",
            "尺码": f"亲，{p.short}（{p.sku}）按平时尺码选择即可，详细数据见尺码表哦。",
            "发货": f"亲，{p.short}（{p.sku}）现货付款后48小时内发货，{p.colors[-1]}为预售款15天内发货哦。",
        }[topic]  # fmt: skip
        if topic in ("缩水", "起球", "掉色"):
            q = f"{p.sku} {p.short}会{topic}吗？"
        else:
            q = f"{p.sku} {p.short}{'尺码怎么选' if topic == '尺码' else '什么时候发货'}？"
        rows.append({"question": q, "answer": answer, "tags": ["商品", topic],
                     "similar": SIMILAR[topic](p),
                     "product_source": source, "product": i, "topic": topic})  # fmt: skip
    rng.shuffle(rows)
    return rows


def _write_faq(path: Path, rows: list[dict[str, Any]]) -> None:
    if path.suffix == ".csv":
        buf = io.StringIO()
        writer = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(["question", "answer", "similar", "tags"])
        for r in rows:
            writer.writerow(
                [r["question"], r["answer"], "|".join(r["similar"]), "|".join(r["tags"])]
            )
        path.write_text(buf.getvalue(), encoding="utf-8")
    else:
        keys = ("question", "answer", "similar", "tags")
        path.write_text(
            "".join(json.dumps({k: r[k] for k in keys}, ensure_ascii=False) + "\n" for r in rows),
            encoding="utf-8",
        )


def _policy_text(rng: random.Random, title: str, sections: list[tuple[str, list[str]]],
                 cat: str, variant: int) -> str:  # fmt: skip
    values = {
        "cat": cat, "days": rng.choice([3, 7, 15, 30]), "hours": rng.choice([24, 48, 72]),
        "wh": rng.choice(["杭州仓", "广州仓", "武汉仓"]), "courier": rng.choice(COURIERS),
        "yuan": rng.choice([5, 8, 10, 20]), "free": rng.choice([99, 199, 299]),
        "region": rng.choice(REGIONS), "city": rng.choice(CITIES), "big": rng.choice([1000, 2000]),
        "pct": rng.choice([9, 9.5, 8.8]), "h": rng.randrange(155, 185), "w": rng.randrange(90, 170),
        "size": rng.choice(["M", "L", "XL"]), "fit": rng.choice(["宽松", "修身", "标准"]),
    }  # fmt: skip
    out = [f"# {title}（{cat}类目 · 第{variant}版）", ""]
    for heading, sentences in sections:
        out += [f"## {heading}", ""]
        for k in range(4):  # several paragraphs per section: chunks of realistic size
            turn = sentences[k % len(sentences) :] + sentences[: k % len(sentences)]
            lead = ["", "特别说明：", "补充说明：", "温馨提示："][k]
            tail = rng.choice(POLICY_FILLERS).format(**values)
            out.append(lead + "".join(s.format(**values) for s in turn) + tail)
            out.append("")
    return "\n".join(out)


def _case_line(rng: random.Random, n: int, p: _Product | None) -> str:
    name = p.short if p else "衣服"
    topic = rng.choice(["尺码不合适想换货", "什么时候发货", "洗后缩水了", "能不能便宜点"])
    messages = [
        {"role": "customer", "text": f"你好，我买的{name}{topic}，怎么处理？"},
        {
            "role": "agent",
            "text": f"亲，理解您的心情，{name}的问题我来帮您处理，请提供一下订单号哦。",
        },
        {"role": "customer", "text": "好的，订单号发你了。"},
        {"role": "agent", "text": "已经为您登记好了，仓库会尽快处理，还有其他需要帮忙的吗？"},
    ]
    record = {"id": f"case-{n:06d}", "messages": messages, "resolution": f"{topic}，已登记处理。",
              "tags": [topic[:2]], "rating": rng.randint(3, 5)}  # fmt: skip
    return json.dumps(record, ensure_ascii=False)


def generate_shop(
    root: Path, target_chunks: int, *, seed: int = 7, questions: int = 2000
) -> ShopInfo:
    """Write a shop directory of about ``target_chunks`` chunks under ``root``."""
    rng = random.Random(seed)
    for sub in ("products", "faq", "policies", "cases"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "shop.yaml").write_text(
        "name: 基准测试旗舰店\npersona: 称呼顾客为“亲”，语气温暖耐心。\n"
        "compensation: {max_coupon_yuan: 10, max_cash_yuan: 5}\nsynonyms:\n"
        + "".join(f"  - [{', '.join(g)}]\n" for g in SYNONYMS),
        encoding="utf-8",
    )
    info = ShopInfo(root=root)
    # Calibrated yields (kefu loaders): ~16.8 chunks per product (json ~19, md/html ~14);
    # 1 per FAQ row; ~3.9 per policy document; 1 per case.
    n_products = max(10, int(target_chunks * 0.72 / 16.8))
    n_faq = max(20, int(target_chunks * 0.18))
    n_policies = max(8, int(target_chunks * 0.05 / 3.9))
    n_cases = max(5, int(target_chunks * 0.05))
    products: list[tuple[_Product, str]] = []
    for n in range(n_products):
        p = _product(rng, n)
        fmt = rng.choices(["json", "md", "html"], weights=[5, 3, 2])[0]
        source = f"products/{p.sku.lower()}.{fmt}"
        text = {"json": _product_json, "md": _product_md, "html": _product_html}[fmt](p)
        (root / source).write_text(text, encoding="utf-8")
        products.append((p, source))
    rows = _faq_rows(rng, products, n_faq)
    faq_sources: list[str] = []  # per row: "faq/file#locator" as kefu's loader cites it
    product_faq: dict[int, dict[str, str]] = {}
    for start in range(0, len(rows), 500):
        ext = "csv" if (start // 500) % 2 == 0 else "jsonl"
        source = f"faq/faq-{start // 500:04d}.{ext}"
        _write_faq(root / source, rows[start : start + 500])
        first_line = 2 if ext == "csv" else 1  # CSV: after the header row
        for pos, row in enumerate(rows[start : start + 500]):
            faq_sources.append(f"{source}#第{pos + first_line}行")
            if "product" in row:
                product_faq.setdefault(row["product"], {})[row["topic"]] = faq_sources[-1]
    policy_sources: list[tuple[str, str, str]] = []
    for n in range(n_policies):
        stem, title, sections = POLICY_TOPICS[n % len(POLICY_TOPICS)]
        cat = rng.choice([c for cs in CATEGORIES.values() for c in cs])
        ext = "txt" if stem == "invoice" else "md"
        source = f"policies/{stem}-{n:04d}.{ext}"
        text = _policy_text(rng, title, sections, cat, n)
        (root / source).write_text(text, encoding="utf-8")
        policy_sources.append((stem, source, cat))
    with open(root / "cases" / "cases.jsonl", "w", encoding="utf-8") as fh:
        for n in range(n_cases):
            about = rng.choice(products)[0] if products and rng.random() < 0.7 else None
            fh.write(_case_line(rng, n, about) + "\n")
    info.products, info.faq_rows = n_products, n_faq
    info.policies, info.cases = n_policies, n_cases
    info.files = n_products + (len(rows) + 499) // 500 + n_policies + 1
    info.questions = _questions(
        rng, products, product_faq, rows, faq_sources, policy_sources, questions
    )
    return info


def _questions(
    rng: random.Random,
    products: list[tuple[_Product, str]],
    product_faq: dict[int, dict[str, str]],
    rows: list[dict[str, Any]],
    faq_sources: list[str],
    policy_sources: list[tuple[str, str, str]],
    n: int,
) -> list[Question]:
    """A mix like a shop's traffic: products 45 %, FAQ 30 %, policies 15 %, handoffs 10 %."""
    out: list[Question] = []
    seen: set[str] = set()
    attempts = 0
    while len(out) < n and attempts < n * 20:
        attempts += 1
        r = rng.random()
        if r < 0.45:
            k = rng.randrange(len(products))
            p, source = products[k]
            batch = _product_questions(rng, p, source, product_faq.get(k, {}))
        elif r < 0.75:
            i = rng.randrange(len(rows))
            phrasing = rng.choice([rows[i]["question"], *rows[i]["similar"]])
            prefix = rng.choice(["", "请问", "亲，", "你好，"])
            suffix = rng.choice(["", "？", "呀", "呢"])
            srcs = (
                faq_sources[i],
                *([rows[i]["product_source"]] if "product_source" in rows[i] else []),
            )
            batch = [Question(f"{prefix}{phrasing.rstrip('？?')}{suffix}", srcs, "faq")]
        elif r < 0.9:
            stem, _source, cat = rng.choice(policy_sources)
            template = rng.choice(POLICY_QUESTIONS[stem])
            prefix = rng.choice(["", "请问", "亲，", "你好，", "想问下"])
            text = prefix + template.format(cat=cat, region=rng.choice(REGIONS))
            batch = [Question(text, (f"policies/{stem}-",), "policy")]
        else:
            batch = [Question(rng.choice(HANDOFF_QUESTIONS), (), "handoff")]
        for q in batch:
            if q.text not in seen or q.kind == "handoff":
                seen.add(q.text)
                out.append(q)
    return out[:n]
