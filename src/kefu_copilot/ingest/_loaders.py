"""Shop files → :class:`Chunk` objects (the data contract, section 1).

One function per format; :func:`load_file` dispatches on folder and extension. Loaders never
raise on bad content: they return what they could read plus :class:`FileIssue` entries.

Parsing reads three rule sets (:data:`PARSE_RULE_SETS`): ``injection`` (what is scrubbed),
``columns`` (spreadsheet headers) and ``attributes`` (size-chart checks). A shop's merged sets come
in as ``rules`` (:func:`parse_rules`: plain dicts, so a parse worker receives them with its job);
a set the shop does not extend is the packaged one.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from .._data import packaged_rules
from .._errors import IngestError, MissingExtraError
from .._models import Chunk, ChunkKind, FileIssue
from ..text._injection import find_injection, scrub_injections, scrub_paragraph
from ..text._normalize import collapse_spaces, decode_bytes, split_sentences, strip_invisible
from ._catalog import table_problems
from ._markup import Block, parse_front_matter, parse_html, parse_markdown

if TYPE_CHECKING:
    from ..config._shop import ShopConfig

__all__ = ["PARSE_RULE_SETS", "SUPPORTED", "load_file", "parse_rules", "rules_fingerprint"]

#: The rule sets parsing reads; a shop's extension of one changes how its files are parsed.
PARSE_RULE_SETS = ("attributes", "columns", "injection")
#: Rule set name → a shop's merged set, for the sets it extends (none: all packaged).
ParseRules = Mapping[str, Mapping[str, Any]]

SUPPORTED: dict[str, tuple[str, ...]] = {
    "products": (".md", ".markdown", ".html", ".htm", ".json", ".xlsx", ".pdf", ".docx"),
    "policies": (".md", ".markdown", ".txt", ".xlsx", ".pdf", ".docx"),
    "faq": (".csv", ".jsonl", ".xlsx"),
    "cases": (".jsonl",),
}
#: Formats read from bytes by an optional library (see ._office, ._pdf), not decoded as text.
BINARY = (".xlsx", ".pdf", ".docx")
CHUNK_CHARS = 220  # sentences are grouped up to about this many characters
MAX_CHUNKS_PER_FILE = 50_000
MAX_JSON_DEPTH = 64


def parse_rules(shop: ShopConfig | None) -> dict[str, dict[str, Any]]:
    """The shop's merged rule sets that parsing reads, for the sets it extends, as plain dicts
    (picklable: parse workers get them with their job). Empty without a shop's extension."""
    if shop is None:
        return {}
    return {name: dict(shop.rule_set(name)) for name in PARSE_RULE_SETS if shop.rules.get(name)}


