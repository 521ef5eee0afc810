"""MIDI in: CCs and notes move parameters through the mapping; program changes recall presets;
clock drives the rate; a learn binds the next real move. Only parameters are written.

`MidiControl.handle` takes mido messages (tests feed it directly); `open_input` connects it to a
port through mido's rtmidi backend: a virtual port named `instrument`, or an existing port.
"""
from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
import tempfile
import threading
from pathlib import Path
from dataclasses import dataclass, field
from typing import Callable

from .midi_errors import plainly
from ..params import ParamTree
from ..base.ratelog import RateLimitedLog
from .clock import MidiClock
from .learn import Learner
from .worker import Immediate
from .mapping import Binding, Mapping, save_mapping

log = logging.getLogger("instrument.midi")

TRANSPORT = {"start": "start", "stop": "stop", "continue": "resume"}


@dataclass
class ControlState:
    """What a binding remembers between messages."""

    last: float | None = None      # the control's last position, 0..1
    picked_up: bool = True         # soft takeover: False after something else moved the target
    msb: int = 0
    lsb: int = 0


def relative_delta(mode: str, value: int) -> int:
    """Encoder ticks from a relative CC value, in the three common encodings."""
    if mode == "relative-offset":        # 64 = no move
        return value - 64
    if mode == "relative-signed":        # bit 6 is the sign
        return -(value & 63) if value & 64 else value & 63
    return value - 128 if value >= 64 else value  # two's complement (Ableton's default)


