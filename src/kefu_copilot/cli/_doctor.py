"""``kefu doctor`` and ``kefu repair``: check every part of an index, rebuild what cannot be read.

An index has parts of different worth: the generation (``CURRENT`` and its folder) with the
chunks, the lexical indexes built from them, and the vectors — the one part written in place
(by Chroma, possibly on a server) and so the one a full disk or a crash can leave damaged. All
of it can be made again: the vectors from the chunks, the generation from the shop directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from .._errors import KefuError

__all__ = ["Check", "diagnose", "repair"]


@dataclass(frozen=True)
class Check:
    """One part of the index: whether it can be used, what was found, and the fix."""

    name: str  # generation, chunks, bm25, model, vectors
    ok: bool
    detail: str
    fix: str = ""


def _problem(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).split('. ', 1)[0][:300]}"


def diagnose(copilot: Any) -> list[Check]:
    """Check the index of ``copilot`` part by part (reads everything, changes nothing)."""
    from ..index._generations import load_snapshot, read_current

    index = copilot.index_dir
    checks: list[Check] = []
    try:
        current = read_current(index)
    except KefuError as exc:
        return [Check("generation", False, _problem(exc), "kefu repair (re-ingests the shop)")]
    if current is None:
        return [Check("generation", False, f"no index at {index}", "kefu ingest SHOP")]
    try:
        snapshot = load_snapshot(index)
        assert snapshot is not None
        chunks = list(snapshot.chunks)  # parses every chunk
        if [c.id for c in chunks] != list(snapshot.ids):
            raise KefuError("chunks.jsonl and chunk_index.json disagree")
    except (KefuError, OSError, ValueError, TypeError, AssertionError) as exc:
        checks.append(Check("generation", True, f"generation {current.get('generation')}"))
        checks.append(Check("chunks", False, _problem(exc), "kefu repair (re-ingests the shop)"))
        return checks
    checks.append(Check("generation", True, f"generation {snapshot.generation}"))
    checks.append(Check("chunks", True, f"{len(chunks)} chunks"))

    try:
        tokens = copilot._tokenizer(copilot.shop).tokenize(chunks[0].text[:200]) if chunks else []
        snapshot.lexical.top(tokens, 5)
        if len(snapshot.faq_lexical):
            snapshot.faq_lexical.top(tokens, 5)
        checks.append(Check("bm25", True, f"{len(chunks)} documents"))
    except Exception as exc:  # whatever a damaged file makes bm25s raise
        checks.append(Check("bm25", False, _problem(exc), "kefu repair (re-ingests the shop)"))

    if not snapshot.embedder:
        checks.append(Check("model", True, "lexical index (no embedding model)"))
        return checks
    embedder, store = copilot._dense()
    if embedder is None or store is None:
        why = copilot.embedding_problem or "embeddings are switched off in the settings"
        fix = "install or point --embed-model at the model the index was built with"
        checks.append(Check("model", False, why, fix))
        return checks
    if embedder.name != snapshot.embedder:
        detail = (
            f"the index was embedded with {snapshot.embedder}, the settings give {embedder.name}"
        )
        checks.append(Check("model", False, detail, "kefu ingest SHOP (re-embeds)"))
        return checks
    checks.append(Check("model", True, embedder.name))
    try:
        check = getattr(store, "check", None)
        if check is not None:
            check()
        held = store.existing(list(snapshot.ids))
    except Exception as exc:
        checks.append(Check("vectors", False, _problem(exc), "kefu repair"))
        return checks
    missing = len(set(snapshot.ids)) - len(held)
    if missing:
        detail = f"{missing} of {len(snapshot.ids)} chunks have no vector"
        checks.append(Check("vectors", False, detail, "kefu repair"))
    else:
        checks.append(Check("vectors", True, f"{len(held)} vectors"))
    return checks


def repair(copilot: Any, *, rebuild_vectors: bool = False) -> str:
    """Rebuild what :func:`diagnose` finds unusable: a generation that cannot be read is
    ingested again from the shop directory; vectors that cannot be read (or are missing) are
    made again from the live chunks. Returns what was done, one line per part."""
    from ..index._generations import CURRENT
    from ..ingest._pipeline import repair_vectors

    done: list[str] = []
    broken = {c.name for c in diagnose(copilot) if not c.ok}
    if broken & {"generation", "chunks", "bm25"}:
        pointer = copilot.index_dir / CURRENT
        if pointer.exists():  # the next ingest starts afresh instead of reading a broken one
            os.replace(pointer, pointer.with_name(CURRENT + ".broken"))
        report = copilot.ingest()
        done.append(f"generation: ingested again ({report.chunks_total} chunks)")
        broken = {c.name for c in diagnose(copilot) if not c.ok}
    if "vectors" in broken or rebuild_vectors:
        embedder, store = copilot._dense()
        if embedder is None or store is None:
            raise KefuError("no embedding model: the vectors cannot be made again")
        made = repair_vectors(copilot.index_dir, embedder, store, rebuild=rebuild_vectors)
        copilot.reload()
        done.append(f"vectors: {made} made again from the chunks")
    if "model" in broken:
        done.append("model: not repairable here (see `kefu doctor`)")
    return "\n".join(done) or "nothing to repair"
