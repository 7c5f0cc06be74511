"""Message-level rules that decide a handoff before any retrieval.

Each rule returns a human-readable reason or ``None``. They are deliberately conservative: an
order lookup, a compensation demand beyond the shop's limit, a complaint threat or an attempt to
instruct the assistant always goes to a human.
"""

from __future__ import annotations

import re

from ..config._shop import ShopConfig
from ..text._injection import find_injection
from ..text._normalize import normalize

__all__ = ["courtesy_reply", "handoff_reasons", "money_amounts"]

BUILTIN_ESCALATION = (
    "投诉",
    "12315",
    "差评",
    "律师",
    "曝光",
    "工商局",
    "消协",
    "起诉",
    "报警",
    "法院",
    "媒体",
)
_HUMAN = re.compile(
    r"^(人工|真人)(客服)?[?？!！。.~～]*$|"
    r"(转|找|要|叫|换)(个)?(人工|真人|活人|客服主管|你们?领导|经理)|人工客服|真人客服|你是(机器人|ai)"
)

# Questions about *this customer's* order need the shop's systems, not the knowledge base.
_ORDER = re.compile(
    "|".join(
        [
            r"(我的|我这个?|我那个?|我买的|我下的|我拍的)(订单|单子|快递|包裹|物流|货|衣服|鞋|东西|退款|换货)",
            r"(订单|快递|包裹|物流|货|东西|退款)[^。？！?!]{0,6}(到哪|在哪|怎么还没|还没到|还没发|还没收到|什么状态|进度|到了没|发了没)",
            r"(查|查询|看)(一下|一查|下)?(我的)?(订单|物流|快递|单号|进度|退款)",
            r"(帮我|给我|麻烦)[^。？！?!]{0,4}(查|改|修改|取消|退|换|催)",
            r"(改|修改|更改|换)(一下)?(收货)?(地址|收件人|电话|手机号)",
            r"(取消|撤销)(一下)?(订单|这单|那单)",
            r"(昨天|前天|上周|刚才|刚刚|今天|几天前|上个月)[^。？！?!]{0,8}(买|下单|拍|付款)[^。？！?!]{0,10}(怎么|还没|没|什么时候|到哪|发货)",
            r"(怎么还没|还没有?)(发货|到|收到|送到|退款|到账)",
            r"催(一下|单|发货)",
            r"(订单号|单号|运单号)[:：\s]*[a-z0-9]{6,}",
            r"\[orderid_[^\]]*\]",
            r"(?<!\d)\d{10,20}(?!\d)",
        ]
    )
)
_MONEY = re.compile(
    r"(\d+(?:\.\d+)?)\s*(元|块钱?|rmb|¥)|[¥￥]\s*(\d+(?:\.\d+)?)|(一|两|二|三|四|五|六|七|八|九|十|百|几)(十|百|千)?\s*(块|元)"
)
_DEMAND = re.compile(r"(赔|补偿|赔偿|退我|返我|给我|补我|补贴|红包|现金|优惠券|券|补差)")
_MULTIPLE = re.compile(r"(双倍|两倍|三倍|十倍|退一赔|假一赔|赔偿损失|精神损失|误工费)")
_COMP_ASK = re.compile(
    r"(必须|要求|不然|否则|要不然|不给|不赔)[^。？！?!]{0,12}(赔|补偿|退|给)|(赔|补偿)(我|给我)"
)
_CN_NUM = {
    "一": 1,
    "两": 2,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
    "几": 5,
}


_COURTESY = [
    (
        re.compile(
            r"^(谢谢|谢了|多谢|感谢|谢谢亲|谢谢你|谢谢您|thanks?|thank you|thx)+(啦|了|哈|哦|呀|亲|你|您)*[!！~～。.👍🙏❤️]*$"
        ),
        "不客气哦，还有其他问题随时找我～",
    ),
    (
        re.compile(
            r"^(好的|好|嗯|嗯嗯|哦|噢|ok|okay|行|可以|知道了|明白了|收到|好嘞|好滴)+(的|啦|了|哈|哦|呀|亲)*[!！~～。.👌]*$"
        ),
        "好的亲，还有其他需要随时告诉我哦～",
    ),
    (
        re.compile(
            r"^(你好|您好|在吗|在不在|有人吗|hi|hello|哈喽|嗨|亲|客服)+(呀|啊|哦|亲|呢)*[?？!！~～。.]*$"
        ),
        "亲，您好！我在的，请问有什么可以帮您？",
    ),
    (re.compile(r"^(再见|拜拜|bye|88)+[!！~～。.]*$"), "感谢您的光临，祝您生活愉快，再见～"),
]


def courtesy_reply(text: str) -> str | None:
    """A reply to a pure greeting, thanks or acknowledgement (nothing to look up), else None."""
    norm = re.sub(r"\s+", "", normalize(text))
    for pattern, reply in _COURTESY:
        if pattern.match(norm):
            return reply
    return None


def money_amounts(text: str) -> list[float]:
    """Amounts of money mentioned (yuan): "100块", "¥20", "五十元", "两百块"."""
    out: list[float] = []
    for m in _MONEY.finditer(normalize(text)):
        if m.group(1):
            out.append(float(m.group(1)))
        elif m.group(3):
            out.append(float(m.group(3)))
        else:
            base = _CN_NUM.get(m.group(4), 1)
            unit = {"十": 10, "百": 100, "千": 1000}.get(m.group(5) or "", 1)
            out.append(float(base * unit) if m.group(4) != "十" or m.group(5) else 10.0)
    return out


def handoff_reasons(text: str, shop: ShopConfig) -> list[str]:
    """Why this message must go to a human right away (empty list: no rule fired)."""
    norm = normalize(text)
    reasons: list[str] = []
    injected = find_injection(text)
    if injected:
        reasons.append(f"message tries to instruct the assistant ({injected[:30]}); declined")
    for word in (*BUILTIN_ESCALATION, *shop.escalation_keywords):
        if word and normalize(word) in norm:
            reasons.append(f"escalation keyword: {word}")
            break
    if _HUMAN.search(norm):
        reasons.append("customer asks for a human agent")
    if _ORDER.search(norm):
        reasons.append("needs a look-up in the shop's order system")
    limit = shop.compensation.max_any_yuan
    if _MULTIPLE.search(norm):
        reasons.append("compensation demand beyond policy (multiple/loss compensation)")
    elif _DEMAND.search(norm):
        amounts = money_amounts(norm)
        if any(a > limit for a in amounts):
            reasons.append(
                f"money demand {max(amounts):g} 元 is above the shop's limit of {limit:g} 元"
            )
        elif _COMP_ASK.search(norm):
            reasons.append("compensation demand: a human decides")
    return reasons
