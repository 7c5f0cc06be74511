"""Insights over conversation logs: what shoppers ask, where the knowledge has gaps, complaint
themes, and how the service performs (overall and by hour of day).

:func:`analyze` streams a log once (service figures, emotion flags, complaint causes, the first
question of each conversation), answers each distinct normalised question once with the copilot
(decision, confidence, best citation), clusters the questions and returns an
:class:`~._insights_report.InsightsReport` (pydantic; JSON, rich tables, HTML).

Clustering is deterministic leader clustering on TF-IDF vectors (jieba content words + character
bigrams; numpy) against running centroids, largest groups first; questions the copilot answers
confidently from the same knowledge chunk start as one group. Knowledge gaps are clustered on
their own, more loosely.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from .._data import compiled, packaged_rules
from .._errors import InputError
from ..agent._conversation import find_order_ids
from ..config._shop import ShopConfig
from ..text._normalize import normalize
from ..text._tokenize import ChineseTokenizer
from . import _report as _r
from ._logfile import ConversationRecord, LogFormat, LogIssue, iter_records

__all__ = ["InsightRules", "analyze", "normalize_question"]

Progress = Callable[[str, int, int], None]
_PLACEHOLDER = re.compile(r"\[[^\[\]]{1,24}\]|https?://\S+")  # JDDC [ORDERID_1] [数字x]; links
_PUNCT = re.compile(r"[^\w#]+|_")
# a pre-sales need nothing in the catalogue fits ("有小孩穿的衣服吗") is a gap of the shop too
_GAP_REASONS = (
    "the knowledge does not clearly answer",
    "no knowledge matches",
    "presales: recommend",
)
_WORST = {"angry": 4, "anxious": 3, "confused": 2, "neutral": 1, "satisfied": 0}


def _either(alternatives: Iterable[Any]) -> str:
    return "|".join(map(str, alternatives))


@dataclass(frozen=True)
class InsightRules:
    """An ``insights`` rule set (``data/insights.yaml``) compiled: regexes and word sets."""

    greeting: re.Pattern[str]
    trail: re.Pattern[str]
    acks: frozenset[str]
    frame: frozenset[str]
    function_chars: frozenset[str]
    negative: re.Pattern[str]
    complaint_risks: frozenset[str]
    causes: dict[str, re.Pattern[str]]  # complaint cause name → pattern
    couriers: re.Pattern[str]

    @classmethod
    def compile(cls, rules: Mapping[str, Any]) -> InsightRules:
        greetings = _either(rules["greetings"])
        return cls(
            greeting=re.compile(rf"^(?:(?:{greetings})[，,。.？?！!～~\s]*)+", re.I),
            trail=re.compile(rf"(?:{_either(rules['trailing_particles'])})+$"),
            acks=frozenset(map(str, rules["acknowledgements"])),
            frame=frozenset(map(str, rules["frame_words"])),
            function_chars=frozenset(map(str, rules["function_characters"])),
            negative=re.compile(_either(rules["negative"])),
            complaint_risks=frozenset(map(str, rules["complaint_risks"])),
            causes={str(k): re.compile(_either(v)) for k, v in rules["causes"].items()},
            couriers=re.compile(_either(rules["couriers"]), re.I),
        )

    @classmethod
    def of(cls, shop: ShopConfig | None) -> InsightRules:
        """The shop's merged set compiled, or the packaged one (compiled once per process)."""
        rules = shop.rule_set("insights") if shop is not None else packaged_rules("insights")
        return compiled(rules, cls.compile)


MAX_FEATURES = 8192  # most frequent words/bigrams kept for the question vectors


def normalize_question(
    text: str, tokenizer: ChineseTokenizer | None = None, rules: InsightRules | None = None
) -> str:
    """A question folded for counting: NFKC, lower case, synonyms, no greeting or particles."""
    rules = rules or InsightRules.of(None)
    text = rules.greeting.sub("", tokenizer.canonicalize(text) if tokenizer else normalize(text))
    text = _PUNCT.sub("", re.sub(r"\d+(?:\.\d+)?", "#", _PLACEHOLDER.sub("", text)))
    return rules.trail.sub("", rules.greeting.sub("", text))


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


