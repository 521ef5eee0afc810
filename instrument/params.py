"""The parameter tree: one registry of every control, read by every surface.

OSC addresses, MIDI-learn targets, panel sliders and presets all come from this table. Writers
(any thread) only store the latest value; the engine reads one consistent snapshot per step, so a
flood of fader messages costs nothing and no queue grows.
"""
from __future__ import annotations

import logging
import math
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from .files import brief
from .ratelog import RateLimitedLog

log = logging.getLogger("instrument.params")

KINDS = ("float", "int", "bool", "enum", "text", "trigger")
ASCII_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


class ParamError(ValueError):
    """A value that was refused; the parameter keeps its old value."""


@dataclass(frozen=True)
class Param:
    """One control: its address, kind, range (or choices), default and a line of documentation."""

    address: str
    kind: str
    range: tuple = ()
    default: Any = None
    doc: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"{self.address}: unknown kind {self.kind!r}")
        if not self.address.startswith("/") or " " in self.address:
            raise ValueError(f"{self.address!r}: an address starts with / and has no spaces")

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
    if not math.isfinite(value):
        raise ParamError(f"{param.address} refuses {value} (not a finite number)")
    lo, hi = param.range
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
        return [self.values[f"/mix/{n}"] for n in names]


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

    def add(self, param: Param) -> Param:
        if param.address in self.params:
            raise ValueError(f"{param.address} is already registered")
        self.params[param.address] = param
        self._values[param.address] = 0 if param.kind == "trigger" else param.default
        self._writes[param.address] = 0
        return param

    def __contains__(self, address: str) -> bool:
        return address in self.params

    def get(self, address: str) -> Any:
        with self._cond:
            return self._values[address]

    def snapshot(self) -> Snapshot:
        with self._cond:
            return Snapshot(dict(self._values), self._version, dict(self._writes))

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

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
        for listener in list(self._listeners):
            listener(address, coerced, source)
        return SetResult(address, True, coerced, clamped)

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
        return [{"address": p.address, "kind": p.kind, "range": list(p.range), "default": p.default,
                 "value": snap[p.address], "doc": p.doc} for p in self.params.values()]


MODES = ("linear", "product")


def instrument_tree(model_names: list[str]) -> ParamTree:
    """The engine's parameters: one /mix/<name> per loaded model, then the global controls."""
    tree = ParamTree()
    for name in model_names:
        tree.add(Param(f"/mix/{name}", "float", (0.0, 1.0), 0.0, f"weight of the {name} style in the mix"))
    tree.add(Param("/temperature", "float", (0.05, 3.0), 0.8,
                   "below 1 plays safe, above 1 plays wild (applied to the mixed distribution)"))
    tree.add(Param("/top_p", "float", (0.01, 1.0), 1.0, "sample only from the most likely mass p (1 = all)"))
    tree.add(Param("/min_p", "float", (0.0, 0.5), 0.0,
                   "leave out characters less likely than this fraction of the likeliest (0 = none)"))
    tree.add(Param("/cap", "float", (0.2, 1.0), 1.0,
                   "no style may give one character more than this probability (1 = uncapped)"))
    tree.add(Param("/lookahead", "int", (0, 16), 8,
                   "characters of foresight: paths are written this far ahead and the likeliest kept (0 = the paper's plain sampler)"))
    tree.add(Param("/beams", "int", (1, 16), 4, "candidate paths the lookahead keeps"))
    tree.add(Param("/presence", "float", (0.0, 1.0), 1.0,
                   "with lookahead: how strongly an under-heard style is raised until the text follows the faders (0 = off)"))
    tree.add(Param("/mode", "enum", MODES, "linear",
                   "mixing rule: linear (the paper's weighted average) or product (log-linear product of experts)"))
    tree.add(Param("/threshold", "float", (0.0, 1.0), 0.05,
                   "styles weighted below this are not stepped (they catch up when raised)"))
    tree.add(Param("/rate", "float", (0.0, 2000.0), 40.0, "characters per second; 0 = as fast as it goes"))
    tree.add(Param("/seed", "int", (0, 2**31 - 1), 0, "re-seed the sampler (same seed and moves, same text)"))
    tree.add(Param("/run", "bool", (), True, "play (1) or pause (0)"))
    tree.add(Param("/prime", "text", (10_000,), "", "text every style reads as if it had written it"))
    tree.add(Param("/reset", "trigger", (), None, "fresh hidden states: every style forgets what it read"))
    return tree
