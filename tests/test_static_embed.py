"""Static models load without fastembed and give exactly fastembed's vectors."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from kefu_copilot import EmbeddingError
from kefu_copilot.embed._embedder import FastEmbedEmbedder, load_embedder
from kefu_copilot.embed._static import StaticModel

from .conftest import ROOT, STATIC_MODEL, shared_path

TEXTS = [
    "SKU-A123 卫衣起球吗",
    "退货运费谁出？",
    "",
    "   ",
    "这件卫衣洗了会缩水吗？我想买两件，一件L码一件XL码。" * 200,  # ~5,000 characters
    "好评😀👍🏻 物流超快🚚",
    "Do you ship to Hong Kong? 发顺丰还是中通",
    "订单号 20240611-8837 还没发货，急！！！",
    "ＳＫＵ－Ｂ４５６ 全角字符",
    "\u200b\t\n",
]


def _register_with_fastembed(
    monkeypatch: pytest.MonkeyPatch, directory: Path, dim: int
) -> tuple[str, str]:
    """Make fastembed accept ``directory`` as a static model; return (name, path)."""
    from fastembed.common.model_description import DenseModelDescription, ModelSource
    from fastembed.text import static_embedding

    name = f"local-test/{directory.name}-{abs(hash(str(directory))) % 10**8}"
    description = DenseModelDescription(
        model=name,
        dim=dim,
        description="test model",
        license="unknown",
        size_in_GB=0.0,
        sources=ModelSource(hf=name),
        model_file="model.safetensors",
    )
    monkeypatch.setattr(
        static_embedding,
        "supported_static_models",
        [*static_embedding.supported_static_models, description],
    )
    return name, str(directory)


def _fastembed_vectors(
    monkeypatch: pytest.MonkeyPatch, directory: Path, dim: int, texts: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """fastembed's own document vectors (batches of 256) and per-text query vectors."""
    from fastembed import TextEmbedding

    name, path = _register_with_fastembed(monkeypatch, directory, dim)
    te = TextEmbedding(name, specific_model_path=path, local_files_only=True)
    documents = np.vstack(list(te.embed(texts, batch_size=256))).astype(np.float32)
    queries = np.vstack([np.vstack(list(te.query_embed(text))) for text in texts])
    return documents, queries.astype(np.float32)


def _assert_same(actual: np.ndarray, expected: np.ndarray) -> None:
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, atol=1e-5, rtol=0)
    nonzero = np.linalg.norm(expected, axis=1) > 0
    assert not np.linalg.norm(actual[~nonzero], axis=1).any()  # zero stays zero
    cosines = (actual[nonzero] * expected[nonzero]).sum(axis=1)
    assert cosines.min() >= 0.99999


# --- the real model ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_model() -> Path:
    return shared_path("models", STATIC_MODEL.name)


