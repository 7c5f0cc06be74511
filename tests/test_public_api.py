from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import kefu_copilot

EXPECTED = {
    "Advisor",
    "Comparison",
    "Recommendation",
    "Answer",
    "ChineseTokenizer",
    "Chunk",
    "Citation",
    "Compensation",
    "ConfigError",
    "Copilot",
    "CopilotPool",
    "DEFAULT_EMBED_MODEL",
    "Decision",
    "EmbeddingError",
    "Embedder",
    "EvalError",
    "FileIssue",
    "IndexLockedError",
    "IngestError",
    "IngestReport",
    "InputError",
    "KefuError",
    "KnowledgeIndexError",
    "LLMError",
    "LLMJudge",
    "LLMRateLimitError",
    "LLMResponseError",
    "LLMStatusError",
    "LLMTimeoutError",
    "Message",
    "MissingExtraError",
    "PromptError",
    "Settings",
    "SharedResources",
    "ShopConfig",
    "ShopError",
    "ShopLocation",
    "Tokenizer",
    "Usage",
    "VectorStore",
    "VectorStoreError",
    "__version__",
    "load_shop_config",
}


def test_all_is_the_public_api() -> None:
    assert set(kefu_copilot.__all__) >= EXPECTED
    for name in kefu_copilot.__all__:
        assert hasattr(kefu_copilot, name), name
    public = {n for n in dir(kefu_copilot) if not n.startswith("_")}
    # everything public at top level is declared; besides, only the stage folders (namespaces
    # whose modules are private, named _x) and the shipped test models may show up
    package = Path(kefu_copilot.__file__).parent
    folders = {p.parent.name for p in package.glob("*/__init__.py")}
    assert public - set(kefu_copilot.__all__) <= {"annotations", *folders}


def test_every_lazy_name_resolves() -> None:
    import importlib

    fresh = importlib.reload(kefu_copilot)
    for name in fresh.__all__:
        assert getattr(fresh, name) is not None, name
    assert set(dir(fresh)) >= set(fresh.__all__)


def test_errors_share_one_root() -> None:
    for name in kefu_copilot.__all__:
        obj = getattr(kefu_copilot, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, kefu_copilot.KefuError), name


def test_import_is_light() -> None:
    code = (
        "import sys, kefu_copilot; "
        "heavy = [m for m in ('jieba', 'chromadb', 'fastembed', 'llama_index', 'openai', 'bm25s', "
        "'numpy', 'rich') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
