"""A style's memory index: the Burrows-Wheeler transform of its reversed training text, the form
core/memory.py searches (core/_memory_kernel.c says why reversed)."""
from __future__ import annotations

import numpy as np

from ..core.corpusindex import SENTINEL


def suffix_array(s: np.ndarray) -> np.ndarray:
    """The suffix array of s (with an end smaller than every symbol), by prefix doubling: each
    round sorts by (rank of the first h characters, rank of the next h), so it takes as many
    rounds as the log of the longest repeat. Seconds for a few MB; export time only."""
    n = len(s)
    rank = s.astype(np.int64)
    h = 1
    while True:
        second = np.full(n, -1, dtype=np.int64)
        second[: n - h] = rank[h:]
        sa = np.lexsort((second, rank))
        first, nxt = rank[sa], second[sa]
        new = np.empty(n, dtype=np.int64)
        new[sa] = np.concatenate([[0], np.cumsum((first[1:] != first[:-1]) | (nxt[1:] != nxt[:-1]))])
        rank = new
        if rank[sa[-1]] == n - 1:
            return sa
        h *= 2


def reversed_bwt(ids: np.ndarray) -> np.ndarray:
    """BWT of reverse(ids) + sentinel: uint8, one SENTINEL, len(ids) + 1 bytes."""
    ids = np.asarray(ids, dtype=np.uint8)
    if ids.size and int(ids.min()) == SENTINEL:
        raise ValueError("the text holds the index's end mark (a NUL character)")
    x = np.concatenate([ids[::-1], [SENTINEL]]).astype(np.uint8)
    sa = suffix_array(x)
    return x[(sa - 1) % len(x)]
