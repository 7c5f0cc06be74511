"""Markdown and HTML to a flat list of blocks: headings, paragraphs and tables.

Both product pages and policies go through here, so chunking treats them alike. Markdown is read
by markdown-it-py (CommonMark with GitHub tables), so setext headings, fenced code, lazy list
continuations and block quotes mean what they mean on GitHub. The HTML reader
keeps visible text and tables and drops scripts, styles, comments and hidden elements (a common
hiding place for spam and prompt injections in scraped pages). Malformed HTML never raises.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

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


@functools.cache
def _markdown() -> Any:
    """CommonMark plus GitHub tables and strikethrough (markdown-it-py, imported when used)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable(["table", "strikethrough"])


def _inline_text(token: Any) -> str:
    """The visible text of an inline token: markup dropped, link text and image alt kept,
    line breaks kept, each line stripped."""
    parts: list[str] = []
    for child in token.children or ():
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type == "image":
            parts.append(_inline_text(child))  # the alt text, held as the image's children
    return "\n".join(line.strip() for line in "".join(parts).split("\n")).strip()


def _table(tokens: list[Any], start: int) -> tuple[Block, int]:
    """The table opening at ``tokens[start]``: header cells and rows of cells. Returns the
    block and the index just past ``table_close``."""
    header: list[str] = []
    rows: list[list[str]] = []
    row: list[str] = []
    i = start
    while tokens[i].type != "table_close":
        token = tokens[i]
        if token.type == "tr_open":
            row = []
        elif token.type == "inline":
            row.append(_inline_text(token))
        elif token.type == "tr_close":
            if tokens[i - 1].type == "th_close" and not header and not rows:
                header = row
            else:
                rows.append(row)
        i += 1
    return Block("table", header=header, rows=rows), i + 1


def parse_markdown(text: str) -> list[Block]:
    """Headings (ATX and setext), paragraphs (each list item and quoted paragraph its own),
    pipe tables row by row with their header, code kept as plain lines, never read as markup.
    Raw HTML blocks go through :func:`parse_html`, which drops scripts and hidden text."""
    tokens = _markdown().parse(text)
    blocks: list[Block] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.type == "heading_open":
            blocks.append(Block("heading", _inline_text(tokens[i + 1]), level=int(token.tag[1:])))
            i += 3  # heading_open, inline, heading_close
            continue
        if token.type == "table_open":
            block, i = _table(tokens, i)
            blocks.append(block)
            continue
        if token.type == "inline":  # a paragraph, also inside list items and block quotes
            content = _inline_text(token)
            if content:
                blocks.append(Block("text", content))
        elif token.type in ("fence", "code_block"):  # plain lines; blank lines part paragraphs
            for part in re.split(r"\n\s*\n", token.content):
                lines = [line.strip() for line in part.splitlines() if line.strip()]
                if lines:
                    blocks.append(Block("text", "\n".join(lines)))
        elif token.type == "html_block":
            blocks.extend(parse_html(token.content)[1])
        i += 1
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
