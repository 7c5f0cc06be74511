"""PII redaction (kefu_copilot.text._pii): examples, property-based recall, false positives, speed."""

from __future__ import annotations

import json
import os
import random
import re
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kefu_copilot import Copilot
from kefu_copilot.ingest._loaders import SUPPORTED, load_file
from kefu_copilot.testing import LoopbackLLMServer
from kefu_copilot.text._normalize import normalize
from kefu_copilot.text._patterns import is_phone
from kefu_copilot.text._pii import PIIMatch, Redaction, _luhn, find_pii, id18_check, redact

from .conftest import KNOWLEDGE, ROOT

# PII_EXAMPLES=20000 for a longer search (the figures reported on issue 8 used that).
PROPERTY = settings(
    max_examples=int(os.environ.get("PII_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# -- generators ---------------------------------------------------------------------------------
# Context characters: common Chinese, no digits/ASCII, none of the unit or order-label characters
# a number next to them would change meaning with (元, 单号, …).
_CONTEXT_CHARS = "亲您好请问我的这个能不能麻烦帮联系收件人张三李四谢谢尽快明天上午下午方便打给电话手机邮箱卡身份证"
_PREFIXES = [
    "",
    "我的手机是",
    "电话：",
    "亲，联系",
    "麻烦打",
    "收件人张三 ",
    "卡号：",
    "身份证号码",
]
_SUFFIXES = ["", "，谢谢", "。", " 谢谢亲", "，尽快发货哦", "！", "？"]

context = st.one_of(
    st.sampled_from(_PREFIXES), st.text(alphabet=_CONTEXT_CHARS + "，。！？ ", max_size=12)
)
suffix = st.one_of(
    st.sampled_from(_SUFFIXES), st.text(alphabet=_CONTEXT_CHARS + "，。！？", max_size=12)
)


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@st.composite
def phones(draw: st.DrawFn) -> tuple[str, str]:
    """(how it is written, the 11 digits)."""
    digits = (
        "1" + draw(st.sampled_from("3456789")) + draw(st.text("0123456789", min_size=9, max_size=9))
    )
    sep = draw(st.sampled_from(["", " ", "-"]))
    layout = draw(st.sampled_from(["11", "3-4-4", "3-8", "7-4"]))
    if layout == "3-4-4":
        body = f"{digits[:3]}{sep}{digits[3:7]}{sep}{digits[7:]}"
    elif layout == "3-8":
        body = f"{digits[:3]}{sep}{digits[3:]}"
    elif layout == "7-4":
        body = f"{digits[:7]}{sep}{digits[7:]}"
    else:
        body = digits
    prefix = draw(st.sampled_from(["", "+86", "+86 ", "0086", "0086-", "86", "+86-"]))
    written = prefix + body
    return (full_width(written) if draw(st.booleans()) else written), digits


_PROVINCE_CODES = ["11", "31", "33", "44", "51", "65", "37", "42", "61", "82"]


@st.composite
def id_numbers(draw: st.DrawFn) -> tuple[str, str]:
    region = draw(st.sampled_from(_PROVINCE_CODES)) + draw(
        st.text("0123456789", min_size=4, max_size=4)
    )
    born = draw(
        st.dates(
            min_value=__import__("datetime").date(1930, 1, 1),
            max_value=__import__("datetime").date(2012, 12, 31),
        )
    )
    seq = draw(st.text("0123456789", min_size=3, max_size=3))
    if draw(st.integers(0, 4)) == 0:  # a first-generation 15-digit number
        number = f"{region}{born:%y%m%d}{seq}"
        return (full_width(number) if draw(st.booleans()) else number), number
    first17 = f"{region}{born:%Y%m%d}{seq}"
    number = first17 + id18_check(first17)
    written = number.lower() if draw(st.booleans()) else number
    if draw(st.booleans()):
        written = f"{written[:6]} {written[6:14]} {written[14:]}"
    return (full_width(written) if draw(st.booleans()) else written), number


def luhn_complete(partial: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return partial + str((10 - total % 10) % 10)


@st.composite
def bank_cards(draw: st.DrawFn) -> tuple[str, str]:
    iin = draw(st.sampled_from(["62", "621700", "622202", "4", "5", "9558", "37", "6013"]))
    length = draw(st.integers(13, 19))
    body = iin + draw(
        st.text("0123456789", min_size=length - len(iin) - 1, max_size=length - len(iin) - 1)
    )
    number = luhn_complete(body)
    sep = draw(st.sampled_from(["", " ", "-"]))
    written = sep.join(number[i : i + 4] for i in range(0, len(number), 4)) if sep else number
    return (full_width(written) if draw(st.booleans()) else written), number


emails = st.builds(
    lambda user, dom, tld: f"{user}@{dom}.{tld}",
    st.from_regex(r"[a-z0-9][a-z0-9._]{0,14}[a-z0-9]", fullmatch=True),
    st.sampled_from(["qq", "163", "gmail", "example-shop", "foxmail", "mail.sina"]),
    st.sampled_from(["com", "cn", "com.cn", "net"]),
)

_CITIES = [
    "",
    "浙江省杭州市西湖区",
    "北京市朝阳区",
    "上海市浦东新区",
    "广东省深圳市南山区",
    "四川省成都市武侯区",
]
_ROADS = ["文三路", "建国路", "中山北路", "人民大道", "解放街", "长乐巷", "科技南七道"]
_COMPOUNDS = ["", "幸福小区", "万科城", "阳光花园", "SOHO现代城", "锦绣家园"]


@st.composite
def addresses(draw: st.DrawFn) -> tuple[str, list[str]]:
    """(the address, the parts that must not survive redaction)."""
    number = draw(st.integers(1, 999))
    road = f"{draw(st.sampled_from(_ROADS))}{number}号"
    compound = draw(st.sampled_from(_COMPOUNDS))
    building = ""
    if compound or draw(st.booleans()):
        b, u, r = draw(st.integers(1, 30)), draw(st.integers(1, 6)), draw(st.integers(101, 2805))
        building = draw(st.sampled_from([f"{b}栋{u}单元{r}室", f"{b}号楼{r}", f"{b}幢{u}单元{r}"]))
    if draw(st.booleans()) and compound and building:  # a compound with no street
        return f"{compound}{building}", [building]
    city = draw(st.sampled_from(_CITIES))
    return f"{city}{road}{compound}{building}", [road] + ([building] if building else [])


def _digits_left(text: str) -> str:
    return re.sub(r"[^0-9x]", "", normalize(text))


# -- property tests: every generated PII value is redacted -----------------------------------------


@PROPERTY
@given(context, phones(), suffix)
def test_every_phone_is_redacted(before: str, phone: tuple[str, str], after: str) -> None:
    written, digits = phone
    result = redact(f"{before}{written}{after}")
    assert digits not in _digits_left(result.text), (written, result)
    assert "phone" in result.kinds


@PROPERTY
@given(context, id_numbers(), suffix)
def test_every_id_number_is_redacted(before: str, idn: tuple[str, str], after: str) -> None:
    written, number = idn
    result = redact(f"{before}{written}{after}")
    assert number.lower()[:14] not in _digits_left(result.text), (written, result)
    assert result.kinds - {"name"} == {"id_card"}  # the context may name a person (收件人张三)


@PROPERTY
@given(context, bank_cards(), suffix)
def test_every_bank_card_is_redacted(before: str, card: tuple[str, str], after: str) -> None:
    written, number = card
    result = redact(f"{before}{written}{after}")
    assert number[:12] not in _digits_left(result.text), (written, result)
    assert result.kinds <= {"bank_card", "phone", "id_card", "name"} and result


@PROPERTY
@given(context, emails, suffix, st.booleans())
def test_every_email_is_redacted(before: str, email: str, after: str, wide: bool) -> None:
    written = full_width(email) if wide else email
    result = redact(f"{before}{written}{after}")
    assert "@" not in normalize(result.text) and result.kinds - {"name"} == {"email"}, result
    assert "[邮箱]" in result.text


@PROPERTY
@given(
    st.sampled_from(["寄到", "地址：", "收货地址是", "我住在", "", "麻烦改成"]), addresses(), suffix
)
def test_every_street_address_is_redacted(
    before: str, addr: tuple[str, list[str]], after: str
) -> None:
    written, parts = addr
    result = redact(f"{before}{written}{after}")
    for part in parts:
        assert part not in result.text, (written, result.text)
    assert "address" in result.kinds


# -- property tests: what is not personal data stays ---------------------------------------------

# A mobile number is personal data whatever its label says ("单号13812345678": issue 21 #7).
order_numbers = st.one_of(
    st.text("0123456789", min_size=6, max_size=20).map(lambda d: "1" + d),
    bank_cards().map(lambda c: c[1]),  # Luhn-valid: only the label says it is an order
    id_numbers().map(lambda i: i[1]),
).filter(lambda n: not is_phone(n))
order_labels = st.sampled_from(
    [
        "订单号",
        "订单号：",
        "订单号是",
        "订单",
        "单号 ",
        "运单号：",
        "快递单号",
        "订单编号：",
        "order no. ",
        "退货单号",
        "条形码",
        "商品编码：",
        "税号：",
        "SKU: ",
    ]
)
skus = st.from_regex(r"[A-Z]{2}-[A-Z]{2}-[0-9]{3}", fullmatch=True)
prices = st.one_of(
    st.integers(1, 99999).map(lambda n: f"{n}元"),
    st.integers(1, 99999).map(lambda n: f"¥{n}"),
    st.decimals(0, 99999, places=2).map(lambda d: f"￥{d}"),
    st.integers(1, 99999999).map(lambda n: f"价格{n}块"),
)
sizes = st.one_of(
    st.integers(50, 250).map(lambda n: f"{n}cm"),
    st.integers(30, 200).map(lambda n: f"体重{n}kg"),
    st.sampled_from(["S", "M", "L", "XL", "2XL", "3XL"]).map(lambda s: f"{s}码"),
    st.tuples(st.integers(150, 190), st.integers(80, 200)).map(lambda t: f"身高{t[0]}体重{t[1]}斤"),
)
dates = st.one_of(
    st.datetimes().map(lambda d: f"{d:%Y-%m-%d %H:%M:%S}"),
    st.datetimes().map(lambda d: f"{d:%Y年%m月%d日 %H:%M}"),
    st.dates().map(lambda d: f"{d:%Y%m%d}"),
    st.dates().map(lambda d: f"{d.month}月{d.day}号发货"),
)


@PROPERTY
@given(context, order_labels, order_numbers, suffix)
def test_order_numbers_are_kept(before: str, label: str, number: str, after: str) -> None:
    text = f"{before}{label}{number}{after}"
    kept = redact(text, keep=["name"])  # the context may name a person (收件人张三)
    assert kept.text == text


@PROPERTY
@given(context, st.one_of(skus, prices, sizes, dates), suffix)
def test_skus_prices_sizes_dates_are_kept(before: str, value: str, after: str) -> None:
    text = f"{before}{value}{after}"
    assert [m for m in find_pii(text) if m.kind != "name"] == [], text  # 收件人张三 is one


@given(st.from_regex(r"\[(ORDERID|USERID|SKU)_[0-9]{1,12}\]", fullmatch=True))
@settings(max_examples=50, deadline=None)
def test_jddc_placeholders_are_kept(token: str) -> None:
    assert redact(f"我的订单{token}到哪了").text == f"我的订单{token}到哪了"


# -- examples --------------------------------------------------------------------------------------


def test_spans_index_the_original_text() -> None:
    text = "亲，我的手机１３８\u200b１２３４\u200b５６７８，邮箱ＡＢＣ＠ｑｑ．ｃｏｍ"
    found = find_pii(text)
    assert [m.kind for m in found] == ["phone", "email"]
    for m in found:
        assert text[m.span[0] : m.span[1]] == m.original
    assert redact(text).text == "亲，我的手机[手机号]，邮箱[邮箱]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("收货地址：北京市朝阳区建国路88号SOHO现代城2号楼1单元1001室", "收货地址：[地址]"),
        ("寄到幸福小区3栋2单元501，电话138-1234-5678", "寄到[地址]，电话[手机号]"),
        (
            "身份证11010519491231002X，卡号6222 0212 3456 7890 128",
            "身份证[身份证号]，卡号[银行卡号]",
        ),
        ("+86 13812345678", "[手机号]"),
        ("偏远地区（新疆、西藏）不包邮，上海次日达", "偏远地区（新疆、西藏）不包邮，上海次日达"),
        ("浙江省杭州市发货，原路退回", "浙江省杭州市发货，原路退回"),
        ("你知道3号发货吗？5月20号能到吗", "你知道3号发货吗？5月20号能到吗"),
        ("订单号6222021234567890128怎么还没发", "订单号6222021234567890128怎么还没发"),
        ("运单号SF1234567890，单号ZT7788990011", "运单号SF1234567890，单号ZT7788990011"),
        (
            "MM-TS-001 价格99元 ¥299 175cm 2024-05-01 12:30",
            "MM-TS-001 价格99元 ¥299 175cm 2024-05-01 12:30",
        ),
    ],
)
def test_examples(text: str, expected: str) -> None:
    assert redact(text).text == expected


def test_keep_kinds_and_values() -> None:
    text = "客服邮箱kefu@mumian.com，我的邮箱me@qq.com，住文三路12号"
    kept = redact(text, keep=["kefu@mumian.com", "地址"])
    assert kept.text == "客服邮箱kefu@mumian.com，我的邮箱[邮箱]，住文三路12号"
    assert [m.original for m in kept.found] == ["me@qq.com"]
    assert redact("电话138 1234 5678", keep=["13812345678"]).text == "电话138 1234 5678"
    assert redact("电话13812345678", keep=["phone"]).found == ()


def test_result_types() -> None:
    result = redact("我的手机13812345678")
    assert isinstance(result, Redaction) and result
    (match,) = result.found
    assert isinstance(match, PIIMatch) and match.placeholder == "[手机号]"
    assert match.original == "13812345678" and match.span == (4, 15)
    assert not redact("没有个人信息")


# -- the sample shop: false positives and speed ----------------------------------------------------


def _shop_texts() -> list[str]:
    texts: list[str] = []
    for path in sorted(KNOWLEDGE.rglob("*")):
        source = path.relative_to(KNOWLEDGE).as_posix()
        if path.is_file() and source.split("/")[0] in SUPPORTED:
            chunks, _ = load_file(source, path.read_bytes())
            texts += [c.text for c in chunks] + [c.question for c in chunks if c.question]
    evals = Path(ROOT / "evals" / "answer.jsonl").read_text(encoding="utf-8").splitlines()
    return texts + [json.loads(line)["question"] for line in evals if line.strip()]


def test_false_positive_rate_on_the_sample_shop() -> None:
    texts = _shop_texts()
    flagged = [(t, find_pii(t)) for t in texts if find_pii(t)]
    rate = len(flagged) / len(texts)
    print(f"\nPII false positives: {len(flagged)}/{len(texts)} texts ({rate:.2%})")
    assert len(texts) > 400
    assert rate < 0.01, flagged


def test_under_a_millisecond_per_kilobyte() -> None:
    rng = random.Random(8)
    shop = "".join(_shop_texts())
    samples = []
    for _ in range(20):
        start = rng.randrange(len(shop) - 1024)
        text = shop[start : start + 900]
        insert = rng.randrange(len(text))
        samples.append(
            f"{text[:insert]}手机13812345678，寄到杭州市西湖区文三路123号{text[insert:]}"[:1024]
        )
    best = float("inf")
    for _ in range(5):  # best of five: robust to a busy machine
        started = time.perf_counter()
        for text in samples:
            find_pii(text)
        best = min(best, (time.perf_counter() - started) / len(samples))
    print(f"\nfind_pii: {best * 1000:.3f} ms per KB")
    assert best < 0.001


# -- what reaches an LLM -------------------------------------------------------------------------


def test_no_personal_data_reaches_the_llm(sample_copilot: Copilot) -> None:
    history = [
        {"role": "customer", "text": "我的手机 138 1234 5678，邮箱 buyer.li@qq.com"},
        {"role": "customer", "text": "收货地址：杭州市西湖区文三路123号幸福小区3栋2单元501"},
    ]
    with LoopbackLLMServer() as server:
        server.reply(json.dumps({"answer": "亲，纯棉面料不易起球哦。", "citations": [1]}))
        copilot = Copilot(
            KNOWLEDGE,
            index_dir=sample_copilot.index_dir,
            embed_model="none",
            llm_base_url=server.base_url,
            llm_api_key="test",
            llm_model="loopback",
        )
        copilot.answer("邮箱 buyer.li@qq.com 能收发票吗？T恤会起球吗", history=history)
        (request,) = server.requests
    sent = "\n".join(str(m.get("content", "")) for m in request.messages)
    for secret in ("138 1234 5678", "buyer.li@qq.com", "文三路123号", "3栋2单元501"):
        assert secret not in sent
    assert "[手机号]" in sent and "[邮箱]" in sent and "[地址]" in sent


# -- issue 21 #7: what an outside battery got past the redaction -----------------------------------
LEAKS = [
    ("手机138.1234.5678，谢谢", "138.1234.5678", "phone"),
    ("单号13812345678帮我查下", "13812345678", "phone"),
    ("卡号6222021234567890128元", "6222021234567890128", "bank_card"),
    ("座机010-87654321", "87654321", "landline"),
    ("打这个（0571）8888 6666转802", "8888 6666", "landline"),
    ("电话：02187654321", "02187654321", "landline"),
    ("我的QQ 12345678，加一下", "12345678", "im_id"),
    ("微信号: wxid_abc123", "wxid_abc123", "im_id"),
    ("加我vx：zhang_san88", "zhang_san88", "im_id"),
    ("收件人张三，电话见备注", "张三", "name"),
    ("联系人：李小龙", "李小龙", "name"),
    ("我叫王芳，想退货", "王芳", "name"),
    ("车牌浙A·12345的车来取", "12345", "plate"),
    ("京AD12345", "AD12345", "plate"),
    ("护照号E12345678", "E12345678", "passport"),
    ("我的号码幺三八一二三四五六七八", "幺三八一二三四五六七八", "phone"),
    ("身份证110101199003071234", "110101199003071234", "id_card"),  # check digit wrong
]


@pytest.mark.parametrize(("text", "secret", "kind"), LEAKS)
def test_issue_21_leaks_are_redacted(text: str, secret: str, kind: str) -> None:
    result = redact(text)
    assert secret not in result.text, result
    assert kind in result.kinds


def test_what_is_not_personal_stays() -> None:
    for text in [
        "客服热线400-123-4567",
        "2024-05-01 12:30发货",
        "我叫了快递",
        "运单号SF1234567890",
        "MM-TS-001 价格99元",
        "订单号6222021234567890128",
    ]:
        assert redact(text).text == text, redact(text)


# Random personal data in random positions of random Chinese text never reaches the LLM: checked
# on the requests the loopback server recorded, the real path an answer takes.
_CHINESE = st.text(
    alphabet="亲您好请问这件衣服什么时候发货能退换吗尺码偏大还是偏小谢谢，。？！ ", max_size=20
)


@st.composite
def personal_data(draw: st.DrawFn) -> tuple[str, str]:
    """(as written, what must not appear in the request)."""
    kind = draw(
        st.sampled_from(
            [
                "phone",
                "dotted",
                "spoken",
                "landline",
                "qq",
                "wechat",
                "name",
                "plate",
                "passport",
                "id",
                "card",
                "email",
            ]
        )
    )
    rng = random.Random(draw(st.integers(0, 10**9)))
    digits = lambda n: "".join(rng.choice("0123456789") for _ in range(n))  # noqa: E731
    if kind in ("phone", "dotted", "spoken"):
        number = rng.choice("3456789") + digits(9)
        number = "1" + number
        if kind == "dotted":
            return f"{number[:3]}.{number[3:7]}.{number[7:]}", number[3:]
        if kind == "spoken":
            spoken = "".join("幺" if d == "1" else "零一二三四五六七八九"[int(d)] for d in number)
            return spoken, spoken
        return number, number
    if kind == "landline":
        local = rng.choice("2345678") + digits(7)
        return f"0{rng.choice('123456789')}{digits(2)}-{local}", local
    if kind == "qq":
        qq = rng.choice("123456789") + digits(rng.randint(5, 10))
        return f"QQ:{qq}", qq
    if kind == "wechat":
        wx = rng.choice("abcdefghkmnpqrstwxyz") + "".join(
            rng.choice("abcdefgh2345_") for _ in range(8)
        )
        return f"微信 {wx}", wx
    if kind == "name":
        name = rng.choice("赵钱孙李周吴郑王冯陈") + "".join(
            rng.choice("伟芳娜敏静丽强磊军洋") for _ in range(rng.randint(1, 2))
        )
        return f"收件人{name}，", name
    if kind == "plate":
        tail = "".join(rng.choice("ABCDEFGHJK0123456789") for _ in range(5))
        return f"{rng.choice('京沪浙粤苏川')}{rng.choice('ABCDE')}{tail}", tail
    if kind == "passport":
        number = "E" + digits(8)
        return f"护照{number}", number
    if kind == "id":
        first17 = f"110101{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{digits(3)}"
        return first17 + rng.choice("0123456789X"), first17
    if kind == "card":
        body = "6222" + digits(14)
        check = next(d for d in "0123456789" if _luhn(body + d))
        return body + check, body
    user = "".join(rng.choice("abcdefghij") for _ in range(6))
    return f"{user}@example.com", f"{user}@example.com"


@pytest.fixture(scope="module")
def llm_server():
    with LoopbackLLMServer() as server:
        server.respond_with(
            lambda _req: json.dumps({"answer": "亲，付款后48小时内发货哦。", "citations": [1]})
        )
        yield server


@settings(
    max_examples=int(os.environ.get("PII_LLM_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(_CHINESE, personal_data(), _CHINESE, st.booleans())
def test_random_personal_data_never_reaches_the_llm(
    sample_copilot: Copilot,
    llm_server: LoopbackLLMServer,
    before: str,
    pii: tuple[str, str],
    after: str,
    in_history: bool,
) -> None:
    written, secret = pii
    copilot = Copilot(
        KNOWLEDGE,
        index_dir=sample_copilot.index_dir,
        embed_model="none",
        llm_base_url=llm_server.base_url,
        llm_api_key="test",
        llm_model="loopback",
    )
    message = f"{before}{written}{after}几天发货"
    history = [{"role": "customer", "text": message}] if in_history else None
    llm_server.reset()
    copilot.answer("几天发货" if in_history else message, history=history)
    for request in llm_server.requests:
        assert secret not in request.body.decode("utf-8", "replace").replace("\\u", ""), message
        sent = json.dumps(request.json, ensure_ascii=False)
        assert secret not in sent, (message, sent[:500])


@pytest.mark.parametrize(
    "text", ["微信 rf_ahccfb发几天发货", "加我VX: abcdefg 谢谢", "威信号：kefu_mumian"]
)
def test_a_wechat_id_without_digits_is_found_by_its_label(text: str) -> None:
    # the quick pre-filter once looked only for digits, so a letters-only id slipped through
    assert [m.kind for m in find_pii(text)] == ["im_id"]
