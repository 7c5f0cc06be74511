"""Shared state: approvals and customer memory that outlive one process (memory, SQLite, Redis)."""
