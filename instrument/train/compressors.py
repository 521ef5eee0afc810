"""The references a style is measured against: general-purpose compressors given the training
text. A compressor's bits per held-out character are bits(all) - bits(the text before the
held-out part), per held-out character, on the ASCII the models read: what it costs to go on
with the held-out text once it has read the rest, as the style reads it (the same method for
each).

- xz -9e (Python's lzma): LZ77 with a range coder, the first reference the cards carried.
- PPMd order 6 (7-Zip's `-m0=PPMd:o=6`, Debian's p7zip-full): prediction by partial matching,
  which counts what followed each context of up to six characters.
- zpaq -m5 (Debian's zpaq): context mixing of many models, the strongest of the three.

The last two need their programs; without them the figure is None and the card says so."""
from __future__ import annotations

import lzma
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

PPMD = ("7z", "a", "-bd", "-m0=PPMd:o=6")
ZPAQ = ("zpaq", "a")
ZPAQ_TAIL = ("-m5",)
TIMEOUT = 1800  # seconds a compressor may take (zpaq -m5 reads about 0.3 MB/s here)


def xz_bytes(data: bytes) -> int:
    return len(lzma.compress(data, preset=9 | lzma.PRESET_EXTREME))


def _archive_bytes(command: tuple, tail: tuple, data: bytes) -> int | None:
    """The size of the archive a program makes of data, or None without the program."""
    if shutil.which(command[0]) is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        text, archive = Path(tmp) / "text", Path(tmp) / "archive"
        text.write_bytes(data)
        subprocess.run([*command, str(archive), str(text), *tail], cwd=tmp, check=True, timeout=TIMEOUT,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        made = [p for p in Path(tmp).iterdir() if p.name.startswith("archive")]
        return made[0].stat().st_size


def ppmd_bytes(data: bytes) -> int | None:
    return _archive_bytes(PPMD, (), data)


def zpaq_bytes(data: bytes) -> int | None:
    return _archive_bytes(ZPAQ, ZPAQ_TAIL, data)


def held_out_bpc(size, ids: np.ndarray, split: int) -> float | None:
    """bits(all) - bits(ids[:split]) per held-out character, under a compressor's size function."""
    whole, head = size(ids.tobytes()), size(ids[:split].tobytes())
    if whole is None or head is None:
        return None
    return 8 * (whole - head) / (len(ids) - split)


def references(ids: np.ndarray, split: int) -> dict:
    """{xz_bpc, ppmd_bpc, zpaq_bpc} for a corpus whose held-out part starts at split (None where
    the program is missing), rounded as the cards keep them."""
    out = {}
    for key, size in (("xz_bpc", xz_bytes), ("ppmd_bpc", ppmd_bytes), ("zpaq_bpc", zpaq_bytes)):
        bpc = held_out_bpc(size, np.asarray(ids, dtype=np.uint8), split)
        out[key] = None if bpc is None else round(bpc, 4)
    return out
