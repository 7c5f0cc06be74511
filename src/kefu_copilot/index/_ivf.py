"""Inverted lists over a segment of the exact store (IVF-flat): search a large shop in a
fraction of a full scan, with the recall of the exact top-k measured when the lists are built.

Above ~100k vectors a full scan costs more than the answer's other steps together (7.9 ms of CPU
at 300k), and Chroma's HNSW returned 78-92 % of the exact top-60 at 100k (benchmarks/README.md).
Inverted lists keep the exact store's files and guarantees and add three small arrays per large
segment:

- the segment's rows are stored **grouped by list** (the nearest of ``n`` centroids, fitted by
  spherical k-means on a sample when the segment is written), so a list is a contiguous slice of
  the memory-mapped matrix;
- ``seg-N.centroids.npy`` (``n`` x dim) and ``seg-N.offsets.npy`` (``n + 1`` row offsets);
- ``nprobe``, kept in ``MANIFEST``: how many lists a query scans. It is *measured* when the lists
  are built, not guessed: sample rows of the segment serve as queries, their exact top-k is
  computed by a full scan, and ``nprobe`` is the smallest number of lists whose candidates hold
  :data:`TARGET_RECALL` of it (averaged over the sample). Sample rows are easier queries than
  shoppers' questions (on a 300k-chunk benchmark shop, 99.9 % on the sample gave 99.4 % of the
  exact top-60 of the benchmark's questions; 99.5 % gave only 97.4 %), hence the high target.
  When more than half the lists would be needed (vectors without cluster structure), ``nprobe``
  is every list and the segment is scanned in full. A query scores its candidates with the
  full float32 vectors, so the similarities returned are exact; only a neighbour outside the
  probed lists can be missed.

Everything here is a deterministic function of the segment's rows (a fixed seed), so a segment
rebuilt from the same rows comes out the same.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "IVF_MIN_ROWS",
    "TARGET_RECALL",
    "assign",
    "calibrate",
    "fit_centroids",
    "list_count",
    "probe",
]

#: Segments with at least this many rows get inverted lists. Below it a full scan costs
#: < 0.5 ms, and the binary-counter merging of the store keeps the segments without lists
#: under twice this many rows in all.
IVF_MIN_ROWS = 16_384
#: Share of the exact top-k (``CALIBRATION_K``) the probed lists must hold, on the sample.
TARGET_RECALL = 0.999
CALIBRATION_K = 60  # retrieval asks for depth + 10 = 60 neighbours
_CALIBRATION_QUERIES = 200
_SAMPLE_PER_LIST = 40  # k-means is fitted on at most this many rows per list
_ITERATIONS = 10
_BLOCK = 4_096  # rows assigned at a time: 4,096 x 1,084 lists = 18 MB at 300k (bounded memory)
_SEED = 20261205


def list_count(rows: int) -> int:
    """Lists for a segment of ``rows`` rows: ~2 sqrt(rows), which balances the cost of
    scoring the centroids against that of scanning the probed lists."""
    return int(min(4096, max(16, round(2 * np.sqrt(rows)))))


def _unit(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (matrix / norms).astype(np.float32, copy=False)


def fit_centroids(matrix: np.ndarray, n: int) -> np.ndarray:
    """``n`` unit centroids by spherical k-means over a sample of ``matrix``'s rows."""
    rng = np.random.default_rng(_SEED)
    rows = len(matrix)
    take = min(rows, n * _SAMPLE_PER_LIST)
    picked = np.sort(rng.choice(rows, size=take, replace=False)) if take < rows else None
    sample = np.asarray(matrix[picked] if picked is not None else matrix, dtype=np.float32)
    centroids = sample[rng.choice(len(sample), size=n, replace=False)].copy()
    for _ in range(_ITERATIONS):
        labels = assign(sample, centroids)
        sums = np.zeros_like(centroids)
        np.add.at(sums, labels, sample)
        empty = np.bincount(labels, minlength=n) == 0
        if empty.any():  # restart an empty list at a random row
            sums[empty] = sample[rng.choice(len(sample), size=int(empty.sum()))]
        centroids = _unit(sums)
    return centroids


