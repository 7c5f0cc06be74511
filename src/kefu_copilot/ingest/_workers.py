"""Parse and analyse knowledge files, in this process or in worker processes.

Parsing (HTML, Markdown, JSON, CSV, injection scrubbing) and jieba segmentation are pure
Python, so one process uses one core. A large ingest hands batches of files to worker
processes while this process embeds and stores the vectors of the batches already done.
Workers are fresh interpreters (safe whatever threads the host application runs). Results
come back in file order and token ids are renumbered into the ingest's vocabulary, so the index
is byte-identical to a single-process ingest.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import logging
import os
import pickle
import stat
import subprocess
import sys
from array import array
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from .._errors import IngestError
from .._models import Chunk, FileIssue
from ..index._analysis import ChunkTokens, Vocabulary, analyse_chunk, analyser
from ..text._tokenize import ChineseTokenizer, Tokenizer
from ._catalog import title_words
from ._loaders import ParseRules, load_file

__all__ = ["Parsed", "open_regular", "parse_file", "parse_files", "parse_one", "plan_workers"]

log = logging.getLogger("kefu_copilot")
BATCH_BYTES = 1 << 18  # files handed to a worker at a time (~256 KB of knowledge)
BATCH_FILES = 16
MIN_PARALLEL_BYTES = 4 << 20  # below this, starting workers costs more than it saves
MIN_PARALLEL_FILES = 200


@dataclass
class Parsed:
    """One parsed file: its chunks, problems found, and each chunk's analysed tokens."""

    source: str
    chunks: list[Chunk]
    issues: list[FileIssue]
    tokens: list[ChunkTokens]
    titles: dict[str, list[str]]  # product title -> its words (for the catalogue)


def _title_words(chunks: list[Chunk], tokenizer: Tokenizer, seen: set[str]) -> dict[str, list[str]]:
    """Words of the product titles not seen before (the catalogue needs them once)."""
    words = getattr(tokenizer, "words", None)
    out: dict[str, list[str]] = {}
    if words is None:
        return out
    for chunk in chunks:
        if chunk.kind in ("product", "table_row") and chunk.title not in seen:
            seen.add(chunk.title)
            out[chunk.title] = title_words(words(chunk.title))
    return out


