"""Issue 21 #9: the CPU a message costs grows linearly with its length. Chinese without
punctuation is one long "word" to the static model's WordPiece tokenizer, whose own search is
quadratic in the word (4,000 characters cost 3.7 s)."""

from __future__ import annotations

import random
import time

import pytest

from kefu_copilot.embed._static import StaticModel

from ..conftest import STATIC_MODEL, shared_path

WORDS = "请问这件羽绒服什么时候发货我想知道能不能七天无理由退货还有运费谁出"


def _seconds(model: StaticModel, text: str) -> float:
    best = float("inf")
    for _ in range(3):  # CPU time, best of three: a busy machine's wall time measures the queue
        started = time.thread_time()
        model.embed([text])
        best = min(best, time.thread_time() - started)
    return best


def test_a_long_message_without_punctuation_embeds_in_linear_time() -> None:
    model = StaticModel.load(shared_path("models", STATIC_MODEL.name))
    rng = random.Random(3)
    text = "".join(rng.choice(WORDS) for _ in range(8000))
    model.embed([text[:100]])  # warm up
    short, long = _seconds(model, text[:4000]), _seconds(model, text)
    assert short < 0.5, f"4,000 characters took {short:.2f} s"
    assert long / max(short, 1e-3) < 3, f"8,000 characters: {long:.3f} s vs 4,000: {short:.3f} s"


@pytest.mark.parametrize("size", [1000, 4000])
def test_a_long_message_gives_the_tokenizers_vector(size: int) -> None:
    model = StaticModel.load(shared_path("models", STATIC_MODEL.name))
    text = "".join(random.Random(size).choice(WORDS) for _ in range(size))
    ours = model.embed([text])
    model._bounded = None
    assert (ours == model.embed([text])).all()
