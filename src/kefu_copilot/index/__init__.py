"""The persisted index: atomic generations, BM25, vector stores, per-chunk token analysis, term statistics."""
