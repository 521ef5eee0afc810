"""The training loop. It knows nothing of progress bars or files: it reports through callbacks
(on_batch_end, on_eval, on_checkpoint) and the CLI subscribes what it wants."""
from __future__ import annotations

import math
import time
from collections import defaultdict
from pathlib import Path

import torch
import torch.nn.functional as F

from .batches import StreamBatcher
from .checkpoint import (RunRecord, restore_optimizer, restore_rng, restore_stream_state,
                         save_checkpoint, save_weights)
from .corpus import Corpus
from .evaluate import bits_per_char
from .hparams import TrainConfig

LN2 = math.log(2)


def make_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices only (biases are not shrunk)."""
    matrices = [p for p in model.parameters() if p.dim() >= 2]
    vectors = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": matrices, "weight_decay": config.weight_decay},
              {"params": vectors, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=config.lr, betas=(0.9, 0.99))


WARMUP_SHARE = 0.05  # the warm-up never takes more than this share of the budget


def learning_rate(config: TrainConfig, step: int, progress: float) -> float:
    """Linear warm-up over warmup_steps or the first WARMUP_SHARE of the budget, whichever ends
    first (a one-minute run would otherwise end inside its warm-up, a style of noise), then cosine
    decay from lr to lr * min_lr_frac over the budget."""
    ramp = max((step + 1) / config.warmup_steps, progress / WARMUP_SHARE)
    if ramp < 1.0:
        return config.lr * ramp
    floor = config.lr * config.min_lr_frac
    return floor + (config.lr - floor) * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


class Trainer:
    """Trains one CharLSTM on one corpus, resumably."""

    def __init__(self, model, corpus: Corpus, config: TrainConfig, record: RunRecord, run_dir: Path):
        self.model, self.corpus, self.config, self.record = model, corpus, config, record
        self.run_dir = Path(run_dir)
        self.optimizer = make_optimizer(model, config)
        self.batcher = StreamBatcher(corpus.train, config.batch, config.seq_len, config.seed)
        self.stream_state = None
        self.callbacks: dict[str, list] = defaultdict(list)
        self.last_train_bpc = float("nan")
        self.last_dev_bpc = record.best_bpc

    # --- callbacks -------------------------------------------------------------------------
    def add_callback(self, event: str, fn) -> None:
        self.callbacks[event].append(fn)

    def _fire(self, event: str) -> None:
        for fn in self.callbacks[event]:
            fn(self)

    # --- state -----------------------------------------------------------------------------
    @property
    def last_path(self) -> Path:
        return self.run_dir / "last.safetensors"

    @property
    def best_path(self) -> Path:
        return self.run_dir / "best.safetensors"

    def resume(self) -> None:
        """Continue from the last checkpoint of this run."""
        from .checkpoint import load_tensors

        self.model.load_state_dict(load_tensors(self.last_path, "model."))
        restore_optimizer(self.optimizer, self.record, self.last_path)
        self.batcher.restore(self.record.batcher)
        self.stream_state = restore_stream_state(self.last_path)
        restore_rng(self.last_path)

    def checkpoint(self) -> None:
        self.record.batcher = self.batcher.state()
        save_checkpoint(self.last_path, self.record, self.model, self.optimizer, self.stream_state)
        self._fire("on_checkpoint")

    @property
    def progress(self) -> float:
        """Fraction of the budget spent, 0..1."""
        if self.config.minutes is not None:
            return self.record.elapsed_s / (60 * self.config.minutes)
        return self.record.step / max(1, self.config.epochs * self.batcher.batches_per_epoch)

    # --- the loop --------------------------------------------------------------------------
    def train_step(self) -> float:
        """One batch: forward, backward, clip, step. Returns the batch loss in bits per char."""
        x, y, fresh = self.batcher.next()
        if fresh:
            self.stream_state = None
        for group in self.optimizer.param_groups:
            group["lr"] = learning_rate(self.config, self.record.step, self.progress)
        logits, state = self.model(x, self.stream_state)
        self.stream_state = tuple(s.detach() for s in state)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.clip)
        self.optimizer.step()
        self.record.step += 1
        self.record.chars_trained += x.numel()
        return loss.item() / LN2

    def evaluate(self) -> float:
        """bpc on the dev slice (a base run without one: on the held-out part); keeps the best
        weights."""
        start = self.corpus.dev_start
        stop = self.corpus.split if self.corpus.dev_start < self.corpus.split else len(self.corpus.ids)
        end = min(stop, start + self.config.eval_chars)
        bpc = bits_per_char(self.model, self.corpus.ids, start, end)
        self.last_dev_bpc = bpc
        self.record.history.append([self.record.step, round(self.record.elapsed_s, 1),
                                    round(self.last_train_bpc, 4), round(bpc, 4)])
        if self.record.best_bpc is None or bpc < self.record.best_bpc:
            self.record.best_bpc, self.record.best_step = bpc, self.record.step
            save_weights(self.best_path, self.record, self.model)
        self._fire("on_eval")
        return bpc

    @property
    def stalled(self) -> bool:
        """The dev figure has not improved for `patience` checks: a small corpus being learnt by
        heart (Baudelaire, 60 passes planned: best on the dev slice after 12, then worse at every
        check while the training figure kept falling)."""
        patience = self.config.patience
        if not patience or self.record.best_step is None:
            return False
        since = [row for row in self.record.history if row[0] > self.record.best_step]
        return len(since) >= patience

    def run(self) -> None:
        """Train until the budget is spent; Ctrl-C measures what was learned since the last check
        (kept as the best if it is) and saves a checkpoint before it propagates."""
        self.model.train()
        clock = time.monotonic()
        last_eval = last_ckpt = self.record.elapsed_s
        smoothed = None
        try:
            while self.progress < 1.0:
                bpc = self.train_step()
                smoothed = bpc if smoothed is None else 0.98 * smoothed + 0.02 * bpc
                self.last_train_bpc = smoothed
                now = time.monotonic()
                self.record.elapsed_s += now - clock
                clock = now
                self._fire("on_batch_end")
                if self.record.elapsed_s - last_eval >= self.config.eval_every_s:
                    self.evaluate()
                    last_eval = self.record.elapsed_s
                    if self.stalled:
                        self._fire("on_stalled")
                        break
                if self.record.elapsed_s - last_ckpt >= self.config.ckpt_every_s:
                    self.checkpoint()
                    last_ckpt = self.record.elapsed_s
            self.evaluate()
        except KeyboardInterrupt:
            self._keep_what_was_learned()
            raise
        finally:
            self.checkpoint()

    def _keep_what_was_learned(self) -> None:
        """Ctrl-C: the weights learned since the last check are measured on the dev slice and kept
        as the best if they are (they were lost to an export before); a second Ctrl-C skips it."""
        try:
            self.evaluate()
        except KeyboardInterrupt:
            pass
