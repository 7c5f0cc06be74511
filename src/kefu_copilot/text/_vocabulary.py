"""Built-in Chinese e-commerce vocabulary: ways shoppers ask about the same product aspect.

Folded like a shop's own ``synonyms`` (the first word of a group is canonical). Shops add their
own groups in ``shop.yaml``; a shop group wins where the two overlap.
"""

from __future__ import annotations

__all__ = ["ECOMMERCE_SYNONYMS"]

ECOMMERCE_SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("面料", "料子", "材质", "布料", "什么料", "啥料"),
    ("厚度", "厚不厚", "薄不薄", "厚吗", "薄吗", "厚实吗", "克重"),
    ("重量", "重不重", "多重", "轻不轻", "沉不沉"),
    ("颜色", "配色", "几个色", "哪些色", "什么色", "几种颜色", "几个颜色", "哪几个颜色", "啥颜色"),
    ("机洗", "洗衣机洗", "洗衣机里洗", "扔洗衣机", "进洗衣机"),
    ("弹力", "弹性", "有弹", "伸缩性"),
    ("价格", "多少钱一件", "多少钱", "售价", "价钱", "卖多少", "什么价"),
    ("尺码表", "尺码对照表", "码表", "尺寸表"),
    ("起球", "掉毛球"),
    ("褪色", "掉色", "染色", "串色"),
    ("透", "透不透", "透光", "走光", "透肉"),
    ("真皮", "头层牛皮", "牛皮", "皮质"),
    ("到货", "到手", "收到货", "送到"),
    ("包邮", "免运费", "免邮"),
    ("发票", "开发票", "开票"),
    ("退款", "退钱", "钱退", "钱回"),
    ("退货", "退掉", "退回去"),
    ("换货", "换一个码", "换码", "换尺码", "换大一码", "换小一码", "换个码"),
    ("无理由", "七天无理由", "7天无理由"),
    ("会员", "vip"),
    ("优惠券", "优惠卷", "卷"),
)
