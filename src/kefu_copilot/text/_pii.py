"""Personal data in chat text: find it and replace it with placeholders before it goes anywhere.

Detected (pure regular expressions plus checksums, no dependencies, ~0.1 ms per KB):

* ``phone``: mainland mobile numbers ``1[3-9]x`` (11 digits; 3-4-4 / 3-8 / 7-4 groups with
  spaces, dashes or dots; ``+86`` / ``0086`` / ``86`` prefix; full-width digits; or spoken in
  Chinese numerals, 幺三八…);
* ``landline``: an area code apart from 7–8 digits (010-87654321, (0571)88886666), or any
  0-led number after a telephone label (电话/座机…);
* ``id_card``: 18-digit resident ID numbers with a valid province code and birth date (the
  GB 11643 check character is not required: a mistyped ID number is still one), and 15-digit
  first-generation numbers (province + date);
* ``bank_card``: 13–19 digits passing the Luhn check, issuer digit 3–6 or 9, written in one run,
  in groups of four or as 4-6-5;
* ``email``;
* ``im_id``: a QQ number or WeChat id after its label (QQ/微信/vx…);
* ``name``: a personal name after 收件人/收货人/联系人/姓名/我叫;
* ``plate``: a licence plate (浙A·12345, 京AD12345);
* ``passport``: a passport number after its label, or in the E/G form of Chinese passports;
* ``address``: a street address — a road with a house number (文三路123号), a residential compound
  with a building/unit/room (幸福小区3栋2单元501), or the building/unit/room alone (5号楼302室),
  including the 省/市/区/县/街道 before it. Place names alone (上海, 偏远地区, 浙江省杭州市) are
  *not* addresses: shipping questions need them.

Numbers that are order or waybill numbers by their context (订单号/单号/运单/order no. just before
them) are not redacted, even if a checksum happens to pass — except a mobile number, which is
one whatever its label says; prices, sizes, dates, SKUs and short numbers never match in the
first place (an amount of money has far fewer digits than any of these).

>>> r = redact("手机13812345678，寄到杭州市西湖区文三路123号")
>>> r.text
'手机[手机号]，寄到[地址]'
>>> [(m.kind, m.span) for m in r.found]
[('phone', (2, 13)), ('address', (16, 29))]
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal, get_args

from ._patterns import (
    LANDLINE,
    NUM_END,
    NUM_SEP,
    NUM_START,
    PHONE,
    PHONE_LABEL,
    REFERENCE_LABEL,
)

__all__ = ["PLACEHOLDERS", "PIIKind", "PIIMatch", "Redaction", "find_pii", "redact"]

PIIKind = Literal[
    "phone",
    "id_card",
    "bank_card",
    "email",
    "address",
    "landline",
    "im_id",
    "name",
    "plate",
    "passport",
]
PLACEHOLDERS: dict[PIIKind, str] = {
    "phone": "[手机号]",
    "id_card": "[身份证号]",
    "bank_card": "[银行卡号]",
    "email": "[邮箱]",
    "address": "[地址]",
    "landline": "[电话]",
    "im_id": "[账号]",
    "name": "[姓名]",
    "plate": "[车牌号]",
    "passport": "[护照号]",
}
_KIND_ALIASES: dict[str, PIIKind] = {
    **{kind: kind for kind in get_args(PIIKind)},
    **{label.strip("[]"): kind for kind, label in PLACEHOLDERS.items()},
    **{label: kind for kind, label in PLACEHOLDERS.items()},
    "手机": "phone",
    "电话": "phone",
    "身份证": "id_card",
    "银行卡": "bank_card",
    "座机": "landline",
    "qq": "im_id",
    "微信": "im_id",
    "车牌": "plate",
    "护照": "passport",
}


@dataclass(frozen=True)
class PIIMatch:
    """One piece of personal data: ``span`` indexes the text given to :func:`find_pii`.

    ``original`` is the text as the customer wrote it: show it to the agent, never to an LLM.
    """

    kind: PIIKind
    span: tuple[int, int]
    original: str

    @property
    def placeholder(self) -> str:
        return PLACEHOLDERS[self.kind]


@dataclass(frozen=True)
class Redaction:
    """The redacted ``text`` and what was replaced (in order of position)."""

    text: str
    found: tuple[PIIMatch, ...] = ()

    @property
    def kinds(self) -> set[PIIKind]:
        return {m.kind for m in self.found}

    def __bool__(self) -> bool:
        """True when something was redacted."""
        return bool(self.found)


# -- scanning form of the text -------------------------------------------------------------------
# Full-width ASCII (０-９, Ａ-Ｚ, ＠, ＋, －, ．) and odd dashes/spaces become ASCII one for one, so
# positions do not move; invisible characters are dropped with an offset map kept.
_TRANSLATE = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {
    0x3000: 0x20,
    0xA0: 0x20,
    0x2010: 0x2D,
    0x2011: 0x2D,
    0x2012: 0x2D,
    0x2013: 0x2D,
    0x2014: 0x2D,
    0x2212: 0x2D,
}
_TRANSLATED = re.compile(
    "[\uff0b\uff0d\uff0e\uff10-\uff19\uff20-\uff3a\uff41-\uff5a\u3000\xa0\u2010-\u2014\u2212]"
)
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\u00ad]")
_PROVINCE_CHARS = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_CN_DIGIT = "零〇一二三四五六七八九幺两洞"
_CN_DIGIT_VALUE = {c: str(i) for i, c in enumerate("零一二三四五六七八九")} | {
    "〇": "0",
    "洞": "0",
    "幺": "1",
    "两": "2",
}
_QUICK = re.compile(
    rf"[0-9@]|路|街|道|巷|弄|胡同|栋|幢|单元|[幺一][三四五六七八九]|[{_PROVINCE_CHARS}][A-Za-z]"
    r"|收件人|收货人|联系人|姓名|我叫|名字"
    # a WeChat id may hold no digit at all ("微信 rf_abcdef"): its label is the only cue
    r"|微信|薇信|威信|[Vv]信|(?i:wx|vx|weixin|wechat)"
)

# -- numbers -------------------------------------------------------------------------------------
_SEP, _START, _END = NUM_SEP, NUM_START, NUM_END
_NUMBER_RUN = re.compile(r"[0-9(（](?:[ \-.)）]{0,2}[0-9]){6,}", re.A)
_ID18 = re.compile(
    rf"{_START}[1-9]\d{{5}}{_SEP}?(?:\d{{8}}|\d{{4}}{_SEP}?\d{{4}}){_SEP}?\d{{3}}[\dXx]{_END}", re.A
)
_ID15 = re.compile(rf"{_START}[1-9]\d{{14}}{_END}", re.A)
_CARD = re.compile(
    rf"{_START}(?:\d{{13,19}}|\d{{4}}(?:{_SEP}\d{{4}}){{2,3}}(?:{_SEP}\d{{1,4}})?"
    rf"|\d{{4}}{_SEP}\d{{6}}{_SEP}\d{{4,5}}|\d{{6}}{_SEP}\d{{10,13}}){_END}",
    re.A,
)
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![A-Za-z0-9-])",
    re.A,
)
_SPOKEN_MOBILE = re.compile(
    rf"(?<![{_CN_DIGIT}])[一幺][三四五六七八九](?:[ \-]?[{_CN_DIGIT}]){{9}}(?![{_CN_DIGIT}])"
)
_IM_ID = re.compile(
    r"(?:(?<![A-Za-z])(?:qq|QQ|Qq)|扣扣|企鹅)(?:号码?)?[是为:：\s]{0,3}([1-9]\d{4,11})(?!\d)"
    r"|(?:微信|薇信|威信|(?<![A-Za-z])(?:wx|vx|weixin|wechat|WX|VX|V信|v信))(?:号)?[是为:：\s]{0,3}"
    r"([A-Za-z][-_A-Za-z0-9]{5,19}|1[3-9]\d{9})(?![-_A-Za-z0-9])",
    re.A,
)
_PLATE = re.compile(
    rf"(?<![A-Za-z0-9])[{_PROVINCE_CHARS}][A-HJ-NP-Za-hj-np-z][·•.\s]?"
    r"[A-HJ-NP-Z0-9]{5,6}(?![A-Za-z0-9])",
    re.A,
)
_PASSPORT = re.compile(
    r"(?:护照|passport)(?:号码?|no\.?)?[是为:：\s]{0,3}([A-Za-z]{1,2}\d{6,8})(?![A-Za-z0-9])"
    r"|(?<![A-Za-z0-9])([EG]\d{8}|E[A-HJ-NP-Z]\d{7})(?![A-Za-z0-9])",
    re.I | re.A,
)
_PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 "
    "65 71 81 82 83 91".split()
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

# -- addresses -----------------------------------------------------------------------------------
# A place-name character: CJK, but not one of the function characters a sentence wraps around an
# address with ("寄到", "我住在", "地址是", "这款…").
_STOP = "我你您他她它们的是在住寄到发送往给请帮把为了和与及或址收货件要想能吗呢吧啊哦就从这那款也都还很么什怎样问买"


def _cjk_class(exclude: str) -> str:
    """A character class of the CJK block without ``exclude`` (plain ranges: fast to match)."""
    parts, low = [], 0x4E00
    for code in sorted({ord(ch) for ch in exclude}):
        if code > low:
            parts.append(f"\\u{low:04x}-\\u{code - 1:04x}" if code - 1 > low else f"\\u{low:04x}")
        low = code + 1
    parts.append(f"\\u{low:04x}-\\u9fff")
    return "[" + "".join(parts) + "]"


_NAME = _cjk_class(_STOP)
# A personal name after the label that introduces it; what follows a name in a message (its
# phone, address) is not part of it.
_PERSON = re.compile(
    rf"(?:收件人|收货人|联系人|寄件人|姓名|我叫|我的名字[是叫])[是为叫:：\s]{{0,3}}"
    rf"({_cjk_class(_STOP + '了过着电手地收寄联号')}{{2,3}})"
)
_AFTER_NAME = re.compile(r"电话|手机|地址|先生|女士|小姐|收|寄|联系")
_NAME_CHAR = re.compile(f"{_NAME}|[A-Za-z0-9]")
_NUM = r"(?:\d{1,5}|[A-Za-z]|[一二三四五六七八九十百零〇两]{1,4})"
_ADMIN = (
    rf"(?:{_NAME}{{2,7}}?(?:省|自治区|特别行政区))?(?:{_NAME}{{1,7}}?(?:市|自治州|州|盟|地区))?"
    rf"(?:{_NAME}{{1,7}}?(?:区|县|旗))?(?:{_NAME}{{1,7}}?(?:镇|乡|街道))?"
)
_ROAD = rf"{_NAME}{{1,8}}?(?:大街|大道|路|街|巷|弄|胡同)"
_NUMBERED_ROAD = (
    rf"{_NAME}{{1,8}}?(?:大街|大道|路|街|(?<![知味渠频难报通轨车赤跑管厚霸地街交])道|巷|弄|胡同)"
)
_COMPOUND = (
    rf"(?:{_NAME}|[A-Za-z]){{1,10}}?"
    r"(?:小区|花园|公寓|大厦|家园|新村|苑|公馆|华府|广场|中心|大楼|村|里|园|城|府|庭|居|湾|郡|邸|庄|阁)"
)
_BUILDING_PART = (
    rf"(?:{_NUM}(?:栋|幢|号楼|座|期|区)|{_NUM}单元|{_NUM}(?:层|楼)|{_NUM}(?:室|房|户|号)"
    r"|\d{2,5}(?!\d))"
)
_BUILDING = rf"(?:[-\s]?{_BUILDING_PART}){{2,5}}"
_BUILDING_STRONG = (
    rf"(?:(?:\d{{1,5}}|[A-Za-z])(?:栋|幢|号楼|座)[-\s]?{_NUM}(?:单元|室|层|楼)"
    rf"|{_NUM}单元[-\s]?\d{{2,5}})"
)
_ADDRESS = re.compile(
    rf"{_ADMIN}{_NUMBERED_ROAD}\d{{1,5}}(?:[-之]\d{{1,4}})?(?:号|弄)(?:{_COMPOUND})?(?:{_BUILDING})?"
    rf"|{_ADMIN}{_COMPOUND}(?:{_BUILDING}|\d{{1,4}}号)"
    rf"|{_NAME}{{2,7}}?(?:市|区|县)(?:{_NAME}{{1,7}}?(?:区|县))?{_ROAD}"
    r"(?![\u4e00-\u9fff]{0,2}(?:况|上|边|口|线|费))"
    rf"|{_BUILDING_STRONG}(?:[-\s]?{_BUILDING_PART})*",
    re.A,
)
# What may sit between two parts of one address ("…88号SOHO现代城2号楼…").
_ADDRESS_GAP = re.compile(rf"(?:{_NAME}|[A-Za-z0-9·\-]){{0,12}}")
# Where an address may end up: the full pattern (much slower) is only tried just before these.
_ADDRESS_ANCHOR = re.compile(
    r"(?:路|街|道|巷|弄|同)[0-9]|[0-9A-Za-z一二三四五六七八九十两](?:栋|幢|号楼|座|单元)|[0-9]号"
    r"|[市区县][\u4e00-\u9fff]{0,8}?(?:路|街|巷|弄|胡同)",
    re.A,
)
_LOOK_BACK = 40


def _addresses(scan: str) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    tried = 0  # every start position is tried at most once: linear time on any input
    for anchor in _ADDRESS_ANCHOR.finditer(scan):
        at = anchor.start()
        if at < tried:
            continue
        first, limit = at, max(tried, at - _LOOK_BACK)
        while first > limit and _NAME_CHAR.match(scan, first - 1):
            first -= 1  # an address starts within the run of name characters before its anchor
        for pos in range(first, at + 1):
            tried = pos + 1
            match = _ADDRESS.match(scan, pos)
            if match:
                out.append(match.span())
                tried = match.end()
                break
    return out


def _scan_form(text: str) -> tuple[str, list[int] | None]:
    scan = text.translate(_TRANSLATE) if _TRANSLATED.search(text) else text
    if not _INVISIBLE.search(scan):
        return scan, None
    offsets = [i for i, ch in enumerate(scan) if not _INVISIBLE.fullmatch(ch)]
    return _INVISIBLE.sub("", scan), offsets


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch in "0123456789Xx").upper()


def _number_key(text: str) -> str:
    """How a kept number is compared: its digits (and X), when it has at least six digits."""
    digits = _digits(text)
    return digits if sum(ch.isdigit() for ch in digits) >= 6 else ""


def _luhn(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _valid_date(year: int, month: int, day: int) -> bool:
    try:
        born = date(year, month, day)
    except ValueError:
        return False
    return date(1880, 1, 1) <= born <= date.today()


def id18_check(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits of an ID number."""
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def _valid_id18(number: str) -> bool:
    if len(number) != 18 or number[:2] not in _PROVINCES or not number[:17].isdigit():
        return False
    # The check character is not required: an ID number with a typo still names the person.
    return _valid_date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def _valid_id15(number: str) -> bool:
    return (
        len(number) == 15
        and number[:2] in _PROVINCES
        and _valid_date(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]))
    )


