"""Read-only parts that many copilots in one process share: :class:`SharedResources`.

A :class:`Copilot` on its own builds what it reads with: a tokenizer with its own copy of the
jieba dictionary (~12 MB once segmented with), and the embedding model named by its settings.
A process serving a thousand shops cannot hold a thousand of each. A ``SharedResources`` object,
passed explicitly to each copilot (``Copilot(..., resources=shared)``, or once to a
:class:`CopilotPool`), hands out one tokenizer per distinct vocabulary and one embedder per
model, loaded once, to every copilot that asks for the same thing. Both are read-only and
thread-safe once built, so sharing them changes no answer.

The packaged rule sets (``data/*.yaml``), the packaged escalation model and the confidence
calibrator are immutable and already read once per process by their loaders; a shop's own
extension is merged per shop (``ShopConfig.rule_set``) on top of the same packaged mapping.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import EmbeddingError

if TYPE_CHECKING:
    from .config._shop import ShopConfig
    from .embed._embedder import Embedder
    from .text._tokenize import ChineseTokenizer

__all__ = ["SharedResources", "shop_tokenizer"]


def _tokenizer_arguments(shop: ShopConfig) -> dict[str, Any]:
    """What a shop's tokenizer is built from: its synonyms, vocabulary and stop words."""
    from .text._tokenize import stopword_list
    from .text._vocabulary import ecommerce_synonyms

    return {
        "synonyms": [list(group) for group in shop.synonyms],
        "builtin_synonyms": [list(g) for g in ecommerce_synonyms(shop.rule_set("vocabulary"))],
        "builtin_stopwords": stopword_list(shop.rule_set("stopwords")),
    }


def shop_tokenizer(shop: ShopConfig) -> ChineseTokenizer:
    """A new tokenizer for ``shop`` (its synonyms, extended vocabulary and stop words)."""
    from .text._tokenize import ChineseTokenizer

    return ChineseTokenizer(**_tokenizer_arguments(shop))


class SharedResources:
    """Tokenizers and embedding models shared by the copilots of one process.

    ``tokenizer(shop)`` returns the same :class:`ChineseTokenizer` object for every shop whose
    synonyms, vocabulary and stop words are the same (most shops: those that do not extend
    them); a tokenizer lives while a copilot uses it, and the ``keep_tokenizers`` most recently
    asked for are kept loaded meanwhile, so a shop reopened soon does not reload its dictionary.
    ``embedder(model, ...)`` loads each embedding model once; a model that cannot be loaded is
    remembered as such (one warning, not one load attempt per shop). Thread-safe: threads asking
    for the same thing at once get the same object, built once.
    """

    def __init__(self, *, keep_tokenizers: int = 8) -> None:
        self._lock = threading.Lock()
        self._tokenizers: weakref.WeakValueDictionary[str, ChineseTokenizer] = (
            weakref.WeakValueDictionary()
        )
        self._recent: OrderedDict[str, ChineseTokenizer] = OrderedDict()
        self._keep = max(0, keep_tokenizers)
        self._embedders: dict[tuple[str, str, bool], Embedder | EmbeddingError] = {}
        self._embedder_lock = threading.Lock()  # loads one model at a time (rare, slow)

    def tokenizer(self, shop: ShopConfig) -> ChineseTokenizer:
        """The shared tokenizer for ``shop``'s vocabulary (built on first request)."""
        from .text._tokenize import ChineseTokenizer

        arguments = _tokenizer_arguments(shop)
        key = json.dumps(arguments, ensure_ascii=False, sort_keys=True)
        with self._lock:
            found = self._tokenizers.get(key)
            if found is None:
                # Cheap: the dictionary is loaded (once, under the tokenizer's own lock) when
                # it first segments.
                found = self._tokenizers[key] = ChineseTokenizer(**arguments)
            if self._keep:
                self._recent[key] = found
                self._recent.move_to_end(key)
                while len(self._recent) > self._keep:
                    self._recent.popitem(last=False)
            return found

    @property
    def tokenizers_loaded(self) -> int:
        """How many distinct tokenizers are alive (in use or kept)."""
        with self._lock:
            return len(self._tokenizers)

    def embedder(
        self, model: str, *, cache_dir: Path | None = None, offline: bool = False
    ) -> Embedder:
        """The embedding model ``model``, loaded once (:class:`EmbeddingError` when it cannot
        be; the error is remembered and raised again without retrying)."""
        from .embed._embedder import load_embedder

        key = (model, str(cache_dir or ""), offline)
        with self._embedder_lock:
            found = self._embedders.get(key)
            if found is None:
                try:
                    found = load_embedder(model, cache_dir=cache_dir, offline=offline)
                except EmbeddingError as exc:
                    found = exc
                self._embedders[key] = found
        if isinstance(found, EmbeddingError):
            raise EmbeddingError(str(found))
        return found

    def __repr__(self) -> str:
        return (
            f"SharedResources(tokenizers={self.tokenizers_loaded}, "
            f"embedders={len(self._embedders)})"
        )
