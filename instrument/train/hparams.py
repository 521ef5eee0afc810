"""Training hyper-parameters, with defaults chosen by architecture and corpus size."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TrainConfig:
    """Everything that shapes a training run besides the architecture."""

    batch: int = 64
    seq_len: int = 128          # the paper trained on sequences of at least 80 characters
    lr: float = 2e-3
    min_lr_frac: float = 0.05   # cosine decay ends at lr * min_lr_frac
    warmup_steps: int = 50
    weight_decay: float = 0.01
    clip: float = 1.0           # gradient norm
    dropout: float = 0.2
    seed: int = 0
    minutes: float | None = None  # budget: wall-clock minutes ...
    epochs: float | None = None   # ... or passes over the training text
    eval_every_s: float = 300.0
    ckpt_every_s: float = 300.0
    eval_chars: int = 100_000   # periodic check on this many characters of the dev slice
    patience: int | None = 5    # checks in a row without a better dev figure before the run stops (None: never)

    def budget(self) -> str:
        return f"{self.minutes:g} min" if self.minutes is not None else f"{self.epochs:g} epochs"


def default_dropout(train_chars: int) -> float:
    """Small corpora overfit first, so they get more dropout."""
    if train_chars < 500_000:
        return 0.3
    if train_chars < 2_000_000:
        return 0.25
    return 0.2


def default_lr(hidden: int) -> float:
    return 4e-3 if hidden <= 256 else 3e-3


def defaults_for(hidden: int, train_chars: int, **overrides) -> TrainConfig:
    """Sensible defaults for a model of `hidden` units on a corpus of `train_chars`."""
    config = TrainConfig(lr=default_lr(hidden), dropout=default_dropout(train_chars))
    for key, value in overrides.items():
        if value is not None:
            setattr(config, key, value)
    if config.minutes is None and config.epochs is None:
        config.epochs = 10.0
    if config.minutes is not None and "eval_every_s" not in overrides:
        # about ten checks of the dev slice in a short run, so its best weights are found
        config.eval_every_s = config.ckpt_every_s = min(config.eval_every_s, max(30.0, 6.0 * config.minutes))
    return config