def _valid_card(number: str) -> bool:
    return 13 <= len(number) <= 19 and number[0] in "34569" and _luhn(number)


def _not_pii_number(scan: str, start: int, end: int, kind: PIIKind) -> bool:
    """An order/waybill number by its label (a mobile number is never one)."""
    return kind != "phone" and bool(REFERENCE_LABEL.search(scan[max(0, start - 16) : start]))


def _numbers(scan: str) -> list[tuple[int, int, PIIKind]]:
    found: list[tuple[int, int, PIIKind]] = []
    # The number patterns only run over long digit runs (cheap to find): most text has none.
    for run in _NUMBER_RUN.finditer(scan):
        pos, end = max(0, run.start() - 4), min(len(scan), run.end() + 9)
        for m in _ID18.finditer(scan, pos, end):
            if _valid_id18(_digits(m.group())):
                found.append((m.start(), m.end(), "id_card"))
        for m in _ID15.finditer(scan, pos, end):
            if _valid_id15(m.group()):
                found.append((m.start(), m.end(), "id_card"))
        for m in _CARD.finditer(scan, pos, end):
            if _valid_card(_digits(m.group())):
                found.append((m.start(), m.end(), "bank_card"))
        found += [(m.start(), m.end(), "phone") for m in PHONE.finditer(scan, pos, end)]
        found += [(m.start(), m.end(), "landline") for m in LANDLINE.finditer(scan, pos, end)]
        for m in _BARE_LANDLINE.finditer(scan, pos, end):
            if PHONE_LABEL.search(scan[max(0, m.start() - 12) : m.start()]):
                found.append((m.start(), m.end(), "landline"))
    return [c for c in found if not _not_pii_number(scan, c[0], c[1], c[2])]


