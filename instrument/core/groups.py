"""A group: models of one architecture whose weights are stacked so one call steps them all.

Two interchangeable implementations: `KernelGroup` (the C kernel, fp16 weights, several threads)
and `TorchGroup` (torch fp32 batched matmuls), used where the kernel is not built or the CPU
lacks AVX2/F16C. Both keep the hidden state of every model and step only the listed ones.
"""
from __future__ import annotations

import ctypes
import importlib.util
import os

import numpy as np
import torch

from .model import CharLSTM, ModelConfig
from .vocab import VOCAB_SIZE


def _lstm_parts(model: CharLSTM, layer: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    sd = model.lstm
    return (getattr(sd, f"weight_ih_l{layer}").detach().float(), getattr(sd, f"weight_hh_l{layer}").detach().float(),
            (getattr(sd, f"bias_ih_l{layer}") + getattr(sd, f"bias_hh_l{layer}")).detach().float())


class TorchGroup:
    """Stacked fp32 weights, one batched matmul per layer (rows as vectors: x @ W^T)."""

    def __init__(self, models: list[CharLSTM]):
        self.config = models[0].config
        L, H, G = self.config.n_layers, self.config.hidden, len(models)
        self.wx0 = torch.stack([_lstm_parts(m, 0)[0].t().contiguous() for m in models])  # (G, V, 4H)
        self.wrec = [torch.stack([self._recurrent_t(m, l) for m in models]) for l in range(L)]  # (G, K, 4H)
        self.bias = [torch.stack([_lstm_parts(m, l)[2] for m in models]) for l in range(L)]  # (G, 4H)
        self.wo = torch.stack([m.head.weight.detach().float().t().contiguous() for m in models])  # (G, H, V)
        self.bo = torch.stack([m.head.bias.detach().float() for m in models])  # (G, V)
        self.h = torch.zeros(G, L, H)
        self.c = torch.zeros(G, L, H)
        self._subset: tuple[tuple, list] | None = None

    @staticmethod
    def _recurrent_t(model: CharLSTM, layer: int) -> torch.Tensor:
        w_ih, w_hh, _ = _lstm_parts(model, layer)
        w = w_hh if layer == 0 else torch.cat([w_ih, w_hh], dim=1)
        return w.t().contiguous()

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


def _load_kernel():
    """The compiled kernel via ctypes, or None if it was not built or the CPU cannot run it."""
    if os.environ.get("INSTRUMENT_KERNEL", "").lower() in ("0", "off", "torch"):
        return None
    spec = importlib.util.find_spec("instrument.core._lstm_kernel")
    if spec is None or not spec.origin:
        return None
    lib = ctypes.CDLL(spec.origin)
    if not lib.ens_available():
        return None
    p, i = ctypes.c_void_p, ctypes.c_int
    lib.ens_step.argtypes = [i, i, i, i, p, i, p, i] + [p] * 10 + [i]
    lib.ens_step.restype = i
    return lib


_KERNEL = _load_kernel()
PRECISIONS = ("int8", "fp16")


def kernel_available() -> bool:
    return _KERNEL is not None


def _ptr(a: np.ndarray | None) -> int | None:
    return None if a is None else a.ctypes.data


def quantize_rows(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 per row of the last axis: w ~ q * scale."""
    scale = np.abs(w).max(axis=-1, keepdims=True) / 127.0
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(w / scale), -127, 127).astype(np.int8)
    return q, scale[..., 0].astype(np.float32)


class KernelGroup:
    """Stacked weights in the C kernel's layout (see _lstm_kernel.c); fp32 state.
    precision: "fp16" reproduces the shipped files exactly; "int8" reads half the bytes."""

    def __init__(self, models: list[CharLSTM], threads: int | None = None, precision: str = "int8"):
        if _KERNEL is None:
            raise RuntimeError("the C kernel is not available")
        if precision not in PRECISIONS:
            raise ValueError(f"precision is one of {PRECISIONS}, not {precision!r}")
        self.config: ModelConfig = models[0].config
        self.precision = precision
        L, H, G = self.config.n_layers, self.config.hidden, len(models)
        if H % 16:
            raise ValueError(f"the kernel needs hidden units in multiples of 16, not {H}")
        self.threads = threads or min(os.cpu_count() or 1, 8)
        half = lambda t: np.ascontiguousarray(t.numpy().astype(np.float16)).view(np.uint16)
        # (4H, V) -> (V, H, 4): char x's column, gates of a unit side by side
        self.wx0 = half(torch.stack([_lstm_parts(m, 0)[0].view(4, H, VOCAB_SIZE).permute(2, 1, 0) for m in models]))
        self.wrec, self.scale = self._recurrent_weights(models)
        self.bias = np.ascontiguousarray(np.stack([np.stack([_lstm_parts(m, l)[2].view(4, H).t().numpy()
                                                             for m in models]) for l in range(L)]), dtype=np.float32)
        self.wo = half(torch.stack([m.head.weight.detach().float() for m in models]))
        self.bo = np.ascontiguousarray(np.stack([m.head.bias.detach().float().numpy() for m in models]), dtype=np.float32)
        self.h = np.zeros((G, L, H), dtype=np.float32)
        self.c = np.zeros((G, L, H), dtype=np.float32)
        self.hnew = np.zeros((G, L, H), dtype=np.float32)
        self._fixed = [_ptr(a) for a in (self.wx0, self.wrec, self.scale, self.bias, self.wo, self.bo,
                                         self.h, self.c, self.hnew)]  # these arrays never move
        self._bytes_per_model = self.weight_bytes // G

    def _recurrent_weights(self, models: list[CharLSTM]) -> tuple[np.ndarray, np.ndarray | None]:
        """Every layer's (G, H, 4, K) block back to back, and the int8 scales (G, H, 4, segments)."""
        H = self.config.hidden
        blocks, scales = [], []
        for l in range(self.config.n_layers):
            w = torch.stack([self._recurrent(m, l) for m in models]).numpy()  # (G, H, 4, K)
            segments = [w] if l == 0 else [w[..., :H], w[..., H:]]  # W_ih and W_hh get their own scales
            if self.precision == "fp16":
                blocks.append(self._interleave([seg.astype(np.float16).view(np.uint16) for seg in segments]))
                continue
            quantized = [quantize_rows(seg) for seg in segments]
            blocks.append(self._interleave([q for q, _ in quantized]))
            scales.append(np.stack([s for _, s in quantized], axis=-1).ravel())
        wrec = np.ascontiguousarray(np.concatenate(blocks))
        return wrec, (np.ascontiguousarray(np.concatenate(scales)) if scales else None)

    @staticmethod
    def _interleave(segments: list[np.ndarray]) -> np.ndarray:
        """Segments (G, H, 4, H) -> (G, H, S, H/16, 4, 16), flattened: one sequential run per unit."""
        G, H = segments[0].shape[:2]
        chunks = [seg.reshape(G, H, 4, H // 16, 16).transpose(0, 1, 3, 2, 4) for seg in segments]
        return np.stack(chunks, axis=2).ravel()

    @staticmethod
    def _recurrent(model: CharLSTM, layer: int) -> torch.Tensor:
        """(4H, K) -> (H, 4, K): the four gate rows of a unit next to each other."""
        w_ih, w_hh, _ = _lstm_parts(model, layer)
        w = w_hh if layer == 0 else torch.cat([w_ih, w_hh], dim=1)
        H = model.config.hidden
        return w.view(4, H, -1).permute(1, 0, 2).contiguous()

    @property
    def weight_bytes(self) -> int:
        """Bytes of weights one step of every model reads."""
        return self.wrec.nbytes + (self.scale.nbytes if self.scale is not None else 0) + self.wo.nbytes

    def feed(self, idx: np.ndarray, chars: np.ndarray) -> np.ndarray:
        models = np.ascontiguousarray(idx, dtype=np.int32)
        chars = np.ascontiguousarray(chars, dtype=np.int32)
        logits = np.empty((len(models), VOCAB_SIZE), dtype=np.float32)
        L, H, G = self.config.n_layers, self.config.hidden, len(self.h)
        # a thread pays off only with enough weights to share: below ~1 MB one thread is faster
        threads = max(1, min(self.threads, len(models) * self._bytes_per_model // 1_000_000))
        code = _KERNEL.ens_step(G, L, H, int(self.precision == "int8"), _ptr(models), len(models), _ptr(chars),
                                len(chars), *self._fixed, _ptr(logits), threads)
        if code != 0:
            raise ValueError(f"kernel refused the step (code {code}): models {idx}, {len(chars)} chars")
        return logits

    def reset(self, idx: np.ndarray) -> None:
        self.h[idx] = 0.0
        self.c[idx] = 0.0


def make_group(models: list[CharLSTM], backend: str = "auto", threads: int | None = None,
               precision: str = "int8"):
    """The fastest group that can run these models, or the one asked for ("kernel", "torch")."""
    usable = _KERNEL is not None and models[0].config.hidden % 16 == 0
    if backend == "torch" or (backend == "auto" and not usable):
        return TorchGroup(models)
    return KernelGroup(models, threads, precision)
