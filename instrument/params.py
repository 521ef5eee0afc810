"""The parameter tree: one registry of every control, read by every surface.

OSC addresses, MIDI-learn targets, panel sliders and presets all come from this table. Writers
(any thread) only store the latest value; the engine reads one consistent snapshot per step, so a
flood of fader messages costs nothing and no queue grows.

Each module owns the table of its own parameters (this one the styles' weights and the engine's
controls; clock.py, speech.py, projection.py theirs) and tree.py builds the union once. What a
parameter is for is a tag on it, read by whoever needs to know:
    style    a style's weight (/mix/NAME)
    mixing   shapes how a character is chosen: a step may take a move of it late (engine.py)
    sound    what a preset keeps (presets.py)
    surface  drawn on the panel beside the mix; phone: on the TouchOSC layout
    event    fires rather than holds (seed, reset, prime): never taken late, never saved
    status   reported by the instrument (Link's peers): read over OSC, never set from a surface
    flag     a flag of `instrument play` too (--top-p for /top_p), built from the parameter (cli/play.py)
"""
from __future__ import annotations

import logging
import math
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from .core.mixing import RULES
from .base.files import brief, clip
from .base.ratelog import RateLimitedLog

log = logging.getLogger("instrument.params")

KINDS = ("float", "int", "bool", "enum", "text", "trigger")
ASCII_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


class ParamError(ValueError):
    """A value that was refused; the parameter keeps its old value."""


TAGS = ("style", "mixing", "sound", "surface", "phone", "event", "status", "flag")
MIX = "/mix/"  # a style's weight is MIX + its name


def mix_address(name: str) -> str:
    return MIX + name


def style_of(address: str) -> str | None:
    """The style whose weight this address is, or None."""
    return address[len(MIX):] if address.startswith(MIX) else None


@dataclass(frozen=True)
class Param:
    """One control: its address, kind, range (or choices), default, a line of documentation, and
    what it is for (tags, see the module's doc)."""

    address: str
    kind: str
    range: tuple = ()
    default: Any = None
    doc: str = ""
    tags: frozenset = frozenset()
    span: tuple = ()  # the part of a number's range a fader covers (panel, TouchOSC, MIDI): all of it if empty

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"{self.address}: unknown kind {self.kind!r}")
        if not self.address.startswith("/") or " " in self.address:
            raise ValueError(f"{self.address!r}: an address starts with / and has no spaces")
        unknown = set(self.tags) - set(TAGS)
        if unknown:
            raise ValueError(f"{self.address}: unknown tags {sorted(unknown)}")

    def coerce(self, value: Any) -> tuple[Any, bool]:
        """The value this parameter would hold, and whether it was clamped; ParamError if refused."""
        return _COERCE[self.kind](self, value)


def _number(param: Param, value: Any, integer: bool) -> tuple[Any, bool]:
    # Some tools (Max's udpsend of a symbol) send a number as text: plain ASCII decimals are taken,
    # as docs/osc.md says; anything else that float() would read (full-width digits, "nan",
    # "1_000", padding) is refused
    if isinstance(value, str) and ASCII_NUMBER.fullmatch(value):
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParamError(f"{param.address} needs a number, got a {type(value).__name__} ({brief(value, 30)})")
    if isinstance(value, int) and abs(value) > 2**63:  # float() of it would overflow; no range reaches it
        raise ParamError(f"{param.address} refuses a {len(str(abs(value)))}-digit number")
    if not math.isfinite(value):
        raise ParamError(f"{param.address} refuses {value} (not a finite number)")
    lo, hi = param.range
    if value < lo and param.span:  # under the range: where a fader's bottom is (/rate: slow, not flat out)
        lo = param.span[0]
    clamped = min(max(value, lo), hi)
    out = int(round(clamped)) if integer else float(clamped)
    return out, clamped != value


def _float(param, value):
    return _number(param, value, integer=False)


def _int(param, value):
    return _number(param, value, integer=True)


