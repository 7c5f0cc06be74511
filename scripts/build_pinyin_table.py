"""Write ``src/kefu_copilot/data/pinyin.tsv``: each character's toneless pinyin (its first
reading), the table the query rewriter repairs typos by sound with (text/_query.py).

    pip install pypinyin && python scripts/build_pinyin_table.py

Generated from pypinyin (MIT; its character readings come from pinyin-data, MIT) with
``lazy_pinyin(ch, style=Style.NORMAL, errors="ignore")`` — the call the rewriter made at run time
before the table — for every character pypinyin knows. Shipping the table instead of importing
pypinyin saves a process ~57 MB and ~200k objects the cyclic garbage collector walks on every
full collection (pypinyin loads its whole phrase dictionary on import; only single characters
are ever asked). One line per sound: ``sound<TAB>characters``.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

TABLE = Path(__file__).resolve().parents[1] / "src" / "kefu_copilot" / "data" / "pinyin.tsv"


def build() -> str:
    from pypinyin import Style, __version__, lazy_pinyin
    from pypinyin.pinyin_dict import pinyin_dict

    by_sound: dict[str, list[str]] = defaultdict(list)
    for code in sorted(pinyin_dict):
        ch = chr(code)
        sound = lazy_pinyin(ch, style=Style.NORMAL, errors="ignore")
        if sound and sound[0]:
            by_sound[str(sound[0])].append(ch)
    head = (
        f"# toneless pinyin of each character (first reading): pypinyin {__version__} "
        "(MIT; readings from pinyin-data, MIT) — scripts/build_pinyin_table.py\n"
    )
    return head + "".join(f"{s}\t{''.join(chars)}\n" for s, chars in sorted(by_sound.items()))


if __name__ == "__main__":
    TABLE.write_text(build(), encoding="utf-8")
    print(f"wrote {TABLE} ({TABLE.stat().st_size:,} bytes)", file=sys.stderr)
