"""Issue 21 #10: Big5 and UTF-16 without a byte-order mark are knowledge files, not "binary";
UTF-8, UTF-8 with BOM and GB18030/GBK decode exactly as before (never mistaken for Big5)."""

from __future__ import annotations

import random

import pytest

from kefu_copilot import IngestError
from kefu_copilot.text._normalize import decode_bytes

SIMPLIFIED = (
    "退换货政策：自签收之日起七天内可无理由退货，商品需保持完好、吊牌齐全。\n"
    "运费说明：质量问题由本店承担来回运费；非质量问题退货运费由买家承担。\n"
    "Q: 羽绒服可以机洗吗？ A: 建议干洗，或冷水手洗后平铺晾干。SKU MM-DJ-006，价格 599 元。\n"
)
TRADITIONAL = (
    "退換貨政策：自簽收之日起七天內可無理由退貨，商品需保持完好、吊牌齊全。\n"
    "運費說明：品質問題由本店承擔來回運費；非品質問題退貨運費由買家承擔。\n"
    "Q: 羽絨服可以機洗嗎？ A: 建議乾洗，或冷水手洗後平鋪晾乾。SKU MM-DJ-006，價格 599 元。\n"
)
# GBK text that mixes in traditional characters and rarer simplified ones (level-2 GB2312):
# still GB, never re-read as Big5.
GB_MIXED = "繁體字也可以用GBK保存：請在收到商品後七天內申請。磬鬻彘翟。\n" + SIMPLIFIED


@pytest.mark.parametrize("text", [SIMPLIFIED, TRADITIONAL, GB_MIXED, "好", "尺码表\n"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
def test_the_usual_encodings_decode_as_before(text: str, encoding: str) -> None:
    assert decode_bytes(text.encode(encoding)) == text


@pytest.mark.parametrize("text", [SIMPLIFIED, GB_MIXED, SIMPLIFIED[:12], "退货运费谁出"])
def test_gb18030_text_is_never_mistaken_for_big5(text: str) -> None:
    data = text.encode("gb18030")
    assert decode_bytes(data) == text


@pytest.mark.parametrize("text", [TRADITIONAL, TRADITIONAL[:40], "運費說明：品質問題由本店承擔。"])
def test_big5_is_detected(text: str) -> None:
    assert decode_bytes(text.encode("big5")) == text


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("text", [SIMPLIFIED, TRADITIONAL, "question,answer\n退货吗,七天无理由\n"])
def test_utf16_without_a_bom_is_detected(text: str, encoding: str) -> None:
    assert decode_bytes(text.encode(encoding)) == text


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
        b"PK\x03\x04" + random.Random(1).randbytes(4000),
        random.Random(2).randbytes(4000),
        random.Random(3).randbytes(4000).replace(b"\x00", b"\x01"),  # no NUL bytes
        b"\x00" * 64,
    ],
    ids=["png", "zip", "random", "random-no-nul", "zeros"],
)
def test_binary_files_are_still_refused(data: bytes) -> None:
    with pytest.raises(IngestError, match=r"binary|not valid"):
        decode_bytes(data)
