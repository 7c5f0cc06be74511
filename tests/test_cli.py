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


def test_agent_side_commands_end_to_end(shop: Path, tmp_path: Path, capsys) -> None:
    """suggest, flag, lint, recommend and compare on the sample shop: JSON out, lint's exit
    status gates on an error-level issue, a conversation's '客服:' messages are the agent's."""
    base = ["--shop", str(shop), "--index", str(tmp_path / "idx"), "--embed-model", "none"]
    assert (
        main(["suggest", "衣服买回来不喜欢可以退吗", "--draft", "不行，这是规定", *base, "--json"])
        == 0
    )
    drafts = json.loads(capsys.readouterr().out)
    assert len(drafts) == 1 and "这是规定" not in drafts[0]["text"]
    assert drafts[0]["citations"] and "无理由" in drafts[0]["text"]  # the shop's return rule

    flag_args = ["flag", "我的快递呢", "客服:亲，在路上了", "你们再不处理我就打12315投诉", "--json"]
    assert main(flag_args) == 0
    flag = json.loads(capsys.readouterr().out)
    assert flag["escalate"] and "complaint_threat" in flag["risk"]
    assert main(["flag", "客服:您好", "--json"]) == 2  # no customer message
    assert "customer message" in capsys.readouterr().err

    assert main(["lint", "亲,不可以的哦", *base, "--json"]) == 1
    assert "banned_phrase" in {i["code"] for i in json.loads(capsys.readouterr().out)}
    clean = "亲，理解您的心情，签收后7天内可以申请七天无理由退货，需要我帮您看一下吗？"
    assert main(["lint", clean, *base, "--customer", "能退吗"]) == 0
    assert "no issues" in capsys.readouterr().out

    assert main(["recommend", "想给妈妈买件卫衣 预算200", *base, "--json"]) == 0
    picks = json.loads(capsys.readouterr().out)["picks"]
    assert picks and all(min(p["prices"]) <= 200 for p in picks if p["prices"])

    assert main(["compare", "卫衣", "跑步鞋", *base]) == 0
    shown = capsys.readouterr().out
    assert "价格" in shown and "159" in shown and "299" in shown


def test_output_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """`kefu … --json | head -c 0`: the reader is gone before anything is written; the command
    ends without a BrokenPipeError traceback."""
    code = "import sys; from kefu_copilot.cli._main import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "flag", "我的快递呢", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")},
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before the interpreter has even imported the package
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipeError" not in err
