"""MIDI out, through one port (a virtual output called `instrument`, or --midi-out NAME):

- feedback: a mapped parameter moved by anything but its own control (OSC, a preset, a morph,
  the panel, another control) is sent back to that control, at its channel and resolution, at most
  FEEDBACK_RATE times a second per control (the latest value), so motor faders and LED rings follow;
- notes (--notes, /midi/notes): each character a note on the channel of the style that led it,
  by the table below, its velocity from how likely the character was;
- clock (--midi-clock-out, `ClockOut`): 24 ticks a beat at /clock/bpm, Start and Stop with /run,
  so the instrument can lead the tempo.

Notes: letters walk the C major scale upwards from C3 (a=C3, b=D3, ... z=G6), capitals an octave
above their small letter, digits the C major pentatonic from C2; space, tab and newline are rests
(the sounding note ends); punctuation is an accent on the General MIDI drum channel 10: . ! ? a
kick (36), , ; : a snare (38), any other symbol a closed hi-hat (42). The style numbered i
(params.style_numbers: the loaded shipped styles in their fixed order, then a performer's own)
plays on channel i+1, skipping 10; past 15 the channels repeat. Velocity is 20 + 107 x the character's probability in the mix.
At most NOTE_RATE notes a second: above that, each 1/NOTE_RATE s plays its last character.
"""
from __future__ import annotations

import logging
import threading
import time

from ..frames import Frame
from ..params import Param, ParamTree, style_numbers
from ..base.ratelog import RateLimitedLog
from .base import IDLE, Sink

log = logging.getLogger("instrument.midi")

FEEDBACK_RATE = 100  # messages a second per control, at most
NOTE_RATE = 60       # notes a second, at most
PPQN = 24

PARAMS = [  # this module's table (tree.py builds the union)
    Param("/midi/feedback", "bool", (), True, "send a mapped parameter's moves back to its control (motor faders, LED rings)"),
    Param("/midi/notes", "bool", (), False, "play each character as a note on its style's channel (when MIDI out is open)"),
]

SCALE = (0, 2, 4, 5, 7, 9, 11)
PENTATONIC = (0, 2, 4, 7, 9)
LETTER_LOW, DIGIT_LOW = 48, 36  # C3, C2
DRUMS = 9  # channel 10, counted from 0 as MIDI bytes do
ACCENTS = {".": 36, "!": 36, "?": 36, ",": 38, ";": 38, ":": 38}
HI_HAT = 42
RESTS = " \t\n\r"


