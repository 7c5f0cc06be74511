"""An in-memory shop backend for kefu-copilot's tools: the sample shop 木棉生活旗舰店.

Orders, shipments (with events), stock by SKU for the products in ``knowledge/products`` and
coupons, behind the standard tools (``get_order``, ``track_shipment``, ``check_stock``,
``get_coupons``; writes: ``change_address``, ``cancel_order``, ``issue_coupon``,
``create_ticket``). A real shop implements the same functions over its own systems.

    backend = register(copilot)        # or register(a ToolRegistry)

Run ``python examples/shop_backend.py`` for a short demo of routed questions.
"""

from __future__ import annotations

import itertools
import tempfile
import threading
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from kefu_copilot import (
    Coupon,
    Order,
    OrderItem,
    Refund,
    Shipment,
    ShipmentEvent,
    StockLevel,
    Ticket,
    ToolRegistry,
    VariantStock,
    tool,
)

KNOWLEDGE = Path(__file__).resolve().parents[1] / "knowledge"

# SKU → (title, price) of the sample shop's products (knowledge/products).
CATALOG: dict[str, tuple[str, float]] = {
    "MM-TS-001": ("木棉生活 纯棉圆领短袖T恤 男女同款", 79),
    "MM-JN-002": ("木棉生活 高腰直筒牛仔裤 女款", 189),
    "MM-HD-003": ("木棉生活 加绒连帽卫衣 男女同款", 159),
    "MM-DR-004": ("木棉生活 碎花雪纺中长连衣裙", 199),
    "MM-SH-005": ("木棉生活 牛津纺长袖衬衫 男款", 139),
    "MM-DJ-006": ("木棉生活 90白鸭绒连帽加厚羽绒服 男女同款", 599),
    "MM-RS-007": ("木棉生活 轻便透气跑步鞋", 299),
    "MM-SW-008": ("木棉生活 羊毛混纺圆领针织衫 女款", 259),
    "MM-SK-009": ("木棉生活 精梳棉中筒袜 5双装", 39),
    "MM-CV-010": ("木棉生活 经典高帮帆布鞋 男女同款", 129),
    "MM-BT-011": ("木棉生活 头层牛皮自动扣皮带 男款", 99),
    "MM-JK-012": ("木棉生活 工装夹克外套 男女同款", 329),
    "MM-PL-013": ("木棉生活 珠地棉短袖POLO衫 男款", 129),
    "MM-YG-014": ("木棉生活 高腰裸感瑜伽裤 女款", 119),
}


def _item(sku: str, quantity: int = 1, color: str | None = None, size: str | None = None) -> Any:
    title, price = CATALOG[sku]
    return OrderItem(
        sku=sku, title=title, quantity=quantity, unit_price=price, color=color, size=size
    )


