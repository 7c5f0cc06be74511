"""Build the "office" variant of the sample shop: the same knowledge as knowledge/, with the FAQ
as an Excel workbook, the returns policy as a Word document and one product page as a PDF
manual — the files shops actually keep. Its suite is evals/answer.jsonl with those three
sources renamed, so the variant must answer with the same figures as the sample shop.

    python evals/variants/office/build.py OUT_DIR     # writes OUT_DIR/shop and OUT_DIR/answer.jsonl

Needs the office extra (openpyxl, python-docx). The PDF is written by the small writer below
(text with the standard Chinese font STSong-Light, ruled tables), so no PDF library is needed.
"""

from __future__ import annotations

import csv
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
FAQ, POLICY, PRODUCT = "faq/faq.csv", "policies/returns.md", "products/mm-ts-001.md"
RENAMED = {
    FAQ: "faq/faq.xlsx",
    POLICY: "policies/returns.docx",
    PRODUCT: "products/mm-ts-001.pdf",
}


# -- a minimal PDF writer ------------------------------------------------------------------------


class PdfWriter:
    """Pages of text lines and ruled tables in STSong-Light (Adobe-GB1, not embedded: every PDF
    reader has it), A4, top to bottom."""

    WIDTH, HEIGHT, MARGIN = 595.0, 842.0, 56.0

    def __init__(self, title: str = "") -> None:
        self.title = title
        self.pages: list[list[str]] = []
        self.y = 0.0
        self._new_page()

    def _new_page(self) -> None:
        self.pages.append([])
        self.y = self.HEIGHT - self.MARGIN

    def _room(self, height: float) -> None:
        if self.y - height < self.MARGIN:
            self._new_page()

    @staticmethod
    def _width(text: str, size: float) -> float:
        return sum(size * (0.5 if ord(c) < 128 else 1.0) for c in text)

    def _show(self, x: float, y: float, text: str, size: float) -> None:
        code = "".join(f"{ord(c):04X}" for c in text if ord(c) <= 0xFFFF)
        self.pages[-1].append(f"BT /F1 {size:g} Tf {x:.1f} {y:.1f} Td <{code}> Tj ET")

    def text(self, text: str, size: float = 10.5, gap_before: float = 0.0) -> None:
        """A paragraph, wrapped to the page width."""
        room = self.WIDTH - 2 * self.MARGIN
        lines, line = [], ""
        for char in text:
            if self._width(line + char, size) > room:
                lines.append(line)
                line = ""
            line += char
        lines.append(line)
        self.y -= gap_before
        for line in lines:
            self._room(size * 1.5)
            self.y -= size * 1.5
            self._show(self.MARGIN, self.y, line, size)

    def table(self, rows: list[list[str]], size: float = 9.0) -> None:
        """A table with a full grid of rules (what PDF table readers look for)."""
        cols = max(len(r) for r in rows)
        width = (self.WIDTH - 2 * self.MARGIN) / cols
        height = size * 2.0
        self.y -= size
        for row in rows:
            self._room(height)
            top, bottom = self.y, self.y - height
            ops = self.pages[-1]
            ops.append(
                f"0.5 w {self.MARGIN:.1f} {top:.1f} m {self.WIDTH - self.MARGIN:.1f} {top:.1f} l S"
            )
            ops.append(
                f"{self.MARGIN:.1f} {bottom:.1f} m {self.WIDTH - self.MARGIN:.1f} {bottom:.1f} l S"
            )
            for c in range(cols + 1):
                x = self.MARGIN + c * width
                ops.append(f"{x:.1f} {top:.1f} m {x:.1f} {bottom:.1f} l S")
            for c, cell in enumerate(row):
                self._show(self.MARGIN + c * width + 3, bottom + size * 0.6, cell, size)
            self.y = bottom

    def save(self, path: Path) -> None:
        objects: list[bytes] = []

        def add(body: bytes) -> int:
            objects.append(body)
            return len(objects)

        def stream(data: bytes) -> bytes:
            return b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"

        catalog = add(b"")  # filled in below
        pages_ref = add(b"")
        descriptor = add(
            b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 "
            b"/FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 "
            b"/CapHeight 880 /StemV 93 >>"
        )
        cid_font = add(
            b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
            b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> "
            b"/FontDescriptor %d 0 R /DW 1000 /W [1 95 500] >>" % descriptor
        )
        font = add(
            b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
            b"/DescendantFonts [%d 0 R] >>" % cid_font
        )
        kids = []
        for ops in self.pages:
            content = add(stream("\n".join(ops).encode("ascii")))
            kids.append(
                add(
                    b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] "
                    b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>"
                    % (pages_ref, font, content)
                )
            )
        objects[pages_ref - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
            b" ".join(b"%d 0 R" % k for k in kids),
            len(kids),
        )
        objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_ref
        title = "".join(f"{b:02X}" for b in b"\xfe\xff" + self.title.encode("utf-16-be"))
        info = add(b"<< /Title <%s> /Producer (kefu-copilot build.py) >>" % title.encode())
        out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for n, body in enumerate(objects, start=1):
            offsets.append(len(out))
            out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
        out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
        out += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
            len(objects) + 1,
            catalog,
            info,
            xref,
        )
        path.write_bytes(bytes(out))


