"""A performance recorded, read back and replayed: `instrument play --record piece.jsonl`, then
`instrument replay piece.jsonl`. The format, its writer and its reader live together here.

One JSON object a line. The first says what played (models with their file hashes, how they were
computed, version); then, in order, every change of the parameters as the engine saw it, with the
step at which it took effect, and the text as it was written; last, the end mark with the number
of characters sampled. A replay plays it back to the same text, because the engine is
deterministic given the same snapshot at every step. Each text line also says when it was written
(`"at": [step, seconds]`, the step of its last character and the seconds since the recording
began), which `replay --live` plays back to (app/pace.py); recordings made before it replay only
as fast as they can.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..engine import Engine
from ..frames import Frame
from ..base.files import FileProblem, check_regular, clip
from ..outputs.base import Sink
from ..params import Snapshot

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
        self._t0 = time.monotonic()  # the frames' clock: a text line's time is its last frame's
        computed = engine.ensemble.computed  # the text is the same only if replayed computed the same way
        self._line({"instrument": FORMAT, "date": datetime.datetime.now().isoformat(timespec="seconds"),
                    "precision": computed["precision"], "backend": computed["backend"], "rows": computed["rows"],
                    "models": [self._model(i, n, f) for i, (n, f) in enumerate(zip(engine.names, model_files))]})

    def _model(self, i: int, name: str, weights: Path) -> dict:
        """What the piece's text depends on of one style: its weights, its copy weights and its
        corpus memory (the file's hash; null: it played without one)."""
        memory = Path(weights).with_suffix(".memory")
        played = self.engine.memory.has(i) and memory.exists()
        return {"name": name, "file": str(weights), "sha256": file_sha256(weights),
                "copy": self.engine.copier.table(i).to_card(digits=None),
                "memory": file_sha256(memory) if played else None}

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
        line = {"text": text}
        if frames:  # the recorder keeps only the newest frame: the batch's last character
            line["at"] = [frames[-1].step, round(max(0.0, frames[-1].time - self._t0), 3)]
        self._line(line)

    def tend(self) -> bool:
        for step, snap in self.subscription.snapshots():
            self.seen(step, snap)
        return False

    def closed(self) -> None:
        try:
            self.tend()
            self._line({"end": self.engine.steps})  # how many characters were sampled
        finally:
            self._file.close()


# --- reading and replaying ----------------------------------------------------------------------
# Parameters added since the first recordings were made, with the value that plays as they did
# then: a recording whose starting state lacks one was made before it existed.
BEFORE_THEY_EXISTED = {"/lookahead": 0, "/loop_guard": 0.0, "/prime_at": "now", "/flood_guard": 0.0, "/words": 0.0}


class ReplayError(ValueError):
    """A recording that cannot be replayed as recorded; the message says why."""


MAX_RECORDING = 1 << 30  # bytes: hours of text, and more


@dataclass
class Recording:
    header: dict
    changes: list[dict] = field(default_factory=list)   # {"step", "set", "fire"}, in order
    text: str = ""                                       # everything written, primed text included
    steps: int | None = None                             # characters sampled; None: no end mark
    damage: str | None = None                            # where and why the intact part ends
    times: list[tuple[int, float]] = field(default_factory=list)  # (step, seconds) of each timed text line


def _record_problem(line) -> str | None:
    """Why a parsed line is not one the recorder writes, or None."""
    if not isinstance(line, dict):
        return f"a {type(line).__name__}, not a record"
    if "step" in line:
        ok = (isinstance(line["step"], int) and not isinstance(line["step"], bool) and line["step"] >= 0
              and isinstance(line.get("set", {}), dict) and isinstance(line.get("fire", []), list)
              and all(isinstance(a, str) for a in [*line.get("set", {}), *line.get("fire", [])]))
        return None if ok else "a change whose step, set or fire is not what the recorder writes"
    if "text" in line:
        if not isinstance(line["text"], str):
            return "a text line without text"
        return None if "at" not in line or _time_ok(line["at"]) else "a text line whose time is not [step, seconds]"
    if "end" in line:
        return None if isinstance(line["end"], int) and not isinstance(line["end"], bool) else "an end mark without a count"
    return "a line the recorder never writes"


def _time_ok(at) -> bool:
    return (isinstance(at, list) and len(at) == 2 and isinstance(at[0], int) and not isinstance(at[0], bool)
            and at[0] >= 0 and isinstance(at[1], (int, float)) and not isinstance(at[1], bool)
            and math.isfinite(at[1]) and at[1] >= 0)


MAX_LINE = 1 << 20  # bytes: the recorder's longest line (a change with a 10,000-character prime) is ~60 KB


def _lines(path: Path):
    """(number, line, torn) for each line of a recording, read one at a time (a 300 MB line must
    not be held twice over); a line longer than MAX_LINE or not UTF-8 comes as None."""
    try:
        check_regular(path, MAX_RECORDING)
        f = open(path, "rb")
    except FileProblem as e:
        raise ReplayError(str(e)) from None
    except OSError as e:
        raise ReplayError(f"{path}: cannot read: {e.strerror or e}") from None
    with f:
        for number, raw in enumerate(iter(lambda: f.readline(MAX_LINE + 1), b""), start=1):
            torn = not raw.endswith(b"\n")
            if len(raw) > MAX_LINE:
                yield number, None, f"longer than the {MAX_LINE:,} bytes the recorder ever writes"
                return
            try:
                yield number, raw.decode("utf-8"), torn
            except UnicodeDecodeError:
                yield number, None, "not UTF-8 text"
                return


def _parse(text: str):
    """A line's JSON, or the reason it is none (a RecursionError from deep nesting, a ValueError
    from a number of thousands of digits are reasons too, not tracebacks)."""
    try:
        return json.loads(text), None
    except json.JSONDecodeError as e:
        return None, e.msg
    except RecursionError:
        return None, "nested too deeply"
    except ValueError as e:
        return None, "a number of thousands of digits" if "digits" in str(e) else clip(str(e), 80)


def read_recording(path: Path) -> Recording:
    """The recording as far as it is intact: a torn last line (a full disk, a machine that died)
    or a damaged one ends it there, and `damage` says which line and why."""
    path = Path(path)
    lines = _lines(path)
    first = next(lines, None)
    header = _parse(first[1])[0] if first is not None and first[1] is not None else None
    if not isinstance(header, dict) or header.get("instrument") != FORMAT or not _models_ok(header.get("models")):
        raise ReplayError(f"{path}: not a recording of this instrument (format {FORMAT})")
    rec = Recording(header)
    for number, raw, torn in lines:
        if raw is None:
            rec.damage = f"line {number} is {torn}"
            break
        if not raw.strip():
            continue
        line, why = _parse(raw)
        if why is not None:
            rec.damage = f"line {number} is not JSON ({'torn: the last line' if torn else why})"
            break
        problem = _record_problem(line)
        if problem is not None:
            rec.damage = f"line {number} is {problem}"
            break
        if "step" in line:
            rec.changes.append({"step": line["step"], "set": line.get("set", {}), "fire": line.get("fire", [])})
        elif "text" in line:
            rec.text += line["text"]
            if "at" in line:
                rec.times.append((line["at"][0], float(line["at"][1])))
        else:
            rec.steps = line["end"]
    _bound_steps(rec)
    return rec


TEXT_LAG = 5000  # characters the text lines may trail the change lines by (the recorder's queue)


def _bound_steps(rec: Recording) -> None:
    """A change cannot come after more characters than the recording holds (a hand-edited step
    of 10^12 would have the replay write for ever): the intact part ends before such a change."""
    bound = len(rec.text) + TEXT_LAG
    if rec.steps is not None and rec.steps > bound:  # {"end": 10^12} would have the replay write for ever
        rec.damage = (rec.damage or "") + ("; " if rec.damage else "") + \
            f"its end mark says {rec.steps:,} characters, past the {len(rec.text):,} it holds"
        rec.steps = None
    for i, change in enumerate(rec.changes):
        if change["step"] > bound or (i and change["step"] < rec.changes[i - 1]["step"]):
            rec.damage = (rec.damage or "") + ("; " if rec.damage else "") + \
                f"change {i + 1} is at step {change['step']}, out of order or past what the recording holds"
            del rec.changes[i:]
            rec.steps = None
            return


def _models_ok(models) -> bool:
    return isinstance(models, list) and bool(models) and all(
        isinstance(m, dict) and isinstance(m.get("name"), str) and isinstance(m.get("sha256"), str)
        and isinstance(m.get("memory"), (str, type(None))) for m in models)


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
    from ..core.groups import WHY_NO_KERNEL, cap_rows_isa, kernel_available

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


def recorded_memories(rec: Recording, files: dict[str, Path]) -> list:
    """Each style's corpus memory as the piece played it: the same file (by its hash) or a clear
    error; none for a style that played without one (a recording made before styles remembered)."""
    from ..core.memoryfile import read_memory
    from ..core.weights import ModelFileError

    memories = []
    for m in rec.header["models"]:
        digest = m.get("memory")
        if digest is None:
            memories.append(None)
            continue
        path = Path(files[m["name"]]).with_suffix(".memory")
        if not path.exists() or file_sha256(path) != digest:
            raise ReplayError(f"{path} is not the memory the recording used for '{m['name']}' (missing, or its "
                              f"sha256 differs): the text would not be the same")
        try:
            memories.append(read_memory(path))
        except ModelFileError as e:
            raise ReplayError(str(e)) from None
    return memories


def recorded_copies(rec: Recording) -> list:
    """Each style's copy weights as the piece played them (core/copying.py), whatever its card says
    now; none for a recording made before the styles copied (they did not)."""
    from ..core.copying import CopyTable

    tables = []
    for m in rec.header["models"]:
        try:
            tables.append(CopyTable.from_card(m["copy"]) if "copy" in m else CopyTable())
        except ValueError as e:
            raise ReplayError(f"the recording's copy weights for '{m['name']}' are damaged: {e}") from None
    return tables


def replay(engine: Engine, rec: Recording, pace=None) -> str:
    """Apply each change before the step at which it took effect; returns all the text written
    (primed text included), to compare with the recording's. A recording cut off before its end
    mark (the machine died mid-piece) is played until it has written as much text as it holds.
    pace: None, as fast as it can; else its wait(step) is called before each step (app/pace.py)."""
    wait = pace.wait if pace is not None else (lambda step: None)
    sub = engine.subscribe(maxlen=1)
    text = []
    start = rec.changes[0]["set"] if rec.changes else {}
    for address, value in BEFORE_THEY_EXISTED.items():
        if address not in start and address in engine.params:
            engine.params.set(address, value, source="replay")
    for change in rec.changes:
        _play_to(engine, change["step"], wait)
        for address, value in change["set"].items():
            engine.params.set(address, value, source="replay")
        for address in change["fire"]:
            if address in engine.params:  # an address this engine lacks is refused with the sets
                param = engine.params.params[address]
                engine.params.set(address, None if param.kind == "trigger" else engine.params.get(address),
                                  source="replay")
        wait(engine.steps)
        engine.step()  # the step that first saw the change (it may be silent: paused, faders down)
        text.append(sub.read(timeout=0)[1])
    if rec.steps is not None and rec.damage is None:
        _play_to(engine, rec.steps, wait)
    else:
        written = sum(map(len, text))
        while written < len(rec.text):
            _play_to(engine, engine.steps + 1, wait)
            text.append(sub.read(timeout=0)[1])
            written += len(text[-1])
    engine.unsubscribe(sub)
    text.append(sub.read(timeout=0)[1])
    return "".join(text)


def _play_to(engine: Engine, step: int, wait) -> None:
    while engine.steps < step:
        wait(engine.steps)
        if engine.step() is None:
            raise ReplayError(f"the engine fell silent at step {engine.steps}, where the recording played on")


def first_difference(a: str, b: str) -> int | None:
    """Index of the first character where a and b differ, or None if they are the same."""
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))