def test_real_model_matches_fastembed(real_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    embedder = load_embedder(str(real_model), offline=True)
    assert isinstance(embedder, FastEmbedEmbedder)
    assert embedder.name == f"static:{real_model.name}"
    config = json.loads((real_model / "config.json").read_text(encoding="utf-8"))
    assert embedder.dim == int(config["hidden_dim"])

    # 300 texts: one full batch of 256 plus a partial one, as fastembed batches them.
    texts = [*TEXTS, *(f"{text} {i}" for i, text in enumerate(TEXTS * 30))][:300]
    documents, queries = _fastembed_vectors(monkeypatch, real_model, embedder.dim, texts)
    _assert_same(embedder.embed_documents(texts), documents)
    _assert_same(np.vstack([embedder.embed_query(text) for text in texts]), queries)
    assert not embedder.embed_query("").any() and not embedder.embed_query("   ").any()


def test_real_model_query_cache_and_threads(real_model: Path) -> None:
    embedder = load_embedder(str(real_model), offline=True)
    first = embedder.embed_query("卫衣起球吗")
    assert embedder.embed_query("卫衣起球吗") is first and not first.flags.writeable

    texts = [f"{text} {i}" for i, text in enumerate(TEXTS * 20)]
    expected_docs = embedder.embed_documents(texts)
    expected = {text: embedder.embed_query(text).copy() for text in texts[:50]}
    failures: list[str] = []

    def worker(seed: int) -> None:
        for _ in range(5):
            if not np.array_equal(embedder.embed_documents(texts), expected_docs):
                failures.append("documents")
            for text in texts[seed : seed + 20]:
                if not np.array_equal(embedder.embed_query(text), expected[text]):
                    failures.append(text)

    threads = [threading.Thread(target=worker, args=(i * 5,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures


# --- tiny synthetic models -----------------------------------------------------------------

VOCAB = ["[UNK]", "卫衣", "起球", "吗", "退货", "运费", "sku", "a", "123", "?"]


def _write_safetensors(path: Path, tensors: dict[str, tuple[str, np.ndarray]]) -> None:
    """Write a safetensors file by hand: {name: (safetensors dtype, float/int array)}."""
    header: dict[str, object] = {"__metadata__": {"format": "np"}}
    blobs: list[bytes] = []
    offset = 0
    for name, (dtype, array) in tensors.items():
        if dtype == "BF16":
            data = (np.asarray(array, dtype="<f4").view("<u4") >> 16).astype("<u2").tobytes()
        else:
            numpy_dtype = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4"}
            data = np.ascontiguousarray(array, dtype=numpy_dtype[dtype]).tobytes()
        header[name] = {
            "dtype": dtype,
            "shape": list(array.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    path.write_bytes(len(raw).to_bytes(8, "little") + raw + b"".join(blobs))


def _write_tokenizer(directory: Path, kind: str) -> None:
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers

    vocab = {token: i for i, token in enumerate(VOCAB)}
    if kind == "wordlevel":
        model = models.WordLevel(vocab, unk_token="[UNK]")
    elif kind == "wordpiece":
        model = models.WordPiece(vocab, unk_token="[UNK]", continuing_subword_prefix="##")
    else:  # unigram: its unk id is only in tokenizer.json
        model = models.Unigram([(token, -1.0) for token in VOCAB], unk_id=0)
    tokenizer = Tokenizer(model)
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.WhitespaceSplit(),
            pre_tokenizers.Punctuation("isolated"),
            pre_tokenizers.Split(Regex(r"[a-z]+|[0-9]+|[^a-z0-9]+"), "isolated"),
        ]
    )
    tokenizer.save(str(directory / "tokenizer.json"))


# Values exact in bfloat16 and float16, so every dtype gives the same hand-computed vectors.
EMBEDDINGS = np.array(
    [[8.0, 8.0, 8.0], *[[(i % 3) - 1.0, 0.5 * i, 2.0 - i] for i in range(1, len(VOCAB))]],
    dtype=np.float32,
)


def _make_model(
    directory: Path,
    dtype: str = "F32",
    *,
    kind: str = "wordlevel",
    weights: np.ndarray | None = None,
    mapping: np.ndarray | None = None,
    embeddings: np.ndarray = EMBEDDINGS,
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    tensors = {"embeddings": (dtype, embeddings)}
    if weights is not None:
        tensors["weights"] = ("F64", weights)
    if mapping is not None:
        tensors["mapping"] = ("I64", mapping)
    _write_safetensors(directory / "model.safetensors", tensors)
    _write_tokenizer(directory, kind)
    return directory


def _expected(
    token_lists: list[list[str]],
    embeddings: np.ndarray = EMBEDDINGS,
    weights: np.ndarray | None = None,
    mapping: np.ndarray | None = None,
) -> np.ndarray:
    """The normalised weighted mean of each text's known token vectors, by hand."""
    rows = []
    for tokens in token_lists:
        ids = [VOCAB.index(token) for token in tokens if token != "[UNK]"]
        total = np.zeros(embeddings.shape[1], dtype=np.float64)
        for token_id in ids:
            row = token_id if mapping is None else int(mapping[token_id])
            weight = 1.0 if weights is None else float(weights[token_id])
            total += weight * embeddings[row].astype(np.float64)
        mean = total / max(len(ids), 1)
        norm = np.linalg.norm(mean)
        rows.append(mean / norm if norm else mean)
    return np.array(rows, dtype=np.float32)


SYNTHETIC_TEXTS = ["卫衣 起球 吗", "SKU-A123 卫衣 卫衣", "退货 运费 ?", "", "不认识 的 词", "吗"]
SYNTHETIC_TOKENS = [
    ["卫衣", "起球", "吗"],
    ["sku", "[UNK]", "a", "123", "卫衣", "卫衣"],  # "-" is unknown and left out
    ["退货", "运费", "?"],
    [],
    ["[UNK]", "[UNK]", "[UNK]"],
    ["吗"],
]


@pytest.mark.parametrize("dtype", ["F32", "F16", "BF16", "F64"])
@pytest.mark.parametrize("kind", ["wordlevel", "wordpiece"])
def test_synthetic_model_is_the_mean_of_known_tokens(
    tmp_path: Path, dtype: str, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = _make_model(tmp_path / f"tiny-{kind}-{dtype}", dtype, kind=kind)
    embedder = load_embedder(str(directory))
    assert embedder.name == f"static:{directory.name}" and embedder.dim == 3
    expected = _expected(SYNTHETIC_TOKENS)
    documents = embedder.embed_documents(SYNTHETIC_TEXTS)
    assert documents.dtype == np.float32
    np.testing.assert_allclose(documents, expected, atol=1e-6)
    queries = np.vstack([embedder.embed_query(text) for text in SYNTHETIC_TEXTS])
    np.testing.assert_allclose(queries, expected, atol=1e-6)
    assert not documents[3].any() and not documents[4].any()

    fe_documents, fe_queries = _fastembed_vectors(monkeypatch, directory, 3, SYNTHETIC_TEXTS)
    _assert_same(documents, fe_documents)
    _assert_same(queries, fe_queries)


def test_weights_and_mapping_tensors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Vocabulary-quantized model2vec models: token ids map to shared rows, then reweighted."""
    weights = np.linspace(0.25, 2.0, len(VOCAB))
    mapping = np.array([0, 1, 1, 2, 3, 2, 0, 3, 1, 2], dtype=np.int64)
    shared_rows = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, -1.0]])
    directory = _make_model(
        tmp_path / "quantized", weights=weights, mapping=mapping, embeddings=shared_rows
    )
    embedder = load_embedder(str(directory))
    expected = _expected(SYNTHETIC_TOKENS, shared_rows, weights, mapping)
    documents = embedder.embed_documents(SYNTHETIC_TEXTS)
    np.testing.assert_allclose(documents, expected, atol=1e-6)
    np.testing.assert_allclose(embedder.embed_query(SYNTHETIC_TEXTS[1]), expected[1], atol=1e-6)

    fe_documents, fe_queries = _fastembed_vectors(monkeypatch, directory, 3, SYNTHETIC_TEXTS)
    _assert_same(documents, fe_documents)
    _assert_same(np.vstack([embedder.embed_query(t) for t in SYNTHETIC_TEXTS]), fe_queries)


def test_unigram_unknown_token_is_left_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = _make_model(tmp_path / "unigram", kind="unigram")
    model = StaticModel.load(directory)
    assert model._unk_token_id == 0
    texts = ["卫衣起球吗", "xyz 退货", "???"]
    fe_documents, _ = _fastembed_vectors(monkeypatch, directory, 3, texts)
    _assert_same(model.embed(texts), fe_documents)


def test_batches_and_bounded_pooling_give_the_same_vectors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = StaticModel.load(_make_model(tmp_path / "tiny"))
    texts = [SYNTHETIC_TEXTS[i % len(SYNTHETIC_TEXTS)] for i in range(600)]
    expected = _expected([SYNTHETIC_TOKENS[i % len(SYNTHETIC_TOKENS)] for i in range(600)])
    np.testing.assert_allclose(model.embed(texts), expected, atol=1e-6)
    np.testing.assert_allclose(model.embed(texts, batch_size=7), expected, atol=1e-6)
    monkeypatch.setattr(StaticModel, "POOLING_CELLS", 5)  # forces repeated halving
    np.testing.assert_allclose(model.embed(texts), expected, atol=1e-6)
    assert model.embed([]).shape == (0, 3)


def test_the_matrix_is_memory_mapped_read_only(tmp_path: Path) -> None:
    model = StaticModel.load(_make_model(tmp_path / "tiny"))
    matrix = model._embeddings.array
    assert not matrix.flags.writeable
    assert not matrix.flags.owndata  # a view of the mapped file, not a copy


def test_loading_does_not_import_fastembed(tmp_path: Path) -> None:
    directory = _make_model(tmp_path / "tiny")
    code = (
        "import sys\n"
        "from kefu_copilot.embed._embedder import load_embedder\n"
        f"e = load_embedder({str(directory)!r})\n"
        "e.embed_documents(['卫衣 起球']); e.embed_query('吗')\n"
        "print(sorted(m for m in ('fastembed', 'onnxruntime', 'huggingface_hub') "
        "if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


def _valid_header(**entry: object) -> dict[str, object]:
    tensor: dict[str, object] = {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}
    tensor.update(entry)
    return {"embeddings": tensor}


def _file(header: object, data: bytes = bytes(16), size: int | None = None) -> bytes:
    raw = json.dumps(header).encode()
    return (len(raw) if size is None else size).to_bytes(8, "little") + raw + data


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not a safetensors file"),
        (b"\x01\x02\x03", "not a safetensors file"),
        (_file(_valid_header(), size=10**12), "header claims"),
        (_file(_valid_header(), size=2**64 - 1), "header claims"),
        (b"\x05\x00\x00\x00\x00\x00\x00\x00{nope", "corrupt safetensors header"),
        (b"\x04\x00\x00\x00\x00\x00\x00\x00\xff\xfe\xfd\xfc", "corrupt safetensors header"),
        (_file([1, 2, 3]), "not a JSON object"),
        (_file({"embeddings": "F32"}), "malformed header entry"),
        (_file(_valid_header(dtype=None)), "unsupported dtype"),
        (_file(_valid_header(dtype="F8_E4M3")), "unsupported dtype"),
        (_file(_valid_header(shape=None)), "malformed header entry"),
        (_file(_valid_header(shape=[2, "2"])), "malformed shape"),
        (_file(_valid_header(shape=[2, -2])), "invalid shape"),
        (_file(_valid_header(data_offsets=[0])), "malformed header entry"),
        (_file(_valid_header(data_offsets=[16, 0])), "invalid shape"),
        (_file(_valid_header(shape=[3, 2])), "do not match"),
        (_file(_valid_header(), data=bytes(9)), "truncated"),
        (_file({"other": _valid_header()["embeddings"]}), "no 'embeddings' tensor"),
        (_file(_valid_header(shape=[4], data_offsets=[0, 16])), "expected (vocabulary, dim)"),
    ],
)
def test_corrupt_safetensors_raise_embedding_error(
    tmp_path: Path, content: bytes, message: str
) -> None:
    directory = _make_model(tmp_path / "broken")
    (directory / "model.safetensors").write_bytes(content)
    with pytest.raises(EmbeddingError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_embedder(str(directory))


def test_corrupt_tokenizer_raises_embedding_error(tmp_path: Path) -> None:
    directory = _make_model(tmp_path / "broken")
    (directory / "tokenizer.json").write_text('{"model": ', encoding="utf-8")
    with pytest.raises(EmbeddingError, match="tokenizer"):
        load_embedder(str(directory))


def test_unreadable_token_ids_fail_as_embedding_error(tmp_path: Path) -> None:
    """A matrix with fewer rows than the vocabulary fails at embed time, as EmbeddingError."""
    directory = _make_model(tmp_path / "short", embeddings=EMBEDDINGS[:3])
    embedder = load_embedder(str(directory))
    with pytest.raises(EmbeddingError, match="embedding failed"):
        embedder.embed_documents(["退货 运费", "吗"])
    with pytest.raises(EmbeddingError, match="embedding failed"):
        embedder.embed_query("退货")


# --- long words: linear time, the tokenizer's own ids (issue 21 #9) --------------------------


def _random_texts(letters: str, others: str, seed: int, count: int = 200) -> list[str]:
    """Runs of ``letters`` broken now and then by one of ``others`` (spaces, punctuation...)."""
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        size = rng.randint(1, 900)
        text = "".join(rng.choice(others if rng.random() < 0.02 else letters) for _ in range(size))
        texts.append(text if rng.random() < 0.5 else text.replace(" ", ""))
    return texts


def _assert_bounded_matches_the_tokenizer(model: StaticModel, texts: list[str]) -> None:
    bounded = model._bounded
    assert bounded is not None
    used = 0
    for text in texts:
        ids = bounded.encode(text)
        if ids is not None:
            used += 1
            expected = model._tokenizer.encode(text, add_special_tokens=False).ids
            assert ids == expected, text
    assert used > len(texts) // 4  # the bounded path was really exercised


def test_bounded_wordpiece_gives_the_real_tokenizers_ids(real_model: Path) -> None:
    model = StaticModel.load(real_model)
    letters = "请问这件羽绒服什么时候发货能不能七天无理由退货运费谁出"
    others = "ＡＢabcXY09，。！ -😀龘\n"
    _assert_bounded_matches_the_tokenizer(model, _random_texts(letters, others, seed=7))
    texts = [*TEXTS, *_random_texts(letters, others, seed=8, count=40)]
    with_bounded = model.embed(texts)
    model._bounded = None  # the tokenizer alone
    np.testing.assert_array_equal(with_bounded, model.embed(texts))


def test_bounded_wordpiece_with_a_subword_prefix_and_added_tokens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tokenizers import AddedToken, Tokenizer

    directory = _make_model(tmp_path / "wordpiece", kind="wordpiece")
    tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
    tokenizer.add_special_tokens([AddedToken("[UNK]", normalized=False)])
    tokenizer.save(str(directory / "tokenizer.json"))
    model = StaticModel.load(directory)
    monkeypatch.setattr(model._bounded, "long_word", 3)  # every word of 4+ characters
    _assert_bounded_matches_the_tokenizer(
        model, _random_texts("卫衣起球吗退货运费skua123", "?- [UNK]", 9)
    )


def test_bounded_wordpiece_is_not_used_for_other_models(tmp_path: Path) -> None:
    for kind in ("wordlevel", "unigram"):
        assert StaticModel.load(_make_model(tmp_path / kind, kind=kind))._bounded is None
