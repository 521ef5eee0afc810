"""What a performance is started with: one dataclass per part, filled from the command line (cli/)
or by hand (tests, a script). Nothing here opens anything."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class SetupError(ValueError):
    """A setting the instrument cannot start with; the message says which and why."""


def parse_mix(text: str) -> dict[str, float]:
    """'shakespeare=0.7,bible=0.3' -> {'shakespeare': 0.7, 'bible': 0.3}."""
    mix = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        try:
            mix[name.strip()] = float(value) if sep else 1.0
        except ValueError:
            raise SetupError(f"--mix: {part!r} is not NAME=WEIGHT") from None
    return mix


@dataclass
class EngineSettings:
    models: list[str] | None = None      # style names or .safetensors paths (default: every installed style)
    mix: dict[str, float] | None = None  # starting weights (default: parts.DEFAULT_MIX)
    backend: str = "auto"                # auto, kernel, torch
    precision: str = "int8"              # int8, fp16 (how the C kernel reads the weights)
    threads: int | None = None
    values: dict[str, Any] = field(default_factory=dict)  # any parameter, /address -> value (None: default)


@dataclass
class OscSettings:
    listen: str = "127.0.0.1:9000"
    allow: list[str] | None = None       # who may play when listening beyond this machine (CIDR)
    outs: list[str] | None = None        # HOST:PORT to send text, frames and echoes to
    frame_rate: float = 60.0
    oscquery: bool = True


@dataclass
class MidiSettings:
    enabled: bool = True
    port: str | None = None        # connect to an existing port whose name contains this
    api: str | None = None         # alsa, jack, coremidi, windows (default: the system's, then JACK)
    mapping: str | None = None     # default mappings/default.yaml
    learn: str | None = None       # arm a learn for this address at start
    clock: bool = False            # follow MIDI clock
    out: bool = True               # a MIDI output (feedback to the controls), whenever MIDI is on
    out_port: str | None = None    # connect to an existing output whose name contains this
    notes: bool = False            # play the text as notes
    clock_out: bool = False        # send MIDI clock at /clock/bpm


@dataclass
class OutputSettings:
    record: Path | None = None     # a recording of the performance (JSON lines)
    speak: bool = False
    speak_to: Path | None = None   # render the speech into this WAV instead of the speakers
    voice: str | None = None
    voices: Path | None = None     # the voice table (default: the shipped one)
    policy: str | None = None      # live, recite
    project: bool = False          # the projection window
    fullscreen: bool = False
    theme: str | None = None
    screenshot: str | None = None  # the projection's last frame as PNG (tests, docs)
    panel: bool = False            # the panel, in its own process
    on_beat: bool = False          # the voice starts each phrase on the beat (with Link or MIDI clock)


@dataclass
class PlaySettings:
    engine: EngineSettings = field(default_factory=EngineSettings)
    osc: OscSettings = field(default_factory=OscSettings)
    midi: MidiSettings = field(default_factory=MidiSettings)
    outputs: OutputSettings = field(default_factory=OutputSettings)
    presets: Path | None = None    # default: the shipped presets/
    preset: str | None = None      # a preset to start from (its values over the engine's)
    chars: int | None = None       # stop after this many characters
    link: bool = False             # join the Ableton Link session and follow its tempo and transport
    wekinator: str | None = None   # HOST:PORT to hear Wekinator's /wek/outputs on
