"""Word lists and rule weights for the offline emotion / escalation rules (Chinese e-commerce).

Everything here is data, compiled once by :mod:`kefu_copilot.emotion._flag`. Each cue is a
whitespace-separated list of regular-expression alternatives (so no alternative contains a
space). Patterns are written for text that already went through
:func:`kefu_copilot.text._normalize.normalize` (NFKC: full-width ``！？：`` become ``!?:``; lower case) and
placeholder folding (JDDC ``[数字x]`` → ``几``, other ``[...x]`` placeholders → ``#``).

Some cues come in tiers ("strong" / "mention"): "我要退款" is a demand, "怎么申请退货" a mention.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..text._normalize import normalize

__all__ = [
    "ACK_FULL",
    "ACK_RE",
    "AGENT_CUES",
    "AGENT_RE",
    "CONFIRM",
    "CONFIRM_RE",
    "CUE_LABELS",
    "CUE_RE",
    "DEFAULT_WEIGHTS",
    "EMOJI",
    "EMOJI_PLACEHOLDER_RE",
    "EMOTION_WEIGHTS",
    "EXCLAIM_RUN_RE",
    "FUNCTION_CHARS",
    "FUNCTION_RE",
    "MAX_CHARS",
    "NEGATABLE",
    "NEGATED_BEFORE",
    "NEGATED_RE",
    "NEGATION_RE",
    "NOT_CONTENT_RE",
    "NOT_NEGATION",
    "NOT_NEGATION_RE",
    "NUMBER_PLACEHOLDER_RE",
    "OTHER_PLACEHOLDER_RE",
    "PLACEHOLDER_ONLY_RE",
    "PRESENCE_FULL",
    "PRESENCE_RE",
    "PUNCT_ONLY_RE",
    "QUESTION_END_RE",
    "QUESTION_RUN_RE",
    "QUESTION_STOPWORDS",
    "QUESTION_SYNONYMS",
    "REPORTABLE",
    "REPORTED_BEFORE",
    "REPORTED_RE",
    "RISK_OF_CUE",
    "STOPWORDS_RE",
    "STRONG_CUES",
    "SYNONYMS_RE",
    "TEXT_CUES",
    "URL_RE",
    "Shape",
    "fold",
    "shape",
    "similarity",
]

_NUM = r"[\d一二两三四五六七八九十百半几多]+"
_UNIT = r"(?:天|日|小时|钟头|周|星期|礼拜|个月|月|分钟)"


def _words(block: str) -> tuple[str, ...]:
    """Alternatives of a whitespace-separated block, with ``NUM`` / ``UNIT`` macros expanded."""
    return tuple(w.replace("NUM", _NUM).replace("UNIT", _UNIT) for w in block.split())


def _pairs(table: str) -> list[tuple[str, str]]:
    """``"a 1  b 2"`` → ``[("a", "1"), ("b", "2")]`` (name/value tables)."""
    items = table.split()
    return list(zip(items[::2], items[1::2], strict=True))


#: Cue name → regex alternatives, matched on the current customer message.
TEXT_CUES: dict[str, tuple[str, ...]] = {
    "complaint_threat": _words(r"""
        (?<!\d)1231[05](?!\d) (?<!\d)12345(?!\d) 投诉 工商 消协 消费者协会 消保委 市场监[管督]
        监管部门 举报 黑猫 维权 315(?:晚会|热线|平台) (?:平台|小二|官方)介入 申请介入 找平台
    """),
    "review_threat": _words(r"""
        差评 恶评 (?<![\d.])[一1零0]星(?!期) 追评
        (?:我|会|要|就|去)(?:在|到)?(?:评价|评论|晒单)(?:里|区|中)?.{0,10}(?:写|说|曝|挂|晒)
    """),
    "public_exposure": _words(r"""
        曝光 记者 电视台 热搜 公之于众 挂(?:你们|出来) (?:找|联系)(?:媒体|记者)
        (?:发|挂|晒|写|说|放)(?:到|在)?(?:微博|抖音|小红书|朋友圈|网上|媒体|论坛|群里)
        (?:微博|抖音|小红书|朋友圈|网上)(?:上)?(?:曝光|发|挂|说|吐槽)
        [让叫](?:大家|所有人|网友)(?:都)?(?:看看|知道)
    """),
    "legal_threat": _words(r"""
        律师 起诉 法院 告你们 报警 警察 诉讼 打官司 仲裁 法律(?:途径|责任|手段|程序) 欺诈 诈骗
        [假退]一赔[三十] 违法 消费者权益保护法 消法
    """),
    "profanity": _words(r"""
        妈的 他妈 特么 tmd mmp nmsl 卧槽 我[靠艹草] 尼玛 你妈 傻[逼比b] (?<![a-z])sb(?![a-z])
        煞笔 垃圾(?![袋桶箱]) 骗子 狗屎 狗东西 (?<![打翻])滚(?![筒轮动珠]) 去死 智障 脑残
        黑商 奸商 无良 骗钱 坑钱 有病(?:吧|啊|吗) 有毛病 脑子(?:有问题|进水|有病|坏了|不好) 神经病 坑爹 黑店 shit fuck wtf 操你 我操 操蛋 艹 畜生 王八
    """),
    "human_requested": _words(r"""
        转?人工(?!费|成本|皮|革) (?:找|要|转|换|叫)(?:个)?(?:真人|活人) 真人客服
        (?:是|有)(?:没有)?(?:真人|活人)(?:吗|在|回) 有没有活人
        [找叫让换](?:你们的?)?(?:主管|经理|领导|负责人|店长|老板|上级|管事的)
        换(?:个|一个)客服 找个能(?:做主|管事|解决)
        (?:主管|经理|领导|负责人|店长|老板|上级|管事的)(?:是谁|在哪|呢|出来)
        让(?:他|她|你们)?.{0,6}(?:来)?跟我(?:谈|说|聊|解释)
    """),
    # Rejecting the bot is a request for a human even when negated ("不想跟机器人说话").
    "bot_rejection": _words(r"""
        (?<![扫地擦窗])机器人 自动回复 (?:模板|固定)(?:回复|话术) 别(?:用|发)?(?:模板|套话)
    """),
    "manager": _words("主管 经理 领导 负责人 店长 老板 上级 管事"),
    "sarcasm": _words(r"""
        呵呵 服了 服气 佩服佩服 真行 真有你(?:们)?的 好一个 厉害了 谢谢你们?全家 感谢你们?全家
        八辈 真是好服务 好服务啊 不愧是 (?:你们|您)可真(?:行|会|是) 笑死 高,?实在是高 (?:大)?开眼界 长见识
        \[(?:微笑|白眼|呵呵)\]
    """),
    # Praise that reads as sarcasm next to a complaint: "发货速度可真快啊，一周了还没出库".
    "irony_praise": _words(r"""
        (?:真|可真|真是|实在是)(?:是)?(?:好|棒|厉害|高效|专业|快|贴心|周到|负责|及时|给力|靠谱|牛|高)
        (?:效率|速度|服务|态度)(?:可)?真(?:是)?(?:高|快|好|棒) 谢谢(?:你们|你|您)?(?:啊|了|哈)
        感谢(?:你们|你)?(?:啊|了) 真(?:是)?(?:谢谢|感谢)
    """),
    "exasperation": _words(r"""
        生气 气死 气人 火大 恼火 愤怒 过分 受不了 忍不了 无法忍受 崩溃 烦死 烦不烦 搞什么 什么鬼 什么破
        破(?:鞋|衣服|东西|质量|店|服务|玩意) 烂透 (?<!坑)坑(?![坑位洼]) 欺负 糊弄 敷衍 踢皮球 推卸
        推脱 推来推去 耍我 忽悠 不负责 态度(?:太|真|很|好)?差 什么态度 恶心 听不懂人话 复制粘贴
        只会(?:说|回|复制) 套话 就这(?:服务|态度|质量) 岂有此理 什么玩意 怎么做生意 拉黑 欺骗
        耽误(?:了)?(?:我|我们) 气炸 离谱 骗人 骗我 装死 装聋作哑 无语 醉了 恶劣 干什么吃的 吃干饭 别跟我(?:说|讲)
        专业(?:一)?点 好意思 差不多得了 (?:这样|这么)做生意 迟早(?:关门|倒闭) 倒闭
    """),
    "dissatisfied": _words(r"""
        失望 寒心 (?:东西|质量|客服|服务|态度)(?:也|真|太|都)不行 不满意? 很不满 太差 差劲 太烂 白跑 白等 白花 折腾 浪费(?:我的?)?时间
        这(?:种|样的?)(?:服务|态度|质量) (?:再也|以后)不(?:会)?(?:来|买) 不会再(?:来|买) 话术
        \[facepalm\] 糟心 闹心 郁闷 你们.{0,8}就这样
    """),
    # Mild, quiet dissatisfaction: a sigh or trailing-off, a flat "no" to the agent.
    "sigh": _words(r"唉 哎(?![呀哟]) [.。]{3,}$ ^[.。]{2,} 。{2,} 算了"),
    "negative_answer": _words(r"""
        ^(?:没有|没|不是|不行|不能|不可以|不对|还没|没收到|没用|不好使|用不了)(?![问题错])
    """),
    "blame": _words(r"你们(?![好家]) 你这(?:边|里)?"),
    # Softened complaints: "有点起球", "不影响穿", "就跟你们说一声".
    "softener": _words(r"""
        有点 有一点 一点点 稍微 略微? 不影响 问题不大 还好 不要紧 说一声 提醒一下 反馈一下 小问题
    """),
    # Going along with the agent: "好吧，那我自己寄回去", "没事，我等等".
    "accept": _words(r"""
        ^(?:好吧|好的|好|行|那行|可以|没事|没关系|不用了|明白了?|知道了|了解|哦+|嗯+|ok)[,.!~。\s]+\S
        那我(?:先|就|再|自己|还是|去) 就问问 再看看 我(?:再)?等等 那就(?:这样|等|先)
    """),
    "interrogative": _words(r"""
        [?吗呢么] 什么 怎么 咋 哪 几 多少 多久 谁 为何 为什么 为啥 能否 能不能 可不可以 有没有 是不是
        是否 何时 有无
    """),
    "unresolved": _words(r"""
        还是(?:没|不|没有)(?:解决|处理|好|用|回答|到|收到|退|发) 没(?:有)?(?:解决|用(?![上过完掉到]))
        不管用 没人管
        答非所问 (?:说|问|讲|催)了?(?:好|多少)?(?:几|NUM)(?:次|遍|回) 管不管 没(?:有)?回答 不回答 第[二三四五六七八九十\d]+次(?:问|说|找|联系|催)
        我问的是 你没(?:有)?回答 回答我 正面回答 看清楚 说过了 刚才(?:说|问)(?:过)?了 次又一次
        又是这(?:套|句|些) 老一套 同样的(?:话|回复) 还是那(?:句|套) 反反复复 翻来覆去
        我就(?:想|是)?(?:知道|问) 我只(?:想|是)(?:知道|问) 就问你 直接(?:告诉|回答) 能不能(?:给个|正面)
        我(?:说|问|要)的是 我(?:都|已经)?(?:说|讲)(?:了|过) 每次(?:问)?都是 (?:解决|处理)不了 没法解决
        不管(?:了|吗|是吧) 都是这(?:句|套|些) 再问(?:一|最后一)?[遍次]
    """),
    "no_reply": _words(r"""
        别(?:再)?让我(?:再)?等 (?:问|等|催)了(?:一上午|一下午|一晚上|一整天|半天|好久|一天)
        (?:一直|半天|好久|这么久|几天|几个小时|一上午|一下午|一晚上|一整天)(?:都)?(?:没|不)(?:有)?人?(?:回|理|管|处理|答复|搭理|联系)
        没人(?:回|理|管|处理|答复|接|搭理) 不回(?:复|消息|我) 不理人
        从(?:早上|上午|中午|下午|昨天|前天|上周)(?:就)?(?:问|等|催)到(?:现在|晚上)
        (?:等|催)了(?:好|快|整整|足足)?NUM(?:个)?多?UNIT
    """),
    "long_wait": _words(r"""
        (?:好几|这么多|NUM)(?:个)?多?(?:天|周|星期|礼拜|月)(?:了|都|还|也)
        (?:寄|走|运|发|到|拖|花|等)了(?:整整|足足|快|好)?NUM(?:个)?多?UNIT
        迟迟 拖(?:了)?(?:这么|好)?(?:久|几天) 还要等多久 等到什么时候 这么久
    """),
    "not_yet": _words(r"""
        (?:还|都|怎么还|为什么还|到现在还?)(?:没|不)(?:有)?(?:发货|发|到|收到|出库|揽收|退款|到账|处理|回复|审核|动静)
        要等多久
    """),
    "presence": _words(r"""
        人呢 有人吗 有没有人 有人没 人(?:去哪|哪去)了 (?<![寄退返送带])回(?:一下|个话|句话) 说话啊
        (?<![处管整清])理(?:一下)?我 还在吗
    """),
    "refund_strong": _words(r"""
        (?:我要|我就要|要求|必须|马上|立刻|立即|赶紧|赶快|直接|全额|给我)(?:申请)?(?:退款|退钱|退货|退了|退掉)
        退(?:钱|款)! 把钱退 不退(?:款|钱)?(?:的话|就|我就) 退钱退钱
    """),
    # Insisting on an answer or an outcome now.
    "demand": _words(r"""
        必须 务必 马上给我 立刻给我 给(?:我)?(?:个|一个)?(?:解释|交代|答复|准话|结果) 我只要(?:结果|答复|解决)
        今天(?:之内)?(?:必须|一定要)
    """),
    "refund_mention": _words("退款 退钱 退货 退掉 退了"),
    "compensation_strong": _words(r"""
        赔偿 赔钱 赔我 赔给我 精神损失 误工 给(?:我)?(?:个|一个)说法 怎么赔 (?:必须|要求)(?:给我)?补偿
        赔付 损失(?:你们|谁) (?:运费|邮费|费用|损失)(?:必须|要|得)?(?:由)?你们(?:出|承担|负责|付)
    """),
    "compensation_mention": _words(
        r"补偿 补贴 红包 (?:返|补)(?:点)?(?:现|钱) 送(?:张|个|点)?(?:券|优惠券)"
    ),
    "dispute": _words(r"""
        为什么 为啥 凭什么 怎么回事 怎么搞的 怎么(?:还|又|会|能|可以) 到底 究竟 明明 说好的? 不是说
        你们不是 根本 压根 一直 又(?:坏|错|没|是|不|要) 居然 竟然 难道 怎么可能 不对 不合理 不公平
        所以呢
    """),
    "quality": _words(r"""
        质量(?:问题|太差|差|不好) 开线 开胶 脱胶 断底 掉色 褪色 染色 起球 色差 瑕疵 污渍 破(?:了|洞)
        坏了 线头 发错 错发 漏发 少发 尺码不对 异味 味道(?:很|太)?大 臭 磨脚 变形 缩水 掉毛 断了
        裂了 脱线 跑绒 钻绒 磨出血 两只[左右]脚 买的.{1,8}(?:发来|寄来|收到)(?:的是|了|个) 货不对板 实物不符
    """),
    "counterfeit": _words("假货 不是正品 是假的 仿品 高仿 山寨 冒牌 假冒"),
    "anxiety": _words("急 赶紧 赶得上 赶不上 来不及 等着(?:穿|用) 担心 怕 慌 焦虑 怎么办"),
    "anxiety_mild": _words(r"""
        尽快 快点 会不会 [明后]天(?:就)?要 婚礼 面试 生日 出差 开学 考试 过年 旅游 一定(?:能|要|会)
    """),
    "confusion": _words(r"""
        (?<!听)不懂(?!人话) 不(?:太)?明白 不清楚 看不懂 没看懂 没懂 搞不懂 搞不清 什么意思 啥意思 是指
        怎么(?:用|弄|操作|搞|算|选|填|申请|退|换) 在哪 哪里 找不到 没找到 没看到 如何 迷糊 懵
        不知道(?:怎么|在哪|如何|是)
    """),
    "thanks": _words(r"""
        谢谢 谢了 多谢 感谢 谢啦 thx thanks? 3q 辛苦(?:了|啦|你|您) 麻烦(?:你|您)(?:们)?了
        (?<!不)(?<!不太)满意 好评 五星 (?<!\d)5星 点赞 给力 不错 (?:很|挺|真|太)好
        (?<!不)(?:好看|喜欢|舒服|合身|漂亮) 赞 完美 超值 回购 下次还
    """),
    "polite": _words("请 麻烦 您 劳驾 打扰"),
    "request": _words(r"帮我 帮忙 麻烦(?:帮|给) 请(?!问) 备注 能不能 可不可以 可以吗 吗 \?"),
}

#: Cues that hand a conversation to a human by themselves (unless negated / reported speech).
STRONG_CUES: tuple[str, ...] = (
    "complaint_threat",
    "review_threat",
    "public_exposure",
    "legal_threat",
    "profanity",
    "human_requested",
)

#: Cues dropped when negated ("不会给差评") / when reported speech ("评论里有人给差评").
NEGATABLE = frozenset(
    {*STRONG_CUES, "sarcasm", "exasperation", "compensation_strong", "compensation_mention"}
)
REPORTABLE = frozenset({"complaint_threat", "review_threat", "public_exposure"})

#: Human-readable names used in ``EmotionFlag.signals`` (in this order).
CUE_LABELS: dict[str, str] = dict(
    _pairs("""
    complaint_threat 威胁投诉   review_threat 威胁差评   public_exposure 威胁曝光   legal_threat 法律威胁
    profanity 脏话/辱骂   human_requested 要求人工   bot_rejection 拒绝机器人   sarcasm 反讽
    exasperation 愤怒   dissatisfied 不满   unresolved 问题未解决   no_reply 久等无人回复
    long_wait 等待过久   not_yet 迟迟未处理   presence 催促回复   refund_strong 强烈要求退款
    compensation_strong 要求赔偿   counterfeit 质疑假货   quality 质量问题   dispute 质问
    anxiety 焦急   anxiety_mild 担忧/时间要求   confusion 困惑   thanks 感谢/满意
