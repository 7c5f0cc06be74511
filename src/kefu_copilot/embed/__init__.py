"""Embedding models: the `Embedder` protocol, fastembed models and local static (model2vec) models."""
