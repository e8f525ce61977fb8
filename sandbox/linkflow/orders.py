"""Sales orders (spec "创建/更新订单" and "获取订单列表").

An order is kept as the body `GET /open/orders` answers (the spec's sample), with its
update time for the page mode. Order ids and line ids come from one counter, an order's
lines right after it, as in the sample (144357503180802, its line ...803, the next order
...804). Posting an order again (same `orderId`) updates it and its lines (by `lineId`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sandbox.clock import format_datetime

FIRST_ORDER_ID = 144_357_503_180_802

# Spec "有赞订单状态映射" and "系统订单状态码".
YOUZAN_STATUS = {
    "WAIT_BUYER_PAY": "WAIT_BUYER_PAY",
    "TRADE_PAID": "WAIT_SELLER_SEND_GOODS",
    "WAIT_CONFIRM": "WAIT_SELLER_SEND_GOODS",
    "WAIT_SELLER_SEND_GOODS": "WAIT_SELLER_SEND_GOODS",
    "WAIT_BUYER_CONFIRM_GOODS": "WAIT_BUYER_CONFIRM_GOODS",
    "TRADE_SUCCESS": "TRADE_SUCCESS",
    "TRADE_CLOSED": "TRADE_CLOSED",
}
SYSTEM_STATUSES = {
    "WAIT_BUYER_PAY",
    "WAIT_SELLER_SEND_GOODS",
    "SELLER_CONSIGNED_PART",
    "WAIT_BUYER_CONFIRM_GOODS",
    "WAIT_BUYER_CONFIRM_PAY",
    "TRADE_BUYER_SIGNED",
    "TRADE_SUCCESS",
    "TRADE_CLOSED",
    "TRADE_CLOSED_ALL_REFUND",
    "TRADE_CLOSED_PARTIAL_REFUND",
    "PAID_FORBID_CONSIGN",
    "OTHER",
}
PRODUCTS = [
    ("维生素C", "保健", 50.12),
    ("玻尿酸面霜", "美妆", 199.00),
    ("婴儿纸尿裤", "母婴", 89.90),
    ("蓝牙耳机", "数码", 299.00),
    ("有机大米", "食品", 45.50),
    ("跑步鞋", "运动", 459.00),
]
SEEDED_STATUSES = ["TRADE_SUCCESS"] * 6 + ["WAIT_SELLER_SEND_GOODS", "TRADE_CLOSED"]


def system_status(channel_type: str, status: str) -> str:
    if channel_type in ("YOUZAN", "YOUZANSELF"):
        return YOUZAN_STATUS.get(status, "OTHER")
    return status if status in SYSTEM_STATUSES else "OTHER"


@dataclass
class Order:
    id: int
    order_id: str
    contact_id: int
    updated_at: datetime
    body: dict

    def as_json(self) -> dict:
        """The head's fields, then its `lines` (the sample's order)."""
        head = {k: v for k, v in self.body.items() if k != "lines"}
        return head | {"lines": [dict(line) for line in self.body["lines"]]}


class OrderBook:
    def __init__(self, tenant_id: int, first_id: int = FIRST_ORDER_ID) -> None:
        self.tenant_id = tenant_id
        self.next_id = first_id
        self.orders: dict[str, Order] = {}  # by orderId

    def _new_id(self) -> int:
        value = self.next_id
        self.next_id += 1
        return value

    def by_id(self) -> list[Order]:
        return sorted(self.orders.values(), key=lambda o: o.id)

    def upsert(
        self,
        *,
        data: dict,
        contact_id: int,
        channel_id: int,
        channel_type: str,
        now: datetime,
    ) -> Order:
        """`data` is one message's `data` (salesOrderHead with its `lines`)."""
        stamp = format_datetime(now)
        order = self.orders.get(str(data["orderId"]))
        head = {k: v for k, v in data.items() if k != "lines"}
        if order is None:
            order = Order(
                id=self._new_id(),
                order_id=str(data["orderId"]),
                contact_id=contact_id,
                updated_at=now,
                body={
                    "dateCreated": stamp,
                    "lastUpdated": stamp,
                    "ver": 0,
                    "id": 0,
                    "props": {},
                    "tenantId": self.tenant_id,
                    "channelId": channel_id,
                    "contactId": contact_id,
                    "lines": [],
                },
            )
            order.body["id"] = order.id
            self.orders[order.order_id] = order
        body = order.body
        body.update(head, orderId=order.order_id)
        if "orderStatus" in head:
            body["orderOuterStatus"] = str(head["orderStatus"])
            body["orderStatus"] = system_status(channel_type, str(head["orderStatus"]))
        body["ver"] += 1
        body["lastUpdated"] = stamp
        order.updated_at = now
        lines = {line["lineId"]: line for line in body["lines"]}
        for line in data.get("lines") or []:
            current = lines.get(str(line["lineId"]))
            if current is None:
                current = {
                    "dateCreated": stamp,
                    "id": self._new_id(),
                    "props": {},
                    "tenantId": self.tenant_id,
                    "orderId": order.order_id,
                    "saleChannel": body.get("saleChannel"),
                    "channelId": channel_id,
                    "contactId": contact_id,
                    "ver": 0,
                }
                body["lines"].append(current)
            current.update(line, lineId=str(line["lineId"]), lastUpdated=stamp)
            current["ver"] += 1
        return order

    def seed(
        self,
        *,
        count: int,
        salt: str,
        pick_contact: Callable[[int], int | None],
        channel_id: int,
        now: datetime,
    ) -> None:
        """`count` orders over the 90 days before `now`, oldest first; `pick_contact` turns
        a random number into a buyer's contact id (None: nobody to sell to)."""
        moments = []
        for k in range(count):
            digest = hashlib.blake2b(f"{salt}/order/{k}".encode(), digest_size=24).digest()
            seconds = int.from_bytes(digest[:4], "big") % (90 * 86400)
            moments.append((now - timedelta(seconds=seconds), digest))
        moments.sort(key=lambda pair: pair[0])
        for k, (moment, digest) in enumerate(moments):
            buyer = pick_contact(int.from_bytes(digest[16:24], "big"))
            if buyer is None:
                return
            lines = []
            for j in range(1 + digest[4] % 3):
                name, category, price = PRODUCTS[(digest[5] + j) % len(PRODUCTS)]
                quantity = 1 + digest[6 + j] % 3
                lines.append(
                    {
                        "lineId": f"L{k:06d}{j}",
                        "orderDate": format_datetime(moment - timedelta(minutes=5)),
                        "itemTotalPrice": round(price * quantity, 2),
                        "itemPaymentPrice": round(price * quantity, 2),
                        "quantity": quantity,
                        "refundQuantity": 0,
                        "refundPrice": 0,
                        "brandName": "沙箱品牌",
                        "category": category,
                        "productName": name,
                        "itemId": f"{100000 + (digest[5] + j) % len(PRODUCTS)}",
                        "price": price,
                        "skuName": "默认规格",
                        "skuId": f"{200000 + (digest[5] + j) % len(PRODUCTS)}",
                        "isPresent": "false",
                    }
                )
            total = round(sum(line["itemTotalPrice"] for line in lines), 2)
            status = SEEDED_STATUSES[digest[9] % len(SEEDED_STATUSES)]
            self.upsert(
                data={
                    "saleChannel": "京东",
                    "orderId": f"JD{int.from_bytes(digest[10:15], 'big') % 10**12:012d}",
                    "orderStatus": status,
                    "orderSource": "other",
                    "payType": "微信",
                    "payDate": format_datetime(moment - timedelta(minutes=4)),
                    "orderDate": format_datetime(moment - timedelta(minutes=5)),
                    "totalPrice": total,
                    "paymentPrice": total,
                    "refundPrice": 0,
                    "storeName": "京东旗舰店",
                    "storeId": "10000087",
                    "totalQuantity": sum(line["quantity"] for line in lines),
                    "orderType": "普通订单",
                    "isMemberOrder": "是",
                    "lines": lines,
                },
                contact_id=buyer,
                channel_id=channel_id,
                channel_type="UDC",
                now=moment,
            )
