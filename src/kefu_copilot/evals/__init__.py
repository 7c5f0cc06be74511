"""Evaluation: suites (data contract), the runner, metrics, comparisons, LLM judges."""