""")
)

#: Risk flag raised by each strong cue.
RISK_OF_CUE: dict[str, str] = {name: name for name in STRONG_CUES} | {
    "review_threat": "bad_review_threat"
}

#: Emotion scores: a weighted sum of message features (and a few derived ones); the largest wins.
EMOTION_WEIGHTS: dict[str, dict[str, float]] = {
    emotion: {name: float(value) for name, value in _pairs(table)}
    for emotion, table in {
        "angry": """threat 1.0  profanity 1.0  sarcasm 1.0  exasperation 1.2  anger_emoji 1.0
            unresolved 0.8  counterfeit 0.5  strong_compensation 0.4  strong_refund 0.3
            no_reply 0.8  dispute 0.3  quality 0.2  demanding_human 0.6  loud_negative 0.3""",
        "anxious": "anxiety 0.9  long_wait 0.7  sad_emoji 0.5  presence 0.3",
        "confused": "confusion 0.9  bare_question 0.5",
        "satisfied": "contented 1.0  happy_emoji 0.3",
        "neutral": "baseline 0.46",
    }.items()
}

# A cue right after one of these is negated ("不会给差评", "不用转人工", "没想投诉"), but not
# inside an A-not-A question ("你们是不是只会复制粘贴").
NEGATED_BEFORE = (
    r"(?<![是要会有能好对行])(?:不|没|别|甭|无需|不用|不会|不想|不要|不需要|没有|并非|不是要)"
    r"(?:会|想|要|用|需要|给|打|去|再|必|是)?(?:你们|你|您)?(?:给|打|去|写)?(?:个|一个)?$"
)
# ... or reported speech: "评论里有人给差评说会掉色".
REPORTED_BEFORE = r"(?:有人|别人|人家|评论|评价|看到|听说|买家|网友)[^,.!?;]{0,8}$"

# The whole message is only a presence check ("在吗", "人呢???") or an acknowledgement ("好的").
PRESENCE_FULL = r"(?:在吗|在不在|在不|人呢|有人吗|有人在吗|还在吗|hello|hi|喂|亲|客服)[?!.~。 ]*"
ACK_FULL = (
    r"(?:好的?|好吧|好滴|好嘞|好哒|嗯+|恩+|哦+|噢+|ok|okay|行|可以|收到|知道了|明白了?|了解|懂了|对|"
    r"是的?|没问题|没了|没有了|那好|好了)(?:的|啊|呀|哈|吧|哦|呢|了|滴|啦|亲)*[ ,.!~。]*"
)
# Negation characters that do not negate: A-not-A questions (有没有, 是不是) and set phrases.
NOT_NEGATION = (
    r"(.)[不没]\1|没问题|不好意思|不客气|没事|没关系|不错|不用谢|不谢|没错|不过|要不然?|不然"
)

# Confirmation of something the agent said: "那就是包邮对吧".
CONFIRM = r"对吧|是吧|对吗|是吗|那就是|也就是说|就是说|确定(?:是|吗)|没错吧|这样(?:啊|的话)"

# Question words and phrasings folded to one form before two questions are compared.
QUESTION_SYNONYMS: tuple[tuple[str, str], ...] = (
    (r"什么时候|啥时候|哪天|几号|几时|何时|多久|多长时间", "何时"),
    (r"能不能|可不可以|可以不可以|能否|是否可以|可以吗|能吗|行不行|可否|可以不", "能否"),
    (r"有没有|有无|有吗|还有吗|有货吗", "有无"),
    (r"是不是|是否", "是否"),
    (r"多少钱|什么价|价钱|价格", "价格"),
    (r"怎么样|咋样", "如何"),
    (r"为什么|为啥|怎么回事", "为何"),
    (r"退钱|退款", "退款"),
    (r"发出|寄出|出库|发货", "发货"),
    (r"到账|到帐", "到账"),
    (r"快递|物流", "物流"),
)
# Words without content for question comparison, dropped before the character filter.
QUESTION_STOPWORDS = (
    r"所以|到底|究竟|具体|请问|想问|问下|问一下|一下|那个|这个|就是|还是|麻烦|你们|我们|你好|"
    r"您好|亲亲|谢谢|好的|我就想知道|我想知道|我问的是|告诉我"
)
# Characters with little content, dropped before comparing two questions.
FUNCTION_CHARS = (
    "的了吗呢吧啊呀哦嘛么我你您他她它们这那个是就也都还在和与及或请问想要能一下些儿亲哈啦嗯额呗哟诶"
)

#: Agent-side patterns, matched on the agent's turns.
AGENT_CUES: dict[str, tuple[str, ...]] = {
    "canned": _words(r"""
        耐心等[待候] 请(?:您)?稍等 稍等 正在(?:为您)?(?:核实|查询|处理|查看)
        已(?:经)?(?:为您|帮您)?(?:反馈|登记|记录|提交|催促|催) (?:会|将)尽快 尽快(?:为您|帮您)
        以(?:页面|系统|实际|快递|物流)[^,.]{0,4}为准 请(?:您)?(?:自行)?(?:查看|留意|关注)
        感谢(?:您的?)?(?:理解|支持|耐心|配合|等待) 还有(?:什么|其他|别的)(?:问题)?(?:可以|能|需要)?(?:帮|为)
        有什么(?:可以|能)?(?:帮|为)(?:到)?您 给您带来(?:的)?不便 理解您的(?:心情|感受) 请问您?是咨询
        点击(?:下方)?链接 详情页 系统(?:自动|默认) 建议您(?:联系|咨询|参考|按) 祝您 么么哒 #e-s
        很多人买 爆款
    """),
    "refusal": _words(r"""
        无法 不能 不支持 没(?:有)?办法 不可以 只能 不予 不在.{0,4}范围 规定 需要您(?:自行|自己)?承担
        您(?:自己|自行) 不提供 不包括 不退 不换 爱莫能助 很遗憾
    """),
    "apology": _words("抱歉 对不起 不好意思 歉意 添麻烦"),
    "closing": _words(
        r"还有(?:什么|其他|别的)(?:问题|需要)?.{0,8}(?:吗|呢|\?) 请问还有 还有什么可以"
    ),
    # Signs that an agent turn carries an actual answer, not only a template.
    "answer": _words(r"""
        ^(?:亲亲?|您好)?[,~]*(?:有的|是的|可以|不可以|没有|会的|不会|能|不能|对的|不是|已经|好的)
        \d [几两三四五六七八九十]+(?:天|号|点|元|块|码|件|cm|小时) 厘米|公分|包邮|顺丰|发出
    """),
}

#: Emoji classes (counted per character).
EMOJI: dict[str, str] = {
    "anger": "😡😠🤬👿💢🖕😤👊",
    "sarcasm": "🙄😒😑🙃😅🙂",
    "sad": "😰😟😥😭😢🥺😣😩😫😖😞😔😓",
    "happy": "😊😄😁🥰😘👍❤🌹😀😃🤗💕👌✨🎉💯😍",
    "confused": "🤔😕❓😳",
}

#: Hand-set weights of the rules-only escalation score (a logit; ``bias`` is the intercept).
#: Their order (without ``bias``) is the order of the feature vector. Strong cues are set by hand;
#: the mild ones were tuned on hand-written shop cases and the JDDC dev turns (see tests).
DEFAULT_WEIGHTS: dict[str, float] = {
    name: float(value)
    for name, value in _pairs("""
    bias -2.3
    complaint_threat 6.0   review_threat 5.5   public_exposure 5.5   legal_threat 6.0
    profanity 5.0   human_requested 6.0   sarcasm 3.5   exasperation 3.2   anger_emoji 2.2
    heat 1.5   unresolved 3.3   no_reply 3.3   long_wait 1.4   presence 1.0   refund_demand 2.0
    compensation_demand 2.4   demand 1.5   counterfeit 2.6   quality 1.3   dispute 2.4
    negation 0.8   pushback 1.0   negative_answer 0.8   sigh 1.0   blame 1.6   accept -3.0
    softener -1.5   anxiety -0.2   confusion -1.0   thanks -2.5   ack -2.0   confirm -1.5
    polite -0.5   exclaim 0.6   question_run 0.8   bare_punct 0.8   has_question 0.1
    text_len 0.2   placeholder_only -2.0
    repeat_sim 1.7   repeat_cold 3.0   repeat_count 0.4   context_repeats 1.1
    customer_streak 0.5   streak_presence 1.4   agent_canned 0.6   agent_repeat 1.4
    agent_refusal 0.3   agent_deflect 0.8   agent_apology 0.0   agent_closing 0.0
    agent_question 0.3   agent_short 0.2   prior_negative 1.2   prior_thanks -0.3
    turn_index 0.2   wait_gap 2.0   no_agent_yet 0.3
