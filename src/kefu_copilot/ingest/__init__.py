"""Ingestion: file discovery and loaders, markup parsing, the product catalogue, parse workers, the ingest pipeline."""