class ShopBackend:
    """The shop's systems, in memory. Thread-safe; times are relative to ``now``."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime.now().replace(second=0, microsecond=0)
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.tickets: dict[str, Ticket] = {}
        self._seed()

    def at(self, days: int, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(self.now.date() + timedelta(days=days), time(hour, minute))

    def _seed(self) -> None:
        at, addr = self.at, "浙江省杭州市西湖区文三路 90 号 李女士 138****0001"
        orders = [
            Order(order_id="123456789012", customer_id="C1001", status="shipped",
                  items=[_item("MM-TS-001", 2, "白色", "L")], paid_at=at(-2, 9, 15),
                  goods_yuan=158, paid_yuan=158, address=addr, tracking_no="SF1234567890"),
            Order(order_id="20240312001", customer_id="C1001", status="paid",
                  items=[_item("MM-HD-003", 1, "灰色", "XL")], paid_at=at(-1, 20, 5),
                  goods_yuan=159, paid_yuan=159, address=addr),
            Order(order_id="20240320777", customer_id="C1001", status="paid",
                  items=[_item("MM-HD-003", 1, "黑色", "L"), _item("MM-SK-009")],
                  paid_at=at(0, 8, 40), goods_yuan=198, paid_yuan=198, address=addr),
            Order(order_id="20240301555", customer_id="C1001", status="refunding",
                  items=[_item("MM-DR-004", 1, "蓝色", "M")], paid_at=at(-12, 21, 0),
                  goods_yuan=199, paid_yuan=199, address=addr,
                  refund=Refund(status="processing", amount_yuan=199, updated_at=at(-1, 16, 30),
                                expected_by=(self.now + timedelta(days=3)).date())),
            Order(order_id="20240311986", customer_id="C1002", status="paid",
                  items=[_item("MM-JN-002", 1, "浅蓝", "27")], paid_at=at(-1, 13, 0),
                  goods_yuan=189, paid_yuan=189, address="上海市徐汇区漕溪北路 1 号 王先生"),
            Order(order_id="123456789", customer_id="C1002", status="delivered",
                  items=[_item("MM-RS-007", 1, "黑色", "42")], paid_at=at(-6, 10, 0),
                  goods_yuan=299, paid_yuan=299, address="上海市徐汇区漕溪北路 1 号 王先生",
                  tracking_no="ZT7788990011"),
            Order(order_id="[ORDERID_10086]", customer_id="C1003", status="paid",
                  items=[_item("MM-SH-005", 1, "白色", "L")], paid_at=at(0, 7, 50),
                  goods_yuan=139, paid_yuan=139, address="北京市朝阳区建国路 88 号 赵先生"),
        ]  # fmt: skip
        self.orders = {o.order_id: o for o in orders}
        self.shipments = {
            "SF1234567890": Shipment(
                order_id="123456789012", tracking_no="SF1234567890", carrier="顺丰速运",
                status="in_transit", estimated_delivery=(self.now + timedelta(days=1)).date(),
                events=[
                    ShipmentEvent(time=at(-1, 9, 30), place="杭州市", description="顺丰速运已揽收"),
                    ShipmentEvent(time=at(-1, 14, 2), place="杭州转运中心",
                                  description="快件已从杭州转运中心发出"),
                ],
            ),
            "ZT7788990011": Shipment(
                order_id="123456789", tracking_no="ZT7788990011", carrier="中通快递",
                status="delivered",
                events=[
                    ShipmentEvent(time=at(-5, 18, 0), place="杭州市", description="中通快递已揽收"),
                    ShipmentEvent(time=at(-3, 11, 20), place="上海市徐汇区",
                                  description="已签收，签收人：本人"),
                ],
            ),
            "SF9876543210": Shipment(  # the return parcel of order 20240301555
                order_id="20240301555", tracking_no="SF9876543210", carrier="顺丰速运",
                status="delivered",
                events=[ShipmentEvent(time=at(-2, 15, 0), place="杭州仓库",
                                      description="退货已签收入库")],
            ),
        }  # fmt: skip
        sizes = ["S", "M", "L", "XL", "2XL", "3XL"]
        tee = [
            VariantStock(color=c, size=s, available=0 if (c, s) == ("白色", "XL") else 20)
            for c in ("白色", "黑色", "雾霾蓝", "燕麦色")
            for s in sizes
        ]
        tee[sizes.index("L") + len(sizes)] = VariantStock(color="黑色", size="L", available=3)
        down = [
            VariantStock(color=c, size=s, available=0 if (c, s) == ("米白", "M") else 8)
            for c in ("黑色", "米白", "墨绿")
            for s in sizes[:5]
        ]
        special: dict[str, tuple[list[VariantStock], int | None]] = {
            "MM-TS-001": (tee, None),
            "MM-DJ-006": (down, 7),
            "MM-YG-014": ([], 10),
        }
        self.stock: dict[str, StockLevel] = {}
        for sku, (title, price) in CATALOG.items():
            variants, restock = special.get(sku, ([], None))
            total = sum(v.available for v in variants) if variants else 50
            self.stock[sku] = StockLevel(
                sku=sku,
                title=title,
                price=price,
                available=0 if sku == "MM-YG-014" else total,
                variants=variants,
                restock_date=(self.now + timedelta(days=restock)).date() if restock else None,
            )
        self.coupons: list[Coupon] = [
            Coupon(coupon_id="CP-199-20", customer_id="C1001", title="满199减20",
                   amount_yuan=20, min_spend_yuan=199, valid_until=at(20, 23, 59)),
            Coupon(coupon_id="CP-NEW-5", customer_id="C1001", title="新人券5元无门槛",
                   amount_yuan=5, valid_until=at(-3, 23, 59), status="expired"),
            Coupon(coupon_id="CP-DJ-50", customer_id="C1001", title="羽绒服专享满500减50",
                   amount_yuan=50, min_spend_yuan=500, valid_until=at(30, 23, 59),
                   skus=["MM-DJ-006"]),
        ]  # fmt: skip

    # -- read-only tools -------------------------------------------------------------------------
    @tool
    def get_order(self, order_id: str) -> Order | None:
        """查询订单：状态、商品、付款时间、收货地址、运单号和退款进度。"""
        return self.orders.get(order_id.strip().upper().replace("[数字X]", "[数字x]"))

    @tool
    def track_shipment(
        self, order_id: str | None = None, tracking_no: str | None = None
    ) -> Shipment | None:
        """查询物流轨迹（按订单号或运单号）：承运快递、每条物流事件的时间和地点、预计送达日期。"""
        if tracking_no:
            return self.shipments.get(tracking_no.strip().upper())
        order = self.orders.get((order_id or "").strip().upper())
        return self.shipments.get(order.tracking_no or "") if order else None

    @tool
    def check_stock(self, sku: str) -> StockLevel | None:
        """查询商品库存（按商品编号，如 MM-TS-001）：可售数量、各颜色尺码库存、补货日期。"""
        return self.stock.get(sku.strip().upper())

    @tool
    def get_coupons(self, customer_id: str) -> list[Coupon]:
        """查询顾客账户里的优惠券：面额、使用门槛、有效期、状态、适用商品。"""
        return [c for c in self.coupons if c.customer_id == customer_id]

    # -- tools that change something (a human approves unless shop.yaml allows them) ----------
    @tool(writes=True)
    def change_address(self, order_id: str, address: str) -> Order:
        """修改未发货订单的收货地址。"""
        with self._lock:
            order = self.orders[order_id]
            if order.status not in ("pending_payment", "paid"):
                raise ValueError(f"order {order_id} is already {order.status}")
            order.address = address
            return order

    @tool(writes=True)
    def cancel_order(self, order_id: str, reason: str = "") -> Order:
        """取消未发货的订单。"""
        with self._lock:
            order = self.orders[order_id]
            if order.status not in ("pending_payment", "paid"):
                raise ValueError(f"order {order_id} is already {order.status}")
            order.status = "cancelled"
            return order

    @tool(writes=True)
    def issue_coupon(self, customer_id: str, amount_yuan: float, reason: str = "") -> Coupon:
        """给顾客发放一张无门槛优惠券（售后补偿），有效期 30 天。"""
        with self._lock:
            coupon = Coupon(
                coupon_id=f"CP-COMP-{next(self._ids)}",
                customer_id=customer_id,
                title=f"售后补偿券{amount_yuan:g}元",
                amount_yuan=amount_yuan,
                valid_until=self.now + timedelta(days=30),
            )
            self.coupons.append(coupon)
            return coupon

    @tool(writes=True)
    def create_ticket(
        self, summary: str, order_id: str | None = None, customer_id: str | None = None
    ) -> Ticket:
        """为需要跟进的问题创建售后工单。"""
        with self._lock:
            ticket = Ticket(
                ticket_id=f"T{next(self._ids):05d}",
                summary=summary,
                order_id=order_id,
                customer_id=customer_id,
                created_at=self.now,
            )
            self.tickets[ticket.ticket_id] = ticket
            return ticket


def register(target: Any, backend: ShopBackend | None = None) -> ShopBackend:
    """Register the backend's tools on a Copilot (``copilot.tools``) or a ToolRegistry."""
    backend = backend or ShopBackend()
    registry = target if isinstance(target, ToolRegistry) else getattr(target, "tools", None)
    if registry is None:  # a Copilot from before tools were wired in: give it a registry
        registry = ToolRegistry()
        target.tools = registry
    registry.register_all(backend)
    return backend