""")
}


# ---------------------------------------------------------------------------- compiled at import
def _compile(alternatives: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{alt})" for alt in alternatives))


CUE_RE = {name: _compile(alts) for name, alts in TEXT_CUES.items()}
AGENT_RE = {name: _compile(alts) for name, alts in AGENT_CUES.items()}
NEGATED_RE, REPORTED_RE = re.compile(NEGATED_BEFORE), re.compile(REPORTED_BEFORE)
PRESENCE_RE, ACK_RE, CONFIRM_RE = (
    re.compile(PRESENCE_FULL),
    re.compile(ACK_FULL),
    re.compile(CONFIRM),
)
SYNONYMS_RE = [(re.compile(pattern), canonical) for pattern, canonical in QUESTION_SYNONYMS]
STOPWORDS_RE, FUNCTION_RE = re.compile(QUESTION_STOPWORDS), re.compile(f"[{FUNCTION_CHARS}]")
NOT_CONTENT_RE = re.compile(r"[^0-9a-z\u3400-\u9fff]+")
NEGATION_RE, NOT_NEGATION_RE = re.compile(r"[不没别]"), re.compile(NOT_NEGATION)
EXCLAIM_RUN_RE, QUESTION_RUN_RE = re.compile(r"!+"), re.compile(r"\?+")
QUESTION_END_RE = re.compile(r"(?:\?|吗|呢|么|嘛)[\s!.~。]*$")
# JDDC-style placeholders: "#E-s[数字x]" (an emoji), "[数字x]", "[ORDERID_123]", "[姓名x]".
EMOJI_PLACEHOLDER_RE = re.compile(r"#e-s\[[^\]]{0,12}\]")
NUMBER_PLACEHOLDER_RE = re.compile(r"\[数字x\]")
OTHER_PLACEHOLDER_RE = re.compile(
    r"\[orderid_\d*\]|\[[^\[\]]{1,12}x\]|\[[^\[\]]*(?:金额|数量)[^\[\]]*\]"
)
URL_RE = re.compile(r"https?://\S+|www\.\S+")
PUNCT_ONLY_RE = re.compile(r"[\s?!.,~。、…\-_:;*'\"()\ufe0f\U0001f000-\U0001faff\u2600-\u27bf]*")
PLACEHOLDER_ONLY_RE = re.compile(r"[\s#0-9a-z几:,.\-_/订单号编码是]*")


# ---------------------------------------------------------------------------- text folding
MAX_CHARS = 4000  # longer messages: the first 3000 and the last 1000 characters are read


def fold(text: str) -> str:
    """What every pattern here is matched on: ``normalize`` (NFKC, lower case, no invisible
    characters) plus JDDC-style placeholders folded (``[数字x]`` → 几, ``[ORDERID_1]``/URLs → #)."""
    if len(text) > MAX_CHARS:
        text = text[: MAX_CHARS - 1000] + "\n" + text[-1000:]
    text = NUMBER_PLACEHOLDER_RE.sub("几", EMOJI_PLACEHOLDER_RE.sub(" ", normalize(text)))
    return URL_RE.sub("#", OTHER_PLACEHOLDER_RE.sub("#", text)).strip()


@dataclass(frozen=True)
class Shape:
    """Content characters and character bigrams of a question, for near-duplicate checks."""

    chars: frozenset[str]
    bigrams: frozenset[str]


def shape(folded: str) -> Shape:
    """A folded question without stop-words/function characters, question words canonical."""
    text = STOPWORDS_RE.sub("", folded.replace("#", ""))
    for pattern, canonical in SYNONYMS_RE:
        text = pattern.sub(canonical, text)
    content = FUNCTION_RE.sub("", NOT_CONTENT_RE.sub("", text))
    grams = {content[i : i + 2] for i in range(len(content) - 1)}
    return Shape(frozenset(content), frozenset(grams or ({content} if content else set())))


def similarity(a: Shape, b: Shape) -> float:
    """Bigram Jaccard; near-containment of one question in the other counts at a discount."""
    if not a.bigrams or not b.bigrams:
        return 0.0
    common, smaller = len(a.bigrams & b.bigrams), min(len(a.bigrams), len(b.bigrams))
    score = common / len(a.bigrams | b.bigrams)
    if smaller >= 2:
        score = max(score, 0.8 * common / smaller)
    if min(len(a.chars), len(b.chars)) >= 3:
        score = max(score, 0.7 * len(a.chars & b.chars) / min(len(a.chars), len(b.chars)))
    return score