_BARE_LANDLINE = re.compile(rf"{_START}0[1-9]\d{{8,10}}{_END}", re.A)


def _labelled(scan: str) -> list[tuple[int, int, PIIKind]]:
    """Personal data known by its label or its shape: QQ/WeChat ids, names, licence plates,
    passports, mobile numbers in Chinese numerals."""
    found: list[tuple[int, int, PIIKind]] = []
    for m in _IM_ID.finditer(scan):
        group = 1 if m.group(1) else 2
        found.append((m.start(group), m.end(group), "im_id"))
    for m in _PERSON.finditer(scan):
        name = m.group(1)
        cut = _AFTER_NAME.search(name, 2)
        end = m.start(1) + (cut.start() if cut else len(name))
        found.append((m.start(1), end, "name"))
    found += [(m.start(), m.end(), "plate") for m in _PLATE.finditer(scan)]
    for m in _PASSPORT.finditer(scan):
        group = 1 if m.group(1) else 2
        found.append((m.start(group), m.end(group), "passport"))
    for m in _SPOKEN_MOBILE.finditer(scan):
        digits = "".join(_CN_DIGIT_VALUE[c] for c in m.group() if c in _CN_DIGIT_VALUE)
        if PHONE.fullmatch(digits):
            found.append((m.start(), m.end(), "phone"))
    return found


