"""Presentation: rich tables and progress for terminals, HTML for notebooks and reports."""
