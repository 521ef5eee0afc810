"""NAME.memory: a style's corpus memory on disk (safetensors): the index's text, the gate and the
text's words (core/words.py; files written before the words were kept have none), with their
facts and a checksum, checked when read (a damaged file is refused by name)."""
from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .corpusindex import DEPTH, SENTINEL, SYMBOLS
from .words import Lexicon
from .recall import Recall, n_features
from .weights import ModelFileError

META_KEY = "instrument.memory"


@dataclass(frozen=True)
class MemoryFile:
    """What NAME.memory holds: the index's text and the style's recall, with their facts."""

    bwt: np.ndarray
    recall: Recall
    meta: dict
    lexicon: Lexicon | None = None  # None: written before the words were kept


def checksum(bwt: np.ndarray, gate: np.ndarray, words: np.ndarray | None = None) -> int:
    """CRC-32 of the text, the gate (float32) and the words as stored: a flipped bit anywhere is
    found (a file without words has the checksum it was written with)."""
    crc = zlib.crc32(memoryview(np.ascontiguousarray(bwt, dtype=np.uint8)))
    crc = zlib.crc32(memoryview(np.ascontiguousarray(gate, dtype=np.float32)), crc)
    return crc if words is None else zlib.crc32(memoryview(np.ascontiguousarray(words, dtype=np.uint8)), crc)


def write_memory(path: Path, bwt: np.ndarray, recall: Recall, meta: dict, lexicon: Lexicon | None = None) -> None:
    """NAME.memory: safetensors with the index's text, the gate and the words; atomic."""
    from safetensors.numpy import save_file

    from .weights import atomic_write

    tensors = {"bwt": np.ascontiguousarray(bwt, dtype=np.uint8), "gate": np.ascontiguousarray(recall.gate, dtype=np.float32)}
    if lexicon is not None:
        tensors["words"] = np.frombuffer(lexicon.to_bytes(), dtype=np.uint8)
    facts = {**meta, "orders": recall.orders, "text_orders": recall.text_orders, "depth": DEPTH,
             "fade_from": recall.fade_from, "fade": recall.fade, "text_fade": recall.text_fade,
             "crc32": checksum(bwt, recall.gate, tensors.get("words"))}
    atomic_write(Path(path), lambda tmp: save_file(tensors, str(tmp), metadata={META_KEY: json.dumps(facts)}))


MAX_TEXT = 64 << 20  # characters an index may hold (the largest shipped corpus is 4.7 M)
MAX_WORDS = 16 << 20  # bytes of words (the largest shipped lexicon is 186 K)


def read_memory(path: Path) -> MemoryFile:
    """Read and check NAME.memory; ModelFileError says what is wrong with it."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(path, "no such file (or not a regular file)")
    try:
        with safe_open(str(path), framework="numpy") as f:
            meta = json.loads((f.metadata() or {}).get(META_KEY, "null"))
            if not isinstance(meta, dict):
                raise ModelFileError(path, f"no '{META_KEY}' facts in its metadata: not a style's memory")
            shapes = {k: (f.get_slice(k).get_dtype(), tuple(f.get_slice(k).get_shape())) for k in f.keys()}
            _check_shapes(path, shapes, _text_orders(path, meta))
            bwt, gate = f.get_tensor("bwt"), f.get_tensor("gate")
            words = f.get_tensor("words") if "words" in shapes else None
    except ModelFileError:
        raise
    except (SafetensorError, OSError, ValueError, RuntimeError, TypeError, json.JSONDecodeError) as e:
        raise ModelFileError(path, f"not a readable memory file (truncated or another format?): {str(e)[:120]}") from None
    recall = _check_facts(path, bwt, gate, words, meta)
    return MemoryFile(bwt, recall, meta, None if words is None else _lexicon(path, words))


def _lexicon(path: Path, words: np.ndarray) -> Lexicon:
    try:
        return Lexicon.from_bytes(words.tobytes())
    except ValueError as e:
        raise ModelFileError(path, f"its words are not a lexicon: {e}") from None


MAX_TEXT_ORDERS = 16


def _text_orders(path: Path, meta: dict) -> int:
    value = meta.get("text_orders", 0)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_TEXT_ORDERS:
        raise ModelFileError(path, f"its text_orders ({str(value)[:10]}) must be a whole number 0-{MAX_TEXT_ORDERS}")
    return value


def _check_shapes(path: Path, shapes: dict, text_orders: int) -> None:
    if not {"bwt", "gate"} <= set(shapes) <= {"bwt", "gate", "words"}:
        raise ModelFileError(path, f"it holds {sorted(shapes)[:4]}, a memory holds bwt, gate and words")
    if "words" in shapes and (shapes["words"][0] != "U8" or len(shapes["words"][1]) != 1
                              or shapes["words"][1][0] > MAX_WORDS):
        raise ModelFileError(path, f"its words are {shapes['words'][0]} {shapes['words'][1]}: "
                                   f"they are at most {MAX_WORDS:,} bytes")
    (kind, shape), (gkind, gshape) = shapes["bwt"], shapes["gate"]
    if kind != "U8" or len(shape) != 1 or not 2 <= shape[0] <= MAX_TEXT:
        raise ModelFileError(path, f"its text is {kind} {shape}: a memory's text is 2 to {MAX_TEXT:,} bytes")
    orders = gshape[1] - 1 - text_orders if len(gshape) == 2 else 0
    if gkind != "F32" or len(gshape) != 2 or orders < 1 or gshape[0] != n_features(orders, text_orders):
        raise ModelFileError(path, f"its gate is {gkind} {gshape}: with {text_orders} text orders it must be "
                                   "float32 (5K + 4 + 4 text orders, 1 + K + text orders)")


def _check_facts(path: Path, bwt: np.ndarray, gate: np.ndarray, words: np.ndarray | None, meta: dict) -> Recall:
    if meta.get("crc32") != checksum(bwt, gate, words):
        raise ModelFileError(path, "it is damaged (its checksum differs)")
    if int(np.count_nonzero(bwt == SENTINEL)) != 1 or int(bwt.max()) >= SYMBOLS:
        raise ModelFileError(path, "its text is not an index (one end mark and ASCII only)")
    if not np.isfinite(gate).all():
        raise ModelFileError(path, "its gate holds NaN or infinite values")
    fade_from, fade, text_fade = meta.get("fade_from"), meta.get("fade"), meta.get("text_fade", 1.0)
    if (not isinstance(fade_from, int) or isinstance(fade_from, bool) or not 0 <= fade_from <= DEPTH
            or not _factor(fade) or not _factor(text_fade)):
        raise ModelFileError(path, f"its fades ({str(fade_from)[:10]}, {str(fade)[:10]}, {str(text_fade)[:10]}) must be "
                                   f"a length 0-{DEPTH} and factors in (0, 1]")
    return Recall(gate.astype(np.float64), fade_from, float(fade), _text_orders(path, meta), float(text_fade))


def _factor(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0.0 < value <= 1.0  # NaN fails