def _candidates(scan: str) -> list[tuple[int, int, PIIKind]]:
    found = _numbers(scan) + _labelled(scan)
    if "@" in scan:
        found += [(m.start(), m.end(), "email") for m in _EMAIL.finditer(scan)]
    found += [(start, end, "address") for start, end in _addresses(scan)]
    return found


_PRIORITY: dict[PIIKind, int] = {
    "email": 0,
    "id_card": 1,
    "bank_card": 2,
    "phone": 3,
    "landline": 4,
    "im_id": 5,
    "passport": 6,
    "plate": 7,
    "name": 8,
    "address": 9,
}


def find_pii(text: str) -> list[PIIMatch]:
    """Every piece of personal data in ``text``, in order, not overlapping."""
    if not text:
        return []
    scan, offsets = _scan_form(text)
    if not _QUICK.search(scan):
        return []
    chosen: list[tuple[int, int, PIIKind]] = []
    candidates = sorted(_candidates(scan), key=lambda c: (c[0], -(c[1] - c[0]), _PRIORITY[c[2]]))
    for start, end, kind in candidates:
        if chosen and start < chosen[-1][1]:
            continue
        if (
            kind == "address"
            and chosen
            and chosen[-1][2] == "address"
            and _ADDRESS_GAP.fullmatch(scan, chosen[-1][1], start)
        ):
            start = chosen.pop()[0]  # two parts of one address
        chosen.append((start, end, kind))
    out = []
    for start, end, kind in chosen:
        if offsets is not None:
            start, end = offsets[start], offsets[end - 1] + 1
        out.append(PIIMatch(kind, (start, end), text[start:end]))
    return out


