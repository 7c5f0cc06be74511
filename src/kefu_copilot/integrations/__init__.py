"""Integrations with other frameworks, each behind its own extra (``kefu_copilot.integrations.llama_index``)."""
