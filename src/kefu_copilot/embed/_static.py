"""Static (model2vec layout) embedding models, computed with ``tokenizers`` and numpy alone.

A static model is a token -> vector table: a text's embedding is the L2-normalised mean of its
tokens' vectors. fastembed computes exactly this in ``StaticTextEmbedding``, but ``import
fastembed`` costs about half a second (it imports onnxruntime, huggingface_hub and every model
class), which is most of the cold open of an index. This module reproduces fastembed's
computation (same tokenizer setup, unknown tokens left out, ``weights``/``mapping`` tensors of
vocabulary-quantized models, the same pooling and normalisation) so that a local static model
loads in a few tens of milliseconds with the embedding matrix memory-mapped. fastembed remains
the path for ONNX models such as the default ``BAAI/bge-small-zh-v1.5``.

A :class:`StaticModel` holds no per-call state, so several threads may embed at once.
"""

from __future__ import annotations

import itertools
import json
import math
import mmap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import EmbeddingError

__all__ = ["MAX_LENGTH", "BoundedWordPiece", "StaticModel", "read_safetensors"]

# Same cap as fastembed (and model2vec's default ``max_length``).
MAX_LENGTH = 512
# The safetensors library refuses headers above 100 MB; so do we.
_MAX_HEADER = 100_000_000
# safetensors dtype -> numpy dtype; BF16 is widened to float32 row by row when read.
_DTYPES: dict[str, str] = {
    "F64": "<f8",
    "F32": "<f4",
    "F16": "<f2",
    "BF16": "<u2",
    "I64": "<i8",
    "I32": "<i4",
    "I16": "<i2",
    "I8": "i1",
    "U8": "u1",
    "BOOL": "?",
}


class Tensor:
    """One read-only tensor of a safetensors file (``bf16`` marks raw bfloat16 bits)."""

    __slots__ = ("array", "bf16")

    def __init__(self, array: np.ndarray, bf16: bool) -> None:
        self.array = array
        self.bf16 = bf16

    def take(self, index: np.ndarray | None = None) -> np.ndarray:
        """The rows at ``index`` (everything when None), bfloat16 widened to float32."""
        values = self.array if index is None else self.array[index]
        if self.bf16:
            return (values.astype(np.uint32) << 16).view(np.float32)
        return values


def read_safetensors(path: Path) -> dict[str, Tensor]:
    """Memory-map every tensor of a safetensors file, read-only; EmbeddingError if malformed.

    The format is an 8-byte little-endian header size, a JSON header giving the dtype, shape and
    byte offsets (relative to the end of the header) of each tensor, then the raw data.
    """
    try:
        with open(path, "rb") as fh:
            size = fh.seek(0, 2)
            if size < 8:
                raise EmbeddingError(f"{path} is not a safetensors file ({size} bytes)")
            buffer = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    except OSError as exc:
        raise EmbeddingError(f"cannot read {path}: {exc}") from exc
    header_size = int.from_bytes(buffer[:8], "little")
    if header_size > min(_MAX_HEADER, size - 8):
        raise EmbeddingError(
            f"{path} is not a valid safetensors file: its header claims {header_size} bytes "
            f"but the file has {size} (truncated or corrupt?)"
        )
    try:
        header = json.loads(buffer[8 : 8 + header_size])
    except (ValueError, RecursionError) as exc:
        raise EmbeddingError(f"{path} has a corrupt safetensors header: {exc}") from None
    if not isinstance(header, dict):
        raise EmbeddingError(f"{path} has a corrupt safetensors header (not a JSON object)")
    header.pop("__metadata__", None)
    data_start = 8 + header_size
    data_size = size - data_start
    tensors: dict[str, Tensor] = {}
    for name, info in header.items():
        tensors[name] = _tensor(path, buffer, name, info, data_start, data_size)
    return tensors


