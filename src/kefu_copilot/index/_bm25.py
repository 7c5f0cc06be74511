"""BM25 over pre-tokenised documents (bm25s), persisted with the index generation.

:class:`BM25Writer` builds the matrix bm25s scores with from documents given one at a time, in
memory bounded whatever the corpus size: term counts are streamed to scratch files batch by
batch, and the matrix is then written column block by column block straight into bm25s's files.
"""

from __future__ import annotations

import logging
import os
import shutil
from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import numpy as np

from ._topk import exact_top

__all__ = ["BM25Writer", "LexicalIndex"]


class LexicalIndex:
    """BM25 (Lucene variant) over token lists: bm25s's matrix of precomputed scores, one column
    of (document, score) postings per token, summed per document for a query."""

    def __init__(self, model: object | None, size: int) -> None:
        self._model = model
        self._size = size
        # token -> column, bm25s's own (no copy: an open index of a small shop is mostly this)
        self._vocab: dict[str, int] = getattr(model, "vocab_dict", None) or {}
        matrix = getattr(model, "scores", None)
        # the matrix, read directly by :meth:`top` (bm25s adds no term: Lucene's BM25)
        self._matrix: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        if isinstance(matrix, dict) and getattr(model, "nonoccurrence_array", None) is None:
            self._matrix = (matrix["data"], matrix["indices"], matrix["indptr"])

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        if self._model is not None:
            self._model.save(str(directory), show_progress=False)  # type: ignore[attr-defined]

    @classmethod
    def load(cls, directory: Path, size: int, *, like: LexicalIndex | None = None) -> LexicalIndex:
        """The index saved in ``directory``. ``like``: an index of the same generation whose
        vocabulary this one shares when it is the same (a generation's BM25 and FAQ indexes
        have one vocabulary: held once)."""
        if size == 0:
            return cls(None, 0)
        if not (directory / "params.index.json").is_file():
            # The generation was removed while we were loading it: the caller retries.
            raise FileNotFoundError(directory / "params.index.json")
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)
        model = bm25s.BM25.load(str(directory), mmap=True, show_progress=False)
        # plain ndarray views over the same mappings: bm25s slices them once per query token,
        # and an np.memmap slice runs memmap's Python __getitem__ (~0.1 ms a query at 300k)
        scores = getattr(model, "scores", None)
        if isinstance(scores, dict):
            for key, value in scores.items():
                if isinstance(value, np.memmap):
                    scores[key] = value.view(np.ndarray)
        other = like._model if like is not None else None
        if other is not None and other.vocab_dict == model.vocab_dict:  # type: ignore[attr-defined]
            model.vocab_dict = other.vocab_dict  # type: ignore[attr-defined]
            model.unique_token_ids_set = other.unique_token_ids_set  # type: ignore[attr-defined]
        return cls(model, size)

    def __len__(self) -> int:
        return self._size

    def _known(self, tokens: list[str]) -> list[str]:
        return list(dict.fromkeys(t for t in tokens if t in self._vocab))

    def scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every document (zeros when no token is known)."""
        known = self._known(tokens)
        if self._model is None or not known:
            return np.zeros(self._size, dtype=np.float32)
        return np.asarray(self._model.get_scores(known), dtype=np.float32)  # type: ignore[attr-defined]

    def top(self, tokens: list[str], k: int) -> list[tuple[int, float]]:
        """The ``k`` best documents with a positive score, best first.

        From :data:`EXACT_ORDER_DOCS` documents on, ties rank by document number and the k best
        are found without partitioning every score (:mod:`._topk`: ~4 ms less a question at
        300k chunks). A smaller index keeps ties in the order numpy's partition leaves them
        (cheap there, and what every evaluation figure so far was measured with)."""
        if self._matrix is None or self._size < EXACT_ORDER_DOCS:
            return _partitioned_top(self.scores(tokens), k)
        known = self._known(tokens)
        if not known or k <= 0:
            return []
        data, indices, indptr = self._matrix
        cols = [self._vocab[t] for t in known]
        if max(cols) >= len(indptr) - 1:  # bm25s's empty token: let it say what is wrong
            return _partitioned_top(self.scores(tokens), k)
        columns = [(int(indptr[c]), int(indptr[c + 1])) for c in cols]
        return exact_top(columns, data, indices, self._size, k)


#: Indexes of at least this many documents rank ties by document number (and find the k best
#: without a partition of every score); smaller ones keep numpy's partition order (it costs
#: ~0.1 ms at 20k documents, ~3 ms at 300k, where most documents tie at 0).
EXACT_ORDER_DOCS = 20_000


def _partitioned_top(scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The ``k`` best positive ``scores``, ties in the order numpy's partition leaves them."""
    if not len(scores) or k <= 0:
        return []
    k = min(k, len(scores))
    idx = np.argpartition(-scores, k - 1)[:k]
    idx = idx[np.argsort(-scores[idx], kind="stable")]
    values = scores[idx]
    keep = values > 0
    return list(zip(idx[keep].tolist(), values[keep].tolist(), strict=True))


