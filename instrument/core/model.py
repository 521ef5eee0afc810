"""CharLSTM: 128 one-hot inputs -> L LSTM layers of H units -> 128 logits.

The config travels inside the safetensors metadata, so a weights file is self-describing:
`CharLSTM.load(path)` needs no side file.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from .vocab import VOCAB_SIZE

State = tuple[torch.Tensor, torch.Tensor]  # (h, c), each (L, B, H)
CONFIG_KEY = "instrument.config"


class ModelFileError(ValueError):
    """A model file that cannot be used; the message names the file and what is wrong."""

    def __init__(self, path: os.PathLike | str, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path = str(path)
        self.problem = problem


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of one style model."""

    n_layers: int = 2
    hidden: int = 512
    vocab_size: int = VOCAB_SIZE
    dropout: float = 0.2

    @property
    def arch(self) -> str:
        return f"{self.n_layers}x{self.hidden}"

    @classmethod
    def from_arch(cls, arch: str, **kwargs) -> "ModelConfig":
        """Parse '2x512' (layers x units)."""
        try:
            layers, hidden = (int(p) for p in arch.lower().split("x"))
        except ValueError:
            raise ValueError(f"architecture {arch!r} is not LAYERSxUNITS, e.g. 2x512") from None
        if not (1 <= layers <= 4 and 16 <= hidden <= 2048):
            raise ValueError(f"architecture {arch!r} is out of range (1-4 layers, 16-2048 units)")
        return cls(n_layers=layers, hidden=hidden, **kwargs)

    def expected_shapes(self) -> dict[str, tuple[int, ...]]:
        """Name -> shape of every tensor a model of this config holds."""
        shapes: dict[str, tuple[int, ...]] = {}
        for layer in range(self.n_layers):
            n_in = self.vocab_size if layer == 0 else self.hidden
            shapes[f"lstm.weight_ih_l{layer}"] = (4 * self.hidden, n_in)
            shapes[f"lstm.weight_hh_l{layer}"] = (4 * self.hidden, self.hidden)
            shapes[f"lstm.bias_ih_l{layer}"] = (4 * self.hidden,)
            shapes[f"lstm.bias_hh_l{layer}"] = (4 * self.hidden,)
        shapes["head.weight"] = (self.vocab_size, self.hidden)
        shapes["head.bias"] = (self.vocab_size,)
        return shapes


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

    def initial_state(self, batch: int = 1) -> State:
        shape = (self.config.n_layers, batch, self.config.hidden)
        w = self.head.weight
        return torch.zeros(shape, dtype=w.dtype, device=w.device), torch.zeros(shape, dtype=w.dtype, device=w.device)

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
        config, tensors = read_model_file(path)
        model = cls(config)
        model.load_state_dict({k: v.to(dtype) for k, v in tensors.items()})
        return model.to(dtype).eval()


def read_model_file(path: os.PathLike | str) -> tuple[ModelConfig, dict[str, torch.Tensor]]:
    """Read and validate a model file: config from metadata, tensors checked against it."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(path, "no such file")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise ModelFileError(path, f"not a readable safetensors file (truncated or another format?): {e}") from None
    config = _config_from_metadata(path, meta)
    _check_tensors(path, config, tensors)
    return config, tensors


def _config_from_metadata(path: Path, meta: dict[str, str]) -> ModelConfig:
    if CONFIG_KEY not in meta:
        raise ModelFileError(path, f"no '{CONFIG_KEY}' in its metadata: not an instrument model")
    try:
        raw = json.loads(meta[CONFIG_KEY])
        known = {f.name for f in fields(ModelConfig)}
        config = ModelConfig(**{k: v for k, v in raw.items() if k in known})
    except (json.JSONDecodeError, TypeError) as e:
        raise ModelFileError(path, f"its config metadata is unreadable: {e}") from None
    if config.vocab_size != VOCAB_SIZE:
        raise ModelFileError(path, f"vocabulary size {config.vocab_size}, but the instrument uses {VOCAB_SIZE}")
    return config


def _check_tensors(path: Path, config: ModelConfig, tensors: dict[str, torch.Tensor]) -> None:
    expected = config.expected_shapes()
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    if missing or extra:
        raise ModelFileError(path, f"tensors do not match its {config.arch} config: missing {missing}, unexpected {extra}")
    for name, shape in expected.items():
        if tuple(tensors[name].shape) != shape:
            raise ModelFileError(path, f"tensor {name} has shape {tuple(tensors[name].shape)}, its {config.arch} config needs {shape}")
        if not torch.isfinite(tensors[name].float()).all():
            raise ModelFileError(path, f"tensor {name} holds NaN or infinite values")


def atomic_write(path: Path, write) -> None:
    """Call write(tmp_path) then rename over path, so a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)