def rules_fingerprint(rules: ParseRules | None) -> str:
    """A short digest of :func:`parse_rules` ("" when all packaged): part of the loader version
    an index records, so that changing a shop's parse rules re-parses its files once."""
    if not rules:
        return ""
    text = json.dumps(rules, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def chunk_id(source: str, locator: str, text: str) -> str:
    digest = hashlib.blake2b(f"{source}\0{locator}\0{text}".encode(), digest_size=12)
    return digest.hexdigest()


class _Builder:
    """Collects chunks of one file, scrubbing injected instructions as it goes."""

    def __init__(self, source: str, rules: ParseRules | None = None) -> None:
        self.source = source
        rules = rules or {}
        self.injection = rules.get("injection")  # None: the packaged sets
        self.columns = rules.get("columns")
        self.attributes = rules.get("attributes")
        self.chunks: list[Chunk] = []
        self.issues: list[FileIssue] = []
        self._seen: set[str] = set()
        self.title_override: str | None = None

    def warn(self, problem: str, kind: str = "warning") -> None:
        self.issues.append(FileIssue(source=self.source, problem=problem, kind=kind))

    def clean(self, text: str) -> str:
        text, removed = scrub_injections(collapse_spaces(strip_invisible(text)), self.injection)
        for sentence in removed:
            self.warn(f"instruction-like text removed: {sentence[:80]}", "suspicious")
        return text

    def add(
        self,
        kind: ChunkKind,
        locator: str,
        text: str,
        *,
        title: str = "",
        match_extra: str = "",
        question: str | None = None,
        answer: str | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        text = self.clean(text)
        if not text:
            return
        # Titles, headings and attribute names reach customers and LLMs too.
        if title and find_injection(title, self.injection):
            self.warn(
                f"instruction-like title replaced by the file name: {title[:80]}", "suspicious"
            )
            self.title_override = PurePosixPath(self.source).stem
        if self.title_override is not None:
            title = self.title_override
        if find_injection(locator, self.injection) or find_injection(match_extra, self.injection):
            self.warn(f"instruction-like heading or name removed: {locator[:80]}", "suspicious")
            locator, match_extra = f"条目{len(self.chunks) + 1}", ""
        if len(self.chunks) >= MAX_CHUNKS_PER_FILE:
            if len(self.chunks) == MAX_CHUNKS_PER_FILE:
                self.warn(
                    f"more than {MAX_CHUNKS_PER_FILE} chunks; the rest of the file was skipped"
                )
                self.chunks.append(self.chunks[-1])  # sentinel, removed in result()
            return
        cid = chunk_id(self.source, locator, text)
        if cid in self._seen:
            return
        self._seen.add(cid)
        match = " ".join(p for p in (title, match_extra, text) if p)
        self.chunks.append(
            Chunk(
                id=cid,
                kind=kind,
                source=self.source,
                locator=locator,
                title=title,
                text=text,
                match_text=match,
                question=question,
                answer=answer,
                meta=meta or {},
            )
        )

    def result(self) -> tuple[list[Chunk], list[FileIssue]]:
        return self.chunks[:MAX_CHUNKS_PER_FILE], self.issues


# -- shared block chunking (Markdown, HTML, plain text) --------------------------------------


def _group_sentences(text: str) -> Iterable[str]:
    group: list[str] = []
    size = 0
    for sentence in split_sentences(text):
        if len(sentence) > 2 * CHUNK_CHARS:  # one huge "sentence": cut at commas or by size
            start = 0
            while len(sentence) - start > 2 * CHUNK_CHARS:
                end = start + CHUNK_CHARS
                cut = max(sentence.rfind("，", start, end), sentence.rfind(",", start, end))
                cut = cut + 1 if cut > start else end
                yield sentence[start:cut]
                start = cut
            sentence = sentence[start:]
        if group and size + len(sentence) > CHUNK_CHARS:
            yield "\n".join(group)
            group, size = [], 0
        group.append(sentence)
        size += len(sentence)
    if group:
        yield "\n".join(group)


def _table_row_text(header: list[str], row: list[str]) -> str:
    if header and len(header) >= len(row):
        pairs = [f"{h}：{v}" if h else v for h, v in zip(header, row, strict=False) if v]
        return "，".join(pairs)
    return "，".join(v for v in row if v)


_FACT = re.compile(r"\s*(?:[-*•]\s*)?([^\s：:，,。；;|]{2,10})[：:]\s*([^\n]{1,120}?)\s*")


def _facts_in(text: str) -> dict[str, str]:
    """The ``名称：值`` statements of a product page's text, one per line or sentence
    ("- 面料成分：60%棉。", "价格：26-32码 ¥159；33-37码 ¥179。颜色：粉紫 / 蓝灰"): typed facts of
    the product, like JSON ``attributes``."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        for sentence in re.split(r"(?<=[。！？!?])", line):
            m = _FACT.fullmatch(sentence.strip().rstrip("。；; "))
            if m and m.group(2).strip() and m.group(1) not in out:
                out[m.group(1)] = m.group(2).strip()
    return out


def _chunk_blocks(b: _Builder, blocks: list[Block], kind: ChunkKind, title: str) -> None:
    headings: list[tuple[int, str]] = []
    section_text: list[str] = []
    table_no = 0

    def section() -> str:
        return " / ".join(h for _, h in headings if h) or "正文"

    def flush() -> None:
        if section_text:
            text = "\n".join(section_text)
            # facts are read from whole lines, before sentences are grouped into chunks (a
            # value may hold a ；), and marked on the chunk that states them
            pending = _facts_in(text) if kind == "product" else {}
            for n, part in enumerate(_group_sentences(text), start=1):
                facts = {k: v for k, v in pending.items() if f"{k}：" in part or f"{k}:" in part}
                for k in facts:
                    del pending[k]
                b.add(
                    kind,
                    f"{section()} · 段{n}",
                    part,
                    title=title,
                    match_extra=section(),
                    meta={"facts": facts} if facts else None,
                )
            section_text.clear()

    for block in blocks:
        if block.kind == "heading":
            flush()
            while headings and headings[-1][0] >= block.level:
                headings.pop()
            heading = block.text
            if find_injection(heading, b.injection):
                b.warn(f"instruction-like heading removed: {heading[:80]}", "suspicious")
                heading = ""
            headings.append((block.level, heading))
        elif block.kind == "text":
            # An instruction and whatever follows it in its paragraph go; facts before it stay.
            kept, removed = scrub_paragraph(block.text, b.injection)
            for sentence in removed:
                b.warn(f"instruction-like text removed: {sentence[:80]}", "suspicious")
            if kept.strip():
                section_text.append(kept)
        elif block.kind == "table":
            flush()
            table_no += 1
            header = [h.strip() for h in block.header]
            name = section() if headings else f"表{table_no}"
            for r, row in enumerate(block.rows, start=1):
                text = _table_row_text(header, row)
                if text:
                    b.add(
                        "table_row",
                        f"{name} · 第{r}行",
                        text,
                        title=title,
                        match_extra=f"{name} {' '.join(header)}",
                        meta={"header": header, "row": row, "table": name},
                    )
    flush()


def _product_overview(b: _Builder, title: str, meta: dict[str, Any]) -> None:
    labels = {"sku": "货号", "price": "价格", "category": "分类", "brand": "品牌"}
    parts = [f"商品：{title}"] if title else []
    facts: dict[str, str] = {}
    for key, label in labels.items():
        value = meta.get(key)
        if value not in (None, ""):
            suffix = "元" if key == "price" and re.fullmatch(r"[\d.]+", str(value)) else ""
            parts.append(f"{label}：{value}{suffix}")
            facts[label] = f"{value}{suffix}"
    for key, value in meta.items():
        if (
            key not in labels
            and key != "title"
            and isinstance(value, str | int | float)
            and value != ""
        ):
            parts.append(f"{key}：{value}")
            facts[str(key)] = str(value)
    if len(parts) > 1:
        b.add(
            "product",
            "商品信息",
            "；".join(parts) + "。",
            title=title,
            meta={"sku": meta.get("sku"), "facts": facts},
        )


# -- per-format loaders ------------------------------------------------------------------------


def _load_markdown(b: _Builder, text: str, kind: ChunkKind) -> None:
    meta, body, problem = parse_front_matter(text)
    if problem:
        b.warn(problem)
    blocks = parse_markdown(body)
    title = str(meta.get("title") or "")
    if not title:
        title = next((blk.text for blk in blocks if blk.kind == "heading" and blk.level == 1), "")
    if not title and kind == "product":
        title = PurePosixPath(b.source).stem
    if kind == "product":
        _product_overview(b, title, meta)
    _chunk_blocks(b, blocks, kind, title)


def _load_html(b: _Builder, text: str) -> None:
    page_title, blocks = parse_html(text)
    h1 = next((blk.text for blk in blocks if blk.kind == "heading" and blk.level == 1), "")
    title = h1 or page_title.split("|")[0].split("-")[0].strip() or PurePosixPath(b.source).stem
    _product_overview(b, title, {})
    _chunk_blocks(b, blocks, "product", title)


def _check_depth(value: Any, depth: int = 0) -> None:
    if depth > MAX_JSON_DEPTH:
        raise IngestError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, dict):
        for v in value.values():
            _check_depth(v, depth + 1)
    elif isinstance(value, list):
        for v in value:
            _check_depth(v, depth + 1)


def _scalar(value: Any) -> str:
    if isinstance(value, list):
        return "、".join(_scalar(v) for v in value)
    if isinstance(value, dict):
        return "，".join(f"{k}：{_scalar(v)}" for k, v in value.items())
    return "" if value is None else str(value)


def _load_product_json(b: _Builder, text: str) -> None:
    data = _parse_json(text, b.source)
    if not isinstance(data, dict):
        raise IngestError("expected a JSON object describing one product", path=b.source)
    title = _scalar(data.get("title")) or PurePosixPath(b.source).stem
    _product_overview(b, title, {k: data.get(k) for k in ("sku", "price", "category", "brand")})
    attributes = data.get("attributes")
    if isinstance(attributes, dict):
        for name, value in attributes.items():
            b.add(
                "product",
                f"商品参数 · {name}",
                f"{name}：{_scalar(value)}",
                title=title,
                match_extra="商品参数",
                meta={"facts": {str(name): _scalar(value)}},
            )
    elif data.get("variants") is None and data.get("size_chart") is None:
        b.warn(
            "product without attributes, variants or size chart: its attribute questions go to a human"
        )
    variants = data.get("variants")
    if isinstance(variants, list):
        priced = [isinstance(v, dict) and _has_price(v) for v in variants]
        if (any(priced) and not all(priced)) or (
            not any(priced) and data.get("price") in (None, "")
        ):
            missing = [str(n) for n, p in enumerate(priced, start=1) if not p]
            b.warn(
                f"variants without a price (第{'、'.join(missing)}项): their price questions go to a human"
            )
        for n, variant in enumerate(variants, start=1):
            if isinstance(variant, dict) and variant:
                b.add(
                    "product",
                    f"规格 · 第{n}项",
                    _scalar(variant),
                    title=title,
                    match_extra="规格 款式",
                    meta={
                        "table": "规格",
                        "header": [str(k) for k in variant],
                        "row": [_scalar(v) for v in variant.values()],
                    },
                )
    chart = data.get("size_chart")
    if isinstance(chart, dict) and isinstance(chart.get("rows"), list):
        header = [_scalar(c) for c in chart.get("columns") or []]
        rows = [[_scalar(c) for c in row] for row in chart["rows"] if isinstance(row, list)]
        _chunk_blocks(
            b,
            [Block("heading", "尺码表", level=2), Block("table", header=header, rows=rows)],
            "product",
            title,
        )
    description = data.get("description")
    if description:
        _chunk_blocks(
            b,
            [Block("heading", "商品描述", level=2), Block("text", _scalar(description))],
            "product",
            title,
        )
    known = {
        "title",
        "sku",
        "price",
        "category",
        "brand",
        "attributes",
        "variants",
        "size_chart",
        "description",
    }
    for key, value in data.items():
        if key not in known and value not in (None, "", [], {}):
            b.add("product", key, f"{key}：{_scalar(value)}", title=title)


_PRICE_KEYS = ("price", "价格", "售价", "单价")


def _has_price(variant: dict[str, Any]) -> bool:
    return any(variant.get(k) not in (None, "") for k in _PRICE_KEYS)


def _parse_json(text: str, source: str, line: int | None = None) -> Any:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        at = line if line is not None else exc.lineno
        raise IngestError(f"invalid JSON: {exc.msg}", path=source, line=at) from None
    except RecursionError:
        raise IngestError("JSON nested too deeply", path=source, line=line) from None
    _check_depth(value)
    return value


def _faq_row(b: _Builder, row: dict[str, Any], locator: str) -> None:
    question = _scalar(row.get("question") or row.get("问题")).strip()
    answer = _scalar(row.get("answer") or row.get("答案")).strip()
    if not question or not answer:
        b.warn(f"{locator}: FAQ row without question or answer skipped")
        return
    similar = row.get("similar") or row.get("相似问题") or []
    if isinstance(similar, str):
        similar = [s for s in re.split(r"[|｜]", similar)]
    similar = [_scalar(s).strip() for s in similar if _scalar(s).strip()]
    tags = row.get("tags") or []
    if isinstance(tags, str):
        tags = [t for t in re.split(r"[|｜]", tags)]
    tags = [_scalar(t).strip() for t in tags if _scalar(t).strip()]
    q_clean = b.clean(question)
    if not q_clean:
        return
    similar = [s for s in (b.clean(s) for s in similar) if s]
    b.add(
        "faq",
        locator,
        answer,
        title=q_clean,
        match_extra=" ".join(similar),
        question=q_clean,
        answer=None,
        meta={"similar": similar, "tags": tags},
    )


def _load_faq_csv(b: _Builder, text: str) -> None:
    stream = io.StringIO(text)
    try:
        reader = csv.DictReader(stream)
        fields = [f.strip().lower().lstrip("\ufeff") for f in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise IngestError(f"invalid CSV: {exc}", path=b.source) from None
    if not ({"question", "answer"} <= set(fields) or {"问题", "答案"} <= set(fields)):
        raise IngestError(
            "FAQ CSV needs a header row with 'question,answer' columns", path=b.source
        )
    reader.fieldnames = fields
    rows = iter(reader)
    while True:
        # a row the csv module cannot read (a cell over its 128 KB field limit, a NUL byte) is
        # skipped with a warning and the rows after it read: stopping there lost every FAQ
        # entry after one bad cell
        line, at = reader.line_num, stream.tell()
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as exc:
            if stream.tell() == at:  # the reader cannot move past it
                b.warn(f"CSV parsing stopped at line {line + 1}: {exc}")
                break
            b.warn(f"line {line + 1} skipped: {exc}")
            continue
        _faq_row(b, {k: v for k, v in row.items() if k}, f"第{reader.line_num}行")


def _jsonl_records(b: _Builder, text: str) -> Iterable[tuple[int, dict[str, Any]]]:
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = _parse_json(line, b.source, line=n)
        except IngestError as exc:
            b.warn(str(exc).split(": ", 1)[-1] + f" (line {n} skipped)")
            continue
        if not isinstance(record, dict):
            b.warn(f"line {n}: expected a JSON object; skipped")
            continue
        yield n, record


def _load_faq_jsonl(b: _Builder, text: str) -> None:
    for n, record in _jsonl_records(b, text):
        _faq_row(b, record, f"第{n}行")


_ROLE_LABEL = {"customer": "顾客", "agent": "客服", "bot": "客服"}


def _load_cases(b: _Builder, text: str) -> None:
    for n, record in _jsonl_records(b, text):
        messages = record.get("messages")
        if not isinstance(messages, list) or not messages:
            b.warn(f"line {n}: case without messages skipped")
            continue
        lines = []
        for m in messages:
            if isinstance(m, dict) and m.get("text"):
                role = _ROLE_LABEL.get(str(m.get("role")), "顾客")
                lines.append(f"{role}：{_scalar(m.get('text'))}")
        if not lines:
            continue
        case_id = str(record.get("id") or f"line-{n}")
        customer = " ".join(line for line in lines if line.startswith("顾客"))
        meta: dict[str, Any] = {
            k: record[k] for k in ("id", "resolution", "tags", "rating") if k in record
        }
        b.add("case", f"案例 {case_id}", "\n".join(lines), match_extra=customer, meta=meta)


# -- spreadsheets, Word and PDF (optional extras) ----------------------------------------------

HEADER_SCAN_ROWS = 10  # a header row is looked for among a sheet's first rows


def _column_names(columns: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Normalised column name → its meaning (question, answer, product, price, ...), from a
    shop's merged ``columns`` rule set (default: the packaged one)."""
    return {
        _header_key(alias): meaning
        for meaning, aliases in (packaged_rules("columns") if columns is None else columns).items()
        for alias in aliases
    }


def _header_key(name: str) -> str:
    return re.sub(r"[\s:：*()（）\[\]【】_]+", "", str(name).lower())


def _find_header(rows: list[list[str]], names: dict[str, str]) -> int:
    """Index of the header row: the early row naming the most known columns (two at least),
    else the first row of two or more text cells; -1 when there is none."""
    best, best_known = -1, 1
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        known = len({names[k] for k in map(_header_key, row) if k in names})
        if known > best_known:
            best, best_known = i, known
    if best >= 0:
        return best
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        cells = [c for c in row if c]
        if len(cells) >= 2 and not any(re.fullmatch(r"[\d.,%\s-]+", c) for c in cells):
            return i
    return -1


def _load_xlsx(b: _Builder, data: bytes, folder: str) -> None:
    from ._office import read_xlsx

    names = _column_names(b.columns)
    title = PurePosixPath(b.source).stem
    for sheet in read_xlsx(data):
        at = _find_header(sheet.rows, names)
        if at < 0:
            if sheet.rows:
                b.warn(f"sheet {sheet.name}: no header row found; skipped")
            continue
        header = [h.strip() for h in sheet.rows[at]]
        meanings = [names.get(_header_key(h), "") for h in header]
        records = zip(sheet.rows[at + 1 :], sheet.numbers[at + 1 :], strict=True)
        if folder == "faq":
            if not {"question", "answer"} <= set(meanings):
                b.warn(f"sheet {sheet.name}: no question and answer columns (问题/答案); skipped")
                continue
            for row, number in records:
                record: dict[str, Any] = {}
                for meaning, value in zip(meanings, row, strict=False):
                    if meaning and value and meaning not in record:
                        record[meaning] = value
                for key in ("similar", "tags"):
                    if isinstance(record.get(key), str):
                        record[key] = re.split(r"[\n|｜]", record[key])
                _faq_row(b, record, f"{sheet.name} · 第{number}行")
            continue
        kind: ChunkKind = "product" if folder == "products" else "policy"
        heading = " ".join(" ".join(c for c in r if c) for r in sheet.rows[:at]) or sheet.name
        product = meanings.index("product") if "product" in meanings else -1
        for row, number in records:
            text = _table_row_text(header, row)
            if not text:
                continue
            row_title = row[product] if 0 <= product < len(row) and row[product] else title
            b.add(
                "table_row" if kind == "product" else kind,
                f"{sheet.name} · 第{number}行",
                text,
                title=row_title if kind == "product" else heading,
                match_extra=f"{heading} {' '.join(header)}",
                meta={"header": header, "row": row, "table": sheet.name},
            )


def _load_docx(b: _Builder, data: bytes, kind: ChunkKind) -> None:
    from ._office import read_docx

    title, blocks = read_docx(data)
    _load_blocks(b, title, blocks, kind)


def _load_pdf(b: _Builder, data: bytes, kind: ChunkKind) -> None:
    from ._pdf import read_pdf

    title, blocks, warnings = read_pdf(data)
    for warning in warnings:
        b.warn(warning)
    _load_blocks(b, title, blocks, kind)


def _load_blocks(b: _Builder, title: str, blocks: list[Block], kind: ChunkKind) -> None:
    """A document read into blocks: titled by its properties, else its first top heading,
    else its file name; a product gets its overview like a Markdown page."""
    if not title:
        top = [blk for blk in blocks if blk.kind == "heading" and blk.level >= 1]
        first = min(top, key=lambda blk: blk.level, default=None)
        title = first.text if first is not None else PurePosixPath(b.source).stem
    if kind == "product":
        _product_overview(b, title, {})
    _chunk_blocks(b, blocks, kind, title)


def _load_binary(b: _Builder, data: bytes, folder: str, suffix: str) -> None:
    kind: ChunkKind = "product" if folder == "products" else "policy"
    try:
        if suffix == ".xlsx":
            _load_xlsx(b, data, folder)
        elif suffix == ".docx":
            _load_docx(b, data, kind)
        else:
            _load_pdf(b, data, kind)
    except (IngestError, MissingExtraError) as exc:
        raise IngestError(str(exc), path=b.source) from None


def load_file(
    source: str, data: bytes, rules: ParseRules | None = None
) -> tuple[list[Chunk], list[FileIssue]]:
    """Parse one shop file (``source`` is its path relative to the shop directory) with the
    shop's parse rules (:func:`parse_rules`; default: the packaged sets).

    Raises :class:`IngestError` when the whole file is unusable (binary, bad encoding, malformed
    JSON product, a damaged workbook, the reader library of an extra not installed); partial
    problems come back as issues.
    """
    path = PurePosixPath(source)
    folder, suffix = path.parts[0], path.suffix.lower()
    b = _Builder(source, rules)
    if suffix in BINARY:
        _load_binary(b, data, folder, suffix)
        if folder == "products":
            for problem in table_problems(b.chunks, b.attributes):
                b.warn(problem)
        if not b.chunks:
            b.warn("no usable content", "skipped")
        return b.result()
    text = decode_bytes(data, path=source)
    if not text.strip():
        b.warn("empty file", "skipped")
        return b.result()
    if folder == "products":
        if suffix in (".html", ".htm"):
            _load_html(b, text)
        elif suffix == ".json":
            _load_product_json(b, text)
        else:
            _load_markdown(b, text, "product")
        for problem in table_problems(b.chunks, b.attributes):
            b.warn(problem)
    elif folder == "policies":
        _load_markdown(b, text, "policy")  # plain text is Markdown without markup
    elif folder == "faq":
        (_load_faq_csv if suffix == ".csv" else _load_faq_jsonl)(b, text)
    elif folder == "cases":
        _load_cases(b, text)
    if not b.chunks:
        b.warn("no usable content", "skipped")
    return b.result()
