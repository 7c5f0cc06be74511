"""Generate a realistic conversation log from a shop directory, with known things planted in it.

    python examples/generate_logs.py --out logs.jsonl --n 5000 --seed 7 [--shop knowledge]

Questions are paraphrased from the shop's FAQ (``question`` + ``similar``) and product pages;
on top of that the generator plants what ``kefu insights`` should find, and describes it in
``planted.json`` next to the log:

- frequent questions: three FAQ entries asked far more often than the rest;
- knowledge gaps: questions the shop's knowledge does not cover, asked often
  (overseas shipping, children's clothes, cash on delivery);
- complaint themes: a burst of "中通 too slow" complaints after 双十一, and quality complaints
  (起球) about one product (the hoodie);
- peaks: 20:00–22:00 is the busiest time of day, and 11-11 (双十一) is a spike day; agents answer
  more slowly at peaks.

The output follows docs/conversation-logs.md. Deterministic for a given seed and shop.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
TZ = timezone(timedelta(hours=8))
START = datetime(2024, 11, 4, tzinfo=TZ)  # two weeks around 双十一
DAYS = 14
SPIKE_DAY = "2024-11-11"
DAY_WEIGHT = {"2024-11-10": 1.6, SPIKE_DAY: 4.0, "2024-11-12": 2.0}
# conversations per hour of day (relative); 20:00-22:00 is the planted peak
HOUR_WEIGHT = [
    1,
    0.6,
    0.4,
    0.3,
    0.3,
    0.4,
    0.8,
    1.5,
    2.5,
    3.5,
    4.5,
    4.5,
    3.5,
    3.5,
    4,
    4,
    4,
    3.8,
    4,
    4.5,
    12,
    12,
    5,
    2.5,
]
PEAK_HOURS = [20, 21]

FREQUENT = ["付款后多久发货？", "包邮吗？运费怎么算？", "退货运费谁承担？"]
GAPS = {
    "overseas shipping": [
        "能不能寄到国外",
        "可以寄到国外吗",
        "支持国际快递吗",
        "能发到海外吗",
        "国外能收到吗",
        "可以邮寄到美国吗",
    ],
    "children's clothes": [
        "有没有童装",
        "你们有儿童款吗",
        "有小孩穿的衣服吗",
        "童装有卖吗",
        "有没有儿童尺码的衣服",
    ],
    "cash on delivery": [
        "可以货到付款吗",
        "支持货到付款吗",
        "能不能货到付款",
        "货到付款可以吗",
        "收到货再付钱行吗",
    ],
}
COURIER = "中通"
COURIER_DAYS = ["2024-11-12", "2024-11-13", "2024-11-14"]
COURIER_COMPLAINTS = [
    "中通快递也太慢了吧，{d}天了还没到",
    "你们发的中通怎么这么慢，物流一直不更新",
    "物流太慢了，中通{d}天都没动静",
    "中通快递慢死了，能不能催一下",
    "为什么发中通，太慢了",
    "中通的物流信息{d}天没更新了，太慢了吧",
]
QUALITY_PRODUCT = "卫衣"
QUALITY_COMPLAINTS = [
    "卫衣洗了一次就起球了，质量太差了",
    "加绒卫衣才穿两天就起球，太失望了",
    "你们这个卫衣起球好严重，什么质量啊",
    "连帽卫衣起毛球了，质量也太差了吧",
    "买的卫衣袖口全是球，太差劲了",
]
BACKGROUND_COMPLAINTS = {
    "size": ["{p}尺码偏小，根本穿不上", "{p}码数不准，大了好多", "{p}尺码和尺码表不一样，太小了"],
    "quality": ["{p}有好多线头，做工太差", "{p}开线了，质量不行", "{p}有一块污渍，太失望了"],
    "delay": ["付款{d}天了还没发货，怎么回事", "说好48小时发货，{d}天了还不发", "怎么还不发货啊"],
    "refund": ["退款怎么还没到账", "退货寄回去{d}天了还没退款", "退款拖了好久了，什么时候退"],
    "service": ["客服态度太差了", "问了半天都没人理，什么服务", "客服回复太敷衍了"],
    "courier": ["快递员不送上门，还态度差", "包裹外包装破了，快递太暴力了"],
}
ORDER_QUESTIONS = [
    "我的订单{o}到哪了",
    "帮我查一下物流，订单号{o}",
    "我的快递怎么还没到",
    "订单{o}发货了吗",
]
PRODUCT_ASPECTS = {
    "apparel": [
        "{p}有哪些颜色",
        "{p}是什么面料",
        "{p}会缩水吗",
        "{p}怎么洗",
        "身高{h}体重{w}斤{p}穿什么码",
        "{p}会起球吗",
    ],
    "shoes": ["{p}脚长{f}穿几码", "{p}有哪些颜色", "{p}防水吗", "{p}怎么清洗"],
    "other": ["{p}有哪些颜色", "{p}是什么材质", "{p}多少钱"],
}
PREFIXES = ["", "", "", "亲，", "你好，", "请问", "在吗？", "客服，", "hello "]
SUFFIXES = ["", "", "？", "?", "呀", "啊", "～", "呢", "哈"]
ACKS = ["好的，谢谢", "好的", "知道了，谢谢亲", "嗯嗯", "ok"]
ANGRY_FOLLOWUPS = ["都几天了！！", "你们到底管不管？", "能不能快点处理", "我要的是解决办法"]
HANDOFF_TEXT = "亲，这个问题我已经为您转给专门负责的同事，请您稍等一下哦。"
AGENT_REPLIES = [
    "亲，非常抱歉让您久等了，我马上帮您核实处理。",
    "亲，这边帮您确认一下，请稍等哦。",
    "亲，理解您的心情，我这就帮您跟进。",
]
SHORT_NAMES = [
    "T恤",
    "牛仔裤",
    "卫衣",
    "连衣裙",
    "衬衫",
    "羽绒服",
    "跑步鞋",
    "针织衫",
    "袜子",
    "POLO衫",
    "皮带",
    "帆布鞋",
    "夹克",
    "瑜伽裤",
]


# -- the shop ---------------------------------------------------------------------------------
def load_faq(shop: Path) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for path in sorted((shop / "faq").glob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as f:
            for row in csv.DictReader(f):
                similar = [s for s in (row.get("similar") or "").split("|") if s]
                entries.append(
                    {"question": row["question"], "answer": row["answer"], "similar": similar}
                )
    for path in sorted((shop / "faq").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8-sig").splitlines():
            if line.strip():
                item = json.loads(line)
                entries.append(
                    {
                        "question": item["question"],
                        "answer": item["answer"],
                        "similar": list(item.get("similar") or []),
                    }
                )
    return entries


def load_products(shop: Path) -> list[dict[str, str]]:
    products = []
    for path in sorted((shop / "products").iterdir()):
        text = path.read_text(encoding="utf-8-sig")
        if path.suffix == ".json":
            data = json.loads(text)
            title, category = data.get("title", ""), data.get("category", "")
        elif path.suffix == ".md":
            meta = yaml.safe_load(text.split("---")[1]) if text.startswith("---") else {}
            title, category = meta.get("title", path.stem), meta.get("category", "")
        else:
            match = re.search(r"<title>(.*?)</title>", text, re.S)
            title, category = (match.group(1) if match else path.stem), ""
        name = next((n for n in SHORT_NAMES if n in title), category or title[-3:])
        kind = "shoes" if "鞋" in name else "other" if name in ("皮带", "袜子") else "apparel"
        products.append(
            {"source": f"products/{path.name}", "title": title, "name": name, "kind": kind}
        )
    return products


# -- conversations ----------------------------------------------------------------------------
class Generator:
    def __init__(self, shop: Path, seed: int) -> None:
        self.rng = random.Random(seed)
        self.faq = load_faq(shop)
        self.products = load_products(shop)
        by_question = {e["question"]: e for e in self.faq}
        self.frequent = [by_question[q] for q in FREQUENT if q in by_question] or self.faq[:3]
        self.others = [e for e in self.faq if e not in self.frequent]
        # Zipf-like popularity for the remaining FAQ entries
        order = self.others[:]
        self.rng.shuffle(order)
        self.others, self.other_weights = order, [1 / (i + 2) ** 0.7 for i in range(len(order))]
        self.quality = next(p for p in self.products if p["name"] == QUALITY_PRODUCT)
        self.kinds = {
            "frequent": 24,
            "faq": 30,
            "product": 16,
            "gap": 7.5,
            "order": 5,
            "complaint": 8,
            "courier": 2,
            "quality": 3,
        }
        self.planted_counts: dict[str, int] = {}

    def dress(self, text: str) -> str:
        text = text.rstrip("？?")
        return self.rng.choice(PREFIXES) + text + self.rng.choice(SUFFIXES)

    def fill(self, template: str, product: dict[str, str] | None = None) -> str:
        r = self.rng
        return template.format(
            p=(product or r.choice(self.products))["name"],
            d=r.randint(3, 9),
            h=r.randint(155, 188),
            w=r.randint(90, 180),
            f=r.choice(range(225, 275, 5)),
            o=r.randint(10**12, 10**13 - 1),
        )

    def start_time(self) -> datetime:
        r = self.rng
        days = [START + timedelta(days=i) for i in range(DAYS)]
        day = r.choices(days, [DAY_WEIGHT.get(d.date().isoformat(), 1.0) for d in days])[0]
        hour = r.choices(range(24), HOUR_WEIGHT)[0]
        return day + timedelta(hours=hour, seconds=r.randint(0, 3599))

    def conversation(self, index: int) -> dict[str, Any]:
        r = self.rng
        kind = r.choices(list(self.kinds), list(self.kinds.values()))[0]
        start = self.start_time()
        if kind == "courier":  # the planted burst: only on the days after 双十一
            day = datetime.fromisoformat(r.choice(COURIER_DAYS)).replace(tzinfo=TZ)
            start = day + timedelta(
                hours=r.choices(range(24), HOUR_WEIGHT)[0], seconds=r.randint(0, 3599)
            )
        answer, topic = "", ""
        if kind == "frequent" or kind == "faq":
            entry = (
                r.choice(self.frequent)
                if kind == "frequent"
                else r.choices(self.others, self.other_weights)[0]
            )
            question, answer, topic = (
                r.choice([entry["question"], *entry["similar"]]),
                entry["answer"],
                entry["question"],
            )
        elif kind == "product":
            product = r.choice(self.products)
            question = self.fill(r.choice(PRODUCT_ASPECTS[product["kind"]]), product)
            answer = f"亲，{product['title']}的详细信息请看商品详情页，有问题随时问我哦。"
        elif kind == "gap":
            topic = r.choice(list(GAPS))
            question = r.choice(GAPS[topic])
        elif kind == "order":
            question = self.fill(r.choice(ORDER_QUESTIONS))
        elif kind == "complaint":
            topic = r.choice(list(BACKGROUND_COMPLAINTS))
            question = self.fill(r.choice(BACKGROUND_COMPLAINTS[topic]))
        elif kind == "courier":
            question = self.fill(r.choice(COURIER_COMPLAINTS))
        else:
            question = r.choice(QUALITY_COMPLAINTS)
        key = f"{kind}:{topic}" if topic and kind in ("frequent", "gap") else kind
        self.planted_counts[key] = self.planted_counts.get(key, 0) + 1
        return self.dialogue(index, kind, self.dress(question), answer, start)

    def dialogue(
        self, index: int, kind: str, question: str, answer: str, start: datetime
    ) -> dict[str, Any]:
        r = self.rng
        t = start
        messages: list[dict[str, Any]] = []

        def say(role: str, text: str, after: float, agent: str | None = None) -> None:
            nonlocal t
            t = t + timedelta(seconds=after)
            message = {"role": role, "text": text, "ts": t.isoformat(timespec="seconds")}
            if agent:
                message["agent_id"] = agent
            messages.append(message)

        if r.random() < 0.15:
            say("customer", r.choice(["在吗", "你好", "亲在吗？", "客服在吗"]), 0)
            say("bot", "亲，在的，请问有什么可以帮您？", r.uniform(1, 3))
            say("customer", question, r.uniform(5, 30))
        else:
            say("customer", question, 0)
        complaint = kind in ("complaint", "courier", "quality")
        bot_only = kind in ("frequent", "faq", "product") and r.random() < 0.88
        if bot_only:
            say("bot", answer, r.uniform(1, 3))
            if r.random() < 0.3:
                say("customer", r.choice(ACKS), r.uniform(10, 60))
            resolved, rating = r.random() < 0.93, r.choices([3, 4, 5], [1, 3, 6])[0]
        else:
            say("bot", HANDOFF_TEXT, r.uniform(1, 3))
            slow = (3.0 if start.hour in PEAK_HOURS else 1.0) * (
                2.0 if start.date().isoformat() == SPIKE_DAY else 1.0
            )
            agent = f"a{r.randint(1, 8):02d}"
            say("agent", r.choice(AGENT_REPLIES), r.lognormvariate(3.7, 0.6) * slow, agent)
            if complaint and r.random() < 0.5:
                say("customer", r.choice(ANGRY_FOLLOWUPS), r.uniform(20, 120))
                say("agent", r.choice(AGENT_REPLIES), r.lognormvariate(3.5, 0.5) * slow, agent)
            say("agent", "亲，已经为您处理好了，还有其他问题吗？", r.uniform(60, 600), agent)
            if complaint:
                resolved, rating = r.random() < 0.55, r.choices([1, 2, 3, 4], [4, 3, 2, 1])[0]
            else:
                resolved, rating = r.random() < 0.8, r.choices([2, 3, 4, 5], [1, 2, 3, 4])[0]
                if slow > 1:
                    rating = max(1, rating - r.choice([0, 1]))
        record: dict[str, Any] = {"id": f"c{index:06d}", "messages": messages}
        if r.random() < 0.4:
            record["rating"] = rating
        if r.random() < 0.9:
            record["resolved"] = resolved
        return record


def planted(gen: Generator, n: int, seed: int) -> dict[str, Any]:
    return {
        "n": n,
        "seed": seed,
        "period": [START.date().isoformat(), (START + timedelta(days=DAYS - 1)).date().isoformat()],
        "frequent_questions": [
            {
                "question": e["question"],
                "phrasings": [e["question"], *e["similar"]],
                "count": gen.planted_counts.get(f"frequent:{e['question']}", 0),
            }
            for e in gen.frequent
        ],
        "gaps": [
            {
                "topic": topic,
                "phrasings": phrasings,
                "count": gen.planted_counts.get(f"gap:{topic}", 0),
            }
            for topic, phrasings in GAPS.items()
        ],
        "complaint_themes": [
            {
                "cause": "courier",
                "subject": COURIER,
                "days": COURIER_DAYS,
                "count": gen.planted_counts.get("courier", 0),
                "phrasings": COURIER_COMPLAINTS,
            },
            {
                "cause": "quality",
                "product": gen.quality["source"],
                "title": gen.quality["title"],
                "count": gen.planted_counts.get("quality", 0),
                "phrasings": QUALITY_COMPLAINTS,
            },
        ],
        "peak_hours": PEAK_HOURS,
        "spike_day": SPIKE_DAY,
    }


def generate(shop: Path, out: Path, n: int, seed: int, planted_path: Path | None = None) -> Path:
    """Write ``n`` conversations to ``out`` (sorted by start time) and ``planted.json``."""
    gen = Generator(shop, seed)
    records = [gen.conversation(i + 1) for i in range(n)]
    records.sort(key=lambda c: c["messages"][0]["ts"])
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
    planted_path = planted_path or out.with_name("planted.json")
    text = json.dumps(planted(gen, n, seed), ensure_ascii=False, indent=2)
    planted_path.write_text(text + "\n", encoding="utf-8")
    return planted_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="the JSONL log to write")
    parser.add_argument("--n", type=int, default=5000, help="conversations (default 5000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--shop", default=str(ROOT / "knowledge"), help="shop directory")
    parser.add_argument(
        "--planted", help="where to describe what was planted (default: planted.json next to --out)"
    )
    args = parser.parse_args(argv)
    out = Path(args.out)
    where = generate(
        Path(args.shop), out, args.n, args.seed, Path(args.planted) if args.planted else None
    )
    print(f"wrote {args.n} conversations to {out} and what was planted to {where}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
