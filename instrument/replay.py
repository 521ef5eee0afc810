"""`instrument replay piece.jsonl`: a recorded performance played back to the same text."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .engine import Engine
from .outputs.record import FORMAT, file_sha256


# Parameters added since the first recordings were made, with the value that plays as they did
# then: a recording whose starting state lacks one was made before it existed.
BEFORE_THEY_EXISTED = {"/lookahead": 0}


class ReplayError(ValueError):
    """A recording that cannot be replayed as recorded; the message says why."""


@dataclass
class Recording:
    header: dict
    changes: list[dict] = field(default_factory=list)   # {"step", "set", "fire"}, in order
    text: str = ""                                       # everything written, primed text included
    steps: int | None = None                             # characters sampled; None: no end mark


def read_recording(path: Path) -> Recording:
    try:
        lines = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    except (OSError, json.JSONDecodeError) as e:
        raise ReplayError(f"{path}: not a recording: {e}") from None
    if not lines or lines[0].get("instrument") != FORMAT:
        raise ReplayError(f"{path}: not a recording of this instrument (format {FORMAT})")
    rec = Recording(lines[0])
    for line in lines[1:]:
        if "step" in line:
            rec.changes.append(line)
        elif "text" in line:
            rec.text += line["text"]
        elif "end" in line:
            rec.steps = int(line["end"])
    return rec


@dataclass
class Computation:
    """How a replay computes, chosen to match the recording, and why its text may still differ."""

    backend: str
    precision: str
    differences: list[str] = field(default_factory=list)


def _used_lookahead(rec: Recording) -> bool:
    return any((c["set"].get("/lookahead") or 0) > 0 for c in rec.changes)


def plan_computation(rec: Recording) -> Computation:
    """The same backend, precision and rows inner loop as the recording where this machine has
    them; where it has not, what differs. (Call before building the engine: it caps the rows step.)"""
    from .core.groups import WHY_NO_KERNEL, cap_rows_isa, kernel_available

    h = rec.header
    backend, precision, rows = h.get("backend", "auto"), h.get("precision", "int8"), h.get("rows")
    if backend not in ("kernel", "torch"):  # made before recordings said how they were computed
        return Computation("auto", precision if precision in ("int8", "fp16") else "int8",
                           [] if rows else ["the recording does not say how it was computed (it was made by an "
                                            "older instrument)"])
    if backend == "torch":
        return Computation("torch", "int8")
    if not kernel_available():
        return Computation("torch", "int8", [f"it was computed with the C kernel ({precision} weights), and here "
                                             f"{WHY_NO_KERNEL}: torch computes in fp32, so the text is the same only "
                                             f"until a rounding difference changes a draw"])
    out = Computation("kernel", precision)
    if rows and _used_lookahead(rec) and not cap_rows_isa(rows):
        out.differences.append(f"its lookahead's candidates were computed with the {rows} inner loop, which this "
                               f"CPU lacks: the text is the same until a rounding difference changes a candidate")
    return out


def check_models(rec: Recording, files: dict[str, Path]) -> None:
    """The same model files, byte for byte, or a clear error naming the one that differs."""
    for m in rec.header["models"]:
        path = files.get(m["name"])
        if path is None or not Path(path).exists():
            raise ReplayError(f"the recording used style '{m['name']}', which is not installed")
        if file_sha256(path) != m["sha256"]:
            raise ReplayError(f"{path} is not the file the recording used for '{m['name']}' (sha256 differs): "
                              f"the text would not be the same")


def replay(engine: Engine, rec: Recording) -> str:
    """Apply each change before the step at which it took effect; returns all the text written
    (primed text included), to compare with the recording's. A recording cut off before its end
    mark (the machine died mid-piece) is played until it has written as much text as it holds."""
    sub = engine.subscribe(maxlen=1)
    text = []
    start = rec.changes[0]["set"] if rec.changes else {}
    for address, value in BEFORE_THEY_EXISTED.items():
        if address not in start and address in engine.params:
            engine.params.set(address, value, source="replay")
    for change in rec.changes:
        _play_to(engine, change["step"])
        for address, value in change["set"].items():
            engine.params.set(address, value, source="replay")
        for address in change["fire"]:
            param = engine.params.params[address]
            engine.params.set(address, None if param.kind == "trigger" else engine.params.get(address), source="replay")
        engine.step()  # the step that first saw the change (it may be silent: paused, faders down)
        text.append(sub.read(timeout=0)[1])
    if rec.steps is not None:
        _play_to(engine, rec.steps)
    else:
        written = sum(map(len, text))
        while written < len(rec.text):
            _play_to(engine, engine.steps + 1)
            text.append(sub.read(timeout=0)[1])
            written += len(text[-1])
    engine.unsubscribe(sub)
    text.append(sub.read(timeout=0)[1])
    return "".join(text)


def _play_to(engine: Engine, step: int) -> None:
    while engine.steps < step:
        if engine.step() is None:
            raise ReplayError(f"the engine fell silent at step {engine.steps}, where the recording played on")


def first_difference(a: str, b: str) -> int | None:
    """Index of the first character where a and b differ, or None if they are the same."""
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))