def _tensor(
    path: Path, buffer: mmap.mmap, name: str, info: Any, data_start: int, data_size: int
) -> Tensor:
    where = f"tensor {name!r} in {path}"
    try:
        dtype_name = info["dtype"]
        shape = tuple(info["shape"])
        start, end = info["data_offsets"]
    except (TypeError, KeyError, ValueError) as exc:
        raise EmbeddingError(f"{where}: malformed header entry ({exc!r})") from None
    if not all(type(n) is int for n in (*shape, start, end)):
        raise EmbeddingError(f"{where}: malformed shape {shape} or offsets [{start}, {end}]")
    dtype = _DTYPES.get(dtype_name) if isinstance(dtype_name, str) else None
    if dtype is None:
        raise EmbeddingError(f"{where}: unsupported dtype {dtype_name!r}")
    if any(n < 0 for n in shape) or not 0 <= start <= end:
        raise EmbeddingError(f"{where}: invalid shape {shape} or offsets [{start}, {end}]")
    count = math.prod(shape)
    if end - start != count * np.dtype(dtype).itemsize:
        raise EmbeddingError(
            f"{where}: {end - start} bytes of data do not match {dtype_name} {list(shape)}"
        )
    if end > data_size:
        raise EmbeddingError(
            f"{where} ends at byte {end} of the data but the file holds only {data_size} "
            "(truncated?)"
        )
    if count == 0:
        array = np.empty(shape, dtype=dtype)
    else:
        array = np.frombuffer(buffer, dtype=dtype, count=count, offset=data_start + start)
        array = array.reshape(shape)
    return Tensor(array, dtype_name == "BF16")


def _unknown_token_id(tokenizer: Any, tokenizer_path: Path) -> int | None:
    """The id of the tokenizer's unknown token, as fastembed's ``load_static_tokenizer`` finds it.

    Unknown tokens carry no meaning in a static model, so they are left out of the mean. Reading
    it from the loaded model avoids parsing the (often multi-megabyte) tokenizer.json twice; only
    a Unigram model, whose ``unk_id`` has no Python accessor, needs the file.
    """
    from tokenizers.models import Unigram

    model = tokenizer.model
    if isinstance(model, Unigram):
        spec = json.loads(tokenizer_path.read_text(encoding="utf-8"))["model"]
        unk_id = spec.get("unk_id") if spec.get("type") == "Unigram" else None
        return None if unk_id is None else int(unk_id)
    unk_token = getattr(model, "unk_token", None)
    if not unk_token:
        return None
    unk_id = model.token_to_id(unk_token)
    return None if unk_id is None else int(unk_id)