def _bool(param, value):
    if isinstance(value, bool):
        return value, False
    if isinstance(value, (int, float)) and math.isfinite(value):
        return value >= 0.5, False  # a TouchOSC toggle sends 0.0 / 1.0
    if isinstance(value, str) and value.lower() in ("1", "true", "on", "yes", "0", "false", "off", "no"):
        return value.lower() in ("1", "true", "on", "yes"), False
    raise ParamError(f"{param.address} needs on/off (1/0, true/false), got {brief(value)}")


def _enum(param, value):
    if isinstance(value, str) and value in param.range:
        return value, False
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        index = int(value)  # a controller can pick a choice by its number
        if 0 <= index < len(param.range):
            return param.range[index], False
    raise ParamError(f"{param.address} is one of {', '.join(param.range)}, got {brief(value)}")


def _text(param, value):
    if not isinstance(value, str):
        raise ParamError(f"{param.address} needs text, got {type(value).__name__}")
    limit = param.range[0] if param.range else 10_000
    return value[:limit], len(value) > limit


def _trigger(param, value):
    return None, False


_COERCE: dict[str, Callable[[Param, Any], tuple[Any, bool]]] = {
    "float": _float, "int": _int, "bool": _bool, "enum": _enum, "text": _text, "trigger": _trigger}


@dataclass(frozen=True)
class SetResult:
    """What a write did: ok (possibly clamped), or refused with a message."""

    address: str
    ok: bool
    value: Any = None
    clamped: bool = False
    message: str = ""


@dataclass(frozen=True)
class Snapshot:
    """A consistent view of every value at one moment; `version` grows with every change.
    Triggers appear as counters, so a reader sees that they fired since it last looked."""

    values: dict
    version: int
    writes: dict  # address -> how many times it was written (so a repeated /prime is seen)

    def __getitem__(self, address: str) -> Any:
        return self.values[address]

    def mix(self, names: list[str]) -> list[float]:
        return [self.values[mix_address(n)] for n in names]


Listener = Callable[[str, Any, str], None]  # (address, value, source)


