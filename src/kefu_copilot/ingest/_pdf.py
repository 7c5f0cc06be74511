"""PDF manuals and policies (说明书) → blocks, with the page of each part for its locator.

pdfplumber gives the text lines (with their font size) and the ruled tables of each page. A
PDF has no headings, so a short line set clearly larger than the body text is taken as one
(larger sizes rank higher); wrapped lines are joined back into paragraphs; a table's first row
is its header. Every page starts with a ``第N页`` heading at level 0 followed by the headings
still open from the page before, so locators read ``第3页 / 洗涤保养 · 段1`` and a section that
runs over a page break keeps its heading.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from typing import Any

from .._errors import IngestError
from ._markup import Block
from ._office import require

__all__ = ["read_pdf"]

MAX_PAGES = 2000
HEADING_SIZE = 1.15  # a heading's font is at least this much larger than the body text
HEADING_CHARS = 40  # and its line no longer than this
PARAGRAPH_GAP = 1.4  # a gap this many times the line spacing starts a new paragraph
_BULLET = re.compile(r"^\s*[•●▪◦·\-–*]\s*")
_NUMBERED = re.compile(r"^\s*\d+[.)、]\s*")


def _join(lines: list[str]) -> str:
    """Wrapped lines back into one paragraph (a space only between two Latin words)."""
    out = ""
    for line in lines:
        if out and out[-1].isascii() and out[-1].isalnum() and line[:1].isascii():
            out += " "
        out += line
    return out


def _cell(value: Any) -> str:
    return "" if value is None else re.sub(r"\s*\n\s*", "", str(value)).strip()


def _title(metadata: dict[str, Any]) -> str:
    value = metadata.get("Title")
    if isinstance(value, bytes):
        value = value.decode("utf-16" if value.startswith(b"\xfe\xff") else "latin-1", "replace")
    return str(value or "").strip()


def read_pdf(data: bytes) -> tuple[str, list[Block], list[str]]:
    """``(title from the PDF's properties, blocks, warnings)``. Scanned pages (images only)
    have no text to read and are reported."""
    pdfplumber = require("pdfplumber", "pdfplumber", "pdf", ".pdf")
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
        pages = list(pdf.pages)
    except Exception as exc:  # pdfminer raises many types (PDFSyntaxError, encryption, ...)
        raise IngestError(f"cannot read the PDF: {exc}") from None
    warnings: list[str] = []
    with pdf:
        if len(pages) > MAX_PAGES:
            warnings.append(f"more than {MAX_PAGES} pages; the rest of the file was skipped")
            pages = pages[:MAX_PAGES]
        try:
            read = [_read_page(page) for page in pages]
        except Exception as exc:
            raise IngestError(f"cannot read the PDF: {exc}") from None
        title = _title(pdf.metadata or {})
    sizes: Counter[float] = Counter()
    for lines, _ in read:
        for _, text, size in lines:
            sizes[size] += len(text)
    body = sizes.most_common(1)[0][0] if sizes else 0.0
    heading_sizes = sorted({s for s in sizes if s >= body * HEADING_SIZE}, reverse=True)
    level_of = {s: n for n, s in enumerate(heading_sizes, start=1)}
    blank = [n for n, (lines, tables) in enumerate(read, start=1) if not lines and not tables]
    if blank:
        shown = "、".join(str(n) for n in blank[:10]) + ("…" if len(blank) > 10 else "")
        warnings.append(f"pages without text (scanned images?) skipped: 第{shown}页")
    return title, _blocks(read, level_of), warnings


Line = tuple[float, str, float]  # (top, text, font size)


def _read_page(page: Any) -> tuple[list[Line], list[tuple[float, Block]]]:
    """The page's text lines outside tables, and its tables (each with its top)."""
    found = page.find_tables()
    tables: list[tuple[float, Block]] = []
    for table in found:
        rows = [[_cell(c) for c in row] for row in table.extract()]
        rows = [r for r in rows if any(r)]
        if rows:
            tables.append((table.bbox[1], Block("table", header=rows[0], rows=rows[1:])))
    boxes = [t.bbox for t in found]

    def outside(obj: dict[str, Any]) -> bool:
        if obj.get("object_type") != "char":
            return True
        x, y = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
        return not any(x0 <= x <= x1 and top <= y <= bottom for x0, top, x1, bottom in boxes)

    text_page = page.filter(outside) if boxes else page
    lines: list[Line] = []
    for line in text_page.extract_text_lines(return_chars=True):
        text = str(line["text"]).strip()
        if text:
            size = round(max(float(c["size"]) for c in line["chars"]), 1)
            lines.append((float(line["top"]), text, size))
    return lines, tables


def _blocks(
    read: list[tuple[list[Line], list[tuple[float, Block]]]], level_of: dict[float, int]
) -> list[Block]:
    blocks: list[Block] = []
    open_headings: list[Block] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(Block("text", _join(paragraph)))
            paragraph.clear()

    for number, (lines, tables) in enumerate(read, start=1):
        if not lines and not tables:
            continue
        blocks.append(Block("heading", f"第{number}页", level=0))
        blocks.extend(open_headings)
        items: list[tuple[float, Any]] = [(top, (text, size)) for top, text, size in lines]
        items += [(top, block) for top, block in tables]
        items.sort(key=lambda item: item[0])
        last_top: float | None = None
        line_gap = float("inf")  # the page's line spacing: the smallest gap between lines
        for top, item in items:
            if isinstance(item, Block):
                flush()
                blocks.append(item)
                last_top = None
                continue
            text, size = item
            level = level_of.get(size, 0)
            if level and len(text) <= HEADING_CHARS:
                flush()
                heading = Block("heading", text, level=level)
                blocks.append(heading)
                while open_headings and open_headings[-1].level >= level:
                    open_headings.pop()
                open_headings.append(heading)
                last_top = None
                continue
            gap = None if last_top is None else top - last_top
            marker = _BULLET.match(text) or _NUMBERED.match(text)
            if marker is not None or (gap is not None and gap > PARAGRAPH_GAP * line_gap):
                flush()  # a list item, or a gap wider than the line spacing: a new paragraph
            paragraph.append(text[marker.end() :] if marker else text)
            if gap is not None and gap > 0:
                line_gap = min(line_gap, gap)
            last_top = top
        flush()
    return blocks
