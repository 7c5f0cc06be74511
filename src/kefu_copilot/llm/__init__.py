"""LLMs: the `LLM` protocol, OpenAI-compatible providers and models, prompt templates as files."""
