"""Drafts for agents: `suggest_reply`, reply-style lint, quick replies."""