class BoundedWordPiece:
    """WordPiece tokenisation in time linear in the text, giving the tokenizer's own ids.

    ``tokenizers``' WordPiece looks for the longest vocabulary entry at each position by trying
    every end from the end of the word backwards, so a word of n characters costs O(n²) look-ups
    (and as many substrings): Chinese without spaces or punctuation is one "word", and a
    4,000-character message cost seconds. No entry is longer than the longest in the
    vocabulary, so starting the search there finds the same match: the same greedy
    longest-match, bounded. Words up to ``long_word`` characters still go to the tokenizer's
    model; the text stops at :data:`MAX_LENGTH` tokens, as the truncation does.

    Only for the layouts whose behaviour this reproduces exactly (a WordPiece model whose added
    tokens, if any, are matched literally in the raw text); :meth:`for_tokenizer` returns None
    for anything else, which then goes through the tokenizer unchanged.
    """

    long_word = 64

    def __init__(self, tokenizer: Any, vocab: dict[str, int], unk_id: int) -> None:
        import re

        model = tokenizer.model
        self._model = model
        self._normalizer = tokenizer.normalizer
        self._pre_tokenizer = tokenizer.pre_tokenizer
        self._vocab = vocab
        self._unk_id = unk_id
        self._prefix: str = model.continuing_subword_prefix or ""
        self._max_word: int = model.max_input_chars_per_word
        self._longest = max(map(len, vocab), default=1)
        added = tokenizer.get_added_tokens_decoder()
        contents = sorted((t.content for t in added.values()), key=len, reverse=True)
        self._added_ids = {t.content: i for i, t in added.items()}
        self._added = re.compile("|".join(map(re.escape, contents))) if contents else None

    @classmethod
    def for_tokenizer(cls, tokenizer: Any) -> BoundedWordPiece | None:
        from tokenizers.models import WordPiece

        try:
            model = tokenizer.model
            if not isinstance(model, WordPiece):
                return None
            added = tokenizer.get_added_tokens_decoder().values()
            if any(t.normalized or t.lstrip or t.rstrip or t.single_word for t in added):
                return None
            vocab = model.get_vocab() if hasattr(model, "get_vocab") else None
            vocab = vocab or tokenizer.get_vocab(with_added_tokens=False)
            unk_id = vocab.get(model.unk_token)
        except Exception:  # an unexpected layout: the tokenizer itself is always right
            return None
        return None if unk_id is None else cls(tokenizer, vocab, unk_id)

    def encode(self, text: str) -> list[int] | None:
        """The ids ``tokenizer.encode(text)`` gives (truncated to MAX_LENGTH), or None when the
        text has no word long enough to need this (the tokenizer is then as fast)."""
        parts: list[tuple[str, int | None]] = []
        position = 0
        for match in self._added.finditer(text) if self._added is not None else ():
            parts += [(text[position : match.start()], None), ("", self._added_ids[match[0]])]
            position = match.end()
        parts.append((text[position:], None))
        words: list[str | int] = []
        for part, added_id in parts:
            if added_id is not None:
                words.append(added_id)
                continue
            normal = self._normalizer.normalize_str(part) if self._normalizer else part
            if self._pre_tokenizer is None:
                words.extend([normal] if normal else [])
            else:
                words.extend(w for w, _ in self._pre_tokenizer.pre_tokenize_str(normal))
        if all(isinstance(w, int) or len(w) <= self.long_word for w in words):
            return None
        ids: list[int] = []
        for word in words:
            if isinstance(word, int):
                ids.append(word)
            elif len(word) > self._max_word:
                ids.append(self._unk_id)
            elif len(word) <= self.long_word:
                ids.extend(token.id for token in self._model.tokenize(word))
            else:
                ids.extend(self._greedy(word))
            if len(ids) >= MAX_LENGTH:
                return ids[:MAX_LENGTH]
        return ids

    def _greedy(self, word: str) -> list[int]:
        """Greedy longest-match from the left; one unmatched position makes the word unknown."""
        vocab, prefix, longest = self._vocab, self._prefix, self._longest
        ids: list[int] = []
        start, size = 0, len(word)
        while start < size:
            end = min(size, start + longest)
            while end > start:
                token_id = vocab.get(prefix + word[start:end] if start else word[start:end])
                if token_id is not None:
                    break
                end -= 1
            else:
                return [self._unk_id]
            ids.append(token_id)
            start = end
        return ids