# -- Markdown → Word / PDF, CSV → Excel ---------------------------------------------------------


def _markdown(path: Path) -> tuple[dict[str, object], list]:
    from kefu_copilot.ingest._markup import parse_front_matter, parse_markdown

    meta, body, _ = parse_front_matter(path.read_text(encoding="utf-8"))
    return meta, parse_markdown(body)


def write_docx(source: Path, target: Path) -> None:
    import docx

    _, blocks = _markdown(source)
    document = docx.Document()
    for block in blocks:
        if block.kind == "heading":
            document.add_heading(block.text, level=block.level)
        elif block.kind == "text":
            document.add_paragraph(block.text)
        else:
            table = document.add_table(rows=1 + len(block.rows), cols=len(block.header))
            table.style = "Table Grid"
            for r, row in enumerate([block.header, *block.rows]):
                for c, value in enumerate(row):
                    table.cell(r, c).text = value
    document.save(str(target))


def write_pdf(source: Path, target: Path) -> None:
    """A product page as a manual: its front matter as a 商品信息 table, then its sections."""
    meta, blocks = _markdown(source)
    title = str(meta.get("title") or "")
    pdf = PdfWriter(title)
    pdf.text(title, size=18)
    labels = {"sku": "货号", "price": "价格", "category": "分类"}
    facts = []
    for key, value in meta.items():
        if key == "title":
            continue
        shown = "、".join(map(str, value)) if isinstance(value, list) else str(value)
        facts.append([labels.get(key, key), shown + ("元" if key == "price" else "")])
    for block in blocks:
        if block.kind == "heading" and block.level == 1:
            continue  # the title, already on top
        if facts and block.kind == "heading":  # the facts after the introduction
            pdf.text("商品信息", size=14, gap_before=8)
            pdf.table([["项目", "内容"], *facts])
            facts = []
        if block.kind == "heading":
            pdf.text(block.text, size=14, gap_before=8)
        elif block.kind == "text":
            pdf.text(block.text, gap_before=4)
        else:
            pdf.table([block.header, *block.rows])
    pdf.save(target)


def write_xlsx(source: Path, target: Path) -> None:
    """The FAQ as a back-office export: a merged title row above a Chinese header, similar
    phrasings one per line, one sheet per topic."""
    import openpyxl

    with open(source, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    topics: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        topic = "物流" if row["tags"].split("|")[0] == "物流" else "售后与其他"
        topics.setdefault(topic, []).append(row)
    for topic, entries in topics.items():
        sheet = workbook.create_sheet(topic)
        sheet.append(["木棉生活 客服常见问题（导出）"])
        sheet.merge_cells("A1:D1")
        sheet.append(["问题", "相似问法", "答案", "标签"])
        for row in entries:
            similar = "\n".join(s for s in row["similar"].split("|") if s)
            sheet.append([row["question"], similar, row["answer"], row["tags"]])
    workbook.save(str(target))


def build(out: Path) -> Path:
    """Write the variant shop to ``out/shop`` and its suite to ``out/answer.jsonl``."""
    shop = out / "shop"
    if shop.exists():
        shutil.rmtree(shop)
    shutil.copytree(ROOT / "knowledge", shop, ignore=shutil.ignore_patterns(".*"))
    write_xlsx(ROOT / "knowledge" / FAQ, shop / RENAMED[FAQ])
    write_docx(ROOT / "knowledge" / POLICY, shop / RENAMED[POLICY])
    write_pdf(ROOT / "knowledge" / PRODUCT, shop / RENAMED[PRODUCT])
    for name in RENAMED:
        (shop / name).unlink()
    lines = []
    for line in (ROOT / "evals" / "answer.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            case = json.loads(line)
            expect = case.get("expect", {})
            if "sources" in expect:
                expect["sources"] = [RENAMED.get(s, s) for s in expect["sources"]]
            lines.append(json.dumps(case, ensure_ascii=False))
    (out / "answer.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return shop


if __name__ == "__main__":
    print(build(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/kefu-office-variant")))
