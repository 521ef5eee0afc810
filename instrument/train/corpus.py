"""A training corpus: its text in the shared vocabulary, split into train and held-out parts."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..base.files import FileProblem, read_bytes
from ..core.vocab import encode, transliterate
from . import TrainingError

HELDOUT_FRACTION = 0.05
DEV_FRACTION = 0.05       # of the text before the held-out part: the LSTM never trains on it
DEV_CHARS = (10_000, 200_000)  # ... but at least and at most this many characters


@dataclass(frozen=True)
class Corpus:
    """Token ids of a corpus; the held-out part (from `split` on) is never trained on."""

    path: Path
    ids: np.ndarray  # (N,) uint8
    n_bytes: int
    sha256: str
    dropped: int  # characters with no ASCII spelling
    split_at: int | None = None  # set for a joined corpus; else the last 5% is held out

    @property
    def split(self) -> int:
        """Index of the first held-out character."""
        if self.split_at is not None:
            return self.split_at
        return int(len(self.ids) * (1 - HELDOUT_FRACTION))

    @property
    def dev_start(self) -> int:
        """Index of the first character of the dev slice: the text just before the held-out part
        that the LSTM does not train on, so that what is fitted after it (the memory's gate, the
        copy weights, the best checkpoint) is fitted on text the LSTM reads as it reads new text.
        (Fitted on text it trained on, the gate trusted an LSTM that had learnt that text by heart:
        Shakespeare's memory gained 0.03 bpc, 0.12 when fitted on unseen text.) A joined corpus (a
        base run) has none."""
        if self.split_at is not None:
            return self.split
        low, high = DEV_CHARS
        return self.split - int(min(high, max(low, DEV_FRACTION * self.split)))

    @property
    def train(self) -> np.ndarray:
        """What the LSTM trains on."""
        return self.ids[: self.dev_start]

    @property
    def known(self) -> np.ndarray:
        """Everything before the held-out part: what the style's memory holds."""
        return self.ids[: self.split]

    @property
    def heldout(self) -> np.ndarray:
        return self.ids[self.split :]


MAX_CORPUS = 64 << 20  # bytes: the largest shipped corpus is 5 MB; a 2x512 takes hours per 10 MB here
MIN_CHARS = 20_000  # a held-out part (5%), a dev slice (at least 10,000) and something to train on


def load_corpus(path: str | Path) -> Corpus:
    """Read a UTF-8 text file and encode it into the ASCII-128 vocabulary. A corpus goes through
    the guard every file of the instrument does (a regular file, size-capped: a FIFO would hang
    the run, /dev/zero fill memory); what is not text is refused by name (TrainingError)."""
    path = Path(path)
    try:
        raw = read_bytes(path, MAX_CORPUS)
    except FileProblem as e:
        raise TrainingError(f"{e} (a corpus is one UTF-8 text file of at most {MAX_CORPUS >> 20} MB)") from None
    if b"\x00" in raw[:65536]:
        raise TrainingError(f"{path}: a binary file (it holds zero bytes), not text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise TrainingError(f"{path}: not UTF-8 text (byte {e.start:,}: {raw[e.start:e.start + 1]!r}); convert it "
                            f"first, e.g. `iconv -f latin1 -t utf-8`") from None
    result = transliterate(text)
    if len(result.text) < MIN_CHARS:
        raise TrainingError(f"{path}: {len(result.text):,} usable characters; a corpus needs at least {MIN_CHARS:,} "
                            f"(5% held out, a dev slice of 10,000 and the rest to train on)")
    ids = encode(result.text)
    return Corpus(path, ids, len(raw), hashlib.sha256(raw).hexdigest(), result.dropped)


def load_corpora(paths: list[str | Path]) -> Corpus:
    """One corpus of several texts, for a base run that styles start from: each text keeps its own
    dev slice and held-out part out of training (so a style fine-tuned from the base is still
    fitted and measured on text no run has trained on). The training parts come first, then the
    dev slices, which the base run is judged on; the held-out parts are left out."""
    if len(paths) == 1:
        return load_corpus(paths[0])
    parts = [load_corpus(p) for p in paths]
    train = np.concatenate([c.train for c in parts])
    dev = np.concatenate([c.ids[c.dev_start : c.split] for c in parts])
    digest = hashlib.sha256("".join(c.sha256 for c in parts).encode()).hexdigest()
    label = Path("+".join(c.path.name for c in parts))
    return Corpus(label, np.concatenate([train, dev]), sum(c.n_bytes for c in parts), digest,
                  sum(c.dropped for c in parts), split_at=len(train))