class StaticModel:
    """A static embedding model: ``embed`` returns L2-normalised float32 rows.

    Equal (to float rounding) to fastembed's ``StaticTextEmbedding`` for the same directory.
    """

    # Cells of the (documents x distinct rows) count matrix per matrix product, as in fastembed:
    # it bounds the temporary memory of pooling to about 60 MiB.
    POOLING_CELLS = 4_000_000
    BATCH_SIZE = 256

    def __init__(
        self,
        tokenizer: Any,
        embeddings: Tensor,
        *,
        weights: np.ndarray | None = None,
        mapping: np.ndarray | None = None,
        unk_token_id: int | None = None,
    ) -> None:
        self._tokenizer = tokenizer
        self._embeddings = embeddings
        self._weights = weights
        self._mapping = mapping
        self._unk_token_id = unk_token_id
        self._bounded = BoundedWordPiece.for_tokenizer(tokenizer)
        self.dim = int(embeddings.array.shape[1])

    @classmethod
    def load(cls, directory: str | Path) -> StaticModel:
        """Load ``model.safetensors`` + ``tokenizer.json`` from ``directory``, or EmbeddingError."""
        directory = Path(directory)
        tensors = read_safetensors(directory / "model.safetensors")
        embeddings = tensors.get("embeddings")
        if embeddings is None:
            raise EmbeddingError(f"no 'embeddings' tensor in {directory / 'model.safetensors'}")
        if embeddings.array.ndim != 2 or not embeddings.array.shape[1]:
            raise EmbeddingError(
                f"the 'embeddings' tensor in {directory} has shape "
                f"{list(embeddings.array.shape)}; expected (vocabulary, dim)"
            )
        weights = tensors.get("weights")
        if weights is not None and weights.array.ndim != 1:
            raise EmbeddingError(f"the 'weights' tensor in {directory} is not a vector")
        mapping = tensors.get("mapping")
        if mapping is not None and (
            mapping.array.ndim != 1 or mapping.array.dtype.kind not in "iu"
        ):
            raise EmbeddingError(f"the 'mapping' tensor in {directory} is not an integer vector")

        from tokenizers import Tokenizer

        tokenizer_path = directory / "tokenizer.json"
        try:
            tokenizer = Tokenizer.from_file(str(tokenizer_path))
            tokenizer.enable_truncation(max_length=MAX_LENGTH)
            tokenizer.no_padding()
            unk_token_id = _unknown_token_id(tokenizer, tokenizer_path)
        except Exception as exc:  # tokenizers raises plain Exception for a bad file
            raise EmbeddingError(f"cannot load the tokenizer {tokenizer_path}: {exc}") from exc
        return cls(
            tokenizer,
            embeddings,
            weights=None if weights is None else weights.take(),
            mapping=None if mapping is None else mapping.array,
            unk_token_id=unk_token_id,
        )

    def embed(self, texts: Sequence[str], batch_size: int = BATCH_SIZE) -> np.ndarray:
        """One L2-normalised float32 row per text; a text without known tokens gives zeros."""
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            batch = list(texts[start : start + batch_size])
            out[start : start + len(batch)] = self._embed_batch(batch)
        return out

    def _token_ids(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Tokenize a batch into one flat id array plus the number of ids of each text.

        Texts with a very long word go through :class:`BoundedWordPiece` (same ids, linear
        time); the rest through the tokenizer itself."""
        bounded = self._bounded
        long_ids: dict[int, list[int]] = {}
        if bounded is not None:
            for n, text in enumerate(texts):
                if len(text) > bounded.long_word:
                    found = bounded.encode(text)
                    if found is not None:
                        long_ids[n] = found
        short = [text for n, text in enumerate(texts) if n not in long_ids]
        # encode_batch_fast skips the character offsets, which are not needed here.
        encodings = iter(self._tokenizer.encode_batch_fast(short, add_special_tokens=False))
        id_lists = [
            long_ids[n] if n in long_ids else next(encodings).ids for n in range(len(texts))
        ]
        lengths = np.fromiter(map(len, id_lists), dtype=np.int64, count=len(texts))
        ids = np.fromiter(
            itertools.chain.from_iterable(id_lists), dtype=np.int64, count=int(lengths.sum())
        )
        return ids, lengths

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        ids, lengths = self._token_ids(texts)
        if self._unk_token_id is not None:
            known = ids != self._unk_token_id
            if not known.all():
                doc_index = np.repeat(np.arange(len(texts)), lengths)
                lengths = np.bincount(doc_index[known], minlength=len(texts))
                ids = ids[known]
        sums = self._sum_rows(ids, lengths)
        # The sum points the way of the mean. As fastembed's normalize: zero rows stay zero.
        norms = np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
        return sums / norms

    def _sum_rows(self, ids: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Sum the vectors of each text's tokens (fastembed's ``_sum_rows``).

        A (texts x distinct rows) count matrix times those rows: one matrix product. Batches whose
        count matrix would exceed POOLING_CELLS are halved until it fits; a single text sums its
        rows directly.
        """
        if not ids.size:
            return np.zeros((len(lengths), self.dim), dtype=np.float32)
        rows = ids if self._mapping is None else self._mapping[ids]
        if len(lengths) == 1:
            vectors = self._embeddings.take(rows)
            if self._weights is not None:
                vectors = vectors * self._weights[ids, None]
            return vectors.sum(axis=0, keepdims=True, dtype=np.float32)
        distinct_rows, row_index = np.unique(rows, return_inverse=True)
        if len(lengths) * len(distinct_rows) > self.POOLING_CELLS:
            half = len(lengths) // 2
            split = int(lengths[:half].sum())
            return np.concatenate(
                [
                    self._sum_rows(ids[:split], lengths[:half]),
                    self._sum_rows(ids[split:], lengths[half:]),
                ]
            )
        doc_index = np.repeat(np.arange(len(lengths)), lengths)
        counts = np.bincount(
            doc_index * len(distinct_rows) + row_index,
            weights=None if self._weights is None else self._weights[ids],
            minlength=len(lengths) * len(distinct_rows),
        ).astype(np.float32)
        matrix = counts.reshape(len(lengths), len(distinct_rows))
        return matrix @ self._embeddings.take(distinct_rows)
