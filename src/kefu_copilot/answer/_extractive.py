"""Extractive answering: pick the knowledge that answers the question, quote it, and say how sure
we are. Nothing is generated, so nothing can be invented: the text is the shop's own words.
"""

from __future__ import annotations

import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from .._models import Answer, Chunk, Citation, Decision, Message
from ..config._settings import Settings
from ..config._shop import ShopConfig
from ..index._analysis import Analysis, lead_texts, quote_units
from ..index._coverage import Idf
from ..index._generations import Snapshot
from ..ingest._catalog import Products
from ..retrieval._hybrid import Hit, Retriever
from ..text._injection import scrub_injections
from ..text._normalize import normalize
from ..text._tokenize import STOPWORDS, ChineseTokenizer
from ._rules import courtesy_reply, handoff_reasons

__all__ = ["Answerer", "Candidate", "Prepared", "decide"]

QUOTED = 8  # candidates whose best sentences are extracted (answer, citations, LLM knowledge)
ANSWER_KINDS = ("faq", "product", "table_row", "policy")
_SOFT_SUFFIXES = frozenset("色款码号的子儿件双条型版")
_CJK_WORD = re.compile("[\u4e00-\u9fff]+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_RANGE = re.compile(r"(\d+(?:\.\d+)?)\s*[-~～—至到]\s*(\d+(?:\.\d+)?)")


@dataclass
class Candidate:
    hit: Hit
    support: float
    text: str
    snippet: str
    index: int = -1  # of the chunk in the snapshot (-1: not known)


@dataclass
class Prepared:
    """Everything known about a question before any generation."""

    question: str
    history: list[Message]
    extractive: Answer
    candidates: list[Candidate]
    ruled: bool  # a handoff rule fired: no LLM may answer this one


def decide(confidence: float, settings: Settings) -> Decision:
    if confidence >= settings.auto_threshold:
        return "auto"
    if confidence >= settings.draft_threshold:
        return "draft"
    return "handoff"


class _Terms:
    """Words of a question as (idf weight, token id, id of the word without a soft suffix):
    ready to measure how much of them a text's token ids cover."""

    __slots__ = ("items", "total")

    def __init__(self, words: Iterable[str], idf: Idf, *, soft: bool = True) -> None:
        items = []
        for word in dict.fromkeys(words):
            stem = None
            if soft and len(word) >= 3 and word[-1] in _SOFT_SUFFIXES:
                stem = idf.id(word[:-1])
            items.append((idf(word), idf.id(word), stem))
        self.items = items
        self.total = sum(weight for weight, _, _ in items)

    def cover(self, tokens: frozenset[int]) -> float:
        """idf-weighted share found in ``tokens``; "藏青色" counts mostly for "藏青"."""
        if not self.total:
            return 0.0
        found = 0.0
        for weight, token, stem in self.items:
            if token is not None and token in tokens:
                found += weight
            elif stem is not None and stem in tokens:
                found += 0.8 * weight
        return found / self.total


@dataclass
class _Query:
    words: _Terms
    bigrams: _Terms  # only the bigrams the knowledge uses


class _LiveTokens:
    """Token ids of chunk texts, segmented now (an index written before analyses were stored,
    or by another tokenizer). Cached: the same chunks come back question after question."""

    def __init__(self, tokenizer: ChineseTokenizer, idf: Idf) -> None:
        self._tokenizer = tokenizer
        self._idf = idf
        self._cache: OrderedDict[str, frozenset[int]] = OrderedDict()
        self._lock = threading.Lock()

    def ids(self, text: str, *, words_only: bool = False) -> frozenset[int]:
        key = f"w\0{text}" if words_only else text
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None:
            return hit
        tokens = (
            self._tokenizer.words(text)
            if words_only
            else self._tokenizer.tokenize(text, characters=False)
        )
        found = frozenset(i for i in map(self._idf.id, tokens) if i is not None)
        with self._lock:
            self._cache[key] = found
            if len(self._cache) > 20_000:
                self._cache.popitem(last=False)
        return found

    def coverage(self, index: int, chunk: Chunk, *, lead: bool = True) -> frozenset[int]:
        return self.ids((chunk.match_text or chunk.text) if lead else chunk.text)

    def units(self, index: int, chunk: Chunk) -> list[frozenset[int]]:
        return [self.ids(unit) for unit in quote_units(chunk)]

    def phrasings(self, index: int, chunk: Chunk) -> list[tuple[frozenset[int], frozenset[int]]]:
        return [(self.ids(p), self.ids(p, words_only=True)) for p in lead_texts(chunk)]


class _StoredTokens:
    """Token ids from the analysis stored at ingestion: slices, no segmentation."""

    def __init__(self, analysis: Analysis, live: _LiveTokens) -> None:
        self._analysis = analysis
        self._live = live

    def coverage(self, index: int, chunk: Chunk, *, lead: bool = True) -> frozenset[int]:
        if index < 0:
            return self._live.coverage(index, chunk, lead=lead)
        return self._analysis.coverage(index, lead=lead)

    def units(self, index: int, chunk: Chunk) -> list[frozenset[int]]:
        return self._live.units(index, chunk) if index < 0 else self._analysis.units(index)

    def phrasings(self, index: int, chunk: Chunk) -> list[tuple[frozenset[int], frozenset[int]]]:
        if index < 0:
            return self._live.phrasings(index, chunk)
        return self._analysis.phrasings(index)


class Answerer:
    """Answers questions over one snapshot. Thread-safe; build one per snapshot."""

    def __init__(
        self,
        snapshot: Snapshot,
        retriever: Retriever,
        tokenizer: ChineseTokenizer,
        shop: ShopConfig,
        settings: Settings,
    ) -> None:
        self.snapshot = snapshot
        self.retriever = retriever
        self.tokenizer = tokenizer
        self.shop = shop
        self.settings = settings
        self.idf = Idf(snapshot.lexical)
        same_tokenizer = snapshot.tokenizer == tokenizer.fingerprint
        self.products = Products.of(
            snapshot.catalog if same_tokenizer else None,
            snapshot.chunks,
            tokenizer.words,
            self.idf,
        )
        self._live = live = _LiveTokens(tokenizer, self.idf)
        self._tokens: _LiveTokens | _StoredTokens = (
            _StoredTokens(snapshot.analysis, live)
            if snapshot.analysis is not None and same_tokenizer
            else live
        )
        self._title_tokens: dict[str, frozenset[str]] = {}
        gil = getattr(sys, "_is_gil_enabled", lambda: True)()
        self._gate: AbstractContextManager[Any] = threading.RLock() if gil else nullcontext()

    # -- helpers --------------------------------------------------------------------------------
    def _query_words(self, text: str) -> list[str]:
        """Content words; a word the knowledge never uses is split into the parts it does use
        ("金卡要" → "金卡"), leaving only genuinely unknown words (a city, another product)."""
        out: list[str] = []
        for word in self.tokenizer.words(text):
            if (
                self.idf.known(word)
                or len(word) < 2
                or not _CJK_WORD.fullmatch(word)
                or self.tokenizer.in_dictionary(word)
            ):
                out.append(word)
                continue
            i, parts, leftover = 0, [], []
            while i < len(word):
                for j in range(len(word), i, -1):
                    if (
                        j - i >= 1
                        and self.idf.known(word[i:j])
                        and (j - i > 1 or word[i:j] not in STOPWORDS)
                    ):
                        parts.append(word[i:j])
                        i = j
                        break
                else:
                    if word[i] not in STOPWORDS:
                        leftover.append(word[i])
                    i += 1
            out.extend(parts if parts else [word])
            if parts and len(leftover) >= 2:
                out.append("".join(leftover))
        return list(dict.fromkeys(out))

    def _support(self, query: _Query, tokens: frozenset[int]) -> float:
        word_cov = query.words.cover(tokens)
        bigram_cov = query.bigrams.cover(tokens) if query.bigrams.items else word_cov
        return 0.75 * word_cov + 0.25 * bigram_cov

    def _query(self, words: list[str], bigrams: list[str]) -> _Query:
        known = [b for b in bigrams if self.idf.known(b)]
        return _Query(_Terms(words, self.idf), _Terms(known, self.idf, soft=False))

    def _faq_support(self, query: _Query, q_ids: frozenset[int], index: int, chunk: Chunk) -> float:
        """How well the question matches the FAQ's best phrasing, in both directions."""
        best = 0.0
        for tokens, words in self._tokens.phrasings(index, chunk):
            forward = self._support(query, tokens)
            backward = self.idf.coverage_ids(words, q_ids) if words else 0.0
            best = max(best, 0.7 * forward + 0.3 * backward)
        return best

    def _best_sentences(self, index: int, chunk: Chunk, query: _Query, numbers: list[float]) -> str:
        if chunk.kind == "table_row":
            return chunk.text
        sentences = quote_units(chunk)
        if len(sentences) <= 1:
            return sentences[0]
        units = self._tokens.units(index, chunk)
        if len(units) != len(sentences):  # stored by a version that split differently
            units = [self._live.ids(s) for s in sentences]
        scored = []
        for n, (sentence, tokens) in enumerate(zip(sentences, units, strict=True)):
            score = self._support(query, tokens) + 0.2 * _numeric_fit(numbers, sentence)
            scored.append((score, n))
        scored.sort(reverse=True)
        top_score = scored[0][0]
        keep = sorted(n for s, n in scored[:3] if s >= top_score * 0.75 and s > 0) or [scored[0][1]]
        return "".join(sentences[n] for n in keep)

    def _title_words(self, source: str) -> frozenset[str]:
        words = self._title_tokens.get(source)
        if words is None:
            words = frozenset(self.tokenizer.tokenize(self.products.titles[source]))
            self._title_tokens[source] = words
        return words

    # -- the main entry ---------------------------------------------------------------------------
    def answer(self, question: str, history: list[Message] | None = None) -> Answer:
        """The extractive answer (no LLM)."""
        return self.prepare(question, history).extractive

    def prepare(self, question: str, history: list[Message] | None = None) -> Prepared:
        """Rules, retrieval, ranked candidates and the extractive answer for one question.

        One question at a time per Answerer (while the interpreter has a GIL): this work is
        pure Python, so threads cannot run it in parallel anyway, and eight threads contending
        for the GIL answered ~40% fewer questions per second than the same threads taking
        turns (LLM calls happen after this, outside the gate)."""
        with self._gate:
            return self._prepare(question, history)

    def _prepare(self, question: str, history: list[Message] | None) -> Prepared:
        history = history or []
        reasons = handoff_reasons(question, self.shop)
        if reasons:
            return Prepared(question, history, self._handoff(question, reasons, [], 0.0), [], True)
        courtesy = courtesy_reply(question)
        if courtesy is not None:
            answer = Answer(
                question=question,
                text=courtesy,
                decision="auto",
                confidence=1.0,
                reasons=["a greeting, thanks or acknowledgement: nothing to look up"],
            )
            return Prepared(question, history, answer, [], True)

        products = self.products.identify(question)
        context_note = ""
        if not products:
            for message in reversed(history[-6:]):
                found = self.products.identify(message.text)
                if found:
                    products = found
                    context_note = " ".join(self.products.titles[p] for p in found)
                    break
        search_text = f"{question} {context_note}".strip()
        q_words = self._query_words(question)
        if not q_words and not products:
            handoff = self._handoff(
                question, ["the message asks nothing the knowledge covers"], [], 0.0
            )
            return Prepared(question, history, handoff, [], False)
        word_set = set(q_words)
        q_bigrams = list(
            dict.fromkeys(
                t
                for t in self.tokenizer.tokenize(question, characters=False)
                if len(t) == 2 and t not in word_set
            )
        )
        # What the question says, for backward coverage.
        q_ids = frozenset(i for i in map(self.idf.id, word_set | set(q_bigrams)) if i is not None)
        query = self._query(q_words, q_bigrams)
        # What is asked *about* the product: the question without the product's own name.
        title_words: set[str] = set()
        for source in products:
            title_words |= self._title_words(source)
        aspect_words = [w for w in q_words if w not in title_words]
        aspect = self._query(aspect_words, [b for b in q_bigrams if b not in title_words])
        numbers = [float(x) for x in _NUMBER.findall(normalize(question))]

        hits = self.retriever.retrieve(
            search_text, k=max(self.settings.top_k * 3, 20), kinds=ANSWER_KINDS
        )
        if len(products) <= 2:  # every part of the product page asked about is a candidate
            seen = {h.chunk.id for h in hits}
            hits += [
                Hit(chunk=c, score=0.0, index=i)
                for p in products
                for i, c in self.products.chunks(p)
                if c.id not in seen
            ]
        candidates: list[Candidate] = []
        focus: dict[str, _Query] = {}  # what to quote each chunk for
        for hit in hits:
            chunk = hit.chunk
            if products and chunk.kind in ("product", "table_row") and chunk.source not in products:
                continue  # about another product: cannot answer this one
            index = hit.index if hit.index >= 0 else self.snapshot.by_id.get(chunk.id, -1)
            if chunk.kind == "faq":
                support = self._faq_support(query, q_ids, index, chunk)
            elif products and chunk.source in products and aspect_words:
                body = self._tokens.coverage(index, chunk, lead=False)
                support = 0.15 + 0.85 * self._support(aspect, body)
                focus[chunk.id] = aspect
            elif products and aspect_words:
                # A policy that merely names the product must also cover what is asked about it.
                tokens = self._tokens.coverage(index, chunk)
                support = min(
                    self._support(query, tokens),
                    0.15 + 0.85 * self._support(aspect, tokens),
                )
            else:
                support = self._support(query, self._tokens.coverage(index, chunk))
            if chunk.kind == "table_row" and numbers:
                support = min(1.0, support + 0.35 * _numeric_fit(numbers, chunk.text))
            if chunk.kind in ("product", "table_row") and not products:
                support *= 0.8  # a product detail without knowing which product: less sure
            if hit.dense:
                support = 0.85 * support + 0.15 * hit.dense
            candidates.append(Candidate(hit, support, chunk.text, chunk.text, index))
        if not candidates:
            handoff = self._handoff(question, ["no knowledge matches the question"], [], 0.0)
            return Prepared(question, history, handoff, [], False)

        candidates.sort(key=lambda c: (-c.support, -c.hit.score))
        # Pick the sentences to quote only for the candidates that can be shown or cited.
        for cand in candidates[:QUOTED]:
            chunk = cand.hit.chunk
            if chunk.kind != "faq":
                cand.text = cand.snippet = self._best_sentences(
                    cand.index, chunk, focus.get(chunk.id, query), numbers
                )
        best = candidates[0]
        confidence = round(min(1.0, best.support), 4)
        citations = [self._cite(best)]
        for other in candidates[1:3]:
            if (
                other.support >= best.support * 0.9
                and other.hit.chunk.source != best.hit.chunk.source
            ):
                citations.append(self._cite(other))

        decision = decide(confidence, self.settings)
        reasons = [
            f"best match: {best.hit.chunk.source} ({best.hit.chunk.locator}), support {best.support:.2f}"
        ]
        if decision == "handoff":
            reasons.insert(0, "the knowledge does not clearly answer the question")
            extractive = self._handoff(question, reasons, citations, confidence)
        else:
            extractive = Answer(
                question=question,
                text=self._frame(best),
                decision=decision,
                confidence=confidence,
                citations=citations,
                reasons=reasons,
            )
        return Prepared(question, history, extractive, candidates, False)

    def cite(self, candidate: Candidate) -> Citation:
        return self._cite(candidate)

    def _frame(self, candidate: Candidate) -> str:
        chunk = candidate.hit.chunk
        # Knowledge was scrubbed at ingestion; scrub again in case an extract recombined text.
        body = scrub_injections(candidate.text)[0].strip().rstrip("；;，, ") or chunk.text
        if body[-1] not in "。！？!?…）)”":
            body += "。"
        if chunk.kind in ("product", "table_row") and chunk.title and chunk.title not in body:
            body = f"这款{chunk.title}：{body}"
        if body.startswith(("亲", "您好")):
            return body
        return f"亲，{body}"

    def _cite(self, candidate: Candidate) -> Citation:
        chunk = candidate.hit.chunk
        return Citation(
            source=chunk.source,
            locator=chunk.locator,
            snippet=candidate.snippet[:300],
            score=round(min(1.0, max(0.0, candidate.support)), 4),
            chunk_id=chunk.id,
        )

    def _handoff(
        self, question: str, reasons: list[str], citations: list[Citation], confidence: float
    ) -> Answer:
        return Answer(
            question=question,
            text=self.shop.handoff_message,
            decision="handoff",
            confidence=round(confidence, 4),
            citations=citations,
            reasons=reasons,
        )


def _numeric_fit(numbers: list[float], text: str) -> float:
    """1.0 when a number in the question falls inside a range (or equals a number) in ``text``."""
    if not numbers:
        return 0.0
    norm = normalize(text)
    for low, high in _RANGE.findall(norm):
        lo, hi = float(low), float(high)
        if any(lo <= n <= hi for n in numbers):
            return 1.0
    values = {float(x) for x in _NUMBER.findall(norm)}
    return 0.5 if any(n in values for n in numbers) else 0.0
