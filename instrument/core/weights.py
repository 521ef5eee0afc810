"""A model file as plain arrays: its config and its tensors, read and checked without torch.

The engine's kernel needs only numpy arrays, and importing torch costs about two seconds of the
instrument's start, so the play path reads files here; torch comes in only where a torch module
is wanted (training, the torch fallback group, `CharLSTM.load`).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from .vocab import VOCAB_SIZE

CONFIG_KEY = "instrument.config"
READABLE_DTYPES = ("F16", "F32", "F64")  # what numpy reads; torch-only bfloat16 is refused by name


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


@dataclass(frozen=True)
class ModelWeights:
    """One model's config and its tensors as float32 arrays, named as in the torch module."""

    config: ModelConfig
    tensors: dict[str, np.ndarray]

    def lstm_parts(self, layer: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(W_ih, W_hh, b_ih + b_hh) of one layer."""
        t = self.tensors
        return (t[f"lstm.weight_ih_l{layer}"], t[f"lstm.weight_hh_l{layer}"],
                t[f"lstm.bias_ih_l{layer}"] + t[f"lstm.bias_hh_l{layer}"])

    def recurrent(self, layer: int) -> np.ndarray:
        """What a layer multiplies its state vector by, (4H, K): W_hh for the first layer (its
        input is a one-hot column), [W_ih | W_hh] above it (the layer below's h, then its own)."""
        w_ih, w_hh, _ = self.lstm_parts(layer)
        return w_hh if layer == 0 else np.concatenate([w_ih, w_hh], axis=1)


def read_weights(path: os.PathLike | str) -> ModelWeights:
    """Read and validate a model file: config from metadata, tensors checked against it."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(path, "no such file")
    try:
        with safe_open(str(path), framework="numpy") as f:
            meta = f.metadata() or {}
            odd = sorted({f.get_slice(k).get_dtype() for k in f.keys()} - set(READABLE_DTYPES))
            if odd:
                raise ModelFileError(path, f"it holds {'/'.join(odd)} tensors, the instrument reads "
                                           f"{'/'.join(READABLE_DTYPES)}: save the model as fp16 or fp32")
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except ModelFileError:
        raise
    except (SafetensorError, OSError, ValueError, RuntimeError, TypeError) as e:
        raise ModelFileError(path, f"not a readable safetensors file (truncated or another format?): {e}") from None
    config = _config_from_metadata(path, meta)
    _check_tensors(path, config, tensors)
    return ModelWeights(config, {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in tensors.items()})


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


def _check_tensors(path: Path, config: ModelConfig, tensors: dict[str, np.ndarray]) -> None:
    expected = config.expected_shapes()
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    if missing or extra:
        raise ModelFileError(path, f"tensors do not match its {config.arch} config: missing {missing}, unexpected {extra}")
    for name, shape in expected.items():
        tensor = tensors[name]
        if tuple(tensor.shape) != shape:
            raise ModelFileError(path, f"tensor {name} has shape {tuple(tensor.shape)}, its {config.arch} config needs {shape}")
        if not np.isfinite(tensor).all():
            raise ModelFileError(path, f"tensor {name} holds NaN or infinite values")


def atomic_write(path: Path, write) -> None:
    """Call write(tmp_path) then rename over path, so a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)
