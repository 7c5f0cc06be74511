"""Proactive notices: one reviewed draft per affected order, facts and amounts from the data."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, timedelta

import pytest

from kefu_copilot import InputError, ShopConfig, load_shop_config
from kefu_copilot.agent._notices import (
    DelayEvent,
    PriceDropEvent,
    StockOutEvent,
    compose,
    draft_notices,
)
from kefu_copilot.agent._tools import ToolResult

from .conftest import KNOWLEDGE, ROOT
from .test_tools import NOW, load_backend


@pytest.fixture
def backend():
    return load_backend().ShopBackend(NOW)


@pytest.fixture(scope="module")
def shop() -> ShopConfig:
    return load_shop_config(KNOWLEDGE)  # coupons up to 10 元, cash up to 5 元


def test_delay_notice_per_open_order(backend, shop) -> None:
    event = DelayEvent(reason="暴雪导致转运中心停运", new_eta=date(2025, 11, 29), coupon_yuan=30)
    batch = draft_notices(backend.orders.values(), event, shop, now=NOW)
    ids = {n.order_id for n in batch.notices}
    assert "123456789012" in ids and "123456789" not in ids  # delivered: skipped, with why
    assert "已签收" in batch.skipped["123456789"]
    notice = next(n for n in batch.notices if n.order_id == "123456789012")
    assert notice.needs_review and notice.customer_id == "C1001" and notice.kind == "delay"
    for part in ("暴雪导致转运中心停运", "123456789012", "11月29日", "纯棉圆领短袖T恤", "耐心等待"):
        assert part in notice.text
    assert notice.compensation_yuan == 10 and "10 元优惠券" in notice.text  # capped at shop.yaml
    assert any("capped" in note for note in notice.review_notes)
    assert notice.text.endswith("——木棉生活旗舰店")


def test_no_compensation_when_the_shop_allows_none(backend) -> None:
    event = {"kind": "delay", "reason": "大促爆仓", "coupon_yuan": 5}  # a plain mapping works
    batch = draft_notices(backend.orders.values(), event, ShopConfig(), now=NOW)
    assert batch.notices and all(n.compensation_yuan == 0 for n in batch.notices)
    assert all("优惠券" not in n.text for n in batch.notices)


def test_stock_out_offers_wait_switch_or_refund(backend, shop) -> None:
    event = StockOutEvent(
        sku="MM-HD-003",
        color="灰色",
        restock_date=date(2025, 12, 5),
        alternatives=["MM-SW-008", "MM-YG-014"],
    )
    batch = draft_notices(backend.orders.values(), event, shop, now=NOW, catalog=backend.stock)
    (notice,) = batch.notices  # 20240312001 is the grey hoodie; the black one is unaffected
    assert notice.order_id == "20240312001" and notice.facts["refund_yuan"] == 159
    for part in (
        "加绒连帽卫衣 男女同款（灰色 XL码）暂时缺货",
        "12月5日",
        "羊毛混纺圆领针织衫",
        "159 元",
    ):
        assert part in notice.text
    assert "瑜伽裤" not in notice.text  # out of stock itself: not offered
    assert any("MM-YG-014" in note for note in notice.review_notes)
    assert batch.skipped["20240320777"] == "the order has no affected item"


def test_price_drop_within_the_protection_period(backend, shop) -> None:
    event = PriceDropEvent(sku="MM-TS-001", new_price=69, effective_at=NOW)
    batch = draft_notices(
        backend.orders.values(), event, shop, now=NOW, protection_days=15
    )  # fmt: skip
    (notice,) = batch.notices
    assert notice.order_id == "123456789012" and notice.facts["refund_yuan"] == 20  # (79-69)*2
    for part in ("实付单价 79 元", "现价 69 元", "共 2 件", "差价 20 元", "12月9日"):
        assert part in notice.text
    assert any("cash limit" in note for note in notice.review_notes)  # 20 > max_cash 5


def test_price_drop_outside_the_period_is_skipped(backend, shop) -> None:
    late = NOW + timedelta(days=20)
    event = PriceDropEvent(sku="MM-TS-001", new_price=69, effective_at=late)
    batch = draft_notices(backend.orders.values(), event, shop, now=late, protection_days=15)
    assert not batch.notices and "period" in batch.skipped["123456789012"]
    with pytest.raises(InputError):
        draft_notices(backend.orders.values(), event, shop)  # the period must be stated


def test_compose_only_states_what_the_data_says(backend) -> None:
    order = backend.get_order("20240301555")
    result = ToolResult(name="get_order", arguments={}, ok=True, value=order)
    reply = compose("refund_status", [result], "退款到哪了", NOW)
    assert reply.decision == "auto" and "199 元正在处理中" in reply.text
    nothing = compose("order_status", [], "订单状态", NOW)
    assert nothing.decision == "handoff"
    when = datetime(2025, 11, 26, 9, 0)
    exception = backend.track_shipment(tracking_no="SF1234567890").model_copy(
        update={"status": "exception"}
    )
    flagged = compose(
        "shipping_tracking",
        [ToolResult(name="track_shipment", ok=True, value=exception, at=when)],
        "",
        NOW,
    )
    assert flagged.decision == "draft" and flagged.problems


def test_example_backend_demo_runs() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "shop_backend.py")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    assert "tool:track_shipment" in out.stdout and "审批通过 → executed" in out.stdout
    assert "主动通知" in out.stdout
