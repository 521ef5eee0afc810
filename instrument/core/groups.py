"""A group: models of one architecture whose weights are stacked so one call steps them all.

Two interchangeable implementations: `KernelGroup` (the C kernel, int8 or fp16 weights, several
threads) and `TorchGroup` (torch fp32 batched matmuls, torch_group.py), used where the kernel is
not built or the CPU lacks AVX2/F16C. Both keep the hidden state of every model and step only the
listed ones. This file does not import torch: the kernel needs only numpy, and torch's import is
most of a cold start.
"""
from __future__ import annotations

import ctypes
import importlib.util
import os

import numpy as np

from .vocab import VOCAB_SIZE
from .weights import ModelConfig, ModelWeights


# The kernel's functions, parameter by parameter as _lstm_kernel.c declares them (a test reads the C
# file and checks each against this table). Why ctypes rather than the C API: a ctypes call releases
# the GIL for as long as the kernel runs (0.3-2 ms a step), so the OSC and MIDI threads and the
# outputs run meanwhile, and no argument-parsing code has to be kept in C.
_I, _P = ctypes.c_int, ctypes.c_void_p
_STEP_ARRAYS = ["wx0", "wrec", "scale", "bias", "wo", "bo", "h", "c", "hnew", "logits"]
_ROWS_ARRAYS = ["wx0", "wrow", "scale", "bias", "wot", "bo", "h", "c", "hnew", "logits"]
SIGNATURES: dict[str, tuple] = {
    "ens_available": (_I, []),
    "ens_step": (_I, [("G", _I), ("L", _I), ("H", _I), ("int8", _I), ("models", _P), ("n_models", _I),
                      ("chars", _P), ("n_chars", _I), *((a, _P) for a in _STEP_ARRAYS), ("n_threads", _I)]),
    "ens_rows": (_I, [("G", _I), ("L", _I), ("H", _I), ("int8", _I), ("models", _P), ("n_models", _I),
                      ("R", _I), ("chars", _P), *((a, _P) for a in _ROWS_ARRAYS), ("n_threads", _I)]),
    "ens_rows_layout": (_I, []),
    "ens_rows_isa": (_I, [("int8", _I)]),
    "ens_cap_rows_isa": (None, [("level", _I)]),
}


def _load_kernel():
    """(the compiled kernel via ctypes, None) or (None, why it is not used)."""
    if os.environ.get("INSTRUMENT_KERNEL", "").lower() in ("0", "off", "torch"):
        return None, "INSTRUMENT_KERNEL asks for torch"
    spec = importlib.util.find_spec("instrument.core._lstm_kernel")
    if spec is None or not spec.origin:
        return None, "the C kernel was not built (no C compiler when the instrument was installed?)"
    try:
        lib = ctypes.CDLL(spec.origin)
        for name, (restype, params) in SIGNATURES.items():
            function = getattr(lib, name)
            function.restype, function.argtypes = restype, [kind for _, kind in params]
        if not lib.ens_available():
            return None, "the C kernel needs an x86-64 CPU with AVX2, FMA and F16C"
    except (OSError, AttributeError) as e:  # a build that does not export its functions, a broken file
        return None, f"the C kernel could not be loaded ({e})"
    return lib, None


_KERNEL, WHY_NO_KERNEL = _load_kernel()
PRECISIONS = ("int8", "fp16")


ROWS_ISAS = ("avx2", "avx512", "vnni")  # the rows step's inner loops, see _lstm_kernel.c


def kernel_available() -> bool:
    return _KERNEL is not None


def cap_rows_isa(name: str) -> bool:
    """Use no rows inner loop above `name` from now on (call before building groups); False if
    this CPU does not have that one."""
    if _KERNEL is None or name not in ROWS_ISAS:
        return False
    level = ROWS_ISAS.index(name)
    if level > _KERNEL.ens_rows_isa(1):
        return False
    _KERNEL.ens_cap_rows_isa(level)
    return True


def usable_cores() -> int:
    """The cores this process may run on: fewer than the machine's under taskset or a container's
    cpuset, where a thread per machine core would share cores and wait for each other."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def map_on_cores(fn, items: list, threads: int | None = None) -> list:
    """[fn(item) for item in items], in order, on up to `threads` threads (default: every usable
    core, at most 8). For numpy work that lets go of the GIL: reading, copying, quantizing."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=threads or min(usable_cores(), 8)) as pool:
        return list(pool.map(fn, items))


def _ptr(a: np.ndarray | None) -> int | None:
    return None if a is None else a.ctypes.data