class _Collector:
    """What one pass over the conversations keeps: compact rows, question forms, complaints."""

    def __init__(
        self,
        tokenizer: ChineseTokenizer,
        flag: Callable[..., Any],
        per_conv: int,
        rules: InsightRules,
    ):
        self.tokenizer, self.flag, self.per_conv, self.rules = tokenizer, flag, per_conv, rules
        self.rows: list[tuple[Any, ...]] = []  # see _insights_report.service_figures
        self.forms: Counter[str] = Counter()
        self.raw: dict[str, Counter[str]] = defaultdict(Counter)  # display variants (masked)
        self.sample: dict[str, str] = {}  # an original phrasing, for the copilot
        self.complaint_forms: Counter[str] = Counter()
        self.complaints: list[dict[str, Any]] = []
        self.customer_messages = self.questions = 0
        self._asks: dict[str, bool] = {}
        self._flags: dict[tuple[Any, ...], Any] = {}

    def _flag(self, text: str, context: list[Any]) -> Any:
        """The emotion flag, cached on the exact text and context (roles, texts, times)."""
        key = (text, *((m.role, m.text, m.ts) for m in context))
        flag = self._flags.get(key)
        if flag is None:
            if len(self._flags) > 100_000:
                self._flags.clear()
            flag = self._flags[key] = self.flag(text, context)
        return flag

    def _question(self, text: str, complaint: bool) -> bool:
        form, rules = normalize_question(text, self.tokenizer, self.rules), self.rules
        if form not in self._asks:
            words = self.tokenizer.words(form) if form not in rules.acks else []
            self._asks[form] = any(w not in rules.frame for w in words)
        if not self._asks[form]:
            return False
        self.questions += 1
        self.forms[form] += 1
        plain = rules.greeting.sub("", text.strip()) or text.strip()
        self.sample.setdefault(form, plain)
        shown = re.sub(r"(?<![_\d])\d{8,}", "…", plain)
        raw = self.raw[form]
        if len(raw) < 8 or shown in raw:
            raw[shown] += 1
        self.complaint_forms[form] += complaint
        return True

    def add(self, record: ConversationRecord) -> None:
        t = record.timing()
        upset, worst, turns, asked = False, None, [], 0
        for i, m in enumerate(record.messages):
            if m.role != "customer" or not m.text.strip():
                continue
            self.customer_messages += 1
            flag = self._flag(m.text, record.messages[max(0, i - 20) : i])
            upset = upset or flag.escalate
            risky = bool(set(flag.risk) & (self.rules.complaint_risks | _COMPLAINT_RISKS))
            complaint = flag.emotion in ("angry", "anxious") or risky
            complaint = complaint or bool(self.rules.negative.search(normalize(m.text)))
            if complaint:
                turns.append(m.text)
                worst = max(worst or flag, flag, key=lambda f: (_WORST[f.emotion], f.score))
            if asked < self.per_conv and self._question(m.text, complaint):
                asked += 1
        start = t.started
        day = start.date() if start else None
        resolved = None if record.resolved is None else float(record.resolved)
        times = (_nan(t.first_response_s), _nan(t.first_agent_response_s), _nan(t.handling_s))
        outcome = (_nan(resolved), _nan(record.rating), upset)
        self.rows.append((start.hour if start else -1, day, *times, *t[4:], *outcome))
        if turns:
            text = " ".join(m.text for m in record.messages if m.role == "customer")
            self.complaints.append({"turns": turns, "all": text, "flag": worst, "day": day})


# Taxonomy risk flags that make a message a complaint whatever the shop's complaint_risks say
# (a safety incident, damage to the customer's things or a refund/compensation demand is always
# one; an urgent date is not).
_COMPLAINT_RISKS = frozenset(
    {"safety_incident", "property_damage", "complaint_threat", "refund_or_compensation_demand"}
)


# -- question clustering --------------------------------------------------------------------
def _features(form: str, tokenizer: ChineseTokenizer, rules: InsightRules) -> dict[str, float]:
    frame = rules.frame
    feats: dict[str, float] = dict(Counter(w for w in tokenizer.words(form) if w not in frame))
    for token in tokenizer.tokenize(form, characters=False):
        plain = token not in tokenizer.stopwords and token not in frame
        if len(token) == 2 and plain and not set(token) & rules.function_chars:
            feats["#" + token] = feats.get("#" + token, 0.0) + 0.5
    return feats


