"""Prompt-injection detection for knowledge text and customer messages.

Knowledge is *data*: a sentence in a product page that tries to instruct the assistant
("忽略之前的规则…", "ignore previous instructions") is removed at ingestion, reported, and never
shown to a customer. Customer messages that try the same are declined or handed to a human.
"""

from __future__ import annotations

import re

from ._text import normalize, split_sentences

__all__ = ["find_injection", "is_injection", "scrub_injections"]

_PATTERNS = [
    # Chinese: ignore / forget / override the rules or instructions
    r"(忽略|无视|忘记|忘掉|不要理会|不用管|跳过|绕过|覆盖)[^。！？\n]{0,12}(规则|指令|指示|提示|设定|要求|限制|约束|政策|system|prompt)",
    r"(系统提示|系统指令|系统设定|提示词|system\s*prompt|初始指令|开发者模式|developer\s*mode)",
    r"(你现在是|从现在(开始|起)你|你的新(身份|任务|角色)|请扮演|扮演一个|假装你是|角色扮演)",
    r"(告诉|通知|回复|回答)(所有)?(顾客|客户|用户|买家|消费者)[^。！？\n]{0,16}(免单|免费送|全额退款|0元)",
    r"(全场|全部|所有订单|一律)[^。！？\n]{0,6}(免单|0元|免费)",
    r"(作为|你是)(一个)?(ai|人工智能|语言模型|助手|机器人|客服机器人)[^。！？\n]{0,10}(必须|应该|应当|要)",
    r"(助手|机器人|ai|模型|assistant)[^。！？\n]{0,6}(必须|务必|一定要)[^。！？\n]{0,10}(回答|回复|告诉|说|输出)",
    # English
    r"ignore\s+(all\s+|any\s+)?(the\s+)?(previous|prior|above|earlier|preceding|your)\s+(instructions|rules|prompts?|directions)",
    r"disregard\s+(all\s+|the\s+)?(previous|prior|above|your)\s+",
    r"forget\s+(all\s+|everything|your\s+)(previous\s+)?(instructions|rules)?",
    r"(you\s+are\s+now|act\s+as|pretend\s+(to\s+be|you\s+are)|new\s+instructions?\s*:)",
    r"(reveal|print|show|repeat|output)\s+(your|the)\s+(system\s+)?(prompt|instructions)",
    r"(tell|inform)\s+(all\s+)?(customers|users|buyers)\s+.{0,30}(free|refund)",
    r"\b(jailbreak|dan\s+mode)\b",
    # asking for the prompt in Chinese
    r"(发给我|告诉我|输出|打印|显示|复述|重复)[^。！？\n]{0,8}(你的)?(提示词|系统提示|指令|规则原文|设定)",
]
_INJECTION = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.I)
# Every pattern above contains one of these words; checking for them first is ~20x cheaper.
_TRIGGER = re.compile(
    "忽略|无视|忘记|忘掉|不要理会|不用管|跳过|绕过|覆盖|系统|提示词|指令|设定|扮演|假装|你现在|从现在|"
    "你的新|免单|免费|0元|全额退款|必须|务必|一定要|应该|应当|发给我|告诉我|输出|打印|显示|复述|重复|作为|你是|开发者|"
    "ignore|disregard|forget|prompt|instruction|pretend|act\\s+as|you\\s+are|jailbreak|dan\\s+mode|"
    "reveal|print|show|repeat|output|tell|inform|developer",
    re.I,
)


def _search(text: str) -> re.Match[str] | None:
    norm = normalize(text)
    if not _TRIGGER.search(norm):
        return None
    return _INJECTION.search(norm)


def find_injection(text: str) -> str | None:
    """The first instruction-like passage in ``text``, or ``None``."""
    match = _search(text)
    return match.group() if match else None


def is_injection(text: str) -> bool:
    return find_injection(text) is not None


def scrub_injections(text: str) -> tuple[str, list[str]]:
    """Remove every sentence that tries to instruct the assistant.

    Returns the cleaned text (line structure kept) and the removed sentences.
    """
    if not _search(text):
        return text, []
    removed: list[str] = []
    lines_out: list[str] = []
    for line in text.split("\n"):
        kept: list[str] = []
        for sentence in split_sentences(line) or [line]:
            if _search(sentence):
                removed.append(sentence.strip())
            else:
                kept.append(sentence)
        if kept:
            lines_out.append("".join(kept))
    return "\n".join(lines_out), removed
