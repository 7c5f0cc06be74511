"""llama-index ``Document`` objects into a shop: kefu's chunking, tables and safety checks.

Any llama-index reader (LlamaHub: Feishu/Lark docs, Notion, web pages, databases) yields
``Document`` objects. :func:`ingest_documents` writes them as ordinary shop files under
``<shop>/<folder>/<collection>/`` and runs the normal incremental ingest, so they are chunked
by Chinese sentences, their Markdown tables kept row by row with the header, instructions
hidden in them removed and reported — and they stay inspectable, versionable files that
``kefu ingest`` picks up like any other. :class:`KefuNodeParser` applies the same loaders
inside a llama-index pipeline, without a shop.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from llama_index.core.bridge.pydantic import Field
from llama_index.core.node_parser.interface import NodeParser
from llama_index.core.schema import BaseNode, MetadataMode, NodeRelationship

from .._copilot import Copilot
from .._errors import IngestError, InputError
from .._fs import write_text_atomic
from .._models import FileIssue, IngestReport
from ..config._shop import load_shop_config
from ..ingest._loaders import load_file, parse_rules
from ._li_retrieval import chunk_node

__all__ = ["KefuNodeParser", "document_file", "ingest_documents"]

log = logging.getLogger("kefu_copilot")

#: What the documents are, and the shop folder they go to.
FOLDERS = {"policy": "policies", "product": "products", "faq": "faq"}
_PRODUCT_FIELDS = ("sku", "price", "category", "brand")
_IDENTITY_KEYS = ("file_path", "file_name", "url", "source", "title")
_UNSAFE = re.compile(r"[^\w\u3400-\u9fff-]+")
_MANIFEST = ".kefu-documents.json"  # dot file: never read as knowledge


def _identity(document: BaseNode) -> str:
    """What names a document stably across reader runs (a path or URL before a random id)."""
    for key in _IDENTITY_KEYS:
        value = document.metadata.get(key)
        if value:
            return str(value)
    return document.node_id


def _file_stem(document: BaseNode) -> str:
    identity = _identity(document)
    readable = _UNSAFE.sub("-", PurePosixPath(identity.rstrip("/")).stem or "doc").strip("-")
    digest = hashlib.blake2b(identity.encode(), digest_size=4).hexdigest()
    return f"{readable[:60] or 'doc'}-{digest}"


def _text(document: BaseNode) -> str:
    return document.get_content(metadata_mode=MetadataMode.NONE)


def _markdown(document: BaseNode, kind: str) -> str:
    """Front matter (title; a product's sku/price/category/brand) and the document's text."""
    meta = document.metadata
    front: dict[str, Any] = {}
    title = meta.get("title") or meta.get("标题")
    if title:
        front["title"] = str(title)
    if kind == "product":
        front.update({k: meta[k] for k in _PRODUCT_FIELDS if meta.get(k) not in (None, "")})
    header = ""
    if front:
        header = "---\n" + yaml.safe_dump(front, allow_unicode=True, sort_keys=False) + "---\n\n"
    return header + _text(document)


def _faq_record(document: BaseNode) -> dict[str, Any] | None:
    meta = document.metadata
    question = meta.get("question") or meta.get("问题")
    if not question:
        return None
    record: dict[str, Any] = {"question": str(question), "answer": _text(document)}
    for key, alias in (("similar", "相似问题"), ("tags", "标签")):
        value = meta.get(key) or meta.get(alias)
        if value:
            record[key] = value
    return record


def document_file(document: BaseNode, kind: str) -> tuple[str, str] | None:
    """``(file name, content)`` of a document as a shop file of ``kind`` (policy, product or
    faq); None for an FAQ document without a ``question`` in its metadata."""
    if kind not in FOLDERS:
        raise InputError(f"kind must be one of {', '.join(FOLDERS)}, not {kind!r}")
    stem = _file_stem(document)
    if kind == "faq":
        record = _faq_record(document)
        if record is None:
            return None
        return f"{stem}.jsonl", json.dumps(record, ensure_ascii=False) + "\n"
    return f"{stem}.md", _markdown(document, kind)


def ingest_documents(
    copilot: Copilot,
    documents: Sequence[BaseNode],
    *,
    kind: str = "policy",
    collection: str = "llama-index",
) -> IngestReport:
    """Write ``documents`` as shop files under ``<shop>/<folder>/<collection>/`` and ingest.

    ``kind``: ``policy`` (→ ``policies/``), ``product`` (→ ``products/``; ``title``, ``sku``,
    ``price``, ``category``, ``brand`` metadata become its front matter) or ``faq`` (→
    ``faq/``; the metadata holds ``question`` and optionally ``similar`` and ``tags``, the text
    is the answer). The collection folder mirrors the latest call: files this function wrote
    before for documents no longer given are removed (other files there are left alone).
    Returns the ingest's report; unusable documents are in its ``issues``.
    """
    if not re.fullmatch(r"[\w\u3400-\u9fff][\w\u3400-\u9fff.-]*", collection):
        raise InputError(f"collection must be a simple folder name, not {collection!r}")
    folder = Path(copilot.shop_dir) / FOLDERS.get(kind, "?") / collection
    issues: list[FileIssue] = []
    files: dict[str, str] = {}
    for document in documents:
        made = document_file(document, kind)
        if made is None:
            issues.append(
                FileIssue(
                    source=f"document {document.node_id}",
                    problem="FAQ document without a 'question' in its metadata; skipped",
                )
            )
            continue
        name, content = made
        if name in files:  # the same identity twice: one file, the documents in order
            content = files[name] + ("" if kind == "faq" else "\n\n") + content
        files[name] = content
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / _MANIFEST
    try:
        written_before = set(json.loads(manifest.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        written_before = set()
    for name, content in files.items():
        path = folder / name
        if not path.is_file() or path.read_text(encoding="utf-8") != content:
            write_text_atomic(path, content)  # unchanged files keep their mtime: no re-parse
    for name in sorted(written_before - set(files)):
        (folder / name).unlink(missing_ok=True)
    write_text_atomic(manifest, json.dumps(sorted(files), ensure_ascii=False))
    report = copilot.ingest()
    report.issues.extend(issues)
    return report


class KefuNodeParser(NodeParser):
    """kefu's loaders as a llama-index node parser: Chinese sentence chunks, Markdown tables
    row by row with their header, FAQ entries whole, injected instructions removed.

    ``kind`` says what the documents are (policy, product or faq, as in
    :func:`ingest_documents`). Each node keeps its document's metadata plus ``source``,
    ``locator``, ``kind`` and ``title``; what the loaders removed or skipped is logged.
    ``shop``: a copilot or shop directory whose ``shop.yaml`` rules parsing follows (its own
    injection patterns, spreadsheet columns); without one, the packaged rule sets.
    """

    kind: str = Field(default="policy", description="policy, product or faq")
    shop: Any = Field(default=None, description="a Copilot or shop directory: its parse rules")

    @classmethod
    def class_name(cls) -> str:
        return "KefuNodeParser"

    def _parse_nodes(
        self, nodes: Sequence[BaseNode], show_progress: bool = False, **kwargs: Any
    ) -> list[BaseNode]:
        out: list[BaseNode] = []
        rules = _parse_rules(self.shop)
        for document in nodes:
            made = document_file(document, self.kind)
            if made is None:
                log.warning("kefu-copilot: FAQ document %s has no question", document.node_id)
                continue
            source = f"{FOLDERS[self.kind]}/{made[0]}"
            try:
                chunks, issues = load_file(source, made[1].encode(), rules)
            except IngestError as exc:
                log.warning("kefu-copilot: document %s skipped: %s", document.node_id, exc)
                continue
            for issue in issues:
                log.warning("kefu-copilot: document %s: %s", document.node_id, issue.problem)
            for chunk in chunks:
                node = chunk_node(chunk)
                node.metadata = {**document.metadata, **node.metadata}
                node.relationships[NodeRelationship.SOURCE] = document.as_related_node_info()
                out.append(node)
        return out


def _parse_rules(shop: Any) -> dict[str, dict[str, Any]]:
    """The parse rules of a copilot's shop or a shop directory ({} without one: packaged)."""
    if shop is None:
        return {}
    config = shop.shop if isinstance(shop, Copilot) else load_shop_config(shop)
    return parse_rules(config)