@dataclass
class ParamTree:
    """The registry and its values. Thread-safe; latest value wins."""

    params: dict[str, Param] = field(default_factory=dict)
    _values: dict[str, Any] = field(default_factory=dict)
    _writes: dict[str, int] = field(default_factory=dict)
    _version: int = 0
    _listeners: list[Listener] = field(default_factory=list)
    _warned: set[str] = field(default_factory=set)
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _refusals: RateLimitedLog = field(default_factory=lambda: RateLimitedLog(log, "refused values"))
    _clamps: RateLimitedLog = field(default_factory=lambda: RateLimitedLog(log, "clamped values"))

    @classmethod
    def of(cls, params: list[Param]) -> "ParamTree":
        tree = cls()
        for param in params:
            tree.add(param)
        return tree

    def add(self, param: Param) -> Param:
        if param.address in self.params:
            raise ValueError(f"{param.address} is already registered")
        self.params[param.address] = param
        self._values[param.address] = 0 if param.kind == "trigger" else param.default
        self._writes[param.address] = 0
        return param

    def __contains__(self, address: str) -> bool:
        return address in self.params

    def tagged(self, tag: str) -> list[str]:
        """The addresses of every parameter with this tag, in registration order."""
        return [a for a, p in self.params.items() if tag in p.tags]

    def get(self, address: str) -> Any:
        with self._cond:
            return self._values[address]

    def snapshot(self) -> Snapshot:
        with self._cond:
            return Snapshot(dict(self._values), self._version, dict(self._writes))

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def set(self, address: str, value: Any = None, source: str = "") -> SetResult:
        """Write a value (or fire a trigger). Never raises for bad input: the result says why."""
        param = self.params.get(address)
        if param is None:
            return self._refuse(address, f"no parameter at {address}")
        try:
            coerced, clamped = param.coerce(value)
        except ParamError as e:
            return self._refuse(address, str(e))
        with self._cond:
            if param.kind == "trigger":
                coerced = self._values[address] + 1
            self._values[address] = coerced
            self._writes[address] += 1
            self._version += 1
            self._cond.notify_all()
            self._report_clamp(param, value, coerced, clamped)
        heard = None if param.kind == "trigger" else coerced  # a trigger fires: listeners hear no value
        for listener in list(self._listeners):
            listener(address, heard, source)
        return SetResult(address, True, coerced, clamped)

    def set_many(self, values: dict[str, Any], source: str = "") -> SetResult:
        """Several values as one move: every one is checked first (one refused, none written),
        then all are written under one lock as one version, so no step reads half of the move."""
        coerced = {}
        for address, value in values.items():
            param = self.params.get(address)
            if param is None or param.kind == "trigger":
                return self._refuse(address, f"no value at {clip(address)}")
            try:
                coerced[address], _ = param.coerce(value)
            except ParamError as e:
                return self._refuse(address, str(e))
        with self._cond:
            for address, value in coerced.items():
                self._values[address] = value
                self._writes[address] += 1
            self._version += 1
            self._cond.notify_all()
        for address, value in coerced.items():
            for listener in list(self._listeners):
                listener(address, value, source)
        return SetResult(",".join(coerced), True, coerced)

    @property
    def version(self) -> int:
        """How many changes the tree has seen (an int read is atomic: no lock, no copy)."""
        return self._version

    def wait_for_change(self, version: int, timeout: float) -> bool:
        """Block until the version moves past `version` (or timeout); True if it did."""
        with self._cond:
            return self._cond.wait_for(lambda: self._version != version, timeout)

    def _refuse(self, address: str, message: str) -> SetResult:
        self._refusals.log(f"refused: {message}")
        return SetResult(address, False, message=message)

    def _report_clamp(self, param: Param, asked: Any, got: Any, clamped: bool) -> None:
        # Reported once per excursion: a fader held past the end is one message, not hundreds.
        if clamped and param.address not in self._warned:
            self._warned.add(param.address)
            self._clamps.log(f"{param.address}: {brief(asked)} is out of range {param.range}, clamped to {got!r}")
        elif not clamped:
            self._warned.discard(param.address)

    def describe(self) -> list[dict]:
        """Every parameter with its kind, range, value and doc, in registration order."""
        snap = self.snapshot()
        return [{"address": p.address, "kind": p.kind, "range": list(p.range), "span": list(p.span or p.range),
                 "default": p.default, "value": snap[p.address], "doc": p.doc, "tags": sorted(p.tags)}
                for p in self.params.values()]


# The shipped styles' order, which numbers them (a style's MIDI note channel, its Wekinator
# output) ahead of a performer's own: numbers once followed alphabetical order, and an 18th style
# of one's own rerouted the shipped ones in Live. A style shipped later is appended, never inserted.
SHIPPED_STYLES = ("austen", "baudelaire", "beeton", "bible", "chilcot", "elisp", "holmes", "javascript", "latex",
                  "linux", "lovesongs", "moby", "nietzsche", "poe", "python", "shakespeare", "speeches")


def style_numbers(names: list[str]) -> dict[str, int]:
    """Each loaded style's number, counted over the loaded styles: the shipped ones first, in the
    order of SHIPPED_STYLES, then a performer's own, alphabetically. So a style of one's own,
    added or loaded, moves none of the shipped styles' numbers."""
    shipped = [n for n in SHIPPED_STYLES if n in names]
    order = [*shipped, *sorted(set(names) - set(SHIPPED_STYLES))]
    return {n: order.index(n) for n in names}


def style_params(names: list[str]) -> list[Param]:
    """A weight per loaded style."""
    return [Param(mix_address(n), "float", (0.0, 1.0), 0.0, f"weight of the {n} style in the mix",
                  frozenset({"style", "mixing", "sound"})) for n in names]


# The engine's own controls. /mode's choices are the mixing rules: a new rule is playable at once.
MIXING, SOUND, SURFACE, PHONE, FLAG = frozenset({"mixing", "sound", "surface"}), frozenset({"sound", "surface"}), \
    frozenset({"surface"}), frozenset({"phone"}), frozenset({"flag"})