#: Token occurrences counted per batch of documents (its sort keys: 8 bytes each).
BATCH_TOKENS = 1 << 20
#: Matrix entries assembled per column block in the second pass (~30 bytes each meanwhile).
BLOCK_ENTRIES = 1 << 20


class BM25Writer:
    """BM25 (Lucene) over documents added one at a time as token ids, written for bm25s.

    The same matrix ``bm25s.BM25.index`` computes (and the same float32 values: each entry is
    ``idf * tf / (norm + tf)`` evaluated the same way), built in bounded memory:

    1. :meth:`add` buffers documents; every ``batch_tokens`` occurrences, the batch's
       (token, document, term frequency) triples are counted with one sort and appended to
       scratch files, sorted by token then document; document frequencies and lengths add up.
    2. :meth:`finish` knows the corpus statistics (idf, average length) and writes the matrix
       in column order, one block of tokens (``block_entries`` entries) at a time: each batch's
       slice of the block is read back (batches are in document order, so a stable sort by
       token keeps documents ascending within a column) and appended to the output files.

    Memory: O(batch + block + documents + vocabulary), not O(corpus). Scratch files live in
    ``work_dir`` (removed by :meth:`finish`).
    """

    def __init__(
        self,
        work_dir: Path,
        *,
        k1: float = 1.2,
        b: float = 0.75,
        batch_tokens: int = BATCH_TOKENS,
        block_entries: int = BLOCK_ENTRIES,
    ) -> None:
        self.k1, self.b = k1, b
        self._work = work_dir
        self._batch_tokens = max(1, batch_tokens)
        self._block = max(1, block_entries)
        self._pending = array("i")  # the batch's documents, end to end
        self._pending_docs = 0
        self._lengths = array("q")
        self._df = np.zeros(0, dtype=np.int64)
        self._batches: list[tuple[int, int]] = []  # (first triple, count) per batch
        self._entries = 0
        self._files: list[IO[bytes]] | None = None

    def __len__(self) -> int:
        return len(self._lengths)

    def add(self, tokens: array[int] | Sequence[int]) -> None:
        """One document, as vocabulary ids."""
        self._pending.extend(tokens)  # a memory copy for an ``array("i")``
        self._lengths.append(len(tokens))
        self._pending_docs += 1
        if len(self._pending) >= self._batch_tokens:
            self._flush()

    def _flush(self) -> None:
        n = self._pending_docs
        if not n:
            return
        flat = np.frombuffer(self._pending, dtype=np.int32) if len(self._pending) else None
        first_doc = len(self._lengths) - n
        lengths = np.frombuffer(self._lengths, dtype=np.int64)[first_doc:]
        # One key per occurrence, token * n + document: sorted, equal keys (a token repeated
        # in a document) are neighbours and the order is by token, then document.
        keys = flat.astype(np.int64) if flat is not None else None
        del flat
        self._pending = array("i")
        self._pending_docs = 0
        if keys is None:
            return
        keys *= n
        keys += np.repeat(np.arange(n, dtype=np.int64), lengths)
        keys.sort()
        starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
        tf = np.diff(np.append(starts, len(keys)))
        tokens, docs_in_batch = np.divmod(keys[starts], n)
        del keys, starts
        if self._files is None:
            self._work.mkdir(parents=True, exist_ok=True)
            # token, document, term frequency (int32 each); closed by finish/close
            self._files = [open(self._work / f"{n}.bin", "w+b") for n in "tdf"]  # noqa: SIM115
        t_file, d_file, f_file = self._files
        t_file.write(tokens.astype(np.int32).tobytes())
        d_file.write((docs_in_batch + first_doc).astype(np.int32).tobytes())
        f_file.write(tf.astype(np.int32).tobytes())
        self._batches.append((self._entries, len(tokens)))
        self._entries += len(tokens)
        counts = np.bincount(tokens)
        if len(counts) > len(self._df):
            counts[: len(self._df)] += self._df
            self._df = counts
        else:
            self._df[: len(counts)] += counts

    def finish(self, directory: Path, vocab: dict[str, int]) -> int:
        """Write the index into ``directory`` (bm25s's layout, read by :meth:`LexicalIndex.load`;
        nothing but the folder when there are no documents). Returns how many documents."""
        self._flush()
        directory.mkdir(parents=True, exist_ok=True)
        n_docs = len(self._lengths)
        try:
            if not n_docs:
                return 0
            import bm25s

            logging.getLogger("bm25s").setLevel(logging.WARNING)
            n_vocab = len(vocab)
            df = np.zeros(n_vocab, dtype=np.int64)
            df[: len(self._df)] = self._df
            lengths = np.frombuffer(self._lengths, dtype=np.int64)
            idf = np.log1p((n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
            avg_len = float(lengths.mean())
            with np.errstate(invalid="ignore", divide="ignore"):  # no tokens at all: unused
                norm = (self.k1 * ((1 - self.b) + self.b * lengths / avg_len)).astype(np.float32)
            indptr = np.zeros(n_vocab + 1, dtype=np.int64)
            np.cumsum(df, out=indptr[1:])
            # bm25s writes its parameters and vocabulary; the matrix is streamed in after.
            model = bm25s.BM25(k1=self.k1, b=self.b)
            model.scores = {
                "data": np.zeros(0, dtype=np.float32),
                "indices": np.zeros(0, dtype=np.int32),
                "indptr": indptr,
                "num_docs": n_docs,
            }
            model.vocab_dict = dict(vocab)
            if "" not in model.vocab_dict:  # as bm25s does: the empty token, past the matrix
                model.vocab_dict[""] = n_vocab
            model.nonoccurrence_array = None
            model.save(str(directory), show_progress=False)
            del model
            self._write_matrix(directory, indptr, idf, norm)
            for name in ("data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy"):
                with open(directory / name, "rb+") as fh:
                    os.fsync(fh.fileno())
            return n_docs
        finally:
            self.close()

    def _write_matrix(
        self, directory: Path, indptr: np.ndarray, idf: np.ndarray, norm: np.ndarray
    ) -> None:
        total = int(indptr[-1])
        assert total == self._entries, "document frequencies disagree with the counts"
        n_vocab = len(indptr) - 1
        # Column blocks of about ``block`` entries (a single column may be larger).
        bounds = [0]
        while bounds[-1] < n_vocab:
            start = bounds[-1]
            stop = int(np.searchsorted(indptr, indptr[start] + self._block, side="right")) - 1
            bounds.append(min(n_vocab, max(stop, start + 1)))
        files = self._files or []
        cuts = []  # per batch: where each block starts in its triples (sorted by token)
        for first, count in self._batches:
            tokens = _read(files[0], first, count)
            cuts.append(first + np.searchsorted(tokens, bounds).astype(np.int64))
        with (
            open(directory / "data.csc.index.npy", "wb") as data_out,
            open(directory / "indices.csc.index.npy", "wb") as indices_out,
        ):
            for out, dtype in ((data_out, np.float32), (indices_out, np.int32)):
                header = {
                    "descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
                    "fortran_order": False,
                    "shape": (total,),
                }
                np.lib.format.write_array_header_1_0(out, header)
            for r in range(len(bounds) - 1):
                parts = [
                    [_read(f, int(c[r]), int(c[r + 1] - c[r])) for f in files]
                    for c in cuts
                    if c[r + 1] > c[r]
                ]
                if not parts:
                    continue
                tokens, docs, tf = (np.concatenate(column) for column in zip(*parts, strict=True))
                del parts
                order = np.argsort(tokens, kind="stable")
                tokens, docs, tf = tokens[order], docs[order], tf[order]
                del order
                tf32 = tf.astype(np.float32)
                data = idf[tokens] * (tf32 / (norm[docs] + tf32))
                data_out.write(data.astype(np.float32).tobytes())
                indices_out.write(docs.astype(np.int32).tobytes())

    def close(self) -> None:
        """Remove the scratch files (also after a failure)."""
        for fh in self._files or []:
            fh.close()
        self._files = None
        shutil.rmtree(self._work, ignore_errors=True)


def _read(fh: IO[bytes], first: int, count: int) -> np.ndarray:
    """``count`` int32 values from position ``first`` of a scratch file."""
    fh.seek(first * 4)
    return np.frombuffer(fh.read(count * 4), dtype=np.int32)