@dataclass
class MidiControl:
    params: ParamTree
    mapping: Mapping
    on_learned: Callable[[Binding], None] = lambda b: None
    on_program: Callable[[int], None] = lambda n: None
    on_timeout: Callable[[str], None] = lambda address: None
    follow_clock: bool = False
    states: dict = field(default_factory=dict)
    files: object = field(default_factory=Immediate)  # where the mapping is written (a Worker when live)

    def __post_init__(self):
        self.learner = Learner()
        self._expiry: threading.Timer | None = None  # the armed learn's deadline
        self.clock = MidiClock(self.params)
        if self.follow_clock:
            self.params.set("/clock/follow", True, source="setup")
        self._lock = threading.RLock()  # the tree calls _moved_elsewhere back inside our own writes
        self._problems = RateLimitedLog(log, "MIDI problems")
        # a client arming learns over OSC many times a second must not flood the console
        self._learns = RateLimitedLog(log, "learns armed", interval=1.0)
        self._timeouts = RateLimitedLog(log, "learns timed out", interval=1.0)
        self.params.add_listener(self._moved_elsewhere)

    # --- messages ----------------------------------------------------------------------------
    def handle(self, msg) -> None:
        """One mido message. Never raises: a bad message is logged (rate-limited) and ignored."""
        try:
            with self._lock:
                self._dispatch(msg)
        except Exception as e:
            self._problems.log(f"MIDI message {msg!r} ignored: {e}")

    def _dispatch(self, msg) -> None:
        kind = msg.type
        if kind == "clock":
            self.clock.tick()
        elif kind in TRANSPORT:
            getattr(self.clock, TRANSPORT[kind])()
        elif kind == "program_change":
            self.on_program(msg.program)
        elif kind == "control_change":
            self._control("cc", msg.channel + 1, msg.control, msg.value)
        elif kind in ("note_on", "note_off"):
            velocity = msg.velocity if kind == "note_on" else 0
            self._control("note", msg.channel + 1, msg.note, velocity)

    def _control(self, kind: str, channel: int, number: int, value: int) -> None:
        if self.learner.armed:
            learned = self.learner.feed(kind, channel, number, value)
            if learned is not None:
                self._bind(learned)
            return
        if kind == "note":
            binding = self.mapping.find(("note", channel, number))
            if binding:
                self._note(binding, value)
            return
        for key, part in ((("cc", channel, number), None), (("cc14", channel, number), "msb"),
                          (("cc14", channel, number - 32), "lsb")):
            binding = self.mapping.find(key)
            if binding is not None:
                self._cc(binding, value, part)
                return

    def _state(self, binding: Binding) -> ControlState:
        return self.states.setdefault(binding.key, ControlState())

    def _note(self, binding: Binding, velocity: int) -> None:
        if binding.mode == "toggle":
            if velocity == 0:
                return
            param = self.params.params[binding.target]
            here = binding.position(param, self.params.get(binding.target))
            self._write(binding, 0.0 if (here or 0.0) >= 0.5 else 1.0)  # flip what is there now
        else:
            self._write(binding, 1.0 if velocity > 0 else 0.0)

    def _cc(self, binding: Binding, value: int, part: str | None) -> None:
        state = self._state(binding)
        param = self.params.params[binding.target]
        if binding.mode != "absolute":
            here = binding.position(param, self.params.get(binding.target))
            self._write(binding, min(max((here or 0.0) + relative_delta(binding.mode, value) / 127, 0.0), 1.0))
            return
        if part == "msb":
            state.msb, state.lsb = value, 0
        elif part == "lsb":
            state.lsb = value
        x = (state.msb * 128 + state.lsb) / 16383 if part else value / 127
        previous, state.last = state.last, x
        if binding.soft_takeover and not state.picked_up:
            here = binding.position(param, self.params.get(binding.target))
            crossed = here is None or abs(x - here) <= 1 / 127 or (
                previous is not None and (previous - here) * (x - here) <= 0)
            if not crossed:
                return  # the fader has not reached the value yet: no jump
            state.picked_up = True
        self._write(binding, x)

    def _write(self, binding: Binding, x: float) -> None:
        param = self.params.params[binding.target]
        if param.kind == "trigger":
            if x >= 0.5:
                self.params.set(binding.target, source=binding.source)
            return
        self.params.set(binding.target, binding.scaled(param, x), source=binding.source)

    def _moved_elsewhere(self, address: str, value, source: str) -> None:
        """Soft takeover: a value moved by a preset, OSC or another control is not jumped back."""
        with self._lock:
            for binding in self.mapping.bindings:
                if binding.target == address and source != binding.source and binding.soft_takeover:
                    self._state(binding).picked_up = False

    def reload_mapping(self, path=None) -> str | None:
        """Re-read the mapping file (or another); on any problem the mapping in force stays."""
        from .mapping import MappingError, load_mapping

        try:
            mapping = load_mapping(path or self.mapping.path, self.params)
        except MappingError as e:
            log.warning("%s; the previous mapping stays in force", e)
            return str(e)
        with self._lock:
            self.mapping, self.states = mapping, {}
        return None

    # --- learn -------------------------------------------------------------------------------
    def learn(self, address: str, timeout: float = 10.0) -> str | None:
        """Arm a learn; returns an error message if the address or the time cannot be learned."""
        if not (isinstance(timeout, (int, float)) and math.isfinite(timeout) and 0 < timeout <= MAX_LEARN_WAIT):
            return f"a learn waits between 0 and {MAX_LEARN_WAIT:g} seconds, not {timeout!r:.30}"
        if address not in self.params:
            return f"no parameter at {address}"
        if self.params.params[address].kind == "text":
            return f"{address} is text: a fader cannot play it"
        if "status" in self.params.params[address].tags:
            return f"{address} is reported by the instrument: a fader cannot set it"
        with self._lock:
            self.learner.arm(address, timeout)  # one learn at a time: a new one replaces the last
            if self._expiry is not None:
                self._expiry.cancel()  # and its deadline (a thread per learn: 2,000 learns, 1,600 threads)
            self._expiry = threading.Timer(timeout + 0.05, self._expire, args=(address,))
            self._expiry.daemon = True
            self._expiry.start()
        self._learns.log(f"MIDI learn: move a control for {address} (within {timeout:.3g} s)")
        return None

    def _expire(self, address: str) -> None:
        if self.learn_timed_out():
            self._timeouts.log(f"MIDI learn for {address} timed out; the mapping is unchanged")
            self.on_timeout(address)

    def _bind(self, binding: Binding) -> None:
        if binding.note is not None and self.params.params[binding.target].kind == "bool":
            binding.mode = "toggle"  # a pad on an on/off control flips it
        # the control plays only this now, and a learn replaces the target's old control of the same
        # kind (a fader moves the fader, a pad the pad: a style may keep one of each)
        pad = binding.note is not None
        self.mapping.bindings = [b for b in self.mapping.bindings if b.key != binding.key and
                                 not (b.target == binding.target and (b.note is not None) == pad)] + [binding]
        self.states.pop(binding.key, None)
        self._save()
        what = f"note {binding.note}" if binding.note is not None else f"CC {binding.cc}"
        log.warning("MIDI learn: %s on channel %d now plays %s%s", what, binding.channel, binding.target,
                    f" (saved in {self.mapping.path})" if self.mapping.path else "")
        self.on_learned(binding)

    def unlearn(self, address: str) -> int:
        """Remove every binding to address; returns how many there were."""
        with self._lock:
            before = len(self.mapping.bindings)
            self.mapping.bindings = [b for b in self.mapping.bindings if b.target != address]
            removed = before - len(self.mapping.bindings)
            if removed:
                self._save()
        return removed

    def _save(self) -> None:
        """Write the mapping as it is now, off this thread (the MIDI callback runs inside JACK's
        process cycle and must not wait on a disk)."""
        if self.mapping.path is None:
            return
        now = Mapping(self.mapping.path, list(self.mapping.bindings), list(self.mapping.inactive),
                      self.mapping.wekinator)
        self.files.submit(f"writing {now.path}", lambda: save_mapping(now))

    def learn_timed_out(self) -> bool:
        """For a periodic check: True once when an armed learn expired unused."""
        with self._lock:
            return self.learner.expired()


