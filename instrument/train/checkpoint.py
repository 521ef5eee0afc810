"""Resumable training state in safetensors (never pickle): weights, optimizer moments, the
carried stream state and a JSON record of where the run stands."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from ..core.model import ModelConfig, atomic_write

RECORD_KEY = "instrument.run"


@dataclass
class RunRecord:
    """The non-tensor facts of a run."""

    name: str
    corpus: str
    corpus_sha256: str
    model: dict
    train: dict
    step: int = 0
    chars_trained: int = 0
    elapsed_s: float = 0.0
    batcher: dict = field(default_factory=dict)
    best_bpc: float | None = None
    best_step: int | None = None
    history: list = field(default_factory=list)  # [step, elapsed_s, train_bpc, heldout_bpc]
    param_groups: list = field(default_factory=list)
    init: dict | None = None  # the base run these weights started from: {"run", "chars", "minutes"}

    @property
    def model_config(self) -> ModelConfig:
        return ModelConfig(**self.model)


def save_checkpoint(path: Path, record: RunRecord, model: torch.nn.Module,
                    optimizer: torch.optim.Optimizer, stream_state) -> None:
    """Write the whole run state atomically."""
    from safetensors.torch import save_file

    tensors = {f"model.{k}": v.detach().contiguous() for k, v in model.state_dict().items()}
    opt = optimizer.state_dict()
    for idx, slots in opt["state"].items():
        for slot, value in slots.items():
            tensors[f"opt.{idx}.{slot}"] = torch.as_tensor(value).detach().contiguous()
    if stream_state is not None:
        tensors["stream.h"], tensors["stream.c"] = (s.detach().contiguous() for s in stream_state)
    tensors["rng.torch"] = torch.get_rng_state()
    record.param_groups = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()}
                           for g in opt["param_groups"]]
    meta = {RECORD_KEY: json.dumps(asdict(record))}
    atomic_write(path, lambda tmp: save_file(tensors, str(tmp), metadata=meta))


def save_weights(path: Path, record: RunRecord, model: torch.nn.Module) -> None:
    """The best-so-far weights (fp32) with the record, for export."""
    from safetensors.torch import save_file

    tensors = {f"model.{k}": v.detach().contiguous() for k, v in model.state_dict().items()}
    meta = {RECORD_KEY: json.dumps(asdict(record))}
    atomic_write(path, lambda tmp: save_file(tensors, str(tmp), metadata=meta))


def read_record(path: Path) -> RunRecord:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return RunRecord(**json.loads(f.metadata()[RECORD_KEY]))


def load_tensors(path: Path, prefix: str) -> dict[str, torch.Tensor]:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return {k[len(prefix):]: f.get_tensor(k) for k in f.keys() if k.startswith(prefix)}


def restore_optimizer(optimizer: torch.optim.Optimizer, record: RunRecord, path: Path) -> None:
    """Rebuild the optimizer's state_dict from the flat tensors."""
    state: dict[int, dict] = {}
    for key, value in load_tensors(path, "opt.").items():
        idx, slot = key.split(".", 1)
        state.setdefault(int(idx), {})[slot] = value
    groups = [{k: (tuple(v) if k == "betas" else v) for k, v in g.items()} for g in record.param_groups]
    optimizer.load_state_dict({"state": state, "param_groups": groups})


def restore_stream_state(path: Path):
    tensors = load_tensors(path, "stream.")
    return (tensors["h"], tensors["c"]) if tensors else None


def restore_rng(path: Path) -> None:
    torch.set_rng_state(load_tensors(path, "rng.")["torch"])