class _Vectors:
    """L2-normalised TF-IDF vectors (sparse: indices, weights) of the distinct questions, over
    their ``MAX_FEATURES`` most frequent words and bigrams; clustering and centrality on them."""

    def __init__(
        self, counts: Mapping[str, int], tokenizer: ChineseTokenizer, rules: InsightRules
    ) -> None:
        self.counts = counts
        feats = {f: _features(f, tokenizer, rules) for f in counts}
        df: Counter[str] = Counter()
        for f, c in counts.items():
            df.update(dict.fromkeys(feats[f], c))
        kept = sorted(df, key=lambda t: (-df[t], t))[:MAX_FEATURES]
        n = max(1, sum(counts.values()))
        vocab = {t: (i, math.log((1 + n) / (1 + df[t])) + 1.0) for i, t in enumerate(kept)}
        self.dim = max(1, len(kept))
        self.vecs: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for f, fs in feats.items():
            pairs = sorted((vocab[t][0], tf * vocab[t][1]) for t, tf in fs.items() if t in vocab)
            w = np.array([v for _, v in pairs], dtype=np.float32)
            norm = float(np.linalg.norm(w))
            self.vecs[f] = (np.array([i for i, _ in pairs], dtype=np.int64), w / (norm or 1.0))

    def dense(self, forms: Iterable[str]) -> np.ndarray:
        """The count-weighted (√count) sum of the forms' vectors."""
        out = np.zeros(self.dim, dtype=np.float32)
        for f in forms:
            idx, w = self.vecs[f]
            out[idx] += w * math.sqrt(self.counts[f])
        return out

    def central(self, forms: list[str]) -> str:
        """The form most similar to the centroid of ``forms``."""
        c = self.dense(forms)
        sim = {f: round(float(self.vecs[f][1] @ c[self.vecs[f][0]]), 5) for f in forms}
        return max(forms, key=lambda f: (sim[f], self.counts[f], f))

    def cluster(self, groups: list[list[str]], threshold: float, cap: int) -> list[list[str]]:
        """Leader clustering of groups of forms, in the given order, against running centroids
        (cosine >= ``threshold`` joins). Past ``cap`` clusters, the rest join the nearest."""
        sums = np.zeros((self.dim, 64), dtype=np.float32)
        norms = np.zeros(64, dtype=np.float32)
        clusters: list[list[str]] = []
        for forms in groups:
            dense = self.dense(forms)
            nz = np.flatnonzero(dense)
            v = dense[nz] / (np.linalg.norm(dense[nz]) or 1.0)
            k, best, score = len(clusters), 0, -1.0
            if k:
                sims = (v @ sums[nz, :k]) / np.maximum(norms[:k], 1e-9)
                best, score = int(np.argmax(sims)), float(sims.max())
            if score < threshold and (k < cap or not k):
                if k == sums.shape[1]:
                    sums = np.concatenate([sums, np.zeros_like(sums)], axis=1)
                    norms = np.concatenate([norms, np.zeros_like(norms)])
                best = k
                clusters.append([])
            clusters[best].extend(forms)
            sums[nz, best] += v * math.sqrt(sum(self.counts[f] for f in forms))
            norms[best] = np.linalg.norm(sums[:, best])
        return clusters


