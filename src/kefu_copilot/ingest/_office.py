"""Excel workbooks and Word documents → plain rows and blocks (the loaders chunk them).

Shops export their FAQ and product lists from back-office systems as ``.xlsx`` and keep policies
in ``.docx``. These readers only turn the files into text — sheets of rows with merged cells
filled and numbers written as a person reads them, and Word's headings, paragraphs, list items
and tables as :class:`Block` objects — so chunking, injection scrubbing and limits stay in one
place (:mod:`._loaders`). Each library is an optional extra; a missing one is reported for the
file, naming the extra, and the ingest goes on.
"""

from __future__ import annotations

import datetime as dt
import importlib
import io
import re
import zipfile
from dataclasses import dataclass
from typing import Any

from .._errors import IngestError, MissingExtraError
from ._markup import Block

__all__ = ["Sheet", "cell_text", "read_docx", "read_xlsx", "require"]

MAX_UNZIPPED_MB = 512  # an Office file is a zip: refuse one that would inflate beyond this
MAX_SHEET_ROWS = 100_000


def require(module: str, package: str, extra: str, suffix: str) -> Any:
    """Import an optional reader library, or raise :class:`MissingExtraError` naming the extra."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(f"reading {suffix} files", package, extra) from None


def check_zip(data: bytes, suffix: str) -> None:
    """A readable zip that does not inflate beyond :data:`MAX_UNZIPPED_MB` (a zip bomb)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise IngestError(f"not a valid {suffix} file ({exc}); save it again from Office") from None
    if inflated > MAX_UNZIPPED_MB * 2**20:
        raise IngestError(f"{suffix} file inflates to more than {MAX_UNZIPPED_MB} MB; split it")


# -- Excel -------------------------------------------------------------------------------------


@dataclass
class Sheet:
    """One worksheet: its name and its rows of cell texts (``numbers[i]``: the Excel row
    number of ``rows[i]``, for locators people can find)."""

    name: str
    rows: list[list[str]]
    numbers: list[int]


def cell_text(value: Any, number_format: str = "General") -> str:
    """A cell as a person reads it: 99 not 99.0, 15% not 0.15, dates without midnight."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, int | float):
        if "%" in number_format:
            return f"{value * 100:.10g}%"
        if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return f"{value:.10g}" if isinstance(value, float) else str(value)
    return re.sub(r"[ \t]+", " ", str(value)).strip()


def read_xlsx(data: bytes) -> list[Sheet]:
    """The visible worksheets of a workbook, merged ranges filled with their top-left value.

    Formulas give their last computed value (as Excel saved it)."""
    openpyxl = require("openpyxl", "openpyxl", "xlsx", ".xlsx")
    check_zip(data, ".xlsx")
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise IngestError(f"cannot read the workbook: {exc}") from None
    sheets: list[Sheet] = []
    try:
        for ws in workbook.worksheets:
            if ws.sheet_state != "visible":
                continue
            merged: dict[tuple[int, int], tuple[int, int]] = {}
            for rng in ws.merged_cells.ranges:
                for r in range(rng.min_row, rng.max_row + 1):
                    for c in range(rng.min_col, rng.max_col + 1):
                        merged[(r, c)] = (rng.min_row, rng.min_col)
            rows: list[list[str]] = []
            numbers: list[int] = []
            for r, row in enumerate(ws.iter_rows(), start=1):
                if r > MAX_SHEET_ROWS:
                    break
                texts = []
                for c, cell in enumerate(row, start=1):
                    origin = merged.get((r, c))
                    if origin is not None and origin != (r, c):
                        cell = ws.cell(*origin)
                    texts.append(cell_text(cell.value, cell.number_format or "General"))
                while texts and not texts[-1]:
                    texts.pop()
                if texts:
                    rows.append(texts)
                    numbers.append(r)
            sheets.append(Sheet(ws.title, rows, numbers))
    finally:
        workbook.close()
    return sheets


# -- Word --------------------------------------------------------------------------------------

_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*(\d)$")
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _style_names(paragraph: Any) -> list[str]:
    """The paragraph's style and the styles it is based on (a custom style on Heading 2)."""
    names: list[str] = []
    style = paragraph.style
    while style is not None and len(names) < 5:
        names.append(str(style.name or "").strip().lower())
        style = style.base_style
    return names


def _heading_level(paragraph: Any, shift: int) -> int:
    """1-9 for Title / Heading n (or a localised 标题 n, or an outline level); 0 for body.
    ``shift``: 1 when the document uses the Title style (Heading 1 then sits below it)."""
    for name in _style_names(paragraph):
        if name in ("title", "标题"):
            return 1
        match = _HEADING_STYLE.match(name)
        if match:
            return int(match.group(1)) + shift
    outline = paragraph._p.find(".//{*}outlineLvl")
    if outline is not None:
        value = outline.get(f"{{{_W}}}val")
        if value is not None and value.isdigit() and int(value) < 9:
            return int(value) + 1 + shift
    return 0


def _table_block(table: Any) -> Block | None:
    """Rows of cell texts on the table's grid. A cell merged across columns is read once (in
    its first column; the columns it spans are empty), one merged down rows repeats in each
    row, as a merged Excel range is filled."""
    rows: list[list[str]] = []
    for row in table.rows:
        cells: list[str] = []
        left = None
        for cell in row.cells:
            spanned = cell._tc is left
            cells.append("" if spanned else re.sub(r"\s+", " ", cell.text).strip())
            left = cell._tc
        if any(cells):
            rows.append(cells)
    if not rows:
        return None
    return Block("table", header=rows[0], rows=rows[1:])


def read_docx(data: bytes) -> tuple[str, list[Block]]:
    """``(title from the document properties, blocks)`` in document order: headings, each
    paragraph or list item a text block, tables with their first row as the header."""
    docx = require("docx", "python-docx", "docx", ".docx")
    check_zip(data, ".docx")
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many types for a damaged file
        raise IngestError(f"cannot read the document: {exc}") from None
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    shift = int(any({"title", "标题"} & set(_style_names(p)) for p in document.paragraphs))
    blocks: list[Block] = []
    for element in document.element.body.iterchildren():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = Paragraph(element, document)
            text = paragraph.text.strip()
            if not text:
                continue
            level = _heading_level(paragraph, shift)
            blocks.append(Block("heading", text, level=level) if level else Block("text", text))
        elif tag == "tbl":
            block = _table_block(Table(element, document))
            if block is not None:
                blocks.append(block)
    title = str(document.core_properties.title or "").strip()
    return title, blocks
