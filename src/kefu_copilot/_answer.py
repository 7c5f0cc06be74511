"""Extractive answering: pick the knowledge that answers the question, quote it, and say how sure
we are. Nothing is generated, so nothing can be invented: the text is the shop's own words.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

from ._config import Settings
from ._index import Snapshot
from ._match import Idf
from ._models import Answer, Chunk, Citation, Decision, Message
from ._retrieve import Hit, Retriever
from ._rules import courtesy_reply, handoff_reasons
from ._safety import scrub_injections
from ._shop import ShopConfig
from ._text import normalize, split_sentences
from ._tokenize import STOPWORDS, ChineseTokenizer

__all__ = ["Answerer", "Candidate", "Prepared", "decide"]

QUOTED = 8  # candidates whose best sentences are extracted (answer, citations, LLM knowledge)
ANSWER_KINDS = ("faq", "product", "table_row", "policy")
_CODE = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")  # SKU-like codes in normalised text
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


class _Products:
    """Which product a message is about: by SKU, or by the distinctive words of its title."""

    def __init__(self, snapshot: Snapshot, tokenizer: ChineseTokenizer, idf: Idf) -> None:
        self._idf = idf
        self._tokenizer = tokenizer
        self.titles: dict[str, str] = {}
        self._skus: dict[str, str] = {}
        # title word -> products whose title has it (an inverted index: a query touches only
        # the products sharing one of its words, not the whole catalogue)
        self._by_word: dict[str, list[str]] = {}
        self.chunks: dict[str, list[Chunk]] = {}
        for chunk in snapshot.chunks:
            if chunk.kind not in ("product", "table_row"):
                continue
            self.chunks.setdefault(chunk.source, []).append(chunk)
            if chunk.source not in self.titles:
                self.titles[chunk.source] = chunk.title
                # Single characters (加, 帮, 款) would match half the questions asked.
                for word in set(tokenizer.words(chunk.title)):
                    if len(word) > 1:
                        self._by_word.setdefault(word, []).append(chunk.source)
        for chunk in snapshot.chunks:
            sku = chunk.meta.get("sku") if chunk.locator == "商品信息" else None
            if sku:
                self._skus[normalize(str(sku))] = chunk.source
                self.titles[chunk.source] = f"{self.titles.get(chunk.source, '')} {sku}".strip()
        for source in self.titles:
            stem = source.rsplit("/", 1)[-1].rsplit(".", 1)[0]
            if re.fullmatch(r"[a-z]+-[a-z0-9-]+", stem.lower()):
                self._skus.setdefault(stem.lower(), source)

    def sku_by_source(self) -> dict[str, str]:
        """Product source file → its SKU (upper case), for the products that declare one."""
        return {source: sku.upper() for sku, source in self._skus.items()}

    def identify(self, text: str) -> list[str]:
        norm = normalize(text)
        by_sku = {self._skus[m.group()] for m in _CODE.finditer(norm) if m.group() in self._skus}
        if by_sku:
            return sorted(by_sku)
        scores: dict[str, float] = {}
        for word in set(self._tokenizer.words(text)):
            for source in self._by_word.get(word, ()):
                scores[source] = scores.get(source, 0.0) + self._idf(word)
        if not scores:
            return []
        best = max(scores.values())
        return sorted(s for s, v in scores.items() if v >= best * 0.999)


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
        self.products = _Products(snapshot, tokenizer, self.idf)
        self._token_cache: OrderedDict[str, frozenset[str]] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._words_cache: dict[str, list[str]] = {}

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

    def _chunk_tokens(self, chunk: Chunk, text: str | None = None) -> frozenset[str]:
        key = chunk.id if text is None else f"{chunk.id}\0{text}"
        with self._cache_lock:
            hit = self._token_cache.get(key)
        if hit is not None:
            return hit
        tokens = frozenset(
            self.tokenizer.tokenize(
                text if text is not None else chunk.match_text or chunk.text, characters=False
            )
        )
        with self._cache_lock:
            self._token_cache[key] = tokens
            if len(self._token_cache) > 20_000:
                self._token_cache.popitem(last=False)
        return tokens

    def _support(self, q_words: list[str], q_bigrams: list[str], tokens: frozenset[str]) -> float:
        word_cov = self._coverage(q_words, tokens) if q_words else 0.0
        known = [b for b in q_bigrams if self.idf.known(b)]
        bigram_cov = self.idf.coverage(known, set(tokens)) if known else word_cov
        return 0.75 * word_cov + 0.25 * bigram_cov

    def _coverage(self, words: list[str], tokens: frozenset[str]) -> float:
        """idf-weighted share of ``words`` in ``tokens``; "藏青色" counts mostly for "藏青"."""
        total = found = 0.0
        for word in set(words):
            weight = self.idf(word)
            total += weight
            if word in tokens:
                found += weight
            elif len(word) >= 3 and word[-1] in _SOFT_SUFFIXES and word[:-1] in tokens:
                found += 0.8 * weight
        return found / total if total else 0.0

    def _phrasing_words(self, phrasing: str) -> list[str]:
        with self._cache_lock:
            hit = self._words_cache.get(phrasing)
        if hit is None:
            hit = self._query_words(phrasing)
            with self._cache_lock:
                self._words_cache[phrasing] = hit
                if len(self._words_cache) > 20_000:
                    self._words_cache.pop(next(iter(self._words_cache)))
        return hit

    def _faq_support(
        self, q_words: list[str], q_bigrams: list[str], q_tokens: set[str], chunk: Chunk
    ) -> float:
        """How well the question matches the FAQ's best phrasing, in both directions."""
        best = 0.0
        for phrasing in [chunk.question or "", *chunk.meta.get("similar", [])]:
            forward = self._support(q_words, q_bigrams, self._chunk_tokens(chunk, phrasing))
            p_words = self._phrasing_words(phrasing)
            backward = self.idf.coverage(p_words, q_tokens) if p_words else 0.0
            best = max(best, 0.7 * forward + 0.3 * backward)
        return best

    def _best_sentences(
        self, chunk: Chunk, q_words: list[str], q_bigrams: list[str], numbers: list[float]
    ) -> str:
        if chunk.kind == "table_row":
            return chunk.text
        # The product overview is "商品：…；货号：…；价格：…": one fact per semicolon.
        by_semicolon = chunk.locator == "商品信息"
        sentences = [
            s
            for line in chunk.text.split("\n")
            for s in split_sentences(line, semicolons=by_semicolon)
        ] or [chunk.text]
        if len(sentences) <= 1:
            return sentences[0]
        scored = []
        for n, sentence in enumerate(sentences):
            tokens = self._chunk_tokens(chunk, sentence)
            score = self._support(q_words, q_bigrams, tokens) + 0.2 * _numeric_fit(
                numbers, sentence
            )
            scored.append((score, n))
        scored.sort(reverse=True)
        top_score = scored[0][0]
        keep = sorted(n for s, n in scored[:3] if s >= top_score * 0.75 and s > 0) or [scored[0][1]]
        return "".join(sentences[n] for n in keep)

    # -- the main entry ---------------------------------------------------------------------------
    def answer(self, question: str, history: list[Message] | None = None) -> Answer:
        """The extractive answer (no LLM)."""
        return self.prepare(question, history).extractive

    def prepare(self, question: str, history: list[Message] | None = None) -> Prepared:
        """Rules, retrieval, ranked candidates and the extractive answer for one question."""
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
        query = f"{question} {context_note}".strip()
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
        q_tokens = word_set | set(q_bigrams)  # what the question says, for backward coverage
        # What is asked *about* the product: the question without the product's own name.
        title_words: set[str] = set()
        for source in products:
            title_words |= set(self.tokenizer.tokenize(self.products.titles[source]))
        aspect_words = [w for w in q_words if w not in title_words]
        aspect_bigrams = [b for b in q_bigrams if b not in title_words]
        numbers = [float(x) for x in _NUMBER.findall(normalize(question))]

        hits = self.retriever.retrieve(
            query, k=max(self.settings.top_k * 3, 20), kinds=ANSWER_KINDS
        )
        if len(products) <= 2:  # every part of the product page asked about is a candidate
            seen = {h.chunk.id for h in hits}
            hits += [
                Hit(chunk=c, score=0.0)
                for p in products
                for c in self.products.chunks[p]
                if c.id not in seen
            ]
        candidates: list[Candidate] = []
        focus: dict[str, tuple[list[str], list[str]]] = {}  # what to quote each chunk for
        for hit in hits:
            chunk = hit.chunk
            if products and chunk.kind in ("product", "table_row") and chunk.source not in products:
                continue  # about another product: cannot answer this one
            if chunk.kind == "faq":
                support = self._faq_support(q_words, q_bigrams, q_tokens, chunk)
            elif products and chunk.source in products and aspect_words:
                body = self._chunk_tokens(chunk, chunk.text)
                support = 0.15 + 0.85 * self._support(aspect_words, aspect_bigrams, body)
                focus[chunk.id] = (aspect_words, aspect_bigrams)
            elif products and aspect_words:
                # A policy that merely names the product must also cover what is asked about it.
                tokens = self._chunk_tokens(chunk)
                support = min(
                    self._support(q_words, q_bigrams, tokens),
                    0.15 + 0.85 * self._support(aspect_words, aspect_bigrams, tokens),
                )
            else:
                support = self._support(q_words, q_bigrams, self._chunk_tokens(chunk))
            if chunk.kind == "table_row" and numbers:
                support = min(1.0, support + 0.35 * _numeric_fit(numbers, chunk.text))
            if chunk.kind in ("product", "table_row") and not products:
                support *= 0.8  # a product detail without knowing which product: less sure
            if hit.dense:
                support = 0.85 * support + 0.15 * hit.dense
            candidates.append(Candidate(hit, support, chunk.text, chunk.text))
        if not candidates:
            handoff = self._handoff(question, ["no knowledge matches the question"], [], 0.0)
            return Prepared(question, history, handoff, [], False)

        candidates.sort(key=lambda c: (-c.support, -c.hit.score))
        # Pick the sentences to quote only for the candidates that can be shown or cited.
        for cand in candidates[:QUOTED]:
            chunk = cand.hit.chunk
            if chunk.kind != "faq":
                words, bigrams = focus.get(chunk.id, (q_words, q_bigrams))
                cand.text = cand.snippet = self._best_sentences(chunk, words, bigrams, numbers)
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
