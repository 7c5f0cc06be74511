"""Compact chunk ids (index/_ids.py) behave as the list and dict they replace, and the stored
layout of a generation (line bounds, typed catalogue apart) reads back the same chunks."""

from __future__ import annotations

import random
from array import array
from pathlib import Path

from kefu_copilot.index._generations import ChunkFile
from kefu_copilot.index._ids import ChunkIds


def test_chunk_ids_read_as_the_list_and_dict_they_replace() -> None:
    rng = random.Random(3)
    ids = [f"{rng.getrandbits(96):024x}" for _ in range(500)] + ["abc", "abc", "中文", "a"]
    held = ChunkIds(ids)
    by_id = {cid: i for i, cid in enumerate(ids)}
    positions = held.mapping()
    assert list(held) == ids and [held[i] for i in range(len(ids))] == ids
    assert held[3:7] == ids[3:7] and len(held) == len(ids)
    for cid in [*ids, "nope", "ab", "abcd", "", "中"]:
        assert positions.get(cid) == by_id.get(cid)
        assert (cid in positions) == (cid in by_id)
    assert held.positions([*ids, "x"]) == [by_id[c] for c in ids] + [None]
    assert list(positions) == list(by_id) and len(positions) == len(by_id)
    order = list(range(len(ids)))
    assert sorted(order, key=lambda i: held.rank[i]) == sorted(order, key=lambda i: ids[i])


def test_empty_ids() -> None:
    held = ChunkIds([])
    assert len(held) == 0 and list(held) == [] and held.positions(["a"]) == [None]
    assert held.mapping().get("a") is None


def test_chunk_file_uses_stored_bounds_and_ignores_wrong_ones(tmp_path: Path) -> None:
    lines = [b'{"id":"a","kind":"faq","source":"f","locator":"1"}\n',
             b'{"id":"b","kind":"faq","source":"f","locator":"2","text":"\xe4\xbd\xa0"}\n']  # fmt: skip
    data = b"".join(lines)
    good = array("q", [0, len(lines[0]), len(data)])
    assert [c.id for c in ChunkFile(data, None, good)] == ["a", "b"]
    wrong = array("q", [0, 5])  # does not end at the file's end: the line ends are found again
    assert [c.text for c in ChunkFile(data, None, wrong)] == ["", "你"]
    path = tmp_path / "chunks.jsonl"
    path.write_bytes(data)
    path.with_suffix(".bounds").write_bytes(good.tobytes())
    assert [c.locator for c in ChunkFile.open(path)] == ["1", "2"]


def test_read_many_reads_runs_as_read_does(tmp_path: Path) -> None:
    lines = [
        f'{{"id":"c{n}","kind":"faq","source":"f","locator":"{n}"}}\n'.encode() for n in range(9)
    ]
    path = tmp_path / "chunks.jsonl"
    path.write_bytes(b"".join(lines))
    chunks = ChunkFile.open(path)
    kept = chunks[4]  # parsed and kept: returned as it is
    wanted = [0, 1, 2, 4, 5, 8, 3]
    assert chunks.read_many(wanted) == [chunks.read(i) for i in wanted]
    assert chunks.read_many([3, 4, 5])[1] is kept
    assert chunks.read_many([]) == []


def test_a_chunk_file_keeps_a_bounded_number_of_parsed_chunks(monkeypatch) -> None:
    from kefu_copilot.index import _generations

    monkeypatch.setattr(_generations, "KEPT_CHUNKS", 8)
    lines = [f'{{"id":"c{i}","kind":"faq","source":"f","locator":"{i}"}}\n' for i in range(50)]
    chunks = ChunkFile("".join(lines).encode())
    for _ in range(2):  # read twice over: the second pass re-reads what was dropped
        assert [chunks[i].id for i in range(50)] == [f"c{i}" for i in range(50)]
        assert sum(item is not None for item in chunks._items) <= 8
    first = chunks[49]
    assert chunks[49] is first  # a kept chunk is the same object
