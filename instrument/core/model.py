"""CharLSTM: 128 one-hot inputs -> L LSTM layers of H units -> 128 logits.

The config travels inside the safetensors metadata, so a weights file is self-describing:
`CharLSTM.load(path)` needs no side file.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from .weights import CONFIG_KEY, ModelConfig, ModelFileError, ModelWeights, atomic_write, read_weights

__all__ = ["CharLSTM", "ModelConfig", "ModelFileError", "ModelWeights", "atomic_write", "read_weights"]

State = tuple[torch.Tensor, torch.Tensor]  # (h, c), each (L, B, H)


class CharLSTM(nn.Module):
    """A character-level LSTM language model over the shared ASCII-128 vocabulary."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.lstm = nn.LSTM(config.vocab_size, config.hidden, config.n_layers,
                            dropout=config.dropout if config.n_layers > 1 else 0.0)
        self.drop = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden, config.vocab_size)
        # With one-hot input, the first layer's input columns are an embedding: start them at an
        # embedding's scale, so the input is heard from the first step (measured: faster start).
        nn.init.uniform_(self.lstm.weight_ih_l0, -1.0, 1.0)

    def forward(self, x: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """x: (T, B) token ids -> logits (T, B, V) and the state after the last step."""
        onehot = F.one_hot(x.long(), self.config.vocab_size).to(self.head.weight.dtype)  # (T, B, V)
        out, state = self.lstm(onehot, state)  # (T, B, H)
        return self.head(self.drop(out)), state

    def step(self, x: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """One character per batch row: x (B,) -> logits (B, V) and the next state."""
        logits, state = self.forward(x.view(1, -1), state)
        return logits[0], state

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    # --- files -------------------------------------------------------------------------------

    def save(self, path: os.PathLike | str, dtype: torch.dtype = torch.float16,
             metadata: dict[str, str] | None = None) -> None:
        """Write weights (fp16 by default) with the config in the metadata; atomic."""
        from safetensors.torch import save_file

        tensors = {k: v.detach().to(dtype).contiguous() for k, v in self.state_dict().items()}
        meta = {CONFIG_KEY: json.dumps(asdict(self.config)), **(metadata or {})}
        atomic_write(Path(path), lambda tmp: save_file(tensors, str(tmp), metadata=meta))

    @classmethod
    def load(cls, path: os.PathLike | str, dtype: torch.dtype = torch.float32) -> "CharLSTM":
        """Load a self-describing weights file; any problem raises ModelFileError naming it."""
        return cls.from_weights(read_weights(path), dtype)

    @classmethod
    def from_weights(cls, weights: ModelWeights, dtype: torch.dtype = torch.float32) -> "CharLSTM":
        model = cls(weights.config)
        model.load_state_dict({k: torch.from_numpy(v).to(dtype) for k, v in weights.tensors.items()})
        return model.to(dtype).eval()

    def weights(self) -> ModelWeights:
        """This module's config and float32 tensors, the form the engine's groups are built from."""
        return ModelWeights(self.config, {k: v.detach().float().contiguous().numpy().copy()
                                          for k, v in self.state_dict().items()})