def open_regular(path: Path) -> IO[bytes]:
    """Open a file for reading only if it is a regular file (OSError otherwise).

    Discovery reads only regular files, but the path may have been replaced since; opening a
    FIFO would block until a writer comes, so it is opened without blocking and checked first.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def parse_one(
    source: str, path: Path, rules: ParseRules | None = None
) -> tuple[list[Chunk], list[FileIssue]]:
    """Parse one file (``rules``: the shop's parse rules, see ``_loaders.parse_rules``); a file
    that cannot be read or parsed becomes a reported issue."""
    try:
        with open_regular(path) as fh:
            data = fh.read()
        return load_file(source, data, rules)
    except IngestError as exc:
        return [], [FileIssue(source=source, problem=str(exc).split(": ", 1)[-1])]
    except (OSError, MemoryError, RecursionError) as exc:
        return [], [FileIssue(source=source, problem=f"cannot be read: {exc}")]


def plan_workers(requested: int | None, files: Sequence[tuple[str, Path, int]]) -> int:
    """How many worker processes to use: ``requested``, or automatically one per spare core
    when there is enough to parse (small shops are parsed here: no start-up cost)."""
    if requested is not None:
        return max(0, requested)
    total = sum(size for _, _, size in files)
    if total < MIN_PARALLEL_BYTES and len(files) < MIN_PARALLEL_FILES:
        return 0
    return max(0, min(4, (os.cpu_count() or 1) - 1))


def parse_files(
    files: Sequence[tuple[str, Path, int]],
    tokenizer: Tokenizer,
    vocab: Vocabulary,
    *,
    workers: int = 0,
    meanwhile: Callable[[], None] | None = None,
    rules: ParseRules | None = None,
) -> Generator[Parsed, None, None]:
    """Parse and analyse ``files`` ((source, path, size), in order) with the shop's parse
    ``rules`` (workers get them with their job); yields in the same order.

    With ``workers`` > 0 and a :class:`ChineseTokenizer`, the work runs in that many worker
    processes; if they cannot start or die, the rest is parsed in this process. ``meanwhile``
    is called once before the first result, while the workers start."""
    done = 0
    pending = [meanwhile] if meanwhile is not None else []
    if workers > 0 and isinstance(tokenizer, ChineseTokenizer):
        results = _parallel(files, tokenizer, vocab, workers, pending, rules)
        while True:
            try:
                parsed = next(results)
            except StopIteration:
                return
            except (OSError, RuntimeError, EOFError) as exc:  # BrokenProcessPool: RuntimeError
                log.warning("kefu-copilot: parse workers failed (%s); parsing here instead", exc)
                break
            done += 1
            yield parsed  # (an error of the caller's is not the workers': it is not caught)
    while pending:
        pending.pop()()
    analyse = analyser(tokenizer)
    lead_cache: dict[str, tuple[array[int], int, int]] = {}
    seen: set[str] = set()
    for source, path, _ in files[done:]:
        yield parse_file(source, path, tokenizer, analyse, vocab, lead_cache, seen, rules)


def parse_file(
    source: str,
    path: Path,
    tokenizer: Tokenizer,
    analyse: Any,
    vocab: Vocabulary,
    lead_cache: dict[str, tuple[array[int], int, int]],
    seen: set[str],
    rules: ParseRules | None = None,
) -> Parsed:
    """Parse and analyse one file: the boundary of one file's failure.

    Whatever goes wrong for this file (a loader's TypeError on an odd structure, Python's
    limit on a 5,000-digit number, a bug in analysis) makes it a skipped file with the reason,
    never an error out of the whole ingest (README: one bad file is reported, not fatal)."""
    try:
        chunks, issues = parse_one(source, path, rules)
        tokens = [analyse_chunk(c, analyse, vocab, cache=lead_cache) for c in chunks]
        titles = _title_words(chunks, tokenizer, seen)
    except Exception as exc:
        log.debug("kefu-copilot: %s cannot be parsed", source, exc_info=True)
        reason = f"{type(exc).__name__}: {exc}"
        reason = reason if len(reason) <= 200 else reason[:199] + "…"
        problem = f"cannot be parsed ({reason}); fix the file or remove it"
        return Parsed(source, [], [FileIssue(source=source, problem=problem)], [], {})
    return Parsed(source, chunks, issues, tokens, titles)


def _batches(files: Sequence[tuple[str, Path, int]]) -> list[list[tuple[str, str]]]:
    batches: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    size = 0
    for source, path, nbytes in files:
        current.append((source, str(path)))
        size += nbytes
        if size >= BATCH_BYTES or len(current) >= BATCH_FILES:
            batches.append(current)
            current, size = [], 0
    if current:
        batches.append(current)
    return batches


def _parallel(
    files: Sequence[tuple[str, Path, int]],
    tokenizer: ChineseTokenizer,
    vocab: Vocabulary,
    workers: int,
    meanwhile: list[Callable[[], None]],
    rules: ParseRules | None = None,
) -> Iterator[Parsed]:
    """Batches round-robin over worker processes, results read back in order.

    Workers are plain Python processes (see :func:`_launch`) talking pickle over their
    pipes, not multiprocessing: multiprocessing's ``spawn`` re-imports the caller's main
    module in every worker, which re-runs a script that ingests without a ``__main__`` guard."""
    batches = _batches(files)
    procs = [_launch() for _ in range(min(workers, len(batches)))]
    # Batch n: the worker it was sent to, or LOCAL once this process has parsed it itself
    # (while waiting for a worker it takes batches from the end of the list).
    owner: list[int | None] = [None] * len(batches)
    local: dict[int, tuple[list[str], list[Any]]] = {}
    front, back = 0, len(batches) - 1
    stealer: _Local | None = None
    can_poll = os.name == "posix"
    try:
        for proc in procs:
            _send(proc, (tokenizer.spec(), dict(rules or {})))  # the job: how to parse

        def feed(w: int) -> None:
            nonlocal front
            if front <= back:
                _send(procs[w], batches[front])
                owner[front] = w
                front += 1

        for _ in range(2):  # two batches in flight per worker: none waits for the next
            for w in range(len(procs)):
                feed(w)
        while meanwhile:  # e.g. import chromadb while the workers load their dictionary
            meanwhile.pop()()
        renumber = [np.zeros(0, dtype=np.int32) for _ in procs]
        for n in range(len(batches)):
            owned = owner[n]
            w = owned if owned is not None else _LOCAL
            while w != _LOCAL and front <= back and can_poll and not _ready(procs[w]):
                stealer = stealer or _Local(tokenizer, rules)
                local[back] = stealer.run(batches[back])
                owner[back] = _LOCAL
                back -= 1
            if w == _LOCAL or n in local:
                if n not in local:  # every worker busy with earlier batches: parse it here
                    stealer = stealer or _Local(tokenizer, rules)
                    local[n] = stealer.run(batches[n])
                    front = max(front, n + 1)
                new_tokens, results = local.pop(n)
                table = np.asarray(
                    [vocab.ids.setdefault(t, len(vocab.ids)) for t in new_tokens], np.int32
                )
            else:
                first, new_tokens, fingerprint, results = _receive(procs[w])
                feed(w)
                if fingerprint != tokenizer.fingerprint:
                    raise RuntimeError("a worker tokenises differently from this process")
                if first != len(renumber[w]):
                    raise RuntimeError("worker vocabulary out of order")
                added = [vocab.ids.setdefault(t, len(vocab.ids)) for t in new_tokens]
                table = renumber[w] = np.concatenate([renumber[w], np.asarray(added, np.int32)])
            for source, chunks, issues, packed, titles in results:
                tokens = []
                for ids_bytes, marks, lead in packed:
                    ids = array("i")
                    ids.frombytes(table[np.frombuffer(ids_bytes, dtype=np.int32)].tobytes())
                    tokens.append(ChunkTokens(ids, marks, lead))
                yield Parsed(source, chunks, issues, tokens, titles)
    finally:
        for proc in procs:
            _stop(proc)


_LOCAL = -1


def _ready(proc: subprocess.Popen[bytes]) -> bool:
    """Whether the worker has started sending its next result."""
    import select

    assert proc.stdout is not None  # unbuffered: select() sees everything not yet read
    return bool(select.select([proc.stdout], [], [], 0)[0])


class _Local:
    """Parses batches in this process the way a worker does (its own numbering per batch)."""

    def __init__(self, tokenizer: ChineseTokenizer, rules: ParseRules | None = None) -> None:
        self._tokenizer = tokenizer
        self._rules = rules
        self._analyse = analyser(tokenizer)
        self._seen: set[str] = set()

    def run(self, batch: list[tuple[str, str]]) -> tuple[list[str], list[Any]]:
        vocab = Vocabulary()
        results = _parse_batch(
            batch, self._tokenizer, self._analyse, vocab, {}, self._seen, self._rules
        )
        return vocab.tokens(), results


_WORKER_MAIN = """\
import sys
home = sys.argv[1]
if home not in sys.path:
    sys.path.insert(0, home)
from kefu_copilot.ingest._workers import _worker
_worker(sys.stdin.buffer, sys.stdout.buffer)
"""


def _launch() -> subprocess.Popen[bytes]:
    """A worker running this very copy of kefu_copilot. ``-P``: the caller's working
    directory is not put on the worker's path (a ``numpy.py`` there must not be imported);
    the directory kefu_copilot came from is added only if the interpreter lacks it."""
    if not sys.executable:
        raise OSError("no Python executable to start workers with")
    home = str(Path(__file__).resolve().parents[2])
    return subprocess.Popen(
        [sys.executable, "-P", "-c", _WORKER_MAIN, home],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        bufsize=0,
    )


def _send(proc: subprocess.Popen[bytes], value: Any) -> None:
    assert proc.stdin is not None
    try:
        _write_message(proc.stdin, value)
    except (BrokenPipeError, ValueError) as exc:
        raise OSError(f"parse worker {proc.pid} stopped: {exc}") from None


def _receive(proc: subprocess.Popen[bytes]) -> Any:
    assert proc.stdout is not None
    try:
        return _read_message(proc.stdout)
    except (EOFError, pickle.UnpicklingError) as exc:
        raise OSError(f"parse worker {proc.pid} stopped (exit {proc.poll()}): {exc}") from None


def _write_message(stream: IO[bytes], value: Any) -> None:
    """A pickle, framed by its length (so that a reader can wait for it with select())."""
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(len(data).to_bytes(8, "little") + data)
    stream.flush()


def _read_message(stream: IO[bytes]) -> Any:
    size = int.from_bytes(_read_exact(stream, 8), "little")
    return pickle.loads(_read_exact(stream, size))


def _read_exact(stream: IO[bytes], size: int) -> bytes:
    parts: list[bytes] = []
    while size:
        part = stream.read(size)
        if not part:
            raise EOFError("the other end closed the pipe")
        parts.append(part)
        size -= len(part)
    return b"".join(parts)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    for stream in (proc.stdin, proc.stdout):
        with contextlib.suppress(OSError):
            if stream is not None:
                stream.close()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _parse_batch(
    batch: list[tuple[str, str]],
    tokenizer: ChineseTokenizer,
    analyse: Any,
    vocab: Vocabulary,
    lead_cache: dict[str, tuple[array[int], int, int]],
    seen: set[str],
    rules: ParseRules | None = None,
) -> list[Any]:
    results = []
    for source, path in batch:
        parsed = parse_file(source, Path(path), tokenizer, analyse, vocab, lead_cache, seen, rules)
        packed = [(t.ids.tobytes(), t.marks, t.lead) for t in parsed.tokens]
        results.append((source, parsed.chunks, parsed.issues, packed, parsed.titles))
    return results


# -- in the worker process ----------------------------------------------------------------------
def _worker(stdin: IO[bytes], stdout: IO[bytes]) -> None:
    """Serve batches until the parent closes the pipe, and then exit quietly.

    The parent may be killed at any moment (kill -9 during an ingest): its end of the pipes
    closes, and the next read sees EOF or the next write a broken pipe. Either way the worker
    exits without a traceback on the terminal it shares with the parent. Ctrl-C reaches the
    whole process group: the parent handles it and closes the pipes, so the worker ignores it.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The parent is gone (BrokenPipeError is an OSError):
    with contextlib.suppress(EOFError, OSError, pickle.UnpicklingError):
        _serve(stdin, stdout)
    # Nothing left to flush at exit: unflushed bytes for a closed pipe would print an
    # "Exception ignored" traceback while the interpreter shuts down.
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stdout.fileno())


def _serve(stdin: IO[bytes], stdout: IO[bytes]) -> None:
    spec, rules = _read_message(stdin)
    tokenizer = ChineseTokenizer(**spec)
    tokenizer.warm_up()
    analyse = analyser(tokenizer)
    vocab = Vocabulary()
    lead_cache: dict[str, tuple[array[int], int, int]] = {}
    seen: set[str] = set()
    while True:
        try:
            batch: list[tuple[str, str]] = _read_message(stdin)
        except EOFError:
            return
        first = len(vocab)
        results = _parse_batch(batch, tokenizer, analyse, vocab, lead_cache, seen, rules)
        new_tokens = list(itertools.islice(vocab.ids, first, None))
        _write_message(stdout, (first, new_tokens, tokenizer.fingerprint, results))
