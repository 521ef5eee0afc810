"""Stateful batches: B contiguous streams through the text, so the hidden state carries on
from one batch to the next as it does when the instrument plays."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch


@dataclass
class StreamPosition:
    """Where the batcher is; saved in checkpoints so a resumed run continues exactly."""

    epoch: int = 0
    index: int = 0  # batch index within the epoch


class StreamBatcher:
    """Cuts text into `batch` streams and yields (input, target) windows of `seq_len` steps."""

    def __init__(self, ids: np.ndarray, batch: int, seq_len: int, seed: int = 0):
        if len(ids) < batch * (seq_len + 1) * 2:
            raise ValueError(f"text of {len(ids)} characters is too short for batch {batch} x {seq_len}")
        self.ids = torch.from_numpy(np.asarray(ids, dtype=np.int64))
        self.batch, self.seq_len, self.seed = batch, seq_len, seed
        self.position = StreamPosition()
        self._streams = self._epoch_streams(0)

    @property
    def batches_per_epoch(self) -> int:
        return (len(self.ids) // self.batch - self.seq_len) // self.seq_len

    def _epoch_streams(self, epoch: int) -> torch.Tensor:
        """(B, L) streams for one epoch; a different start offset each epoch varies the cuts."""
        offset = int(np.random.default_rng([self.seed, epoch]).integers(0, self.seq_len))
        length = (len(self.ids) - offset) // self.batch
        return self.ids[offset : offset + length * self.batch].view(self.batch, length)

    def next(self) -> tuple[torch.Tensor, torch.Tensor, bool]:
        """(x, y) of shape (T, B), and whether this batch starts a new epoch (reset the state)."""
        if self.position.index >= self.batches_per_epoch:
            self.position = StreamPosition(self.position.epoch + 1, 0)
            self._streams = self._epoch_streams(self.position.epoch)
        fresh = self.position.index == 0
        start = self.position.index * self.seq_len
        window = self._streams[:, start : start + self.seq_len + 1].t()  # (T+1, B)
        self.position.index += 1
        return window[:-1].contiguous(), window[1:].contiguous(), fresh

    def state(self) -> dict:
        return asdict(self.position)

    def restore(self, state: dict) -> None:
        self.position = StreamPosition(**state)
        self._streams = self._epoch_streams(self.position.epoch)
