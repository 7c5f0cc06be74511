"""The one source of the patterns of chat text: order ids, tracking numbers, SKUs, phone numbers
and amounts of money.

Routing, slot filling, message rules, PII redaction and insights all read these, so that a
message like "订单号 1234567" is an order id everywhere or nowhere. The finders take raw text and
normalise it (NFKC: full-width digits and letters become ASCII; lower case), and return ids in
their canonical form (upper case: ``[ORDERID_123]``, ``SF1234567890``, ``MM-TS-001``).

* order id: a JDDC placeholder (``[ORDERID_x]``), a labelled id (订单号/单号/order no. — optionally
  "是/为" and a colon — then up to 3 letters and 6–24 digits, or the placeholder ``[数字x]``), or a
  bare 12–24 digit number; a tracking number (by its label or its courier prefix) is never also
  an order id;
* tracking number: a labelled number (运单号/快递单号/物流… then up to 4 letters and 8–24 digits)
  or a courier prefix and 9–20 digits (SF1234567890, YT…, JDV…);
* SKU: ``AA-BB12-001`` (2–4 letters, 2–6 letters/digits, 2–5 digits);
* phone: a mainland mobile number ``1[3-9]x`` (11 digits; 3-4-4 groups split by spaces, dashes
  or dots, +86 prefix); a landline (area code, then 7–8 digits);
* money: an Arabic number before 元/块/块钱/rmb or after ¥, or a Chinese numeral before 元/块.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .._data import compiled, packaged_rules
from ._normalize import normalize

__all__ = [
    "CN_NUMERAL",
    "CN_NUMERAL_START",
    "COURIER",
    "DATE",
    "DIGITS_START",
    "LANDLINE",
    "LONG_NUMBER",
    "MONEY",
    "NUMBER_PLACEHOLDER_ID",
    "NUM_END",
    "NUM_SEP",
    "NUM_START",
    "ORDER_ID",
    "ORDER_PLACEHOLDER",
    "PHONE",
    "PHONE_LABEL",
    "PHONE_SEP",
    "REFERENCE_LABEL",
    "SKU",
    "TRACKING",
    "YUAN",
    "compiled_rules",
    "is_phone",
    "order_ids",
    "order_references",
    "replied_order_id",
    "skus",
    "tracking_numbers",
]

# -- order ids and tracking numbers (on normalised text: ASCII digits, lower case) ----------------
#: Courier codes that start a tracking number: SF (顺丰), JD/JDV (京东), YT/YTO (圆通), ZT/ZTO ...
COURIER = r"(?:sf|jdv?|jt|yt|zt|zto|yto|sto|ems|yd|dpk|db|kye)"
#: A JDDC anonymised order id.
ORDER_PLACEHOLDER = r"\[orderid_\w+\]"
_NUMBER_PLACEHOLDER = r"\[数字\w?\]"  # a JDDC anonymised number: an order id when labelled so
_ID = r"[a-z]{0,3}\d{6,24}"  # the id after a label: "1234567", "dd20240312001"
_ORDER_LABEL = r"(?:订单编?号?|单号|order\s*(?:id|no)?)\s*(?:是|为)?\s*[:：#]?\s*"
_BARE_ORDER = r"(?<![\d.a-z])(\d{12,24})(?![\d.])"
ORDER_ID = re.compile(
    rf"{ORDER_PLACEHOLDER}|{_ORDER_LABEL}({_NUMBER_PLACEHOLDER}|{_ID})|{_BARE_ORDER}"
)
TRACKING = re.compile(
    r"(?:运单|快递单|物流单|退货单|快递|物流)号?\s*(?:是|为)?\s*[:：#]?\s*([a-z]{0,4}\d{8,24})"
    rf"|(?<![a-z0-9]){COURIER}\d{{9,20}}(?!\d)"
)
_COURIER_ID = re.compile(COURIER + r"\d+")
_ONLY_PLACEHOLDER = re.compile(rf"^\W*{_NUMBER_PLACEHOLDER}\W*$")
_REPLIED = re.compile(rf"(?<![\d.a-z]){_ID}(?![\d.])")
#: A long bare number (10–20 digits): an order, waybill or phone number — the customer is
#: asking about something of theirs.
LONG_NUMBER = re.compile(r"(?<!\d)\d{10,20}(?!\d)")
#: A calendar date said in figures (3月5日, 5号那天, 2024-03-05): a day of this customer's — an
#: order placed, a parcel due — rather than a product's fact.
DATE = re.compile(
    r"(?<!\d)(?:\d{1,2}月\d{1,2}[日号]?|\d{1,2}[日号](?=那天|下单|买|拍|付|到|发|寄|收)"
    r"|\d{4}[-/.]\d{1,2}[-/.]\d{1,2})(?!\d)"
)
#: Labels that make the number after them a reference number (order, waybill, invoice, barcode…),
#: never personal data, even when a checksum happens to pass. Matched at the end of the text
#: before the number.
REFERENCE_LABEL = re.compile(
    r"(?:订单|单号|运单|快递单|物流单|订单编号|交易号|流水号|退货单|售后单|工单|条码|条形码|货号|"
    r"商品编[码号]|发票号码?|发票代码|税号|信用代码)[号码编是为:：#\s]{0,4}$"
    r"|(?:order|tracking|waybill|sku|ean|isbn|invoice)\s*(?:no\.?|id|number|num|code)?\s*[:：#]?\s*$",
    re.I,
)


#: The canonical form of a JDDC anonymised number standing for an order id.
NUMBER_PLACEHOLDER_ID = "[数字x]"


def _canon(value: str) -> str:
    return NUMBER_PLACEHOLDER_ID if value.startswith("[数字") else value.upper()


def tracking_numbers(text: str) -> list[str]:
    """Courier tracking numbers: "运单号 773012345678901", "SF1234567890" (upper case)."""
    norm = normalize(text[:2000])
    found = [_canon(m.group(1) or m.group(0)) for m in TRACKING.finditer(norm)]
    return list(dict.fromkeys(found))


def order_ids(text: str) -> list[str]:
    """Order ids: "[ORDERID_123]", "订单号 1234567", "订单号是[数字x]", a bare 12–24 digit number,
    full-width digits included; a message that is only "[数字x]" is one too. Tracking numbers
    are not order ids."""
    norm = normalize(text[:2000])
    tracking = tracking_numbers(norm)
    found: list[str] = []
    for m in ORDER_ID.finditer(norm):
        value = _canon(m.group(1) or m.group(2) or m.group(0))
        if value not in tracking and not _COURIER_ID.fullmatch(value.lower()):
            found.append(value)
    if not found and _ONLY_PLACEHOLDER.match(norm):
        found.append(NUMBER_PLACEHOLDER_ID)
    return list(dict.fromkeys(found))


def order_references(text: str) -> list[str]:
    """What the order system can look up for this message: its order ids, then its tracking
    numbers. The anonymised number ``[数字x]`` is not one (it stands for any number: 小时, 位数…;
    :func:`order_ids` takes it only where an order id is labelled or asked for)."""
    found = [i for i in order_ids(text) if i != NUMBER_PLACEHOLDER_ID] + tracking_numbers(text)
    return list(dict.fromkeys(found))


def replied_order_id(text: str) -> str | None:
    """An unlabelled id ("1234567", "DD1234567") — an order id only in reply to a question asking
    for one. A mobile number is not."""
    for m in _REPLIED.finditer(normalize(text)):
        if not is_phone(m.group()):
            return m.group().upper()
    return None


# -- SKUs ----------------------------------------------------------------------------------------
# ASCII look-arounds, not \b: "MM-TS-001还有货吗" has no word boundary before 还.
SKU = re.compile(r"(?<![a-z0-9])[a-z]{2,4}-[a-z0-9]{2,6}-\d{2,5}(?![a-z0-9])", re.I)


def skus(text: str) -> list[str]:
    """Product codes like "MM-TS-001" (upper case, in order, once each)."""
    return list(dict.fromkeys(m.group().upper() for m in SKU.finditer(normalize(text))))


# -- phone numbers (on the scan form of PII redaction: ASCII digits, separators kept) -------------
#: A separator inside a written number ("138 1234 5678", "6222-0212-...").
NUM_SEP = r"[ \-]"
#: Where a number starts and ends: not inside a longer number or word.
NUM_START = rf"(?<![0-9A-Za-z_])(?<![0-9]{NUM_SEP})"
NUM_END = rf"(?!{NUM_SEP}?[0-9])(?![A-Za-z_])"
#: A separator inside a written mobile number: also a dot ("138.1234.5678").
PHONE_SEP = r"[ \-.]"
PHONE = re.compile(
    rf"(?:(?<![0-9A-Za-z_])(?:\+|00)?86{NUM_SEP}?|{NUM_START})"
    rf"1[3-9]\d{PHONE_SEP}?\d{{4}}{PHONE_SEP}?\d{{4}}{NUM_END}",
    re.A,
)
#: A landline: an area code (0 and 2–3 digits, or in brackets) apart from 7–8 digits, and an
#: optional extension ("010-87654321", "(0571) 8888 6666", "021-6123-4567转802"). Written
#: without a separator it is one only after a telephone label (see PHONE_LABEL).
LANDLINE = re.compile(
    rf"(?:(?<![0-9A-Za-z_])[(（]0[1-9]\d{{1,2}}[)）]\s?|{NUM_START}0[1-9]\d{{1,2}}{NUM_SEP})"
    rf"[2-9]\d{{2,3}}{NUM_SEP}?\d{{4}}(?:\s?(?:转|ext\.?|-)\s?\d{{1,5}})?{NUM_END}",
    re.A | re.I,
)
#: Labels a telephone number follows ("电话", "座机", "tel"): a bare 0-led number after one is a
#: landline.
PHONE_LABEL = re.compile(r"(?:电话|座机|固话|联系方式|tel|phone)[号码是为:：\s]{0,4}$", re.I)


def is_phone(text: str) -> bool:
    """Whether ``text`` is exactly one mainland mobile number."""
    return PHONE.fullmatch(text) is not None


# -- money ---------------------------------------------------------------------------------------
#: Chinese numeral characters (a run of them: 十五, 一百二, 两万).
CN_NUMERAL = "[零〇一二两三四五六七八九十百千万]"
#: Put before a run of figures (``\\d+``, ``CN_NUMERAL+``) in a pattern used to search: a match
#: then starts where the run starts, never inside it. Without it a long run that fails later is
#: tried from each of its positions (quadratic: ~1 s for 5,000 digits); the matches found are the
#: same, since a run's start reaches every match a later start does.
DIGITS_START = r"(?<!\d)"
CN_NUMERAL_START = rf"(?<!{CN_NUMERAL})"
#: The unit of an amount of yuan after an Arabic number.
YUAN = r"(?:元|块钱?|rmb)"
#: An amount of money: group ``num`` (then ``wan`` 万 and a yuan unit: 100元, 2万元; not a
#: multiplier's count: the 2 of "50ml×2 ¥299"), ``signed`` (after ¥), or ``cn`` (a Chinese
#: numeral before 块/元; not a vague one: 几百块, 十几块).
MONEY = re.compile(
    rf"(?<![\d.×xX*])(?P<num>\d+(?:\.\d+)?)\s*(?P<wan>万)?\s*(?:{YUAN}|¥)"
    rf"|[¥￥]\s*(?P<signed>\d+(?:\.\d+)?)"
    rf"|(?<![\d.几]){CN_NUMERAL_START}(?P<cn>{CN_NUMERAL}+)\s*(?:块|元)"
)

# -- patterns built from rule sets ---------------------------------------------------------------
T = TypeVar("T")


def compiled_rules(
    name: str, rules: Mapping[str, Any] | None, build: Callable[[Mapping[str, Any]], T]
) -> T:
    """``build(rules)`` — the patterns of a rule set (``rules``: a shop's merged rule set ``name``,
    default the packaged one) — made once per distinct rule set (:func:`kefu_copilot._data.compiled`)."""
    return compiled(packaged_rules(name) if rules is None else rules, build)
