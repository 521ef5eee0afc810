"""A style's training text, indexed so that what followed any context in it can be counted, one
written character at a time (the corpus memory's search, core/memory.py).

The index is the Burrows-Wheeler transform of the text reversed; core/_memory_kernel.c says how
a context's interval follows the text and how its counts are read. The C kernel does the work
where it was built; numpy does the same, slower, where it was not.
"""
from __future__ import annotations

import ctypes
import importlib.util
import os

import numpy as np

DEPTH = 48         # contexts followed up to this length, for the reach (how long a stretch is recalled)
SYMBOLS = 128
SENTINEL = 0       # ends the indexed text; never a character of a corpus


_I, _P, _L = ctypes.c_int, ctypes.c_void_p, ctypes.c_int64
SIGNATURES: dict[str, tuple] = {
    "mem_block": (_I, []),
    "mem_build": (None, [("bwt", _P), ("n1", _L), ("occ", _P), ("C", _P)]),
    "mem_advance": (None, [("bwt", _P), ("n1", _L), ("occ", _P), ("C", _P), ("R", _I), ("D", _I),
                           ("lo", _P), ("hi", _P), ("x", _P)]),
    "mem_counts": (None, [("bwt", _P), ("occ", _P), ("R", _I), ("D", _I), ("K", _I), ("lo", _P), ("hi", _P),
                          ("out", _P)]),
}


def _load_kernel():
    """(the compiled index functions, None) or (None, why numpy does the work instead)."""
    if os.environ.get("INSTRUMENT_KERNEL", "").lower() in ("0", "off", "torch"):
        return None, "INSTRUMENT_KERNEL asks for no C kernel"
    spec = importlib.util.find_spec("instrument.core._memory_kernel")
    if spec is None or not spec.origin:
        return None, "the memory's C kernel was not built (no C compiler when the instrument was installed?)"
    try:
        lib = ctypes.CDLL(spec.origin)
        for name, (restype, params) in SIGNATURES.items():
            function = getattr(lib, name)
            function.restype, function.argtypes = restype, [kind for _, kind in params]
    except (OSError, AttributeError) as e:
        return None, f"the memory's C kernel could not be loaded ({e})"
    return lib, None


_KERNEL, WHY_NO_KERNEL = _load_kernel()
BLOCK = _KERNEL.mem_block() if _KERNEL is not None else 512
WIDE = 1024


def _ptr(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]  # what ctypes.data gives, without making a ctypes object (a third of the cost)


class CorpusIndex:
    """A training text, indexed so that what followed any context can be counted (see
    _memory_kernel.c). Intervals are (rows, DEPTH) int64 arrays lo, hi: column k is the context
    of the last k+1 characters; lo == hi where the corpus does not hold it."""

    def __init__(self, bwt: np.ndarray, use_kernel: bool = True):
        self.bwt = np.ascontiguousarray(bwt, dtype=np.uint8)
        self.kernel = _KERNEL if use_kernel else None
        self.n1 = len(self.bwt)
        self.sentinel_row = int(np.flatnonzero(self.bwt == SENTINEL)[0])
        self.occ = np.zeros((self.n1 // BLOCK + 1, SYMBOLS), dtype=np.uint32)
        self.C = np.zeros(SYMBOLS + 1, dtype=np.int64)
        self._arrays = (_ptr(self.bwt), self.n1, _ptr(self.occ), _ptr(self.C))  # the same every call
        if self.kernel is not None:
            self.kernel.mem_build(_ptr(self.bwt), self.n1, _ptr(self.occ), _ptr(self.C))
        else:
            self._build_numpy()

    def _build_numpy(self) -> None:
        blocks = np.arange(self.n1) // BLOCK
        per_block = np.bincount(blocks * SYMBOLS + self.bwt, minlength=(self.n1 // BLOCK + 1) * SYMBOLS)
        per_block = per_block.reshape(-1, SYMBOLS)
        self.occ[1:] = np.cumsum(per_block, axis=0)[:-1]
        totals = np.bincount(self.bwt, minlength=SYMBOLS)
        self.C[1:] = np.cumsum(totals)

    @property
    def chars(self) -> int:
        """Characters of text indexed (the sentinel not counted)."""
        return self.n1 - 1

    @staticmethod
    def empty(rows: int) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros((rows, DEPTH), dtype=np.int64), np.zeros((rows, DEPTH), dtype=np.int64)

    def advance(self, lo: np.ndarray, hi: np.ndarray, x: np.ndarray) -> None:
        """Row r reads x[r] (-1: it waits); lo and hi change in place."""
        x = np.ascontiguousarray(x, dtype=np.int32)
        if self.kernel is not None:
            self.kernel.mem_advance(*self._arrays, len(x), lo.shape[1], _ptr(lo), _ptr(hi), _ptr(x))
            return
        for r, c in enumerate(x.tolist()):
            if c < 0:
                continue
            c &= SYMBOLS - 1
            live = lo[r, :-1] < hi[r, :-1]
            new_lo = np.where(live, self.C[c] + self._occ(c, lo[r, :-1]), 0)
            new_hi = np.where(live, self.C[c] + self._occ(c, hi[r, :-1]), 0)
            lo[r, 1:], hi[r, 1:] = new_lo, new_hi
            lo[r, 0], hi[r, 0] = self.C[c], self.C[c + 1]

    def _occ(self, c: int, at: np.ndarray) -> np.ndarray:
        """How many c are in bwt[0:i) for each i of at (numpy's way, without the kernel)."""
        out = np.empty(len(at), dtype=np.int64)
        for j, i in enumerate(at.tolist()):
            b = i // BLOCK
            out[j] = int(self.occ[b, c]) + int(np.count_nonzero(self.bwt[b * BLOCK:i] == c))
        return out

    def counts(self, lo: np.ndarray, hi: np.ndarray, orders: int) -> np.ndarray:
        """(rows, orders, 128) int32: what followed each of the first `orders` contexts."""
        lo, hi = np.ascontiguousarray(lo), np.ascontiguousarray(hi)
        out = np.zeros((len(lo), orders, SYMBOLS), dtype=np.int32)
        if self.kernel is not None:
            bwt, _, occ, _ = self._arrays
            self.kernel.mem_counts(bwt, occ, len(lo), lo.shape[1], orders, _ptr(lo), _ptr(hi), _ptr(out))
            return out
        for r in range(len(lo)):
            for k in range(orders):
                a, b = int(lo[r, k]), int(hi[r, k])
                if b - a <= WIDE:
                    out[r, k] = np.bincount(self.bwt[a:b], minlength=SYMBOLS)
                else:
                    ba, bb = a // BLOCK, b // BLOCK
                    out[r, k] = (self.occ[bb].astype(np.int64) - self.occ[ba]
                                 + np.bincount(self.bwt[bb * BLOCK:b], minlength=SYMBOLS)
                                 - np.bincount(self.bwt[ba * BLOCK:a], minlength=SYMBOLS))
        out[:, :, SENTINEL] = 0
        return out

    def reach(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """(rows,) how many orders each row's context reaches: the longest suffix of its text the
        corpus holds, up to DEPTH."""
        live = lo < hi
        return np.where(live.all(axis=1), live.shape[1], np.argmin(live, axis=1)).astype(np.int64)