def assign(matrix: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """The nearest centroid of every row (a block of rows at a time)."""
    out = np.empty(len(matrix), dtype=np.int32)
    for start in range(0, len(matrix), _BLOCK):
        block = np.asarray(matrix[start : start + _BLOCK], dtype=np.float32)
        out[start : start + len(block)] = np.argmax(block @ centroids.T, axis=1)
    return out


def probe(
    matrix: np.ndarray, centroids: np.ndarray, offsets: np.ndarray, q: np.ndarray, nprobe: int
) -> tuple[np.ndarray, np.ndarray]:
    """Row numbers and similarities to ``q`` of the rows of the ``nprobe`` lists nearest it.
    Each list is a contiguous slice of ``matrix``: scored in place, nothing is gathered."""
    near = _vecdot(centroids, q)
    if nprobe < len(near):
        lists = np.argpartition(-near, nprobe - 1)[:nprobe]
        lists.sort()
    else:
        lists = np.arange(len(near))
    starts, stops = offsets[lists], offsets[lists + 1]
    keep = stops > starts
    starts, stops = starts[keep], stops[keep]
    if len(starts) > 1:  # neighbouring lists are one slice
        joined = np.flatnonzero(starts[1:] != stops[:-1]) + 1
        starts = starts[np.concatenate(([0], joined))]
        stops = stops[np.concatenate((joined - 1, [len(stops) - 1]))]
    if not len(starts):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    sims = np.concatenate(
        [_vecdot(matrix[a:b], q) for a, b in zip(starts.tolist(), stops.tolist(), strict=True)]
    )
    lengths = stops - starts
    rows = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    rows += np.arange(len(rows), dtype=np.int64)
    return rows, sims


def calibrate(
    matrix: np.ndarray, offsets: np.ndarray, centroids: np.ndarray, labels: np.ndarray
) -> int:
    """The smallest ``nprobe`` whose lists hold :data:`TARGET_RECALL` of the exact top-k of
    sample rows used as queries (``matrix`` grouped by list; ``labels`` per grouped row)."""
    rows, n = len(matrix), len(centroids)
    k = min(CALIBRATION_K, rows)
    rng = np.random.default_rng(_SEED + 1)
    queries = np.asarray(
        matrix[np.sort(rng.choice(rows, size=min(rows, _CALIBRATION_QUERIES), replace=False))],
        dtype=np.float32,
    )
    # rank of each list for each query (0 = nearest centroid)
    order = np.argsort(-(queries @ centroids.T), axis=1)
    rank = np.empty_like(order)
    rank[np.arange(len(order))[:, None], order] = np.arange(n)
    # found[p - 1]: neighbours found when the p nearest lists are scanned, summed over queries.
    # A row as similar as the exact k-th (within float32 rounding) counts as a neighbour: shops
    # repeat texts, and which of several equal vectors is "the" k-th is arbitrary.
    found = np.zeros(n, dtype=np.int64)
    for at, q in enumerate(queries):
        sims = _vecdot(matrix, q)
        kth = np.partition(sims, rows - k)[rows - k] if k < rows else sims.min()
        good = rank[at, labels[sims >= kth - 1e-5]]
        found += np.minimum(np.bincount(good, minlength=n).cumsum(), k)
    counts = found / (k * len(queries))
    nprobe = int(np.searchsorted(counts, TARGET_RECALL - 1e-9) + 1)
    # Vectors without structure (near-uniform noise) need most lists: then a full scan of the
    # segment is cheaper than probing them, and exact.
    return nprobe if nprobe <= n // 2 else n


def _vecdot(matrix: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``matrix @ q`` in one thread (see ``_exact._similarities``)."""
    return _VECDOT(matrix, q) if _VECDOT is not None else np.einsum("ij,j->i", matrix, q)


_VECDOT = getattr(np, "vecdot", None)  # numpy >= 2.0