class _Questions:
    """The distinct questions with their answers: intents (clusters) and knowledge gaps."""

    def __init__(self, col: _Collector, answers: dict[str, Any], gap_confidence: float) -> None:
        self.counts, self.complaints, self.total = col.forms, col.complaint_forms, col.questions
        self.display = {f: col.raw[f].most_common(1)[0][0] for f in col.forms}
        self.answers, self.sample, self.tokenizer = answers, col.sample, col.tokenizer
        self.gap_confidence = gap_confidence
        self.space = _Vectors(dict(self.counts), col.tokenizer, col.rules)

    def cluster(self, threshold: float, cap: int) -> list[list[str]]:
        """Clusters, largest first; forms answered confidently from one chunk start together."""
        anchored: dict[str, list[str]] = defaultdict(list)
        groups: list[list[str]] = []
        for f in sorted(self.counts, key=lambda f: (-self.counts[f], f)):
            a = self.answers.get(f)
            if a is not None and a.decision == "auto" and a.citations:
                anchored[a.citations[0].chunk_id or str(a.citations[0])].append(f)
            else:
                groups.append([f])
        groups += anchored.values()
        groups.sort(key=lambda g: (-self.size(g), g[0]))
        clusters = self.space.cluster(groups, threshold, cap)
        for members in clusters:
            members.sort(key=lambda f: (-self.counts[f], f))
        return sorted(clusters, key=lambda c: (-self.size(c), c[0]))

    def size(self, forms: Iterable[str]) -> int:
        return sum(self.counts[f] for f in forms)

    def decisions(self, forms: Iterable[str]) -> dict[str, int]:
        out: Counter[str] = Counter()
        for f in forms:
            if f in self.answers:
                out[self.answers[f].decision] += self.counts[f]
        return dict(out.most_common())

    def keywords(self, forms: list[str]) -> list[str]:
        words: Counter[str] = Counter()
        for f in forms:
            words.update(dict.fromkeys(self.tokenizer.words(f), self.counts[f]))
        return [w for w, _ in words.most_common(4)]

    def verdict(self, form: str) -> str:
        """ "gap", or why an answered question is not one (e.g. the handoff rule)."""
        a = self.answers.get(form)
        if a is None:
            return "not checked"
        reason = a.reasons[0] if a.reasons else a.decision
        if a.decision == "handoff" and not reason.startswith(_GAP_REASONS):
            return re.split(r"[:(（]", reason)[0].strip()  # a rule: order look-up, a human...
        if self.complaints[form] * 2 >= self.counts[form]:
            return "complaint"  # mostly an unhappy message rather than a question
        if find_order_ids(self.sample[form]):
            return "about one order: the order system"
        low = a.decision == "draft" and a.confidence < self.gap_confidence
        return "gap" if a.decision == "handoff" or low else "ok"

    def is_gap(self, form: str) -> bool:
        return self.verdict(form) == "gap"

    def question(self, members: list[str], examples: int) -> _r.QuestionCluster:
        central, count = self.space.central(members), self.size(members)
        a = self.answers.get(central)
        return _r.QuestionCluster(
            label=self.display[central],
            keywords=self.keywords(members),
            count=count,
            share=_r._share(count, self.total) or 0.0,
            examples=[self.display[f] for f in members[:examples]],
            distinct=len(members),
            decisions=self.decisions(members),
            citation=str(a.citations[0]) if a and a.citations and a.decision != "handoff" else None,
        )

    def gaps(self, threshold: float, examples: int, min_count: int) -> list[_r.KnowledgeGap]:
        """The questions the copilot cannot answer well, clustered on their own (loosely)."""
        ordered = sorted(
            (f for f in self.counts if self.is_gap(f)), key=lambda f: (-self.counts[f], f)
        )
        clusters = self.space.cluster([[f] for f in ordered], threshold, len(ordered))
        gaps = [self.gap(c, examples) for c in clusters if self.size(c) >= min_count]
        return sorted(gaps, key=lambda g: (-g.count, g.label))

    def gap(self, forms: list[str], examples: int) -> _r.KnowledgeGap:
        forms.sort(key=lambda f: (-self.counts[f], f))
        count = self.size(forms)
        label = self.display[self.space.central(forms)]
        # The proposal is what the copilot itself would say: the most confident answer it sent
        # or drafted for one of these questions, cited. A handoff's citations are the nearest
        # chunks, not support: when every question was handed off, the answer stays empty.
        drafted = [self.answers[f] for f in forms if self.answers[f].decision != "handoff"]
        best = max(drafted, key=lambda a: a.confidence, default=None)
        closest = best.citations[0] if best is not None and best.citations else None
        confidence = sum(self.answers[f].confidence * self.counts[f] for f in forms) / count
        return _r.KnowledgeGap(
            label=label,
            keywords=self.keywords(forms),
            count=count,
            share=_r._share(count, self.total) or 0.0,
            examples=[self.display[f] for f in forms[:examples]],
            decisions=self.decisions(forms),
            mean_confidence=round(confidence, 3),
            proposed_faq=_r.ProposedFAQ(
                question=label.rstrip("?？") + "？",
                answer=best.text if best is not None and closest is not None else "",
                source=closest.source if closest else None,
                locator=closest.locator if closest else None,
            ),
        )


