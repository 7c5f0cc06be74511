"""The pre-sales advisor (导购) over one snapshot: :meth:`Advisor.route` decides whether a message
is a pre-sales one — from the needs it states, a comparison, a price objection or a cross-sell
cue, never from a list of questions — and answers it from the typed catalogue: an
:class:`~kefu_copilot._models.Answer` with its citations, its claims checked against them by the
answer stage's :class:`~kefu_copilot.answer._claims.ClaimChecker`. It is sent as is (``auto``) only
when one product alone clearly fits; comparisons, objections, cross-sells and close calls are
drafts for an agent; a need nothing fits is handed over."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .._errors import InputError
from .._models import Answer, Citation, Decision, Message
from ..answer._claims import ClaimChecker
from ..answer._extractive import Answerer
from ..answer._sizes import charts_of, fitting_labels
from ..config._shop import ShopConfig
from ..ingest._catalog import SizeChart
from ..text._normalize import normalize
from ..text._numbers import body_measures, money_amounts, number, numbers_in
from ._compare import (
    compare_products,
    compare_variants,
    most_said,
    named_variants,
    told_apart,
    version_label,
)
from ._crosssell import asked_kinds, suggest_complement, suggest_for_kind
from ._intent import presales_intent
from ._match import KindIndex, names_kind
from ._models import Comparison, Recommendation, Suggestion
from ._needs import KIND_ORDER, Needs, read_said, with_content
from ._objections import answer_objection
from ._profiles import Profile, build_profiles, related_rules, stored_profiles
from ._quotes import need_classes
from ._recommend import Sizes, marked_against, priced_versions, prices_text, rank, recommend
from ._text import bigrams
from ._types import Variant

__all__ = ["Advisor"]

HISTORY_TURNS = 4  # earlier customer turns that may name the product an objection is about


class Advisor:
    """Pre-sales answers over one :class:`Answerer`'s catalogue. Cheap to keep per snapshot."""

    def __init__(self, answerer: Answerer, shop: ShopConfig, shop_dir: str | Path | None = None):
        self.answerer = answerer
        self.shop = shop
        self.rules: Mapping[str, Any] = shop.rule_set("presales")
        self._chunks = answerer.snapshot.chunks
        self._words = answerer.tokenizer.words
        self._synonyms = getattr(answerer.tokenizer, "synonyms_of", None)
        keys, cues = related_rules(self.rules)
        # stored at ingestion when built as they would be now; else built here (older index)
        stored = stored_profiles(answerer.snapshot, keys, cues, shop_dir is not None)
        self.profiles: list[Profile] = stored if stored is not None else build_profiles(
            answerer.products,
            self._chunks,
            shop_dir=Path(shop_dir) if shop_dir is not None else None,
            related_keys=keys,
            related_cues=cues,
        )  # fmt: skip
        self._by_source = {p.source: p for p in self.profiles}
        #: whether a word names a kind of product of the shop, answered once for all profiles
        self.kinds = KindIndex(self.profiles)
        self._last_needs: tuple[str, Needs] | None = None
        self._charts: dict[str, list[SizeChart]] = {}  # source → its size charts, read once
        self._last_said: tuple[str, Needs] | None = None
        self._negations = [str(n) for n in self.rules["negations"]]
        self._suffixes = [normalize(str(s)) for s in self.rules["version_suffixes"]]
        self._checker = ClaimChecker(shop)
        self._by_id = answerer.snapshot.by_id  # chunks are read on demand (memory-mapped)
        joints = sorted((re.escape(normalize(str(j))) for j in self.rules["compare_joints"]),
                        key=len, reverse=True)  # fmt: skip
        self._joints = re.compile("|".join(joints)) if joints else None

    # -- reading ---------------------------------------------------------------------------------
    def _passage(self, citation: Citation) -> str:
        """The whole text of a cited chunk (its snippet when the chunk is not in the snapshot)."""
        index = self._by_id.get(citation.chunk_id or "")
        return self._chunks[index].text if index is not None else citation.snippet

    def passages(self, candidates: Sequence[Any]) -> dict[str, list[int]]:
        """Product source → the chunks of its page retrieval matched, best supported first
        (``candidates``: a prepared question's)."""
        out: dict[str, list[tuple[float, int]]] = {}
        for candidate in candidates:
            chunk = candidate.hit.chunk
            index = self._by_id.get(chunk.id)
            if index is not None and chunk.source in self._by_source:
                out.setdefault(chunk.source, []).append((candidate.support, index))
        return {s: [i for _, i in sorted(rows, key=lambda r: -r[0])] for s, rows in out.items()}

    def cite(self, index: int, score: float = 1.0) -> Citation:
        chunk = self._chunks[index]
        return Citation(
            source=chunk.source,
            locator=chunk.locator,
            snippet=chunk.text[:300],
            score=round(min(1.0, max(0.0, score)), 4),
            chunk_id=chunk.id,
        )

    def needs(self, text: str) -> Needs:
        """The needs ``text`` states (budget, who for, household, features, words, cues).

        The last text's needs are kept: an answer reads its question's needs twice (routing,
        then the wish check), and nothing changes a :class:`Needs` once read."""
        last = self._last_needs
        if last is not None and last[0] == text:
            return last[1]
        needs = with_content(self.said(text), self.rules, self._words, self._synonyms)
        self._last_needs = (text, needs)
        return needs

    def _sizes(self, needs: Needs) -> Sizes | None:
        """What reads, for a product, the rows of its size chart the body measures ``needs``
        states fall in (a budget's figure is no measure) — None when it states none. Read by a
        recommendation of its best product alone: a question routed elsewhere (a size question
        states measures too) and the products ranked below it never pay for their charts."""
        if not body_measures(needs.text):
            return None
        text = normalize(needs.text)
        for bound in needs.budget or ():
            figure = f"{bound:g}"
            if bound and figure in text:  # "预算400" is no height of 400
                text = text.replace(figure, " " * len(figure), 1)
        if not body_measures(text):
            return None
        rules = self.shop.rule_set("attributes")

        def sizes(profile: Profile) -> list[tuple[str, int]]:
            charts = self._charts.get(profile.source)
            if charts is None:
                tables = self.answerer.products.tables.get(profile.source, ())
                charts = self._charts[profile.source] = charts_of(tables, rules)
            return fitting_labels(text, charts, rules) if charts else []

        return sizes

    def said(self, text: str) -> Needs:
        """What ``text`` says by the rules' cues and numbers, without its content words (see
        :func:`~._needs.read_said`): whether it wishes to buy, for whom, for how much. The
        last text's is kept, as :meth:`needs` keeps its."""
        last = self._last_said
        if last is not None and last[0] == text:
            return last[1]
        said = read_said(text, self.rules, self.kinds.names)
        self._last_said = (text, said)
        return said

    def named(self, text: str) -> list[Profile]:
        """The products ``text`` names (by SKU or the distinctive words of their titles)."""
        return [self._by_source[s] for s in self.answerer.products.identify(text)
                if s in self._by_source]  # fmt: skip

    def product(self, name: str) -> Profile:
        found = self.named(name)
        if len(found) != 1:
            raise InputError(
                f"{name!r} names {len(found)} products of this shop; name one by its SKU or title"
            )
        return found[0]

    # -- the functions ---------------------------------------------------------------------------
    def recommend(self, need: str) -> Recommendation:
        """Products ranked against the need a shopper states; see :mod:`._recommend`."""
        return self._recommendation(self.needs(need))

    def _recommendation(
        self,
        needs: Needs,
        support: Mapping[str, float] | None = None,
        *,
        strict: bool = False,
        passages: Mapping[str, Sequence[int]] | None = None,
    ) -> Recommendation:
        """:func:`~._recommend.recommend` over this catalogue: its profiles, rules, citations,
        kind index and size charts (read for the best product only: :meth:`_sizes`)."""
        return recommend(
            needs, self.profiles, self.rules, self.cite, support,
            strict=strict, index=self.kinds, passages=passages, sizes=self._sizes(needs),
        )  # fmt: skip

    def compare(self, a: str, b: str) -> Comparison:
        """Two products (by SKU or title words) side by side."""
        return compare_products(self.product(a), self.product(b), self.rules, self.cite)

    def objection(self, product: str) -> Suggestion:
        """The reply to a price objection about ``product``: its own selling points."""
        return answer_objection(self.product(product), self.rules, self.cite)

    # -- routing ---------------------------------------------------------------------------------
    def route(
        self,
        question: str,
        history: Sequence[Message] = (),
        support: Mapping[str, float] | None = None,
        *,
        knowledge: str = "handoff",
        typed: bool = False,
        passages: Mapping[str, Sequence[int]] | None = None,
    ) -> tuple[Answer, Needs] | None:
        """The pre-sales answer to ``question``, or None when it is not a pre-sales message.
        ``support``: product source → retrieval's support for its page (breaks ties);
        ``knowledge``: the decision the knowledge's own answer earned. Unless it is sure
        (``auto``), a weak wish with a kind of product ("有没有…的充电宝") is a pre-sales
        question; when it has none (``handoff``), so is a kind of product said with a feature
        wanted ("宿舍用的键盘 不想吵到室友"). ``typed``: the knowledge's answer is a catalogue
        value; sure (``auto``), it stands unless a wish to buy is said. ``passages``: product
        source → the chunks of its page retrieval matched (:meth:`passages`): a recommendation
        quotes the best one's clause on the need besides its deciding facts."""
        said_only = self.said(question)
        wants_said = self.wishes(said_only)
        if knowledge == "auto" and not wants_said and (typed or not said_only.kinds()):
            # a sure catalogue value answers it; and a sure answer of the knowledge stands when
            # no wish and no cue of a kind (compare, objection, cross-sell, bargain) is said —
            # each branch below that could take it needs one of them, so its content words are
            # not segmented (~0.1 ms a question the knowledge answers)
            return None
        needs = self.needs(question)
        kinds = needs.kinds()
        earlier = [m.text for m in history if m.role == "customer"][-HISTORY_TURNS:]
        said = [m.text for m in history if m.role != "customer"]
        named = self.named(question)
        if needs.cues.get("bargain"):
            return None  # haggling is for a human (the handoff rules and the agent)
        if "crosssell" not in kinds and knowledge != "auto" and self._wanted_with(question, needs):
            # "买了弹簧床垫 枕头配哪个": a product bought and another kind of product asked for
            # with it is a cross-sell question though no cue of crosssell_cues says so
            kinds = [k for k in KIND_ORDER if k in kinds or k == "crosssell"]
        if (knowledge == "handoff" or {"compare", "objection"} & set(kinds)) and (
            apart := self._by_difference(question, named)
        ) is not None:
            # "JJ和JJJ差40块 值不值": the two whose prices differ by the amount said, compared —
            # said with a comparison or an objection, or asked of nothing the knowledge answers
            # ("13Ah和20Ah差400 能补差价吗" is the price-protection policy's)
            return self._compared(question, apart), needs
        if (
            "compare" not in kinds
            and knowledge != "auto"
            and not {"objection", "crosssell"} & set(kinds)
            and (chosen := self._choice(question, named)) is not None
        ):
            # "车厘子还是礼盒好": a choice between two things said, each naming a product
            return self._compared(question, chosen), needs
        for kind in kinds:
            if kind == "objection":
                profile = self._priced(question, named) or self._from(earlier)
                if profile is not None:
                    return self._answer(
                        question,
                        answer_objection(
                            profile, self.rules, self.cite, question, need_classes(needs)
                        ),
                    ), needs
            elif kind == "crosssell":
                profile = self._one(self._after_bought(question, needs)) or self._from(earlier)
                if profile is not None:
                    found = suggest_complement(
                        profile, self.profiles, needs.words, said, self.rules, self.cite
                    )
                    if found is not None:
                        return self._answer(question, found), needs
                    return self._handoff(
                        question, f"no complement declared for {profile.title}"
                    ), needs
                found = suggest_for_kind(needs.words, self.profiles, self.rules, self.cite)
                if found is not None:
                    return self._answer(question, found), needs
            elif kind == "compare":
                comparison = self._comparison(question, named)
                if comparison is not None and comparison.text:
                    return self._compared(question, comparison), needs
        if not kinds and knowledge != "auto" and (which := self._said(question, "which_cues")):
            # "夏威夷果和碧根果哪个保质期长": two products, one named by each part, and which of
            # them has more of an attribute both pages state
            asked = normalize(question).split(normalize(which[0]), 1)
            comparison = self._comparison(asked[0], self.named(asked[0]), asked=question)
            if (
                comparison is not None
                and len(comparison.sources) == 2
                and any(len(r[0]) > 1 and normalize(r[0]) in asked[-1] for r in comparison.rows)
            ):
                return self._compared(question, comparison), needs
        if len(named) == 1 and knowledge == "handoff" and not kinds:
            # two versions of the one product named, both said ("中果和大果怎么选"), and no
            # sure answer: a comparison though no cue says so
            versions = named_variants(named[0], question, one_said=False, suffixes=self._suffixes)
            norm = normalize(question)
            if len(versions) == 2 and all(  # each named by what tells it apart (中果 / 大果)
                (told := version_label(a, b)) and told in norm
                for a, b in (versions, versions[::-1])
            ):
                comparison = compare_variants(named[0], versions, self.rules, self.cite, question)
                if comparison.text:
                    return self._compared(question, comparison), needs
        # the one product named, and a kind the shopper names that it is not of
        other_kind = len(named) == 1 and self._other_kind(named[0], needs)
        if len(named) == 1 and knowledge != "handoff" and not wants_said and not other_kind:
            # a question about the one product named: the knowledge answered it — unless the
            # shopper names a kind it is not of ("有真丝的连衣裙吗": 真丝 names the silk shirt,
            # 连衣裙 another kind)
            return None
        kind_said = self.names_a_kind(needs)
        rankable = kind_said or bool(
            needs.budget or needs.features or needs.groups or needs.extremes
        )
        wants = wants_said and rankable
        described = (
            (
                bool(needs.groups or needs.household or needs.features or needs.extremes)
                or (
                    knowledge == "handoff"
                    and kind_said
                    and not any(str(m) in question for m in self.rules["event_marks"])
                    and self._pages_state(needs)
                )
            )
            and kind_said
            # a question besides the need is the knowledge's — but "哪个四件套最便宜" asks
            # which product of the kind has the most (least) of a quantity: a need to rank by
            and (
                not needs.cues.get("question")
                or bool(needs.extremes and self._said(question, "which_cues"))
            )
        )
        # "有真丝的连衣裙吗" said by grammar asks whether the shop has it when the one product it
        # names is of another kind (真丝 of the silk shirt); else the knowledge answers it
        asks_if = bool(needs.cues.get("exists")) and other_kind
        wish = bool(needs.cues.get("wish") or asks_if) and kind_said and knowledge != "auto"
        if not (wants or wish or (described and knowledge == "handoff")):
            return None
        if knowledge == "auto" and not (kind_said or needs.budget or (wants and needs.amounts)):
            return None  # the knowledge is sure, and no product (nor a quantity) is asked for
        # "有没有…的裤子" asks whether the shop has it: the best must state every word said;
        # "用哪款插座" asks which: ranked as any need
        strict = not wants and wish and (asks_if or bool(self._said(question, "existence_cues")))
        rec = self._recommendation(needs, support, strict=strict, passages=passages)
        return self._recommended(question, rec), needs

    def unfit(self, needs: Needs, answer: Answer) -> list[str]:
        """What the shopper says of whom they want it for that every product page ``answer``
        cites contradicts: a group the products are marked against (男生 asking of a 女士
        pyjama's size table) — a typed constraint against a typed attribute. (A budget is not
        checked: a sure answer's figures are read as one too often.)"""
        cited = list({
            p.source: p for c in answer.citations if (p := self._by_source.get(c.source))
        }.values())  # fmt: skip
        if not cited:
            return []
        out = []
        if needs.groups and all(marked_against(p, needs, self.rules) for p in cited):
            out.append(f"the products cited are for another group than {'、'.join(needs.groups)}")
        return out

    def refit(
        self,
        question: str,
        reasons: Sequence[str],
        support: Mapping[str, float],
        passages: Mapping[str, Sequence[int]] | None = None,
    ) -> Answer:
        """The recommendation for a question whose sure answer cites only products its needs
        rule out (see :meth:`unfit`): what fits instead, for an agent, or a handoff."""
        rec = self._recommendation(self.needs(question), support, passages=passages)
        return self.held_back(self._recommended(question, rec), *reasons)

    def fallback(
        self,
        question: str,
        support: Mapping[str, float],
        passages: Mapping[str, Sequence[int]] | None = None,
    ) -> tuple[Answer, Needs] | None:
        """A draft naming the products that fit ``question`` with their deciding facts, for a
        question :meth:`route` did not take and the knowledge hands off — a need said without
        the cues routing reads ("卧室西晒 窗帘要全黑的", "试纸用得多 怎么买最划算"): the agent
        gets the candidates rather than an empty handoff. Never sent as is; None (the handoff
        stands) when nothing fits, when it is haggling or a price objection (an agent's or a
        policy's), and when the shopper asks whether the shop has something none states."""
        needs = self.needs(question)
        if needs.cues.get("bargain") or "objection" in needs.kinds():
            return None
        if not presales_intent().is_need(question):
            return None  # read as an order, policy or product question: the handoff stands
        if not self.names_something_sold(needs):
            return None  # "金卡会员有什么权益": nothing to rank the catalogue by
        strict = bool(self._said(question, "existence_cues"))  # "有没有电动升降桌"
        rec = self._recommendation(needs, support, strict=strict, passages=passages)
        if rec.decision == "handoff" or not rec.citations:
            return None  # nothing fits, or only a question back: the handoff stands
        reason = "presales: the knowledge hands it off; the products that fit, for an agent"
        return self.held_back(self._recommended(question, rec), reason), needs

    def priced(self, question: str, answer: Answer) -> Answer | None:
        """The knowledge's draft ``answer`` to a pre-sales need with the price of the product it
        cites: a shopper choosing what to buy is told what it costs — the versions the need picks
        (a budget, a version the question or the answer names, a quantity, the least of a price
        asked for; see :func:`~._recommend.priced_versions`), cited. None when the answer cites
        no product page, or more than one, or already states those prices. Read of the
        one product cited, after routing and retrieval: no catalogue-wide work."""
        if answer.decision != "draft":
            return None
        cited = list(dict.fromkeys(
            c.source for c in answer.citations if c.source in self._by_source
        ))  # fmt: skip
        if len(cited) != 1:
            return None
        profile = self._by_source[cited[0]]
        needs = self.needs(question)
        prices, variants = priced_versions(profile, needs, self.rules, f"{question} {answer.text}")
        if not prices:
            return None
        stated = set(money_amounts(answer.text)) | set(numbers_in(answer.text))
        if all(p in stated for p in prices):
            return None
        text = str(self.rules["texts"]["priced"]).format(prices=prices_text(prices, variants))
        body = answer.text.rstrip()
        body += "" if not body or body[-1] in "。！？!?～~" else "。"
        chunks = list(dict.fromkeys(v.chunk for v in variants)) or [profile.price_chunk()]
        return answer.model_copy(
            update={
                "text": f"{body}{text}",
                "citations": [*answer.citations, *(self.cite(c) for c in chunks[:2])],
                "reasons": [*answer.reasons, "presales: the price of the product cited, added"],
            }
        )

    def held_back(self, answer: Answer, *reasons: str) -> Answer:
        """``answer`` for an agent: a draft when it was to be sent as is, ``reasons`` added."""
        update: dict[str, Any] = {"reasons": [*answer.reasons, *reasons]}
        if answer.decision == "auto":
            update |= {"decision": "draft", "confidence": self._confidence("draft")}
        return answer.model_copy(update=update)

    def _said(self, question: str, cues: str) -> list[str]:
        norm = normalize(question)
        return [str(c) for c in self.rules[cues] if normalize(str(c)) in norm]

    def _pages_state(self, needs: Needs) -> bool:
        """Whether a product of the kind said states, in its own words, something else the
        shopper says of it ("黄皮 日常 口红": a shade's row says 黄皮白皮都可) — a description
        of a need though no lexicon word is said. Read by whole titles: a word of a title
        names the product here, as retrieval reads it (a title's descriptor is no description
        of a need the page states)."""
        scored, _ = rank(needs, self.profiles, self.rules, titled=True, index=self.kinds)
        return any(s.kinds and any(f.word not in s.kinds for f in s.found) for s in scored[:3])

    def names_a_kind(self, needs: Needs) -> bool:
        """Whether the shopper names a kind of product the shop has: a word of some title, or
        of the words said unwanted ("不要很重的充电宝" names one)."""
        return bool(self.kinds.heads([*needs.words, *needs.avoid], needs.aliases, titled=True))

    def names_something_sold(self, needs: Needs) -> bool:
        """Whether a need says anything a product could be chosen by: a constraint of a typed
        attribute (a budget, who it is for, a household, an age, a quantity, the most of one, a
        feature of the lexicon), a word of some product's title, or a word of two or more
        characters whose every character pair some product's page holds (后备箱 of a folding
        bike's facts). A need saying none of them ("金卡会员有什么权益": membership, not a
        product) is not ranked: reading every product for words no page has finds nothing to
        recommend, at the cost of the whole catalogue. Read from the kind index (titles, and
        each pair's page count, remembered across questions), not product by product."""
        typed = (
            needs.budget or needs.groups or needs.household or needs.age is not None
            or needs.features or needs.extremes or needs.amounts or needs.recipient
        )  # fmt: skip
        if typed:
            return True
        words = [*needs.words, *needs.phrases, *needs.avoid]
        if self.kinds.heads(words, needs.aliases, titled=True):
            return True
        return any(
            (pairs := bigrams(w)) and all(self.kinds.page_frequency(p) for p in pairs)
            for w in words
            if len(normalize(w)) > 1
        )

    def _other_kind(self, profile: Profile, needs: Needs) -> bool:
        """Whether the shopper names a kind of product (by the kinds read at ingestion) that
        ``profile`` is not of (连衣裙 of the 真丝衬衫)."""
        heads = self.kinds.heads([w for w in needs.words if len(w) > 1], needs.aliases)
        return any(not names_kind(w, profile, needs.aliases.get(w, ())) for w in heads)

    @staticmethod
    def wishes(needs: Needs) -> bool:
        """A wish to buy: said outright, a budget, or a weak wish for someone ("给爸妈买个…")."""
        return (
            "recommend" in needs.kinds()
            or needs.budget is not None
            or bool(needs.cues.get("wish") and (needs.groups or needs.recipient))
        )

    def _after_bought(self, question: str, needs: Needs) -> str:
        """The words after "买了" (the product bought), else the whole question."""
        norm = normalize(question)
        for cue in needs.cues.get("bought", []):
            at = norm.find(cue)
            if at >= 0:
                return re.split(r"[，,。 ？?！!]", norm[at + len(cue) :], maxsplit=1)[0] or norm
        return norm

    def _wanted_with(self, question: str, needs: Needs) -> bool:
        """Whether the message names a product bought and, besides it, a kind of product the
        shop has (a word of another product's title, not of the bought one's)."""
        if not needs.cues.get("bought"):
            return False
        after = self._after_bought(question, needs)
        rest = normalize(question).split(after, 1)[-1] if after else ""
        if any(normalize(str(m)) in rest for m in self.rules["event_marks"]):
            return False  # "买了镜架 镜片碎了": what happened to it, for after-sales
        bought = self.named(after)  # named outright: no ranking guesses what was bought
        return len(bought) == 1 and bool(
            asked_kinds(bought[0], self.profiles, needs.words, self._negations)
        )

    def _handoff(self, question: str, reason: str) -> Answer:
        return Answer(
            question=question,
            text=self.shop.handoff_message,
            decision="handoff",
            confidence=0.0,
            reasons=[f"presales: {reason}"],
        )

    def _from(self, earlier: Sequence[str]) -> Profile | None:
        for text in reversed(earlier):
            named = self.named(text)
            if len(named) == 1:
                return named[0]
        return None

    def _priced(self, question: str, named: list[Profile]) -> Profile | None:
        """The product an objection is about: the one named, or of those named (or all), the
        one whose price the shopper quotes ("你们399贵在哪", a price of any of its price columns:
        "J级要319" of 5斤装价格)."""
        if len(named) == 1:
            return named[0]
        quoted = set(money_amounts(question)) | numbers_in(question)
        pool = named or self.profiles
        priced = [p for p in pool if quoted & _all_prices(p)]
        return priced[0] if len(priced) == 1 else None

    def _comparison(
        self, question: str, named: list[Profile], asked: str = ""
    ) -> Comparison | None:
        """Two versions of the one product named, else the products the parts of the question
        name ("A和B"), else the two its words fit equally ("两款羽绒服"). Two products, each
        named by its own part ("小暖和清风大1匹", "黑森林和提拉米苏"), are the two compared
        unless two versions of one are each said outright ("E1标准版和套装版"): a version of one
        inferred from a word said (大1匹 → its 2匹) is not what is asked."""
        needs = self.needs(question)
        each = self._each_part(question)
        # the products of the kind the message names (精华 in "精华30ml和50ml"), by the kind
        # index: a catalogue's products are not asked one by one (nor compared field by field
        # with the products named)
        kind = self.kinds.of_words(needs.words, needs.aliases, besides={p.source for p in named})
        # versions both said outright ("6罐和8罐") before one said and the other inferred
        for profile, one_said in [
            *((p, False) for p in [*named, *kind]), *((p, True) for p in named if len(each) < 2)
        ]:  # fmt: skip
            variants = named_variants(profile, question, one_said=one_said, suffixes=self._suffixes)
            if len(variants) > 2 and len(named) > 1:  # two of them said most fully
                variants = most_said(variants, question)
            if len(variants) >= 2 and (len(named) == 1 or len(variants) == 2):
                return compare_variants(profile, variants, self.rules, self.cite, question)
        # of the kind said, the one product whose versions the message tells apart (饼 / 散茶)
        told = [
            (p, v)
            for p in kind
            if len(v := named_variants(p, question, suffixes=self._suffixes)) == 2
        ]
        if len(each) >= 2:
            return compare_products(
                each[0], each[1], self.rules, self.cite, asked or question, needs.budget
            )
        if not named and len(told) == 1:
            return compare_variants(told[0][0], told[0][1], self.rules, self.cite, question)
        if not named and not kind:
            # no product named nor kind its title has ("电动车单驱和双驱"): the one product of the
            # catalogue whose versions the message tells apart, each said outright
            apart = self._versions_told_apart(question)
            if apart is not None:
                return apart
        if len(named) == 2 and not self._subsumed(named, needs):
            return compare_products(
                named[0], named[1], self.rules, self.cite, asked or question, needs.budget
            )
        return None

    def _difference(self, question: str) -> float | None:
        """The amount said after a cue of ``difference_cues`` ("差40块", "差了300"), if any."""
        norm = normalize(question)
        cues = sorted((normalize(str(c)) for c in self.rules["difference_cues"]), key=len)[::-1]
        for cue in cues:
            for m in re.finditer(re.escape(cue) + r"了?\s*(\d+(?:\.\d+)?)", norm):
                return float(m.group(1))
        return None

    def _by_difference(self, question: str, named: list[Profile]) -> Comparison | None:
        """The two versions of one product (of those named, else of the catalogue), or the two
        products named, whose prices differ by the amount the message says they differ by —
        the one such pair; where several, those whose versions the message names."""
        gap = self._difference(question)
        if not gap:
            return None
        pairs: list[tuple[Profile, Variant, Variant]] = []
        for profile in named or self.profiles:
            columns = [_price_cells(v) for v in profile.variants]
            for i, first in enumerate(profile.variants):
                for j in range(i + 1, len(profile.variants)):
                    if any(
                        abs(abs(columns[i][k] - columns[j][k]) - gap) < 0.01
                        for k in columns[i].keys() & columns[j].keys()
                    ):
                        pairs.append((profile, first, profile.variants[j]))
        two = named if len(named) == 2 else self._each_part(question)
        if len(two) == 2:
            a, b = two
            if any(abs(abs(x - y) - gap) < 0.01 for x in a.prices for y in b.prices):
                return compare_products(a, b, self.rules, self.cite, question)
        if len(pairs) > 1:  # several differ by it (猕猴桃 29.9/69.9 too): the versions said
            pairs = [
                (p, x, y)
                for p, x, y in pairs
                if {x, y}
                <= set(named_variants(p, question, one_said=False, suffixes=self._suffixes))
            ]
        if len(pairs) != 1:
            return None
        profile, low, high = pairs[0]
        return compare_variants(profile, [low, high], self.rules, self.cite, question)

    def _versions_told_apart(self, question: str) -> Comparison | None:
        """The two versions of the one product of the catalogue whose versions the message
        tells apart, each said outright ("电动车单驱和双驱"), compared; None when no product's
        or several products' are."""
        told = [
            (p, v)
            for p in self.profiles
            if len(
                v := told_apart(
                    named_variants(p, question, one_said=False, suffixes=self._suffixes), question
                )
            )
            == 2
        ]
        if len(told) != 1:
            return None
        return compare_variants(told[0][0], told[0][1], self.rules, self.cite, question)

    def _choice(self, question: str, named: list[Profile]) -> Comparison | None:
        """A choice between two things said ("车厘子还是礼盒好", "24度还是36度"; joints of
        ``choice_joints``): two versions of the one product named, each said outright, else
        two products, one named by each side of the joint in the clause saying it."""
        joints = self._said(question, "choice_joints")
        if not joints:
            return None
        joint = normalize(joints[0])
        clause = next(
            (c for c in re.split(r"[，,。；;？?！!\s]", normalize(question)) if joint in c), ""
        )
        sides = [s for s in clause.split(joint, 1) if s.strip()]
        if sides and any(normalize(str(m)) in sides[0] for m in self.rules["value_marks"]):
            return None  # "男款羽绒服是鸭绒还是鹅绒": which its filling is, a question about it
        if len(named) == 1:
            versions = named_variants(named[0], question, one_said=False, suffixes=self._suffixes)
            if len(versions) >= 2:  # as _comparison pairs them: the first two
                return compare_variants(named[0], versions, self.rules, self.cite, question)
        elif not named:  # the one product of the catalogue whose versions are each said
            apart = self._versions_told_apart(question)
            if apart is not None:
                return apart
        found = [self._one(s) for s in sides]
        a, b = [*found, None, None][:2]
        if a is not None and b is not None and a is not b:
            budget = self.needs(question).budget  # "送礼预算200": the prices within it
            return compare_products(a, b, self.rules, self.cite, question, budget)
        return None

    def _each_part(self, question: str) -> list[Profile]:
        """The products the parts of the question split by ``compare_joints`` each name."""
        norm = normalize(question)
        parts = [p for p in (self._joints.split(norm) if self._joints else [norm]) if p.strip()]
        each: list[Profile] = []
        for part in parts:
            found = self._one(part)
            if found is not None and found not in each:
                each.append(found)
        return each

    @staticmethod
    def _subsumed(named: list[Profile], needs: Needs) -> bool:
        """Whether one of two products is named only by words naming the other too ("乳胶枕":
        乳胶 names the 乳胶 mattress as well, 枕 only the pillow) — one product asked for,
        not two."""
        said = [
            {w for w in needs.words if names_kind(w, p, needs.aliases.get(w, ()), titled=True)}
            for p in named
        ]
        a, b = said
        return bool(a and b) and (a < b or b < a)

    def _one(self, text: str) -> Profile | None:
        """The one product ``text`` names, by its title words or, failing that, as the only
        best match of what it says (跑鞋 → the running shoe: 缓震)."""
        named = self.named(text)
        if len(named) == 1:
            return named[0]
        said = normalize(text).strip()
        titled = [p for p in self.profiles if len(said) > 1 and said in p.marks]
        if not named and len(titled) == 1:
            return titled[0]  # a name the title has whole, that its segmented words miss (云栖2)
        scored, _ = rank(
            self.needs(text), named or self.profiles, self.rules,
            index=None if named else self.kinds,
        )  # fmt: skip
        if (
            scored
            and scored[0].named > 0
            and (len(scored) == 1 or scored[1].named < scored[0].named)
        ):
            return scored[0].profile
        return None

    # -- answers ---------------------------------------------------------------------------------
    def _confidence(self, decision: str) -> float:
        settings = self.answerer.settings
        if decision == "auto":
            return round(max(0.95, settings.auto_threshold), 4)
        if decision == "draft":
            return round((settings.auto_threshold + settings.draft_threshold) / 2, 4)
        return 0.0

    def _checked(self, answer: Answer) -> Answer:
        """The claims of ``answer`` checked against what it cites: a contradicted claim or an
        amount beyond the shop's limits makes it a draft."""
        if answer.decision == "handoff":
            return answer
        passages = [self._passage(c) for c in answer.citations]
        check = self._checker.check(answer.text, passages, question=answer.question)
        problems = [f"claim not supported: {v.claim.text}" for v in check.contradicted]
        problems += [f"the reply {p}" for p in check.over_limit]
        if not problems:
            return answer
        return answer.model_copy(
            update={
                "decision": "draft",
                "confidence": min(answer.confidence, self._confidence("draft")),
                "reasons": [*answer.reasons, *problems],
            }
        )

    def _recommended(self, question: str, rec: Recommendation) -> Answer:
        if rec.decision == "handoff":
            return Answer(
                question=question,
                text=self.shop.handoff_message,
                decision="handoff",
                confidence=0.0,
                citations=[c for p in rec.picks[:1] for c in p.citations],
                reasons=["presales: recommend", *rec.reasons],
            )
        reasons = ["presales: recommend", *rec.reasons]
        return self._reply(question, rec.text, rec.citations, reasons, rec.decision)

    def _compared(self, question: str, comparison: Comparison) -> Answer:
        reasons = [f"presales: compare {' / '.join(comparison.names)}"]
        return self._reply(question, comparison.text, comparison.citations, reasons)

    def _answer(self, question: str, suggestion: Suggestion) -> Answer:
        reasons = [f"presales: {suggestion.kind}", *suggestion.reasons]
        return self._reply(question, suggestion.text, suggestion.citations, reasons)

    def _reply(
        self,
        question: str,
        text: str,
        citations: list[Citation],
        reasons: list[str],
        decision: Decision = "draft",
    ) -> Answer:
        """The advisor's answer, its claims checked against what it cites."""
        answer = Answer(
            question=question,
            text=text,
            decision=decision,
            confidence=self._confidence(decision),
            citations=citations,
            reasons=reasons,
        )
        return self._checked(answer)


def _price_cells(variant: Variant) -> dict[str, float]:
    """A version's prices by column: its price, and each cell of a column naming a price
    ("5斤装价格(元)")."""
    out = {"": variant.price} if variant.price is not None else {}
    for header, cell in variant.cells:
        value = number(cell) if "价" in header else None
        if value is not None:
            out[header] = value
    return out


def _all_prices(profile: Profile) -> set[float]:
    """Every price a product states: its prices and each version's price columns."""
    return set(profile.prices) | {x for v in profile.variants for x in _price_cells(v).values()}