CONTROLS = [
    Param("/temperature", "float", (0.05, 3.0), 0.8,
          "below 1 plays safe, above 1 plays wild (applied to the mixed distribution)", MIXING | PHONE | FLAG),
    Param("/top_p", "float", (0.01, 1.0), 1.0, "sample only from the most likely mass p (1 = all)", MIXING | PHONE | FLAG),
    Param("/min_p", "float", (0.0, 0.5), 0.0,
          "leave out characters less likely than this fraction of the likeliest (0 = none)", MIXING | FLAG),
    Param("/cap", "float", (0.2, 1.0), 1.0,
          "no style may give one character more than this probability (1 = uncapped)", MIXING | FLAG),
    Param("/lookahead", "int", (0, 16), 8,
          "characters of foresight: paths are written this far ahead, and a mix keeps to those that read as one style's words (0 = the paper's plain sampler)",
          SOUND | PHONE | FLAG),
    Param("/beams", "int", (1, 16), 4, "candidate paths the lookahead keeps", SOUND | FLAG),
    Param("/presence", "float", (0.0, 1.0), 1.0,
          "with lookahead: how strongly an under-heard style is raised until the text follows the faders (0 = off)",
          SOUND | PHONE | FLAG),
    Param("/phrase", "float", (0.0, 0.95), 0.8,
          "with lookahead, linear mode: the chance that the style that wrote a word writes the next too "
          "(0 = styles take turns word by word; 0.8 = phrases of about six words among eight equal styles)", SOUND | PHONE | FLAG),
    Param("/copy", "float", (0.0, 1.0), 1.0,
          "how much each style recalls what this piece has already said (its text memory and copy model), "
          "as fitted (1; code styles copy most) or less (0 = nothing of it)", SOUND | PHONE | FLAG),
    Param("/memory", "float", (0.0, 1.0), 1.0,
          "how much each style recalls its own corpus, as its fitted memory asks (1) or less "
          "(0 with /copy 0 = the LSTMs alone, the paper's styles)", SOUND | PHONE | FLAG),
    Param("/loop_guard", "float", (0.0, 1.0), 1.0,
          "how hard the text is pushed off a stretch it has been writing over again for more than 32 characters "
          "(the loops of the faders' cold ends; 0 = off)", SOUND | FLAG),
    Param("/flood_guard", "float", (0.0, 1.0), 1.0,
          "how hard the text is pushed off a flood: whitespace outside indentation over 30% of the last 200 "
          "characters, or fewer than 8 kinds of character in them (the code styles' screens of spaces at the "
          "faders' cold ends; 0 = off)", SOUND | FLAG),
    Param("/words", "float", (0.0, 1.0), 1.0,
          "how hard the text is kept to words the playing styles' corpora hold: a character that would "
          "coin a word is left out (1), made e^(20 x this) times rarer below, or free (0: the styles coin words "
          "as they will)", SOUND | PHONE | FLAG),
    Param("/mode", "enum", tuple(RULES), "linear",
          "mixing rule: linear (the paper's weighted average) or product (log-linear product of experts)", MIXING | FLAG),
    Param("/threshold", "float", (0.0, 1.0), 0.05,
          "styles weighted below this are not stepped (they catch up when raised)", MIXING | FLAG),
    Param("/rate", "float", (0.0, 2000.0), 40.0, "characters per second; 0 = as fast as it goes, an explicit "
          "choice: a fader's bottom is 1, and a value under 0 is 1 too", SURFACE | PHONE | FLAG, span=(1.0, 400.0)),
    Param("/seed", "int", (0, 2**31 - 1), 0, "re-seed the sampler (same seed and moves, same text)",
          frozenset({"event"}) | FLAG),
    Param("/run", "bool", (), True, "play (1) or pause (0)", SURFACE),
    Param("/prime", "text", (10_000,), "", "text every style reads as if it had written it",
          frozenset({"event", "surface"}) | FLAG),
    Param("/prime_at", "enum", ("word", "now"), "word", "when a prime lands: at the end of the word being written "
          "(never inside it; at most 40 characters later) or at once"),
    Param("/reset", "trigger", (), None, "fresh hidden states: every style forgets what it read",
          frozenset({"event", "surface"})),
]