# -- complaints ---------------------------------------------------------------------------------
def _theme(
    cause: str, subject: str | None, items: list[dict[str, Any]], k: int
) -> _r.ComplaintTheme:
    flags = [c["flag"] for c in items if c["flag"] is not None]
    days = Counter(c["day"] for c in items if c["day"] is not None)
    peak = max(days, key=lambda d: (days[d], d)) if days else None
    return _r.ComplaintTheme(
        cause=cause,
        subject=subject,
        count=len(items),
        emotions=dict(Counter(f.emotion for f in flags).most_common()),
        risks=dict(Counter(r for f in flags for r in f.risk).most_common()),
        escalated=sum(1 for f in flags if f.escalate),
        peak_day=peak,
        peak_day_count=days[peak] if peak else 0,
        examples=list(dict.fromkeys(t for c in items for t in c["turns"]))[:k],
    )


def _product(products: Any, tokenizer: ChineseTokenizer, text: str) -> str | None:
    """The product a text names (``Answerer.products.identify``), only if they share a word of
    two or more characters: one shared character ("帮" of 高帮 in 帮我) is not enough."""
    for source in products.identify(text) if products is not None else []:
        title = products.titles[source]
        if any(len(w) > 1 for w in set(tokenizer.words(text)) & set(tokenizer.words(title))):
            return str(title)
    return None


def _complaints(col: _Collector, products: Any, top: int, k: int) -> _r.Complaints:
    by: dict[str, dict[Any, list[dict[str, Any]]]] = {n: defaultdict(list) for n in "cpt"}
    rules = col.rules
    for c in col.complaints:
        text = normalize(" ".join(rules.greeting.sub("", t) for t in c["turns"]))
        causes = [name for name, rx in rules.causes.items() if rx.search(text)] or ["other 其他"]
        title = _product(products, col.tokenizer, " ".join(c["turns"]))
        title = title or _product(products, col.tokenizer, c["all"])
        courier = rules.couriers.search(normalize(c["all"]))
        for cause in causes:
            by["c"][cause].append(c)
            if courier and cause.startswith("delay") and "courier 快递" in causes:
                continue  # one theme per courier: its delays are courier complaints
            carrier = courier.group().upper() if courier else None
            by["t"][(cause, carrier if cause.startswith(("courier", "delay")) else title)].append(c)
        if title:
            by["p"][title].append(c)

    def ranked(groups: Mapping[Any, list[Any]]) -> list[tuple[Any, list[Any]]]:
        return sorted(groups.items(), key=lambda kv: (-len(kv[1]), str(kv[0])))

    return _r.Complaints(
        conversations=len(col.complaints),
        rate=_r._share(len(col.complaints), len(col.rows)) or 0.0,
        by_cause=[_theme(key, None, v, k) for key, v in ranked(by["c"])],
        by_product=[_theme("all", key, v, k) for key, v in ranked(by["p"])[:top]],
        themes=[_theme(key[0], key[1], v, k) for key, v in ranked(by["t"]) if key[1]][:top],
    )


# -- the analysis -------------------------------------------------------------------------------
def _parts(copilot: Any) -> tuple[ChineseTokenizer, Callable[..., Any], Any, InsightRules]:
    """The shop's tokenizer, emotion flag, product identifier and insights rules (defaults
    without a shop)."""
    if copilot is None:
        from ..emotion._flag import emotion_flag

        return ChineseTokenizer(), emotion_flag, None, InsightRules.of(None)
    answerer = copilot._current()[1]
    rules = InsightRules.of(copilot.shop)
    return answerer.tokenizer, copilot.emotion_flag, answerer.products, rules


def _judged_by_support(copilot: Any, question: str) -> Any:
    """The answer to ``question`` judged by support, whatever the answer mode: insights anchors
    clusters on the answers sent as is and finds gaps among the ones handed off, so what it
    reports must not change with ``Settings.calibrated`` (the calibrated default sends fewer
    as is, and planted phrasings of one question split). The extractive answer of
    :meth:`Answerer.by_support`, or the pre-sales advisor's (which judges by support anyway);
    with an LLM, :meth:`Copilot.answer` (its path judges retrieval by support already)."""
    answerer, generator = copilot._generation()
    if generator is not None:
        return copilot.answer(question)
    from ..presales._routing import presales_answer

    text = question.strip()[: copilot.settings.max_input_chars]
    if not text:
        raise InputError("question is empty")
    prepared = answerer.by_support().prepare(text)
    advised = None if prepared.ruled else presales_answer(copilot.advisor(), prepared)
    return advised if advised is not None else prepared.extractive


