"""Markdown and HTML to a flat list of blocks: headings, paragraphs and tables.

Both product pages and policies go through here, so chunking treats them alike. The HTML reader
keeps visible text and tables and drops scripts, styles, comments and hidden elements (a common
hiding place for spam and prompt injections in scraped pages). Malformed HTML never raises.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser

__all__ = ["Block", "parse_front_matter", "parse_html", "parse_markdown"]


@dataclass
class Block:
    """``kind`` is heading | text | table. Tables keep ``header`` and ``rows`` of cells."""

    kind: str
    text: str = ""
    level: int = 0
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)


def parse_front_matter(text: str) -> tuple[dict[str, object], str, str | None]:
    """Split YAML front matter off a Markdown file. Returns (meta, body, problem)."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text, None
    import yaml

    from ..config._yaml import load_user_yaml

    try:
        meta = load_user_yaml(match.group(1))
    except yaml.YAMLError:
        return {}, text[match.end() :], "invalid YAML front matter ignored"
    if not isinstance(meta, dict):
        return {}, text[match.end() :], "front matter is not a mapping; ignored"
    return {str(k): v for k, v in meta.items()}, text[match.end() :], None


_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_TABLE_SEP = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)、])\s+")
_INLINE = re.compile(r"(\*\*|__|`|~~)")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")


def _clean_inline(text: str) -> str:
    return _INLINE.sub("", _LINK.sub(r"\1", text)).strip()


def _split_row(line: str) -> list[str]:
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|"):
        line = line[:-1]
    return [_clean_inline(cell) for cell in re.split(r"(?<!\\)\|", line)]


def parse_markdown(text: str) -> list[Block]:
    """Headings, paragraphs (list items become their own lines) and pipe tables."""
    blocks: list[Block] = []
    paragraph: list[str] = []
    lines = text.splitlines()

    def flush() -> None:
        if paragraph:
            blocks.append(Block("text", "\n".join(paragraph)))
            paragraph.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        heading = _HEADING.match(line)
        if heading:
            flush()
            blocks.append(
                Block("heading", _clean_inline(heading.group(2)), level=len(heading.group(1)))
            )
        elif (
            line.lstrip().startswith("|") and i + 1 < len(lines) and _TABLE_SEP.match(lines[i + 1])
        ):
            flush()
            header = _split_row(line)
            rows: list[list[str]] = []
            i += 2
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                rows.append(_split_row(lines[i]))
                i += 1
            blocks.append(Block("table", header=header, rows=rows))
            continue
        elif not line.strip():
            flush()
        elif _LIST_ITEM.match(line):
            flush()
            paragraph.append(_clean_inline(_LIST_ITEM.sub("", line)))
            flush()
        else:
            paragraph.append(_clean_inline(line))
        i += 1
    flush()
    return blocks


_SKIP_TAGS = {"script", "style", "noscript", "template", "svg", "iframe", "object", "head"}
_VOID = {
    "br",
    "hr",
    "img",
    "input",
    "meta",
    "link",
    "area",
    "base",
    "col",
    "embed",
    "source",
    "wbr",
}
_BLOCK = {
    "p",
    "div",
    "li",
    "ul",
    "ol",
    "section",
    "article",
    "tr",
    "table",
    "dl",
    "dt",
    "dd",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "br",
    "hr",
    "header",
    "footer",
    "main",
    "aside",
    "blockquote",
    "pre",
    "form",
    "nav",
}
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
MAX_DEPTH = 512
_IMPLIED_END = {"td": {"td", "th"}, "th": {"td", "th"}, "tr": {"tr"}, "li": {"li"}, "p": {"p"}}
_IMPLIED_SCOPE = {
    "td": {"tr", "table"},
    "th": {"tr", "table"},
    "tr": {"table"},
    "li": {"ul", "ol"},
    "p": {"div", "td", "th", "li", "table", "body"},
}
_HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?![.\d])|opacity\s*:\s*0(?![.\d])"
)


