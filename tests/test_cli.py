from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from kefu_copilot.cli._main import main


def test_ingest_then_ask_json(shop: Path, tmp_path: Path, capsys) -> None:
    index = str(tmp_path / "idx")
    assert main(["ingest", str(shop), "--index", index, "--embed-model", "none", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["generation"] == 1 and report["chunks_total"] > 200

    assert (
        main(
            [
                "ask",
                "退货运费谁出",
                "--shop",
                str(shop),
                "--index",
                index,
                "--embed-model",
                "none",
                "--json",
            ]
        )
        == 0
    )
    answer = json.loads(capsys.readouterr().out)
    assert answer["decision"] == "auto" and answer["citations"][0]["source"] == "faq/faq.csv"

    assert (
        main(
            [
                "ask",
                "我的订单到哪了",
                "--shop",
                str(shop),
                "--index",
                index,
                "--embed-model",
                "none",
                "--json",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["decision"] == "handoff"


def test_reingest_reports_up_to_date(shop: Path, tmp_path: Path, capsys) -> None:
    args = ["ingest", str(shop), "--index", str(tmp_path / "idx"), "--embed-model", "none"]
    main(args)
    capsys.readouterr()
    main(args)
    assert "up to date" in capsys.readouterr().out


def test_env_vars_configure_the_cli(shop: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("KEFU_EMBED_MODEL", "none")
    monkeypatch.setenv("KEFU_INDEX_DIR", str(tmp_path / "env-idx"))
    assert main(["ingest", str(shop), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["index_dir"] == str(tmp_path / "env-idx")


def test_errors_are_one_line_with_exit_2(tmp_path: Path, capsys) -> None:
    assert main(["ingest", str(tmp_path / "missing"), "--embed-model", "none"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kefu: error:") and "does not exist" in err


def test_bad_env_value_is_a_config_error(shop: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("KEFU_TOP_K", "lots")
    assert main(["ingest", str(shop)]) == 2
    assert "KEFU_" in capsys.readouterr().err


def test_chat_reads_questions_until_empty_line(
    shop: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    lines = iter(["纯棉圆领T恤会缩水吗", "那它能机洗吗", ""])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(lines))
    assert (
        main(["chat", "--shop", str(shop), "--index", str(tmp_path / "i"), "--embed-model", "none"])
        == 0
    )
    out = capsys.readouterr().out
    assert "缩水" in out and "机洗" in out


def test_demo_entry_point_offline(tmp_path: Path) -> None:
    """`kefu demo` as a user runs it: the console script, no model, no network."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "KEFU_INDEX_DIR": str(tmp_path / "demo")}
    exe = Path(sys.executable).with_name("kefu")
    cmd = [str(exe), "demo"] if exe.exists() else [sys.executable, "-m", "kefu_copilot.cli", "demo"]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "handoff" in out.stdout and "auto" in out.stdout and "faq/faq.csv" in out.stdout
    assert "lexical" in out.stdout  # says once, clearly, that no embedding model was loaded


def test_kefu_eval_and_compare_end_to_end(shop: Path, tmp_path: Path, capsys) -> None:
    from .conftest import ROOT

    out = tmp_path / "answer.json"
    args = [
        "eval",
        str(ROOT / "evals" / "answer.jsonl"),
        "--shop",
        str(shop),
        "--index",
        str(tmp_path / "idx"),
        "--embed-model",
        "none",
        "--json",
        str(out),
    ]
    assert main(args) == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    assert set(result) >= {"suite", "n", "metrics", "cases"}
    assert set(result["metrics"]) >= {"auto_rate", "auto_precision", "handoff_recall", "pass_rate"}
    assert result["n"] == len(result["cases"]) >= 100
    capsys.readouterr()
    assert main(["eval", "compare", str(out), str(out)]) == 0
    assert "pass_rate" in capsys.readouterr().out


def test_chat_routes_each_message_and_shows_the_handoff_packet(
    shop: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    """`kefu chat` goes through handle(): the conversation carries over, a handoff shows why
    and the packet the human agent receives."""
    # a question the calibrated default sends as is (纯棉圆领T恤会缩水吗 is a draft since round 8)
    lines = iter(["退货运费谁出", "不赔我100块我就给差评，叫人工来", ""])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(lines))
    argv = ["chat", "--shop", str(shop), "--index", str(tmp_path / "i"), "--embed-model", "none"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "auto" in out and "handoff" in out
    assert "bad_review_threat" in out  # risk flags of the turn
    assert "handoff packet" in out and "顾客诉求" in out and "建议下一步" in out
    assert "此前提到：退货运费谁出" in out  # the conversation was kept across turns


def test_verbose_levels_show_the_copilots_stages(shop: Path, tmp_path: Path, caplog) -> None:
    import logging

    index = str(tmp_path / "i")
    caplog.set_level(logging.NOTSET)
    assert main(["ask", "包邮吗", "--shop", str(shop), "--index", index]) == 0
    assert not [r for r in caplog.records if r.name.startswith("kefu_copilot")]
    caplog.clear()
    assert main(["-vv", "ask", "包邮吗", "--shop", str(shop), "--index", index]) == 0
    stages = {r.name for r in caplog.records if r.levelno == logging.DEBUG}
    assert {"kefu_copilot.answer._extractive", "kefu_copilot.retrieval._hybrid"} <= stages
    logging.getLogger("kefu_copilot").setLevel(logging.NOTSET)
