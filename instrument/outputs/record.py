"""Recording a performance: `instrument play --record piece.jsonl`.

One JSON object a line. The first says what played (models with their file hashes, precision,
version); then, in order, every change of the parameters as the engine saw it, with the step at
which it took effect, and the text as it was written. `instrument replay` plays it back to the
same text, because the engine is deterministic given the same snapshot at every step.
"""
from __future__ import annotations

import datetime
import hashlib
import json
from pathlib import Path

from ..engine import Engine, Frame
from ..params import Snapshot
from .base import Sink

FORMAT = 1


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class Recorder(Sink):
    """Writes the header, then change lines (from the snapshots the engine hands its
    subscription) and text lines, all on the recorder's own thread."""

    name = "record"
    maxlen = 1  # frames are not recorded: the text and the changes are the piece
    snapshots = True

    def __init__(self, path: Path, engine: Engine, model_files: list[Path]):
        super().__init__()
        self.path = Path(path)
        self.engine = engine
        self._file = self.path.open("w", buffering=1)  # line by line: a crash loses at most one line
        self._values: dict = {}
        self._writes: dict = {}
        self._triggers = {a for a, p in engine.params.params.items() if p.kind == "trigger"}
        self._text_step = 0
        computed = engine.ensemble.computed  # the text is the same only if replayed computed the same way
        self._line({"instrument": FORMAT, "date": datetime.datetime.now().isoformat(timespec="seconds"),
                    "precision": computed["precision"], "backend": computed["backend"], "rows": computed["rows"],
                    "models": [{"name": n, "file": str(f), "sha256": file_sha256(f)}
                               for n, f in zip(engine.names, model_files)]})

    def _line(self, obj: dict) -> None:
        self._file.write(json.dumps(obj, separators=(",", ":")) + "\n")

    def seen(self, step: int, snap: Snapshot) -> None:
        """What changed since the engine's last snapshot: values set, and re-writes that fire
        (a trigger, or the same /prime sent again)."""
        first = not self._values
        changed, fired = {}, []
        for address, value in snap.values.items():
            writes = snap.writes[address]
            if first and address not in self._triggers:  # the whole starting state, defaults too
                changed[address] = value
                self._values[address], self._writes[address] = value, writes
                continue
            if writes == self._writes.get(address, 0):
                continue
            if address in self._triggers:
                fired.append(address)
            elif address in self._values and self._values[address] == value:
                fired.append(address)
            else:
                changed[address] = value
            self._values[address], self._writes[address] = value, writes
        if changed or fired:
            self._line({"step": step, "set": changed, "fire": fired})

    def write(self, frames: list[Frame], text: str) -> None:
        self.tend()  # the changes first: those of the steps that wrote this text are among them
        self._line({"text": text})

    def tend(self) -> bool:
        for step, snap in self.subscription.snapshots():
            self.seen(step, snap)
        return False

    def closed(self) -> None:
        self.tend()
        self._line({"end": self.engine.steps})  # how many characters were sampled
        self._file.close()