def _handle(copilot: Any, messages: list[dict[str, str]]) -> Any:
    from kefu_copilot import Conversation

    router = copilot.router(clock=lambda: copilot.backend.now)
    router.tools = router.tools or copilot.tools
    return router.handle(Conversation.of(messages))


def main() -> None:
    from kefu_copilot import Copilot
    from kefu_copilot.agent._notices import DelayEvent, draft_notices

    with tempfile.TemporaryDirectory() as index:
        copilot = Copilot(KNOWLEDGE, index_dir=index, embed_model="none")
        copilot.ingest()
        copilot.backend = register(copilot)
        print(f"== {copilot.shop.name}: questions routed with the shop's tools ==")
        questions = [
            "我的订单123456789012到哪了",
            "帮我查下物流，单号SF1234567890",
            "MM-TS-001 白色 XL 还有货吗",
            "订单20240320777的优惠券为什么用不了",
            "几天能发货？",
        ]
        for question in questions:
            turn = _handle(copilot, [{"role": "customer", "text": question}])
            cited = ", ".join(c.source for c in turn.answer.citations[:2])
            print(f"\n顾客：{question}\n[{turn.decision}] {turn.text}\n  引用：{cited}")

        conversation = [{"role": "customer", "text": "我的快递到哪了"}]
        turn = _handle(copilot, conversation)
        print(f"\n顾客：我的快递到哪了\n[{turn.decision}] {turn.text}")
        conversation += [
            {"role": "bot", "text": turn.text},
            {"role": "customer", "text": "123456789012"},
        ]
        turn = _handle(copilot, conversation)
        print(f"顾客：123456789012\n[{turn.decision}] {turn.text}")

        question = "订单[ORDERID_10086]的收货地址改成上海市浦东新区世纪大道100号 赵先生"
        turn = _handle(copilot, [{"role": "customer", "text": question}])
        action = turn.pending_actions[0]
        print(f"\n顾客：{question}\n[{turn.decision}] {turn.text}\n  待审批：{action.summary}")
        done = copilot.tools.approve(action.id, by="agent-7")
        print(f"  审批通过 → {done.status}：{done.reply_on_success}")

        batch = draft_notices(
            copilot.backend.orders.values(),
            DelayEvent(reason="暴雪导致杭州转运中心停运", new_eta=copilot.backend.at(3, 0).date()),
            copilot.shop,
        )
        print(f"\n== 主动通知（{len(batch.notices)} 条待审核）==\n{batch.notices[0].text}")


if __name__ == "__main__":
    main()
