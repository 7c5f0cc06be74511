"""Answering: extractive answers, message rules, grounding checks and grounded generation."""