def analyze(
    logs: Any,
    copilot: Any = None,
    *,
    shop: str | Path | None = None,
    format: LogFormat = "auto",
    top: int = 20,
    examples: int = 5,
    questions_per_conversation: int = 1,
    max_answers: int = 3000,
    gap_confidence: float = 0.5,
    min_gap_count: int = 3,
    threshold: float = 0.5,
    gap_threshold: float = 0.3,
    max_clusters: int = 3000,
    progress: Progress | bool | None = None,
    **copilot_options: Any,
) -> _r.InsightsReport:
    """Analyse conversation logs: top questions, knowledge gaps, complaints, service figures.

    ``logs``: log path(s) (JSONL or ``.jsonl.gz``; kefu or JDDC shape) or conversations in
    memory. ``copilot`` — or ``shop``, a directory to build and ingest one from, with
    ``copilot_options`` such as ``index_dir``/``embed_model`` — answers the ``max_answers`` most
    frequent distinct questions (gaps) and names products; without either, gaps are skipped.
    ``progress``: ``True`` for a rich progress bar, or a callback ``(phase, done, total)``.
    """
    started = time.perf_counter()
    if copilot is None and shop is not None:
        from .._copilot import Copilot

        copilot = Copilot(shop, **copilot_options)
        copilot.ingest()
    with ExitStack() as stack:
        report: Progress = progress if callable(progress) else (lambda *_: None)
        if progress is True:
            from ..present._console import rich_progress

            report = stack.enter_context(rich_progress())
        tokenizer, flag, products, rules = _parts(copilot)
        col, last = _Collector(tokenizer, flag, questions_per_conversation, rules), 0.0
        issues: list[LogIssue] = []
        for n, (record, done, total) in enumerate(iter_records(logs, format=format, issues=issues)):
            col.add(record)
            if time.perf_counter() - last > 0.1:  # total estimated from the bytes read so far
                report(
                    "对话 conversations", n + 1, max(n + 1, round((n + 1) * total / (done or 1)))
                )
                last = time.perf_counter()
        report("对话 conversations", len(col.rows), len(col.rows))
        ordered = sorted(col.forms, key=lambda f: (-col.forms[f], f))
        answers: dict[str, Any] = {}
        budget = ordered[:max_answers] if copilot is not None else []
        for i, form in enumerate(budget, start=1):
            with suppress(InputError):
                answers[form] = _judged_by_support(copilot, col.sample[form])
            if i % 25 == 0 or i == len(budget):
                report("答复 answers", i, len(budget))
    overall, hours, days, peak_days = _r.service_figures(col.rows)
    q = _Questions(col, answers, gap_confidence)
    clusters = q.cluster(threshold, max_clusters)
    gaps = q.gaps(gap_threshold, examples, min_gap_count)[:top]
    handoffs: Counter[str] = Counter()
    for f, a in answers.items():
        if a.decision == "handoff" and (verdict := q.verdict(f)) != "gap":
            handoffs[verdict] += col.forms[f]
    notes = [] if copilot else ["no shop given: knowledge gaps and products were not analysed"]
    if copilot is not None and len(col.forms) > len(answers):
        notes.append(f"{len(col.forms) - len(answers)} rare distinct questions were not answered")
    return _r.InsightsReport(
        source=", ".join(map(str, logs)) if isinstance(logs, list | tuple) else str(logs),
        shop=str(copilot.shop_dir) if copilot is not None else None,
        generated_at=datetime.now().astimezone().replace(microsecond=0),
        seconds=round(time.perf_counter() - started, 2),
        conversations=len(col.rows),
        customer_messages=col.customer_messages,
        questions=col.questions,
        distinct_questions=len(col.forms),
        answered_questions=len(answers),
        unchecked_questions=sum(c for f, c in col.forms.items() if f not in answers),
        clusters=len(clusters),
        malformed_lines=len(issues),
        issues=issues[:200],
        overall=overall,
        by_hour=hours,
        peak_hours=[h.hour for h in hours if h.peak],
        by_day=days,
        peak_days=peak_days,
        top_questions=[q.question(c, examples) for c in clusters[:top]],
        gaps=gaps,
        complaints=_complaints(col, products, top, examples),
        handoff_reasons=dict(handoffs.most_common()),
        notes=notes,
    )
