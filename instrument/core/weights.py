"""A model file as plain arrays: its config and its tensors, read and checked without torch.

The engine's kernel needs only numpy arrays, and importing torch costs about two seconds of the
instrument's start, so the play path reads files here; torch comes in only where a torch module
is wanted (training, the torch fallback group, `CharLSTM.load`).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
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
        raise ModelFileError(path, "no such file (or not a regular file)")
    try:
        with safe_open(str(path), framework="numpy") as f:
            config = _config_from_metadata(path, f.metadata() or {})
            # names, dtypes and shapes come from the file's header: every one is checked before a
            # single tensor is read, so an unneeded 1.6 GB tensor is refused, not loaded first
            _check_header(path, config, {k: (f.get_slice(k).get_dtype(), tuple(f.get_slice(k).get_shape()))
                                         for k in f.keys()})
            with np.errstate(over="ignore"):  # past float32's range becomes inf, refused just below
                tensors = {k: np.ascontiguousarray(f.get_tensor(k), dtype=np.float32) for k in f.keys()}
    except ModelFileError:
        raise
    except (SafetensorError, OSError, ValueError, RuntimeError, TypeError, OverflowError) as e:
        raise ModelFileError(path, f"not a readable safetensors file (truncated or another format?): {e}") from None
    for name, tensor in tensors.items():  # after the cast: float64 weights past float32's range become inf
        if not np.isfinite(tensor).all():
            raise ModelFileError(path, f"tensor {name} holds NaN or infinite values (or values past float32's range)")
    return ModelWeights(config, tensors)


# What a config's fields may hold: (type, low, high). bool is not an int here, nor 512.0 or "2".
CONFIG_FIELDS = {"n_layers": (int, 1, 4), "hidden": (int, 1, 4096), "dropout": ((int, float), 0.0, 1.0)}


def _config_from_metadata(path: Path, meta: dict[str, str]) -> ModelConfig:
    if CONFIG_KEY not in meta:
        raise ModelFileError(path, f"no '{CONFIG_KEY}' in its metadata: not an instrument model")
    try:
        raw = json.loads(meta[CONFIG_KEY])
    except (json.JSONDecodeError, RecursionError) as e:
        raise ModelFileError(path, f"its config metadata is not JSON: {str(e)[:100]}") from None
    if not isinstance(raw, dict):
        raise ModelFileError(path, f"its config metadata is a {type(raw).__name__}, not a mapping of fields")
    if raw.get("vocab_size", VOCAB_SIZE) != VOCAB_SIZE:
        raise ModelFileError(path, f"vocabulary size {str(raw.get('vocab_size'))[:20]}, but the instrument uses {VOCAB_SIZE}")
    values = {}
    for name, (kind, lo, hi) in CONFIG_FIELDS.items():
        value = raw.get(name, getattr(ModelConfig, name))
        if isinstance(value, bool) or not isinstance(value, kind) or not lo <= value <= hi:
            shown = repr(value) if len(repr(value)) < 40 else repr(value)[:37] + "..."
            raise ModelFileError(path, f"its config's {name} is {shown}; it must be a {kind.__name__ if isinstance(kind, type) else 'number'}"
                                       f" from {lo} to {hi}")
        values[name] = value
    return ModelConfig(**values)


def _check_header(path: Path, config: ModelConfig, header: dict[str, tuple[str, tuple]]) -> None:
    """Every tensor's name, dtype and shape against the config, from the header alone."""
    odd = sorted({dtype for dtype, _ in header.values()} - set(READABLE_DTYPES))
    if odd:
        raise ModelFileError(path, f"it holds {'/'.join(odd)} tensors, the instrument reads "
                                   f"{'/'.join(READABLE_DTYPES)}: save the model as fp16 or fp32")
    expected = config.expected_shapes()
    missing = sorted(set(expected) - set(header))
    extra = sorted(set(header) - set(expected))
    if missing or extra:
        raise ModelFileError(path, f"tensors do not match its {config.arch} config: missing {missing[:5]}, "
                                   f"unexpected {[n[:40] for n in extra[:5]]}")
    for name, shape in expected.items():
        if header[name][1] != shape:
            raise ModelFileError(path, f"tensor {name} has shape {header[name][1]}, its {config.arch} config needs {shape}")


def atomic_write(path: Path, write) -> None:
    """Call write(tmp_path) then rename over path, so a crash never leaves half a file (and a
    failed write leaves no temporary file behind). The one such helper: base/files.py uses it too."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
