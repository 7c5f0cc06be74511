"""The README's quickstart must run as written."""

from __future__ import annotations

import re
from pathlib import Path

from .conftest import ROOT


def test_readme_quickstart_runs(tmp_path: Path, monkeypatch, capsys) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    quickstart = next(b for b in blocks if "copilot.ingest()" in b)
    assert len(quickstart.strip().splitlines()) <= 12
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("KEFU_EMBED_MODEL", "none")
    code = quickstart.replace("/tmp/kefu-index", str(tmp_path / "index"))
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    # the quote states two amounts (满99元包邮, 运费8元): which one answers is an agent's call
    # (answer/_values.several_values), so the quickstart's answer is a draft
    assert out[0].startswith("draft ")
    assert "99元包邮" in out[1]
    assert out[-1] == "handoff"


def test_readme_first_screen_has_the_two_setup_commands() -> None:
    first_screen = "\n".join((ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:25])
    assert "kefu demo" in first_screen and "pytest" in first_screen


def test_ci_installs_as_the_readme_says() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'pip install -e ".[dev]"' in ci and "pytest" in ci and "venv" in ci
