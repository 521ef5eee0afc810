"""TorchGroup: the fallback group, stacked fp32 weights and one batched matmul per layer, for
where the C kernel is not built or the CPU cannot run it (see groups.py)."""
from __future__ import annotations

import numpy as np
import torch

from .weights import ModelWeights


def _tensor(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))


class TorchGroup:
    """Stacked fp32 weights, one batched matmul per layer (rows as vectors: x @ W^T)."""

    def __init__(self, models: list[ModelWeights]):
        self.config = models[0].config
        L, H, G = self.config.n_layers, self.config.hidden, len(models)
        self.wx0 = _tensor(np.stack([m.lstm_parts(0)[0].T for m in models]))  # (G, V, 4H)
        self.wrec = [_tensor(np.stack([m.recurrent(l).T for m in models])) for l in range(L)]  # (G, K, 4H)
        self.bias = [_tensor(np.stack([m.lstm_parts(l)[2] for m in models])) for l in range(L)]  # (G, 4H)
        self.wo = _tensor(np.stack([m.tensors["head.weight"].T for m in models]))  # (G, H, V)
        self.bo = _tensor(np.stack([m.tensors["head.bias"] for m in models]))  # (G, V)
        self.h = torch.zeros(G, L, H)
        self.c = torch.zeros(G, L, H)
        self._subset: tuple[tuple, list] | None = None

    def _weights(self, idx: tuple) -> list:
        """The stacked weights of the listed models (a gathered copy, kept while the set holds)."""
        if len(idx) == len(self.h):
            return [self.wx0, self.wrec, self.bias, self.wo, self.bo]
        if self._subset is None or self._subset[0] != idx:
            sel = torch.tensor(idx)
            self._subset = (idx, [self.wx0[sel], [w[sel] for w in self.wrec], [b[sel] for b in self.bias],
                                  self.wo[sel], self.bo[sel]])
        return self._subset[1]

    computed = {"backend": "torch", "precision": "fp32", "rows": "torch"}

    def _layers(self, weights: list, h: torch.Tensor, c: torch.Tensor, x: torch.Tensor) -> None:
        """One character through every layer, in place: h, c (n, B, L, H), x (B,) chars."""
        wx0, wrec, bias = weights[:3]
        below = None
        for l in range(self.config.n_layers):
            v = h[:, :, l] if l == 0 else torch.cat([below, h[:, :, l]], dim=2)  # (n, B, K)
            gates = torch.bmm(v, wrec[l]) + bias[l][:, None]  # (n, B, 4H)
            if l == 0:
                gates = gates + wx0[:, x]
            i, f, g, o = gates.chunk(4, dim=2)
            c[:, :, l] = torch.sigmoid(f) * c[:, :, l] + torch.sigmoid(i) * torch.tanh(g)
            below = torch.sigmoid(o) * torch.tanh(c[:, :, l])
            h[:, :, l] = below

    @staticmethod
    def _head(weights: list, h: torch.Tensor) -> torch.Tensor:
        wo, bo = weights[3:]
        return torch.bmm(h[:, :, -1], wo) + bo[:, None]  # (n, B, V)

    @torch.no_grad()
    def feed(self, idx: np.ndarray, chars: np.ndarray) -> np.ndarray:
        """Step the listed models through chars; their logits (n, 128) after the last one."""
        weights = self._weights(tuple(int(i) for i in idx))
        sel = torch.from_numpy(np.asarray(idx, dtype=np.int64))
        h, c = self.h[sel][:, None], self.c[sel][:, None]  # (n, 1, L, H): one row
        for x in chars:
            self._layers(weights, h, c, torch.tensor([int(x)]))
        self.h[sel], self.c[sel] = h[:, 0], c[:, 0]
        return self._head(weights, h)[:, 0].numpy()

    # --- rows: R states per model, for the lookahead's candidate paths ------------------------
    def fork(self, idx: np.ndarray, rows: int) -> None:
        """Every row of the listed models starts from the model's own state."""
        G, L, H = self.h.shape
        if getattr(self, "hr", None) is None or self.hr.shape[1] != rows:
            self.hr = torch.zeros(G, rows, L, H)
            self.cr = torch.zeros(G, rows, L, H)
        sel = torch.from_numpy(np.asarray(idx, dtype=np.int64))
        self.hr[sel] = self.h[sel][:, None]
        self.cr[sel] = self.c[sel][:, None]

    @torch.no_grad()
    def step_rows(self, idx: np.ndarray, chars: np.ndarray) -> np.ndarray:
        """Row r of each listed model reads chars[r] (-1: it waits); logits (n, R, 128), one
        batched matmul per layer for all the stepping rows."""
        weights = self._weights(tuple(int(i) for i in idx))
        sel = torch.from_numpy(np.asarray(idx, dtype=np.int64))
        live = torch.from_numpy(np.flatnonzero(np.asarray(chars) >= 0))
        h, c = self.hr[sel][:, live], self.cr[sel][:, live]  # (n, B, L, H)
        self._layers(weights, h, c, torch.from_numpy(np.asarray(chars, dtype=np.int64))[live])
        grid = (sel[:, None], live[None, :])
        self.hr[grid], self.cr[grid] = h, c
        logits = torch.zeros(len(sel), self.hr.shape[1], self.bo.shape[1])
        logits[:, live] = self._head(weights, h)
        return logits.numpy()

    def take_rows(self, idx: np.ndarray, source: np.ndarray) -> None:
        """Row r of each listed model becomes a copy of its row source[r] (paths refilled)."""
        sel = torch.from_numpy(np.asarray(idx, dtype=np.int64))[:, None]
        src = torch.from_numpy(np.asarray(source, dtype=np.int64))
        self.hr[sel, torch.arange(len(src))] = self.hr[sel, src]
        self.cr[sel, torch.arange(len(src))] = self.cr[sel, src]

    def reset(self, idx: np.ndarray) -> None:
        sel = torch.from_numpy(np.asarray(idx, dtype=np.int64))
        self.h[sel] = 0.0
        self.c[sel] = 0.0
