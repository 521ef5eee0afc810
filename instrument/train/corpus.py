"""A training corpus: its text in the shared vocabulary, split into train and held-out parts."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.vocab import encode, transliterate

HELDOUT_FRACTION = 0.05


@dataclass(frozen=True)
class Corpus:
    """Token ids of a corpus; the last 5% is held out and never trained on."""

    path: Path
    ids: np.ndarray  # (N,) uint8
    n_bytes: int
    sha256: str
    dropped: int  # characters with no ASCII spelling

    @property
    def split(self) -> int:
        """Index of the first held-out character."""
        return int(len(self.ids) * (1 - HELDOUT_FRACTION))

    @property
    def train(self) -> np.ndarray:
        return self.ids[: self.split]

    @property
    def heldout(self) -> np.ndarray:
        return self.ids[self.split :]


def load_corpus(path: str | Path) -> Corpus:
    """Read a UTF-8 text file and encode it into the ASCII-128 vocabulary."""
    path = Path(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not UTF-8 text ({e})") from None
    result = transliterate(text)
    if len(result.text) < 1000:
        raise ValueError(f"{path}: only {len(result.text)} usable characters; a corpus needs at least 1000")
    ids = encode(result.text)
    return Corpus(path, ids, len(raw), hashlib.sha256(raw).hexdigest(), result.dropped)
