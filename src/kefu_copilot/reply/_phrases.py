"""Word lists of reply drafting and the reply-style lint (Chinese e-commerce customer service).

Everything here is data. Patterns are matched on text folded by :func:`kefu_copilot.reply._lint.fold`
(full-width → half-width, lower case, same length), so ``，`` is ``,`` and ``！`` is ``!``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "ALTERNATIVES",
    "ANGRY_CUES",
    "ANXIOUS_CUES",
    "CASH_CUES",
    "CLOSERS",
    "CLOSING_CUES",
    "COMPENSATION_CUES",
    "COUPON_OFFER",
    "DATE",
    "EMPATHY",
    "FAULT",
    "MULTIPLE_PROMISE",
    "NOT_AN_OFFER",
    "OFFER_END",
    "OPENERS",
    "ORDER_ID",
    "PHRASE_RULES",
    "POLICY_TERMS",
    "PROMISE_TERMS",
    "QUESTION",
    "QUESTION_END",
    "REFUSAL",
    "SIGN_OFF",
    "SLOT_PLACEHOLDERS",
    "TRAILING_NOISE",
    "Alternative",
    "PhraseRule",
]

_END = r"(?=[,.!?;~\s。]|$)"  # end of a clause (folded text)
_PARTICLES = r"[哦喔呢啊呀哈啦嘛]*"
_IF = r"(?:如果|要是|万一|假如|假设|若|实在|是否|会不会|是不是)"


@dataclass(frozen=True)
class PhraseRule:
    """A cold or blaming phrase.

    ``pattern`` may name a group ``w``: only that part is replaced in a rewrite (so facts matched
    by a wildcard survive). ``soft`` replaces the phrase inside a clause that has other content;
    a clause with nothing else is dropped. ``not_before`` is searched in the clause before the
    match (a conditional "如果不行的话" is not a refusal); ``questions`` = also flag in questions.
    """

    code: str
    name: str
    pattern: str
    message: str
    suggestion: str
    soft: str
    not_before: str = ""
    not_after: str = ""
    questions: bool = True
    drop: bool = False


PHRASE_RULES: tuple[PhraseRule, ...] = (
    PhraseRule(
        "cold_phrase",
        "不可以的哦",
        rf"不(?:可以|能|行)的?[哦喔呢啊呀哈啦~]+{_END}|不可以的{_END}",
        "生硬的拒绝（“不可以的哦”）",
        "先体会顾客的感受，再说明原因和能提供的办法，如“很抱歉，这种情况暂时无法办理，不过我们可以…”",
        "暂时无法办理",
        not_before=_IF,
    ),
    PhraseRule(
        "cold_phrase",
        "不行",
        rf"(?<![行能可])不行(?:的|了)?{_PARTICLES}{_END}",
        "生硬的拒绝（“不行”）",
        "换成“很抱歉，这个暂时无法办理”，并给出可以做的事",
        "暂时无法办理",
        not_before=_IF,
        questions=False,
    ),
    PhraseRule(
        "cold_phrase",
        "没办法",
        rf"(?:我们?|这边|小妹)?(?:也|真的?|实在|确实)?没(?:有)?(?:什么)?办法(?:了|的)?{_PARTICLES}{_END}"
        r"|我也没办法|我们也没办法",
        "推脱式的“没办法”",
        "说明能做什么：“这个情况我先帮您…”或“虽然暂时无法…，不过可以…”",
        "暂时无法处理",
        not_before=_IF,
        questions=False,
    ),
    PhraseRule(
        "cold_phrase",
        "这是规定",
        rf"这(?:个)?(?:是|就是)[^,.!?。]{{0,4}}规定(?:的)?{_PARTICLES}{_END}|规定(?:就是这样|如此)"
        r"|这(?:是|就是)(?:我们|公司|平台|店铺|商家|官方)?的?规定"
        r"|没有为什么|没什么好解释",
        "用“规定”压人，没有解释原因",
        "直接说明规则的内容和原因，如“七天无理由退货需要吊牌完好，这样才能保证二次销售”",
        "按照店铺的售后规则",
    ),
    PhraseRule(
        "cold_phrase",
        "自己看",
        r"(?:(?:你|您)(?:可以)?)?(?<![我帮])自己(?:去)?(?:看看|看一下|看下|看吧|看|查一下|查吧|查)"
        r"(?![到见过询看])",
        "让顾客“自己看/自己查”",
        "换成“我帮您看一下”，或告诉顾客在哪里能看到",
        "我帮您看一下",
        drop=True,
    ),
    PhraseRule(
        "cold_phrase",
        "你自己",
        r"你自己",
        "“你自己…”语气生硬",
        "用“您”，并说明我们能帮什么",
        "您",
        questions=False,
        drop=True,
    ),
    PhraseRule(
        "cold_phrase",
        "听不懂吗",
        r"(?:你|您)?(?:听|看)不懂(?:吗|么|啊|嘛)|(?:听|看)(?:明白|清楚)了?(?:吗|没有?)"
        r"|不识字|我(?:都|已经|刚才|之前)?(?:说|讲|告诉您?|跟您说)(?:过|了)(?:多少|好几|几|很多|无数)[遍次]"
        r"|我不是(?:都)?(?:说|讲|告诉您?|跟您说)(?:过|了)(?:吗|么)?",
        "质问顾客（“听不懂吗/我不是说了吗”）",
        "换个说法再解释一次，如“可能我刚才没说清楚，我再说明一下”",
        "可能我刚才没说清楚",
        drop=True,
    ),
    PhraseRule(
        "cold_phrase",
        "系统问题",
        r"(?:这是|是|都是|属于)?系统(?:的)?问题",
        "把问题推给“系统”",
        "说明具体情况和处理办法：“这边系统暂时有异常，我先帮您…”",
        "系统原因",
        not_before=_IF,
        questions=False,
    ),
    PhraseRule(
        "cold_phrase",
        "不管了",
        r"(?:就|也|都)?(?:不管了|管不了|不负责)",
        "推卸责任（“不管了/不负责”）",
        "说明能做什么：“这种情况我们可以…”",
        "暂时无法按原规则处理",
        not_before=_IF,
    ),
    PhraseRule(
        "cold_phrase",
        "我不知道",
        rf"我(?:也|真|确实)?(?:不知道|不清楚)(?:的|了)?{_PARTICLES}{_END}",
        "“我不知道”没有给出下一步",
        "换成“这个我帮您确认一下，稍后回复您”",
        "我帮您确认一下",
        questions=False,
    ),
    PhraseRule(
        "cold_phrase",
        "爱买不买",
        r"爱买不买|不想买就别买|不买拉倒|急什么|催什么|催也没用|等着吧|慢慢等(?:吧)?|问那么多"
        r"|自己想办法",
        "不耐烦、不尊重顾客",
        "删掉这句话，回应顾客的感受并给出处理办法",
        "",
        drop=True,
    ),
    PhraseRule(
        "blame_shifting",
        "请您先检查是否",
        r"(?P<w>(?:请|麻烦)?(?:您|你)?先(?:自己)?(?:检查|检测|看看|看一下|查看|核对)(?:一下|下)?)"
        r"[^。!?\n]{0,16}?是否",
        "把排查责任推给顾客（“请您先检查…是否…”）",
        "先表示理解，再一起排查：“方便的话麻烦您帮忙看一下…，我们一起确认原因”",
        "方便的话麻烦您帮忙看一下",
    ),
    PhraseRule(
        "blame_shifting",
        "是您自己",
        r"是(?:您|你)自己",
        "把问题归咎于顾客（“是您自己…”）",
        "不指责，说明可能的原因：“可能是…导致的，我们来看看怎么处理”",
        "可能是",
        questions=False,
    ),
    PhraseRule(
        "blame_shifting",
        "您没看",
        r"(?:您|你)(?:都)?没(?:有)?(?:仔细|认真|好好)?看(?:清楚|清|到|见)?(?:吗|么|嘛)?",
        "指责顾客没看说明（“您没看…”）",
        "改成“可能页面提示不够醒目，我跟您说明一下”",
        "可能页面提示不够醒目",
        not_after=r"^[^,.!?;。]*的话",
    ),
    PhraseRule(
        "blame_shifting",
        "您操作错",
        r"(?:您|你)(?:自己)?(?:操作|填写?|选|写|输入|拍|下单)(?:的)?(?:时候)?(?:错|有误|不当|不对)"
        r"|(?:您|你)(?:自己)?(?:不小心|误操作|操作失误|没注意|没仔细)",
        "指责顾客操作有误",
        "改成“信息可能有误，我帮您一起核对一下”",
        "信息可能有误",
    ),
    PhraseRule(
        "blame_shifting",
        "您的问题",
        r"谁让(?:您|你)|怪(?:您|你)自己|(?:这是|是)(?:您|你)(?:自己)?的(?:问题|原因|责任|错)"
        r"|(?:您|你)理解错了|(?:您|你)搞错了",
        "把责任推给顾客",
        "不评判对错，直接说明接下来怎么处理",
        "",
    ),
    PhraseRule(
        "blame_shifting",
        "页面写得很清楚",
        r"(?:页面|详情页|商品页|详情|上面|说明)(?:上|里)?(?:已经|都|早就|明明)?(?:写|标|说|注明|标注)"
        r"(?:得|的)(?:很|非常|特别)?(?:清楚|明白)|写得清清楚楚|明明写了",
        "指责顾客没看页面（“页面写得很清楚”）",
        "改成“页面上有相关说明，我再跟您确认一下”",
        "页面上有相关说明",
    ),
    PhraseRule(
        "blame_shifting",
        "您为什么不",
        r"(?:您|你)(?:当时|下单时|之前)?(?:为什么|为啥|怎么)(?:不|没)(?:早|先)?(?:说|看|问|备注|联系)",
        "质问顾客为什么不早说",
        "删掉质问，直接说明现在能怎么处理",
        "",
    ),
    PhraseRule(
        "blame_shifting",
        "自己联系快递",
        r"(?<![帮为替给我])(?:您|你)(?:可以)?(?:自己|自行)(?:去)?(?:联系|找|咨询|问)(?:一下)?"
        r"(?:快递|物流|厂家|厂商|平台|品牌方|快递员)|(?:去)?找快递(?:公司)?(?:去|吧)"
        r"|(?:跟|和|与)我们(?:没|无)关|不关我们的事|不归我们管|不是我们的(?:问题|责任)",
        "把问题推给快递/厂家/平台",
        "由我们来跟进：“我来帮您联系…，有结果第一时间告诉您”",
        "我来帮您跟进",
    ),
)

#: Empathy in a reply: apology, understanding, reassurance.
EMPATHY = (
    r"抱歉|对不起|不好意思|理解|体谅|着急|别急|不要急|别担心|不用担心|放心|辛苦|久等|添麻烦|"
    r"给您带来|心情|感受|委屈|心疼|扫兴|失望|遗憾|难过|歉意|耐心|感谢您的|谢谢您的|明白您|"
    r"换成是我|换谁都|能理解|请您谅解|见谅|包涵"
)
#: Customer cues the emotion flag may miss (read together with ``emotion_flag``).
ANGRY_CUES = (
    r"到底|(?:你们|到底)[^,.!?。]{0,4}什么意思|骗人|骗子|太差|太慢|太坑|坑人|坑爹|垃圾|(?<!不要)(?<!别)失望|"
    r"生气|气死|无语|离谱|搞什么|怎么搞的|什么破|赖账|忽悠|敷衍|不像话|过分|!!"
)
ANXIOUS_CUES = (
    r"急用|着急|急死|赶紧|尽快|快点|(?<!不必)(?<!不用)(?<!别)担心|万一|来不及|还没收到|一直没|"
    r"还没到|还没发|没收到|人呢|怎么回事|\?\?|!\?"
)
#: A customer turn that only closes the conversation (short, thanks or acknowledgement).
CLOSING_CUES = (
    r"谢|好的|好滴|好哒|嗯|ok|明白|知道了|了解|收到|再见|拜拜|晚安|没有了|没事|没了|行吧|好吧"
)
#: A reply that signs off, waits or greets: no next step needed.
SIGN_OFF = (
    r"再见|祝您|感谢您对|感谢您的支持|不客气|客气了|应该做的|评价|欢迎|稍等|请稍候|正在为您|"
    r"马上为您查|这就为您查|为您查询|有什么(?:问题)?(?:我|小妹|妹子)?(?:可以)?(?:帮|为)(?:您|你)"
)
_QUESTION_WORDS = (
    r"什么|怎么|哪|几|多少|是否|还是|要不要|可不可以|能不能|好不好|行不行|方便|需不需要|对不对|是不是|"
    r"您看"
)
#: A question somewhere in a sentence (not only "?": "您是什么支付的" asks too).
QUESTION = rf"[?]|[吗嘛]|么(?:[,.!~。\s]|$)|是不(?:[,.!~。\s]|$)|{_QUESTION_WORDS}"
#: A question at the end of a sentence ("…呢" only after a question word).
QUESTION_END = rf"(?:[?]|[吗么嘛]|(?:{_QUESTION_WORDS})[^,.!?;。]{{0,12}}呢)[\s~!。.]*$"
#: An offer to act, a request, an instruction or reassurance: the customer knows what is next.
OFFER_END = (
    r"随时|有任何|有问题|有疑问|有需要|(?:联系|找)(?:我|我们|客服|小妹)|第一时间|跟进|安排|尽快|"
    r"(?:我|我们|咱们|这边|小妹|妹子)[^,.!?;。]{0,6}(?:帮|为|给)(?:您|你)|"
    r"(?:我|我们|咱们|这边|小妹|妹子)(?:这边)?(?:会|来|马上|这就|就|立即|立刻|已经)|"
    r"给(?:您|你)(?:回电|回复|打电话|来电|发)|"
    r"(?:您|你)(?:先|再|也|就)?(?:可以|可)?(?:点|点击|打开|进入|退出|登录|选择|复制|提交|申请|拨打|前往)|"
    r"(?:会|可以)(?:帮|为|给)(?:您|你)|请|麻烦|辛苦|有劳|建议|需要您|提供一下|告知|"
    r"可以?通过|就可以|即可|"
    r"(?:您|你|亲亲|亲)(?:也|还|都)?(?:可以|可|先|再|直接|只需|只要)|"
    r"通知您|回复您|告诉您|联系您|放心|不用担心|别担心|"
    r"发给(?:我|小妹|妹子)|给(?:我|小妹|妹子)(?:哦|吧|一下)?$"
)
#: Trailing bits that are not a sentence: emoji placeholders, links, an address, particles.
TRAILING_NOISE = (
    r"(?:#e-s\d?\[[^\]]{0,12}\]|\[[^\[\]]{1,12}\]|https?://\S+|亲爱的|亲爱哒|亲亲|亲|"
    r"[\s~!.,。哦呢哈呀啦额嫩])+$"
)

#: Money in one of these clauses is a policy fact (a price, a threshold), not compensation.
NOT_AN_OFFER = (
    r"满\s*\d|满[一二两三四五六七八九十百千]|减|差价|运费|邮费|快递费|包邮|实付|售价|原价|现价|降价|价保|"
    r"保价|单价|总价|价格|积分|抵扣|生日|新人|面额|不超过|以内|上限|门槛|退款金额|订单金额|"
    r"请示|审批|主管|同事|超出|超过|您(?:要求|提到|说)的|不能|无法|没法|不可以|不行|不予"
)
#: Money in a clause with one of these is compensation (compared with shop.yaml limits).
COMPENSATION_CUES = r"券|红包|现金|返现|补偿|赔偿|赔付|赔您|赔给|补贴|补您|返您|心意|歉意|作为补偿"
CASH_CUES = r"现金|返现|转账|打款|红包|微信|支付宝|赔偿金|补偿金|赔您|赔给您?|补您|返您"
#: Compensation that is never within an agent's limits.
MULTIPLE_PROMISE = r"双倍|两倍|三倍|十倍|假一赔[一二三十]|退一赔[一二三十]|赔偿损失|精神损失|误工费|全额赔偿|终身包换"

#: Policy terms a rewrite must keep (and a draft's facts are checked for).
POLICY_TERMS: tuple[str, ...] = tuple(
    """
    七天无理由 7天无理由 运费险 价保 保价 吊牌 包邮 顺丰 无门槛 补偿券 优惠券 满减
    质量问题 拆封 未洗涤 换货 退货 退款 补发 预售 积分 发票 原路退回 往返运费
    """.split()
)
#: Promise-like terms: when knowledge is given, a reply may only use them if it mentions them.
#: Each entry is a group of interchangeable spellings.
PROMISE_TERMS: tuple[tuple[str, ...], ...] = (
    ("运费险",),
    ("七天无理由", "7天无理由"),
    ("价保", "保价"),
    ("包邮",),
    ("顺丰",),
    ("无门槛",),
    ("上门取件", "上门取货"),
    ("免费维修", "免费保修"),
    ("以旧换新",),
    ("终身保修", "终身质保"),
    ("极速退款",),
    ("先行赔付",),
    ("延保",),
    ("次日达", "当日达"),
    ("专用发票", "专票"),
    ("纸质发票",),
)

#: Openers by the customer's emotion; every upset opener carries empathy (see ``EMPATHY``).
OPENERS: dict[str, tuple[str, ...]] = {
    "angry": (
        "真的非常抱歉给您带来不好的体验，您的心情我完全理解。",
        "让您这么不开心，真的很抱歉，换成是我也会着急的。",
        "非常抱歉让您有这样的感受，我马上认真帮您处理。",
    ),
    "anxious": (
        "您先别着急，我这就帮您看。",
        "理解您着急的心情，您放心，我来帮您处理。",
        "别担心，这个问题我们一起来解决。",
    ),
    "confused": (
        "我来帮您把这个说清楚。",
        "这个地方确实容易让人困惑，我帮您理一下。",
        "谢谢您问得这么仔细，我跟您说明一下。",
    ),
    "fault": (  # a calm customer reporting our mistake (发错, 漏发, 破洞...)
        "真的很抱歉给您添麻烦了。",
        "非常抱歉让您遇到这样的问题。",
        "抱歉给您带来不便了，我来帮您处理。",
    ),
    "neutral": (
        "很高兴为您服务。",
        "收到您的问题啦，我来为您解答。",
        "谢谢您的咨询。",
    ),
    "satisfied": (
        "感谢您的理解和支持。",
        "谢谢您的信任。",
        "很高兴能帮到您。",
    ),
}
#: Closing questions (a next step); ``choice`` when the customer can pick between options.
CLOSERS: dict[str, tuple[str, ...]] = {
    "info": (
        "还有什么想了解的吗？",
        "还有其他可以帮您的吗？",
        "您看还有哪里需要我再帮您确认的吗？",
    ),
    "resolve": (
        "您看这样处理可以吗？",
        "您看这样安排合适吗？",
        "您看先这样帮您处理好吗？",
    ),
    "order": (
        "方便把订单号发给我吗？",
        "麻烦您把订单号发给我好吗？",
        "您把订单号发我一下可以吗？",
    ),
    "choice": (
        "您看更希望怎么处理呢？",
        "您更倾向哪一种处理方式呢？",
        "您看哪种方式更方便您呢？",
    ),
}


@dataclass(frozen=True)
class Alternative:
    """Something the shop allows an agent to offer, found in the knowledge by ``query``.

    Offered when ``trigger`` matches the customer's turn (or ``draft_trigger`` the agent's
    draft), unless ``covered`` already matches the reply.
    """

    name: str
    trigger: str
    query: str
    lead: str
    covered: str
    draft_trigger: str = ""


ALTERNATIVES: tuple[Alternative, ...] = (
    Alternative(
        "wrong_item",
        r"发错|错发|不是我买的|颜色不对|尺码不对|发的不对",
        "发错货了怎么办？",
        "",
        r"正确的商品",
    ),
    Alternative(
        "missing",
        r"少了|少发|漏发|少一件|缺了|缺一件|丢件",
        "收到的包裹少了一件怎么办？",
        "",
        r"补发",
    ),
    Alternative(
        "shoes",
        r"开胶|脱胶|断底|鞋底",
        "鞋子开胶了怎么办？",
        "",
        r"维修|90天",
    ),
    Alternative(
        "quality",
        r"破了|破洞|有洞|开线|脱线|质量|瑕疵|污渍|拉链坏|坏了|掉色严重|起球|色差|跑绒|钻绒",
        "收到的衣服有质量问题怎么办？",
        "不过，",
        r"质量问题",
        r"(?:不能|无法|不支持|不可以|没法|不行|不给)[^。!?]{0,6}退|超过.{0,6}(?:7|七)天|"
        r"吊牌.{0,3}(?:剪|拆|没了)|拆封|拆了",
    ),
    Alternative(
        "size",
        r"大了|小了|不合身|不合适|尺码不|码数不|换码|换.{0,2}码|偏大|偏小",
        "可以换尺码或颜色吗？",
        "如果是尺码不合适，",
        r"换同款|换.{0,2}码|换货",
    ),
    Alternative(
        "price_drop",
        r"降价|便宜了|差价",
        "买了之后降价了能补差价吗？",
        "",
        r"价保",
    ),
)
#: Situations where a goodwill coupon (≤ max_coupon_yuan) fits even without anger.
FAULT = r"发错|错发|少了|少发|漏发|丢件|破了|破洞|有洞|开线|开胶|质量|瑕疵|污渍|太慢|还没发"
COUPON_OFFER = (
    "为了表达歉意，我可以为您申请一张{amount}元优惠券。",
    "另外给您申请一张{amount}元优惠券，算是我们的一点心意。",
    "我这边再为您申请一张{amount}元优惠券表示歉意。",
)
#: Slots of quick replies: an order id (group 1, 2 or 3) and a date in a conversation, and
#: the placeholders a reply may hold for them.
ORDER_ID = re.compile(
    r"(\[ORDERID_[^\]]*\])|(?:订单号|订单编号|单号)[:：\s]*([A-Za-z0-9-]{6,})|(?<!\d)(\d{10,20})(?!\d)",
    re.I,
)
DATE = re.compile(r"\d{4}[-/年]\d{1,2}[-/月]\d{1,2}日?|\d{1,2}月\d{1,2}[日号]")
SLOT_PLACEHOLDERS = {
    "product": r"\{product\}|\{商品\}|\[商品名?x?\]|【商品名?】",
    "order_id": r"\{order_id\}|\{订单号\}|\[ORDERID_[^\]]*\]|\[订单(?:号|编号)x?\]|【订单号】",
    "date": r"\{date\}|\{日期\}|\[日期x?\]|【日期】",
}
#: A refusal in a reply sentence (said with regret in a rewrite).
REFUSAL = r"不能|无法|不支持|不可以|没法|不行|不予|不接受|不退|不换"