def quantize_rows(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 per row of the last axis: w ~ q * scale. In place on one temporary (the
    same numbers as abs, divide, rint and clip each making their own, at a third of the time:
    seventeen 2x512 styles are 53 M weights to quantize at every start)."""
    scale = np.maximum(w.max(axis=-1, keepdims=True), -w.min(axis=-1, keepdims=True)) / np.float32(127.0)
    scale[scale == 0] = 1.0
    q = np.divide(w, scale)
    np.rint(q, out=q)
    np.clip(q, -127, 127, out=q)
    return q.astype(np.int8), scale[..., 0].astype(np.float32)


class KernelGroup:
    """Stacked weights in the C kernel's layout (see _lstm_kernel.c); fp32 state.
    precision: "fp16" reproduces the shipped files exactly; "int8" reads half the bytes."""

    def __init__(self, models: list[ModelWeights], threads: int | None = None, precision: str = "int8"):
        if _KERNEL is None:
            raise RuntimeError("the C kernel is not available")
        if precision not in PRECISIONS:
            raise ValueError(f"precision is one of {PRECISIONS}, not {precision!r}")
        self.config: ModelConfig = models[0].config
        self.precision = precision
        L, H, G = self.config.n_layers, self.config.hidden, len(models)
        if H % 16:
            raise ValueError(f"the kernel needs hidden units in multiples of 16, not {H}")
        self.threads = threads or min(usable_cores(), 8)
        half = lambda a: np.ascontiguousarray(a, dtype=np.float16).view(np.uint16)
        # (4H, V) -> (V, H, 4): char x's column, gates of a unit side by side
        self.wx0 = half(np.stack([m.lstm_parts(0)[0].reshape(4, H, VOCAB_SIZE).transpose(2, 1, 0) for m in models]))
        self.wrec, self.scale = self._recurrent_weights(models)
        self.bias = np.ascontiguousarray(np.stack([np.stack([m.lstm_parts(l)[2].reshape(4, H).T for m in models])
                                                   for l in range(L)]), dtype=np.float32)
        self.wo = half(np.stack([m.tensors["head.weight"] for m in models]))
        self.bo = np.ascontiguousarray(np.stack([m.tensors["head.bias"] for m in models]), dtype=np.float32)
        self.h = np.zeros((G, L, H), dtype=np.float32)
        self.c = np.zeros((G, L, H), dtype=np.float32)
        self.hnew = np.zeros((G, L, H), dtype=np.float32)
        self._fixed = [_ptr(a) for a in (self.wx0, self.wrec, self.scale, self.bias, self.wo, self.bo,
                                         self.h, self.c, self.hnew)]  # these arrays never move
        self._bytes_per_model = self.weight_bytes // G

    def _recurrent_weights(self, models: list[ModelWeights]) -> tuple[np.ndarray, np.ndarray | None]:
        """Every layer's (G, H, 4, K) block back to back, and the int8 scales (G, H, 4, segments).
        Made a model at a time on the group's threads (numpy lets go of the GIL while it copies
        and divides): this was most of a start with seventeen styles."""
        jobs = [(layer, m) for layer in range(self.config.n_layers) for m in models]  # the kernel's order
        parts = map_on_cores(lambda job: self._model_block(job[1], job[0]), jobs, self.threads)
        wrec = np.concatenate([block for block, _ in parts])
        return wrec, (None if self.precision == "fp16" else np.concatenate([scale for _, scale in parts]))

    def _model_block(self, model: ModelWeights, layer: int) -> tuple[np.ndarray, np.ndarray | None]:
        """One model's part of one layer's block, and its int8 scales."""
        H = self.config.hidden
        w = self._recurrent(model, layer)[None]  # (1, H, 4, K)
        segments = [w] if layer == 0 else [w[..., :H], w[..., H:]]  # W_ih and W_hh get their own scales
        if self.precision == "fp16":
            return self._interleave([seg.astype(np.float16).view(np.uint16) for seg in segments]), None
        quantized = [quantize_rows(seg) for seg in segments]
        return self._interleave([q for q, _ in quantized]), np.stack([s for _, s in quantized], axis=-1).ravel()

    @staticmethod
    def _interleave(segments: list[np.ndarray]) -> np.ndarray:
        """Segments (G, H, 4, H) -> (G, H, S, H/16, 4, 16), flattened: one sequential run per unit."""
        G, H = segments[0].shape[:2]
        chunks = [seg.reshape(G, H, 4, H // 16, 16).transpose(0, 1, 3, 2, 4) for seg in segments]
        return np.stack(chunks, axis=2).ravel()

    @staticmethod
    def _recurrent(model: ModelWeights, layer: int) -> np.ndarray:
        """(4H, K) -> (H, 4, K): the four gate rows of a unit next to each other."""
        return model.recurrent(layer).reshape(4, model.config.hidden, -1).transpose(1, 0, 2)

    @property
    def weight_bytes(self) -> int:
        """Bytes of weights one step of every model reads."""
        return self.wrec.nbytes + (self.scale.nbytes if self.scale is not None else 0) + self.wo.nbytes

    @property
    def computed(self) -> dict:
        """How this group computes (a recording keeps it: the text is the same only on the same)."""
        return {"backend": "kernel", "precision": self.precision,
                "rows": ROWS_ISAS[_KERNEL.ens_rows_isa(int(self.precision == "int8"))]}

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

    # --- rows: R states per model, for the lookahead's candidate paths ------------------------
    def _rows_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """The same weights in the rows step's order (see _lstm_kernel.c): built on first use (the
        first lookahead step), a model at a time on the group's threads: for seventeen styles this
        was half a second before the first character."""
        if getattr(self, "_wrow", None) is None:
            G, L, H = self.h.shape
            starts = np.cumsum([0] + [G * H * (1 if l == 0 else 2) * H * 4 for l in range(L)])
            jobs = [(l, g) for l in range(L) for g in range(G)]  # layer by layer, each model's part in turn
            parts = map_on_cores(lambda job: self._rows_block(job[0], job[1], starts[job[0]]), jobs, self.threads)
            self._wrow = np.concatenate(parts)
            self._wot = np.ascontiguousarray(self.wo.reshape(G, 8, 16, H).transpose(0, 1, 3, 2))
        return self._wrow, self._wot

    def _rows_block(self, layer: int, g: int, start: int) -> np.ndarray:
        """Model g's part of one layer in the rows order."""
        H, S = self.config.hidden, 1 if layer == 0 else 2
        n = H * S * H * 4
        block = self.wrec[start + g * n : start + (g + 1) * n].reshape(1, H, S, H // 16, 4, 16)
        w = block.transpose(0, 1, 4, 2, 3, 5).reshape(1, H // 16, 16, 4, S * H)  # (1, H/16, 16, 4, K)
        if self.precision == "int8" and _KERNEL.ens_rows_layout() == 1:  # VNNI: (1, H/16, 4, K/4, 16, 4), w + 128
            w = w.reshape(1, H // 16, 16, 4, S * H // 4, 4).transpose(0, 1, 3, 4, 2, 5)
            # w + 128 as a byte is w's two's complement with its top bit flipped: one pass, not three
            return np.bitwise_xor(w.view(np.uint8), np.uint8(0x80), order="C").ravel()
        return w.transpose(0, 1, 3, 4, 2).ravel()  # (1, H/16, 4, K, 16)

    def fork(self, idx: np.ndarray, rows: int) -> None:
        """Every row of the listed models starts from the model's own state."""
        G, L, H = self.h.shape
        self._rows_weights()
        if getattr(self, "hr", None) is None or self.hr.shape[1] != rows:
            self.hr = np.zeros((G, rows, L, H), dtype=np.float32)
            self.cr = np.zeros_like(self.hr)
            self.hnewr = np.zeros_like(self.hr)
        self.hr[idx] = self.h[idx][:, None]
        self.cr[idx] = self.c[idx][:, None]

    def step_rows(self, idx: np.ndarray, chars: np.ndarray) -> np.ndarray:
        """Row r of each listed model reads chars[r] (-1: it waits); logits (n, R, 128)."""
        models = np.ascontiguousarray(idx, dtype=np.int32)
        chars = np.ascontiguousarray(chars, dtype=np.int32)
        rows = self.hr.shape[1]
        logits = np.zeros((len(models), rows, VOCAB_SIZE), dtype=np.float32)
        L, H, G = self.config.n_layers, self.config.hidden, len(self.h)
        wrow, wot = self._rows_weights()
        code = _KERNEL.ens_rows(G, L, H, int(self.precision == "int8"), _ptr(models), len(models), rows,
                                _ptr(chars), _ptr(self.wx0), _ptr(wrow), _ptr(self.scale), _ptr(self.bias),
                                _ptr(wot), _ptr(self.bo), _ptr(self.hr), _ptr(self.cr), _ptr(self.hnewr),
                                _ptr(logits), max(1, min(self.threads, len(models))))
        if code != 0:
            raise ValueError(f"kernel refused the rows step (code {code}): models {idx}, chars {chars}")
        return logits

    def take_rows(self, idx: np.ndarray, source: np.ndarray) -> None:
        """Row r of each listed model becomes a copy of its row source[r] (paths refilled)."""
        sel = np.asarray(idx)[:, None]
        self.hr[sel, np.arange(len(source))] = self.hr[sel, source]
        self.cr[sel, np.arange(len(source))] = self.cr[sel, source]


def make_group(models: list[ModelWeights], backend: str = "auto", threads: int | None = None,
               precision: str = "int8"):
    """The fastest group that can run these models, or the one asked for ("kernel", "torch")."""
    usable = _KERNEL is not None and models[0].config.hidden % 16 == 0
    if backend == "torch" or (backend == "auto" and not usable):
        from .torch_group import TorchGroup  # torch is imported only on this path

        return TorchGroup(models)
    return KernelGroup(models, threads, precision)
