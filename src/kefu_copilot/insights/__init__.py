"""Insights from conversation logs: the log format, analysis, the report model."""