MAX_LEARN_WAIT = 600.0  # seconds


def commands(midi: "MidiControl", later, refuse, mappings: Path) -> list:
    """/learn, /unlearn, /mapping, /mapping/load. A mapping comes over OSC by name, from the
    mappings folder, never a path: a client could otherwise have a learn overwrite any file."""
    import json

    from ..commands import Command
    from .presets import NAME

    def learn(address, args, sender):
        target = args[0] if args and isinstance(args[0], str) else None
        timeout = args[1] if len(args) > 1 and isinstance(args[1], (int, float)) else 10.0
        problem = midi.learn(target, timeout) if target else "/learn needs the address to learn, e.g. /learn /mix/bible"
        return refuse(problem) if problem else [("/learning", (target,))]

    def unlearn(address, args, sender):
        if not args or not isinstance(args[0], str):
            return refuse("/unlearn needs an address")
        return [("/unlearned", (args[0], midi.unlearn(args[0])))]

    def bindings(address, args, sender):
        return [("/mapping", (json.dumps([b.to_yaml() for b in midi.mapping.bindings]),))]

    def reload(address, args, sender):
        if args and not (isinstance(args[0], str) and NAME.match(args[0]) and "/" not in args[0] and ".." not in args[0]):
            return refuse(f"/mapping/load takes the name of a mapping in {mappings} (not a path)")
        path = Path(mappings) / f"{args[0]}.yaml" if args else None

        def job():
            problem = midi.reload_mapping(path)
            return refuse(problem) if problem else [("/mapping/loaded", (midi.mapping.path.stem,))]
        return later(sender, "reading the mapping", job)

    return [
        Command("/learn", "s address [f seconds]", "the next control that really moves is bound to the address "
                "(and written into the mapping file); answers `/learning`, then `/learned ADDRESS KIND CHANNEL "
                "NUMBER` to every listener, or `/learn/timeout ADDRESS` (10 s unless given, at most 600)", learn),
        Command("/unlearn", "s address", "remove the bindings to an address; answers `/unlearned ADDRESS COUNT`", unlearn),
        Command("/mapping", "", "answers `/mapping` with the bindings in force, as JSON", bindings),
        Command("/mapping/load", "[s name]", "read the mapping again (or NAME.yaml of its folder); answers "
                "`/mapping/loaded NAME`; a bad file leaves the mapping in force", reload),
    ]


