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

    @torch.no_grad()
    def feed(self, idx: np.ndarray, chars: np.ndarray) -> np.ndarray:
        """Step the listed models through chars; their logits (n, 128) after the last one."""
        wx0, wrec, bias, wo, bo = self._weights(tuple(int(i) for i in idx))
        sel = torch.from_numpy(np.asarray(idx, dtype=np.int64))
        h, c = self.h[sel], self.c[sel]  # (n, L, H)
        for x in chars:
            below = None
            for l in range(self.config.n_layers):
                v = h[:, l] if l == 0 else torch.cat([below, h[:, l]], dim=1)
                gates = torch.bmm(v.unsqueeze(1), wrec[l]).squeeze(1) + bias[l]
                if l == 0:
                    gates = gates + wx0[:, int(x)]
                i, f, g, o = gates.chunk(4, dim=1)
                c[:, l] = torch.sigmoid(f) * c[:, l] + torch.sigmoid(i) * torch.tanh(g)
                below = torch.sigmoid(o) * torch.tanh(c[:, l])
                h[:, l] = below
        self.h[sel], self.c[sel] = h, c
        return (torch.bmm(h[:, -1].unsqueeze(1), wo).squeeze(1) + bo).numpy()

    def reset(self, idx: np.ndarray) -> None:
        sel = torch.from_numpy(np.asarray(idx, dtype=np.int64))
        self.h[sel] = 0.0
        self.c[sel] = 0.0
