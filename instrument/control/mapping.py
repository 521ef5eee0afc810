"""MIDI mappings: which control moves which parameter, read from mappings/*.yaml.

A binding ties a control (channel + CC, a 14-bit CC pair, or a note) to any address of the tree,
with a range, a curve and a mode. Loading validates the whole file first: any bad entry is an error
naming the file and the entry, and the mapping in force stays in force.

    bindings:
      - {channel: 1, cc: 1, target: /mix/shakespeare}                     # absolute 7-bit, 0..1
      - {channel: 1, cc: 8, target: /temperature, min: 0.2, max: 1.6, curve: exponential}
      - {channel: 1, cc14: 16, target: /mix/bible}                         # MSB 16 + LSB 48
      - {channel: 1, cc: 20, target: /threshold, mode: relative}           # an endless encoder
      - {channel: 10, note: 36, target: /mix/linux, mode: momentary}       # a pad punches a style in
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..base.files import FileProblem, brief, clip, read_text, read_yaml, write_text
from ..params import Param, ParamTree, style_of

MODES_CC = ("absolute", "relative", "relative-offset", "relative-signed")
MODES_NOTE = ("momentary", "toggle")
CURVES = ("linear", "exponential")
EXP_K = 4.0  # shape of the exponential curve: halfway up the fader gives about 12% of the range


class MappingError(ValueError):
    """A mapping file that cannot be used; names the file and the entry."""


@dataclass
class Binding:
    """One control -> one parameter."""

    channel: int                 # 1..16, as a performer counts them
    target: str
    cc: int | None = None
    cc14: int | None = None      # MSB controller number 0..31; its LSB is cc14 + 32
    note: int | None = None
    min: float | None = None     # default: the parameter's range
    max: float | None = None
    curve: str = "linear"
    mode: str = ""               # default: absolute for CCs, momentary for notes
    soft_takeover: bool | None = None  # default: on for absolute CCs

    @property
    def key(self) -> tuple:
        """What identifies the control: (kind, channel, number)."""
        if self.note is not None:
            return ("note", self.channel, self.note)
        if self.cc14 is not None:
            return ("cc14", self.channel, self.cc14)
        return ("cc", self.channel, self.cc)

    @property
    def source(self) -> str:
        """Who moved a parameter, as the tree records it, when this control did."""
        return f"midi:{self.key}"

    def range(self, param: Param) -> tuple[float, float]:
        """The binding's (min, max), defaulting to the part of the parameter's range a fader covers
        (its span: /rate's bottom is slow, not flat out), 0..1 for the rest."""
        lo, hi = ((param.span or param.range) if param.kind in ("float", "int") else (0.0, 1.0))
        return (self.min if self.min is not None else lo, self.max if self.max is not None else hi)

    def scaled(self, param: Param, x: float):
        """A 0..1 control position -> the value to write, by curve, range and kind."""
        y = curve_value(self.curve, x)
        if param.kind == "enum":
            return param.range[min(int(y * len(param.range)), len(param.range) - 1)]
        if param.kind == "bool":
            return y >= 0.5
        lo, hi = self.range(param)
        return lo + (hi - lo) * y

    def position(self, param: Param, value) -> float | None:
        """Where on the control (0..1) a parameter value sits; None if it has no place (text)."""
        if param.kind == "enum":
            return (param.range.index(value) + 0.5) / len(param.range) if value in param.range else None
        if param.kind == "bool":
            return 1.0 if value else 0.0
        if param.kind not in ("float", "int"):
            return None
        lo, hi = self.range(param)
        return inverse_curve(self.curve, (value - lo) / (hi - lo)) if hi != lo else 0.0

    def feedback(self, param: Param, value) -> list[list[int]]:
        """The MIDI bytes that show this control the parameter's value: its CC (both halves of a
        14-bit pair), or a pad's light on or off."""
        x = self.position(param, value)
        if x is None:
            return []
        x, channel = min(max(x, 0.0), 1.0), self.channel - 1
        if self.note is not None:
            return [[0x90 | channel, self.note, 127 if x >= 0.5 else 0]]
        if self.cc14 is not None:
            both = round(x * 16383)
            return [[0xB0 | channel, self.cc14, both >> 7], [0xB0 | channel, self.cc14 + 32, both & 127]]
        return [[0xB0 | channel, self.cc, round(x * 127)]]

    def to_yaml(self) -> dict:
        """As a performer would write it: the control first, defaults left out."""
        kind, _, number = self.key
        out = {"channel": self.channel, kind: number, "target": self.target}
        defaults = {"min": None, "max": None, "curve": "linear",
                    "mode": "momentary" if self.note is not None else "absolute",
                    "soft_takeover": self.mode in ("absolute", "")}
        for name, default in defaults.items():
            value = getattr(self, name)
            if value is not None and value != "" and value != default:
                out[name] = value
        return out


def curve_value(curve: str, x: float) -> float:
    """0..1 -> 0..1 along the curve."""
    x = min(max(x, 0.0), 1.0)
    if curve == "exponential":
        return (math.exp(EXP_K * x) - 1.0) / (math.exp(EXP_K) - 1.0)
    return x


def inverse_curve(curve: str, y: float) -> float:
    y = min(max(y, 0.0), 1.0)
    if curve == "exponential":
        return math.log(1.0 + y * (math.exp(EXP_K) - 1.0)) / EXP_K
    return y


@dataclass
class Mapping:
    """Validated bindings, by control."""

    path: Path | None
    bindings: list[Binding] = field(default_factory=list)
    inactive: list[Binding] = field(default_factory=list)  # weights of styles not loaded tonight
    wekinator: list[str] | None = None  # the order Wekinator's outputs move (wekinator.py), if given

    def find(self, key: tuple) -> Binding | None:
        return next((b for b in self.bindings if b.key == key), None)


def _entry_error(path, index: int, entry, why: str) -> MappingError:
    return MappingError(f"{path}: binding {index + 1} ({brief(entry)}): {why}")


def _check_number(value, lo: int, hi: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValueError(f"{what} must be a whole number {lo}..{hi}, got {brief(value)}")
    return value


def parse_binding(entry: dict) -> Binding:
    """One YAML entry -> a Binding, or ValueError saying what is wrong."""
    if not isinstance(entry, dict):
        raise ValueError("an entry is a mapping like {channel: 1, cc: 7, target: /mix/bible}")
    known = set(Binding.__dataclass_fields__)
    unknown = set(entry) - known
    if unknown:
        raise ValueError(f"unknown keys {brief(sorted(map(str, unknown)))}")
    controls = [k for k in ("cc", "cc14", "note") if entry.get(k) is not None]
    if len(controls) != 1:
        raise ValueError("give exactly one of cc, cc14 or note")
    b = Binding(**entry)
    _check_number(b.channel, 1, 16, "channel")
    _check_number(getattr(b, controls[0]), 0, 31 if controls[0] == "cc14" else 127, controls[0])
    if not isinstance(b.target, str) or not b.target.startswith("/"):
        raise ValueError(f"target must be an address like /mix/bible, got {brief(b.target)}")
    modes = MODES_NOTE if b.note is not None else MODES_CC
    b.mode = b.mode or modes[0]
    if b.mode not in modes:
        raise ValueError(f"mode {brief(b.mode)} is not one of {', '.join(modes)} for a {controls[0]}")
    if b.curve not in CURVES:
        raise ValueError(f"curve {brief(b.curve)} is not one of {', '.join(CURVES)}")
    for bound in ("min", "max"):
        value = getattr(b, bound)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or not math.isfinite(value)):
            raise ValueError(f"{bound} must be a number, got {brief(value)}")
    if b.soft_takeover is None:
        b.soft_takeover = b.mode == "absolute"
    return b


def load_mapping(path: Path, params: ParamTree) -> Mapping:
    """Read and validate a whole file; MappingError on the first problem (nothing is applied).
    A binding to the weight of a style that is not loaded tonight is kept, inactive."""
    try:
        data = read_yaml(Path(path)) or {}
    except FileProblem as e:
        raise MappingError(str(e)) from None
    entries = data.get("bindings", []) if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise MappingError(f"{path}: expected 'bindings:' followed by a list")
    mapping, seen = Mapping(Path(path), wekinator=_wekinator_order(path, data)), {}
    for index, entry in enumerate(entries):
        try:
            binding = parse_binding(entry)
        except (ValueError, TypeError) as e:
            raise _entry_error(path, index, entry, str(e)) from None
        if binding.key in seen:
            raise _entry_error(path, index, entry, f"the same control as binding {seen[binding.key] + 1}")
        seen[binding.key] = index
        if binding.target in params and "status" in params.params[binding.target].tags:
            raise _entry_error(path, index, entry, f"{binding.target} is reported by the instrument: a control "
                                                   f"cannot set it")
        if binding.target in params:
            mapping.bindings.append(binding)
        elif style_of(binding.target):
            mapping.inactive.append(binding)  # a style not loaded tonight
        else:
            raise _entry_error(path, index, entry, f"no parameter at {clip(binding.target)}")
    return mapping


def _wekinator_order(path, data) -> list[str] | None:
    order = data.get("wekinator") if isinstance(data, dict) else None
    if order is None:
        return None
    if not isinstance(order, list) or not all(isinstance(e, str) and e for e in order) or len(order) > 256:
        raise MappingError(f"{path}: wekinator: is a list of style names or addresses, got {brief(order)}")
    return order


def save_mapping(mapping: Mapping) -> None:
    """Write the bindings back, keeping the file's leading comments (PyYAML drops the others);
    write-then-rename, so a crash never leaves half a file."""
    path = mapping.path
    header = []
    if path.exists():
        for line in read_text(path).splitlines():
            if line.startswith("#") or not line.strip():
                header.append(line)
            else:
                break
    data = {"bindings": [b.to_yaml() for b in mapping.bindings + mapping.inactive]}
    if mapping.wekinator is not None:
        data["wekinator"] = list(mapping.wekinator)
    body = yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=120)
    write_text(path, "\n".join(header) + ("\n" if header else "") + body)