# --- ports ------------------------------------------------------------------------------------

APIS = {"alsa": "LINUX_ALSA", "jack": "UNIX_JACK", "coremidi": "MACOSX_CORE", "windows": "WINDOWS_MM"}


class MidiUnavailable(RuntimeError):
    """No MIDI system could be opened; the message says what was tried."""


@contextlib.contextmanager
def quiet_c_stderr():
    """ALSA and JACK print their own complaints from C when there is no MIDI system; ours is one
    clear line, so theirs go to the debug log instead of the performer's terminal."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            noise = sink.read().decode(errors="replace").strip()
            if noise:
                log.debug("MIDI system said: %s", noise)


def backend(api: str | None):
    """mido's rtmidi backend, for a named API or mido's default (MIDO_BACKEND is honoured)."""
    from ..base.extras import missing

    problem = missing("mido", "rtmidi")
    if problem:
        raise MidiUnavailable(problem)
    import mido

    if api:
        if api not in APIS:
            raise MidiUnavailable(f"unknown MIDI API {api!r}; one of {', '.join(APIS)}")
        return mido.Backend(f"mido.backends.rtmidi/{APIS[api]}", load=True)
    return mido.backend


def list_ports(api: str | None = None) -> list[str]:
    """Input port names, from the chosen API or the first that answers (the system's, then JACK)."""
    errors = []
    for choice in [api] if api else [None, "jack"]:
        try:
            with quiet_c_stderr():
                return backend(choice).get_input_names()
        except MidiUnavailable:
            raise
        except Exception as e:
            errors.append(f"{choice or 'default'}: {e}")
    raise MidiUnavailable("no MIDI system (" + "; ".join(errors) + ")")


NO_VIRTUAL_PORTS = ("this MIDI system cannot make a virtual port ({why}). On Windows: make a loopback port with "
                    "loopMIDI (tobias-erichsen.de) or Windows MIDI Services' loopback, point the controller or "
                    "Ableton at it, and start with --midi-in NAME (e.g. --midi-in loopMIDI); or --no-midi")


def _cannot_make_virtual(e: Exception) -> bool:
    """Windows' MultiMedia API has no virtual ports: python-rtmidi says NotImplementedError."""
    return isinstance(e, NotImplementedError) or "virtual port" in str(e).lower() or sys.platform == "win32"


def _open(direction: str, name: str | None, api: str | None, client: str, **kwargs):
    """A virtual port called `client`, or the first existing port of the direction ("input",
    "output") whose name contains `name` (case-insensitive). Tries the chosen API, else the
    system's default then JACK."""
    errors = []
    for choice in [api] if api else [None, "jack"]:
        try:
            with quiet_c_stderr():
                be = backend(choice)
                opener = getattr(be, f"open_{direction}")
                if name is None:
                    return opener(client, virtual=True, client_name=client, **kwargs)
                names = getattr(be, f"get_{direction}_names")()
            matches = [p for p in names if name.lower() in p.lower()]
            if not matches:
                raise MidiUnavailable(f"no MIDI {direction} matching {name!r} (there are: {names})")
            with quiet_c_stderr():  # no client_name here: mido would make a virtual port instead
                return opener(matches[0], **kwargs)
        except MidiUnavailable:
            raise
        except Exception as e:
            if name is None and _cannot_make_virtual(e):
                flag = "--midi-in" if direction == "input" else "--midi-out"
                raise MidiUnavailable(NO_VIRTUAL_PORTS.format(why=e).replace("--midi-in", flag)) from None
            errors.append(plainly(choice, e))
    raise MidiUnavailable("no MIDI system could be opened (" + "; ".join(errors) + ")")


def open_input(callback, name: str | None = None, api: str | None = None, client: str = "instrument"):
    """Where the controllers' messages come in: `callback` gets each."""
    return _open("input", name, api, client, callback=callback)


def open_output(name: str | None = None, api: str | None = None, client: str = "instrument"):
    """Where feedback, notes and clock go out."""
    return _open("output", name, api, client)
