"""YAML from users' files, safe against alias expansion ("billion laughs").

``yaml.safe_load`` builds a shared object graph, so a 300-byte file whose aliases refer to
lists of aliases nine deep loads instantly, and then whatever walks the values (validation,
``str()``, rendering) visits 9⁸ of them: minutes of CPU and gigabytes. Aliases themselves are
legitimate (``<<: *defaults``), so they are kept, but the document's size once every alias is
expanded is counted on the composed graph (each shared node once, memoised) and a document that
would expand past :data:`MAX_EXPANDED_NODES` values, or refers to itself, is refused with
:class:`YAMLExpansionError` (a ``yaml.YAMLError``, so existing handlers of invalid YAML catch it).
"""

from __future__ import annotations

from typing import Any

import yaml  # callers import this module when they read YAML (not at `import kefu_copilot`)

__all__ = ["MAX_EXPANDED_NODES", "YAMLExpansionError", "load_user_yaml"]

#: Values a user's YAML document may hold once its aliases are expanded (a shop.yaml with every
#: rule extension written out holds a few thousand).
MAX_EXPANDED_NODES = 100_000


class YAMLExpansionError(yaml.YAMLError):
    """A YAML document whose aliases expand too far, or refer to the value containing them."""


def load_user_yaml(text: str) -> Any:
    """``yaml.safe_load(text)``, refusing alias expansion past MAX_EXPANDED_NODES values."""
    return yaml.load(text, Loader=_BoundedSafeLoader)  # a SafeLoader subclass


class _BoundedSafeLoader(yaml.SafeLoader):
    """The safe loader, checking the expanded size of each document that uses aliases."""

    _has_aliases = False

    def compose_document(self) -> Any:
        node = super().compose_document()
        if node is not None and self._has_aliases:
            _check_expansion(node)
        return node

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._has_aliases = True
        return super().compose_node(parent, index)


def _check_expansion(root: yaml.Node) -> None:
    """Count the values of ``root`` with every alias expanded (each shared node counted once,
    its expanded size reused), stopping at the first node past the limit."""
    sizes: dict[int, int] = {}
    active: set[int] = set()  # nodes whose children are being counted (a cycle comes back here)
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        if isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        else:
            sizes[key] = 1
            continue
        if children_done:
            active.discard(key)
            sizes[key] = total = 1 + sum(sizes[id(child)] for child in children)
            if total > MAX_EXPANDED_NODES:
                raise YAMLExpansionError(
                    f"YAML aliases (*name) expand to more than {MAX_EXPANDED_NODES:,} values; "
                    "write the value out instead of repeating it through aliases"
                )
            continue
        if key in active:
            raise YAMLExpansionError(
                "a YAML alias (*name) refers to the value that contains it; write the value out"
            )
        active.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in sizes)