class _HTMLBlocks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.stack: list[tuple[str, bool]] = []  # (tag, hidden-or-skipped)
        # Running counts keep every tag O(1): unclosed tags in broken pages nest deeply.
        self._hidden_depth = 0
        self._open: Counter[str] = Counter()
        self.text: list[str] = []
        self.title: list[str] = []
        self.heading_level = 0
        self.table: list[list[str]] | None = None
        self.header_row: list[str] | None = None
        self.row: list[str] | None = None
        self.row_has_th = False
        self.cell: list[str] | None = None
        self.in_title = False

    @property
    def hidden(self) -> bool:
        return self._hidden_depth > 0

    def _push(self, tag: str, hidden: bool) -> None:
        if len(self.stack) >= MAX_DEPTH:
            return  # absurd nesting: keep the text, ignore the structure
        self.stack.append((tag, hidden))
        self._open[tag] += 1
        self._hidden_depth += hidden

    def _pop(self) -> str:
        tag, hidden = self.stack.pop()
        self._open[tag] -= 1
        self._hidden_depth -= hidden
        return tag

    def _flush_text(self) -> None:
        text = re.sub(r"[ \t\r\f\v\u3000\xa0]+", " ", "".join(self.text))
        for line in text.split("\n"):
            line = line.strip()
            if line:
                if self.heading_level:
                    self.blocks.append(Block("heading", line, level=self.heading_level))
                    # A heading is one line: an unclosed <h1> must not swallow the page.
                    self.heading_level = 0
                else:
                    self.blocks.append(Block("text", line))
        self.text.clear()

    def _implicit_close(self, tag: str) -> None:
        """HTML lets <td>, <tr>, <li> and <p> close themselves; do it before opening a sibling."""
        closes = _IMPLIED_END.get(tag)
        if not closes or not any(self._open[c] for c in closes):
            return
        for open_tag, _ in reversed(self.stack):
            if open_tag in closes:
                self.handle_endtag(open_tag)
                return
            if open_tag in _IMPLIED_SCOPE.get(tag, ()):
                return

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k.lower(): (v or "") for k, v in attrs}
        self._implicit_close(tag)
        if tag == "title":
            self.in_title = True
        hidden = (
            tag in _SKIP_TAGS
            or "hidden" in attr
            or attr.get("aria-hidden", "").lower() == "true"
            or bool(_HIDDEN_STYLE.search(attr.get("style", "").lower()))
            or (tag == "input" and attr.get("type", "").lower() == "hidden")
        )
        if tag in _BLOCK and not self.hidden:
            if self.cell is None:
                self._flush_text()
            elif tag == "br":
                self.cell.append(" ")
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6"} and not self.hidden:
            self.heading_level = int(tag[1])
        if not self.hidden:
            if tag == "table":
                self.table, self.header_row = [], None
            elif tag == "tr" and self.table is not None:
                self.row, self.row_has_th = [], False
            elif tag in ("td", "th") and self.row is not None:
                self.cell = []
                self.row_has_th = self.row_has_th or tag == "th"
        if tag not in _VOID:
            self._push(tag, hidden)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if tag in _HEADINGS and not self._open[tag]:
            # <h2>…</h3>: close whichever heading is open
            tag = next((h for h in _HEADINGS if self._open[h]), tag)
        if not self._open[tag]:
            return  # stray end tag in malformed HTML
        while self.stack:
            open_tag = self._pop()
            self._close(open_tag)
            if open_tag == tag:
                break

    def _close(self, tag: str) -> None:
        if self.hidden:
            return
        if tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append(re.sub(r"\s+", " ", "".join(self.cell)).strip())
            self.cell = None
        elif tag == "tr" and self.row is not None and self.table is not None:
            if any(self.row):
                if self.header_row is None and (self.row_has_th or not self.table):
                    self.header_row = self.row
                else:
                    self.table.append(self.row)
            self.row = None
        elif tag == "table" and self.table is not None:
            self._flush_text()
            header = self.header_row or []
            if self.table or header:
                self.blocks.append(Block("table", header=header, rows=self.table))
            self.table, self.header_row = None, None
        elif tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self._flush_text()
            self.heading_level = 0
        elif tag in _BLOCK and self.cell is None:
            self._flush_text()

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title.append(data)
        if self.hidden:
            return
        if self.cell is not None:
            self.cell.append(data)
        else:
            self.text.append(data)

    def close(self) -> None:
        super().close()
        while self.stack:
            self._close(self._pop())
        self._flush_text()


def parse_html(html: str) -> tuple[str, list[Block]]:
    """Return (page title, blocks). Never raises on malformed markup."""
    parser = _HTMLBlocks()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser is lenient; this guards truly pathological input
        parser.blocks.append(Block("text", re.sub(r"<[^>]*>", " ", html)[:100_000]))
    title = re.sub(r"\s+", " ", "".join(parser.title)).strip()
    return title, parser.blocks
