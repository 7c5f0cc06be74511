"""Retrieval: hybrid BM25 + FAQ phrasing + dense candidates, fused."""
