"""Built-in Chinese e-commerce vocabulary (``data/vocabulary.yaml``): ways shoppers ask about the
same product aspect, folded like a shop's own ``synonyms`` (the first word of a group is
canonical). Shops add groups in ``shop.yaml`` (``synonyms``, or ``rules.vocabulary.synonyms``);
a shop group wins where the two overlap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._data import packaged_rules

__all__ = ["ecommerce_synonyms"]


def ecommerce_synonyms(rules: Mapping[str, Any] | None = None) -> list[list[str]]:
    """The vocabulary's synonym groups: of ``rules`` (a shop's merged ``vocabulary`` rule set)
    or the packaged ones."""
    rules = packaged_rules("vocabulary") if rules is None else rules
    return [[str(w) for w in group] for group in rules["synonyms"]]