def _kept(match: PIIMatch, kinds: set[PIIKind], values: set[str]) -> bool:
    if match.kind in kinds:
        return True
    scan = _scan_form(match.original)[0]
    return scan.lower() in values or _number_key(scan) in values


def redact(text: str, *, keep: Iterable[str] = ()) -> Redaction:
    """Replace personal data in ``text`` with placeholders (``[手机号]``, ``[地址]``…).

    ``keep`` lists what to leave as it is: kinds (``"address"``, ``"phone"``… or the placeholder
    words ``"地址"``, ``"手机号"``…) and exact values (the shop's own hotline or e-mail, compared
    ignoring separators and full-width forms). ``found`` lists only what was replaced.
    """
    kinds: set[PIIKind] = set()
    values: set[str] = set()
    for item in keep:
        kind = _KIND_ALIASES.get(item.strip().lower()) or _KIND_ALIASES.get(item.strip())
        if kind is not None:
            kinds.add(kind)
        else:
            scan = _scan_form(item.strip())[0]
            values |= {scan.lower(), _number_key(scan)}
    values.discard("")
    found = tuple(m for m in find_pii(text) if not _kept(m, kinds, values))
    if not found:
        return Redaction(text)
    parts: list[str] = []
    last = 0
    for match in found:
        start, end = match.span
        parts.append(text[last:start])
        parts.append(match.placeholder)
        last = end
    parts.append(text[last:])
    return Redaction("".join(parts), found)