def note_for(ch: str) -> tuple[bool, int] | None:
    """(is a drum, pitch) for a character, or None for a rest."""
    if ch in RESTS:
        return None
    if "a" <= ch <= "z" or "A" <= ch <= "Z":
        i = ord(ch.lower()) - ord("a")
        return False, LETTER_LOW + 12 * (i // 7) + SCALE[i % 7] + (12 if ch.isupper() else 0)
    if "0" <= ch <= "9":
        d = ord(ch) - ord("0")
        return False, DIGIT_LOW + 12 * (d // 5) + PENTATONIC[d % 5]
    if ch.isprintable():
        return True, ACCENTS.get(ch, HI_HAT)
    return None


def style_channel(index: int) -> int:
    """The MIDI channel (0-based) of the style at this index: 0..15 without the drums' 9."""
    channel = index % 15
    return channel + 1 if channel >= DRUMS else channel


def velocity(p: float) -> int:
    return max(1, min(127, 20 + round(107 * p)))


class LockedPort:
    """One output port shared by the MIDI out sinks: rtmidi's JACK output writes into one
    ring buffer, which two threads must not write at once. Sending never raises."""

    def __init__(self, port):
        self.port, self._lock = port, threading.Lock()
        self.name = getattr(port, "name", "")
        self._failures = RateLimitedLog(log, "MIDI messages not sent")
        self.sent = 0

    def send(self, data: list[int]) -> None:
        import mido

        try:
            with self._lock:
                self.port.send(mido.Message.from_bytes(data))
            self.sent += 1
        except Exception as e:
            self._failures.log(f"MIDI out: {e}")

    def close(self) -> None:
        with self._lock:
            self.port.close()


class MidiOut(Sink):
    """Feedback to the mapped controls (tend) and the text as notes (write), on one thread."""

    name = "midi-out"
    maxlen = 4096

    def __init__(self, port: LockedPort, params: ParamTree, control, names: list[str]):
        """control: the MidiControl whose mapping (as it is now, learns included) is fed back; each
        binding knows the messages that show its control a value (mapping.Binding.feedback)."""
        super().__init__()
        self.port, self.params, self.control, self.names = port, params, control, names
        numbers = style_numbers(names)
        self.channels = [style_channel(numbers[n]) for n in names]  # a style's channel whatever else is loaded
        self._pending: dict[tuple, object] = {}  # binding key -> binding, to send its target's value
        self._noted = threading.Lock()
        self._last_sent: dict[tuple, float] = {}
        self._sounding: tuple[int, int] | None = None  # (channel, pitch) of the melodic note playing
        self._last_note = 0.0
        params.add_listener(self._moved)

    # --- feedback ---------------------------------------------------------------------------
    def _moved(self, address: str, value, source: str) -> None:
        """A move from anywhere but the control itself (the tree calls this in the writer's thread)."""
        if value is None:
            return
        due = [b for b in self.control.mapping.bindings if b.target == address and source != b.source]
        if not due:
            return
        with self._noted:
            wake = not self._pending
            for binding in due:
                self._pending[binding.key] = binding
        if wake and self.subscription is not None:
            self.subscription.nudge()

    def patience(self) -> float:
        if not self._pending:
            return IDLE
        now = time.monotonic()
        return max(0.0, min(self._last_sent.get(k, 0.0) + 1 / FEEDBACK_RATE - now for k in list(self._pending)))

    def tend(self) -> bool:
        """Send each control whose turn has come its parameter's value now (the latest)."""
        if not self._pending:
            return False
        now = time.monotonic()
        with self._noted:
            due = {k: b for k, b in self._pending.items() if now - self._last_sent.get(k, 0.0) >= 1 / FEEDBACK_RATE}
            for key in due:
                del self._pending[key]
        if self.params.get("/midi/feedback"):
            for key, binding in due.items():
                param = self.params.params.get(binding.target)
                if param is not None:
                    for data in binding.feedback(param, self.params.get(binding.target)):
                        self.port.send(data)
                self._last_sent[key] = now
        return bool(self._pending)

    # --- notes ------------------------------------------------------------------------------
    def write(self, frames: list[Frame], text: str) -> None:
        if not self.params.get("/midi/notes"):
            self._silence()
            return
        for frame in frames:
            if frame.primed or frame.time - self._last_note < 1 / NOTE_RATE:
                continue
            self._last_note = frame.time
            self._play(frame)

    def _play(self, frame: Frame) -> None:
        note = note_for(frame.char)
        self._silence()
        if note is None:
            return
        drum, pitch = note
        p = float(frame.rho[ord(frame.char)]) if frame.rho is not None and ord(frame.char) < len(frame.rho) else 0.5
        channel = DRUMS if drum else self.channels[max(frame.lead, 0)]
        self.port.send([0x90 | channel, pitch, velocity(p)])
        self._sounding = (channel, pitch)

    def _silence(self) -> None:
        if self._sounding is not None:
            channel, pitch = self._sounding
            self.port.send([0x80 | channel, pitch, 0])
            self._sounding = None

    def closed(self) -> None:
        self._silence()


class ClockOut(Sink):
    """MIDI clock at /clock/bpm, 24 ticks a beat, scheduled against the monotonic clock so it does
    not drift; Start when /run turns on (and at the start of a piece that plays), Stop when it
    turns off and when the piece ends."""

    name = "midi-clock-out"
    maxlen = 1

    def __init__(self, port: LockedPort, params: ParamTree, clock=time.monotonic):
        super().__init__()
        self.port, self.params, self.clock = port, params, clock
        self._next = 0.0
        self._running: bool | None = None
        self.ticks = 0

    def opened(self) -> None:
        self._next = self.clock()

    def write(self, frames: list[Frame], text: str) -> None:
        """The text does not move the clock: only the tempo and /run do (tend)."""

    def patience(self) -> float:
        return max(0.0, min(IDLE, self._next - self.clock()))

    def tend(self) -> bool:
        running = bool(self.params.get("/run"))
        if running != self._running:
            self.port.send([0xFA if running else 0xFC])  # Start / Stop
            self._running = running
        now = self.clock()
        interval = 60.0 / (self.params.get("/clock/bpm") * PPQN)
        if now - self._next > 4 * PPQN * interval:  # a stall of a bar (a suspended laptop): start afresh
            self._next = now
        while now >= self._next:
            self.port.send([0xF8])
            self.ticks += 1
            self._next += interval
        return False

    def closed(self) -> None:
        if self._running:
            self.port.send([0xFC])
