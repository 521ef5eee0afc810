"""Presets (presets/*.yaml): any subset of the tree's values, saved, recalled or morphed to.

    name: scripture meets kernel
    values:
      /mix/bible: 0.6
      /mix/linux: 0.4
      /temperature: 0.7

A preset file is checked whole before anything is applied: a bad one is an error naming the file
and the entry, and nothing changes. A preset that sets any style's weight sets the whole mix: the
styles it does not name are silent in it. presets/bank.yaml lists preset names in order: MIDI program
change N recalls the N-th.
"""
from __future__ import annotations

import logging
import re
import threading
import time
from pathlib import Path

import yaml

from ..base.files import FileProblem, clear_orphans, clip, read_text, read_yaml, write_text, write_yaml
from ..params import ParamError, ParamTree, style_of
from ..base.ratelog import RateLimitedLog

log = logging.getLogger("instrument.presets")

SAVED_KINDS = ("float", "int", "bool", "enum")
# What /preset/save writes: the sound (the parameters tagged "sound": the mix, temperature, mode,
# lookahead...). Not the transport (/run, /rate), the dice (/seed), nor the voice or the projector
# (a preset made at rehearsal must not re-voice the show). A preset file written by hand may still
# set any value of those kinds, and a text that holds (the voice: `/speech/voice: piper`), not one
# that fires (/prime).
DECIMALS = 3  # a fader's resolution (7-bit MIDI: 1/127) is coarser; float noise is not saved
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")
RESERVED = {"bank"}  # file names of the folder that are not presets (bank.yaml: the program-change order)
MORPH_HZ = 50


class PresetError(ValueError):
    """A preset that cannot be used; names the file and what is wrong."""


def slug(name: str) -> str:
    """'Scripture meets kernel' -> 'scripture-meets-kernel' (the file name)."""
    if not NAME.match(name) or ".." in name:
        raise PresetError(f"{clip(repr(name), 70)} is not a preset name (letters, digits, space, _ . -; up to 64)")
    stem = re.sub(r"[ _]+", "-", name.strip().lower())
    if stem in RESERVED:
        raise PresetError(f"{name!r} is reserved (presets/{stem}.yaml is the bank, not a preset); choose another name")
    return stem


class Presets:
    def __init__(self, params: ParamTree, folder: Path, on_loaded=lambda name: None):
        """on_loaded(name): a preset was loaded or a morph to it began (for /preset/current)."""
        self.params, self.folder = params, Path(folder)
        self.on_loaded = on_loaded
        for orphan in clear_orphans(self.folder):  # a save killed mid-write
            log.info("removed %s, left by a save that was cut off", orphan.name)
        self.current: str | None = None
        self.current_values: dict | None = None  # the last recalled preset's values (what /panic goes back to)
        self._outside = RateLimitedLog(log, "program changes outside the bank")
        self._announced = RateLimitedLog(log, "presets loaded")  # a flood of loads must not flood the console
        self._morph: threading.Event | None = None
        self._lock = threading.Lock()

    def path(self, name: str) -> Path:
        return self.folder / f"{slug(name)}.yaml"

    def names(self) -> list[str]:
        return sorted(p.stem for p in self.folder.glob("*.yaml") if p.stem != "bank")

    def bank(self) -> list[str]:
        path = self.folder / "bank.yaml"
        try:
            bank = read_yaml(path) or []
        except FileProblem as e:
            raise PresetError(f"the bank: {e}") from None
        if not isinstance(bank, list) or not all(isinstance(n, str) for n in bank):
            raise PresetError(f"{path}: the bank is a list of preset names")
        return bank

    # --- reading -----------------------------------------------------------------------------
    def read(self, name: str) -> dict:
        """The preset's values, coerced and checked against the tree; PresetError if any is bad."""
        path = self.path(name)
        if not path.exists():
            raise PresetError(f"{path}: no such preset (there are: {', '.join(self.names()) or 'none'})")
        try:
            data = read_yaml(path)
        except FileProblem as e:
            raise PresetError(str(e)) from None
        values = data.get("values") if isinstance(data, dict) else None
        if not isinstance(values, dict) or not values:
            raise PresetError(f"{path}: expected 'values:' with address: value entries")
        checked = {}
        for address, value in values.items():
            if address not in self.params:
                if isinstance(address, str) and style_of(address):
                    continue  # a style not loaded tonight
                raise PresetError(f"{path}: {clip(address)}: no such parameter")
            param = self.params.params[address]
            if param.kind not in SAVED_KINDS and not (param.kind == "text" and "event" not in param.tags):
                raise PresetError(f"{path}: {address}: a {param.kind} cannot be part of a preset")
            try:
                checked[address], _ = param.coerce(value)
            except ParamError as e:
                raise PresetError(f"{path}: {e}") from None
        if any(style_of(a) for a in checked):  # a preset's mix is the whole mix: a style it does not
            for address in self.params.tagged("style"):  # name is silent in it (so presets made before
                checked.setdefault(address, 0.0)         # a style existed still mean what they meant)
        return checked

    # --- actions -----------------------------------------------------------------------------
    def sound(self) -> dict:
        """The values a preset keeps, as a person set them (rounded to DECIMALS)."""
        snap = self.params.snapshot()
        keep = self.params.tagged("sound")
        return {a: round(snap[a], DECIMALS) + 0.0 if isinstance(snap[a], float) else snap[a] for a in keep}

    def save(self, name: str, overwrite: bool = False) -> Path:
        """The sound now (sound(): every parameter tagged "sound"), written then renamed into
        place; a new preset joins the end of the bank, so a program change reaches it. An existing
        preset is replaced only when asked (overwrite)."""
        path = self.path(name)
        if path.exists() and not overwrite:
            raise PresetError(f"preset {name!r} exists ({path}); to replace it, save with overwrite "
                              f"(/preset/save s NAME i 1, or tick 'replace' on the panel)")
        write_yaml(path, {"name": name, "values": self.sound()})
        self._add_to_bank(name)
        log.info("preset %r saved to %s", name, path)
        return path

    def _add_to_bank(self, name: str) -> None:
        """A line at the end of bank.yaml (its comments kept), unless the preset is there."""
        path = self.folder / "bank.yaml"
        try:
            bank = self.bank() if path.exists() else []
        except PresetError as e:
            log.warning("%s; the new preset is not in the bank", e)
            return
        if slug(name) in {slug(n) for n in bank if NAME.match(n)}:
            return
        text = read_text(path) if path.exists() else ""
        write_text(path, text + ("" if not text or text.endswith("\n") else "\n") + yaml.safe_dump([name]))
        log.info("preset %r is program %d of the bank (0 is the first)", name, len(bank))

    def load(self, name: str) -> dict:
        values = self.read(name)  # everything is checked before anything moves
        self._cancel_morph()
        self.params.set_many(values, source="preset")  # one move: no step hears half a preset
        self._loaded(name, values)
        return values

    def _loaded(self, name: str, values: dict, news: str | None = None) -> None:
        self.current, self.current_values = name, values
        self._announced.log(news or f"preset {clip(repr(name), 70)} loaded")
        self.on_loaded(name)

    def recall(self, program: int) -> dict | None:
        """MIDI program change: the program-th preset of the bank (0-based, as MIDI sends it)."""
        bank = self.bank()
        if not 0 <= program < len(bank):
            self._outside.log(f"program change {program}: the bank has {len(bank)} presets (0 to {len(bank) - 1})")
            return None
        return self.load(bank[program])

    def morph(self, name: str, seconds: float) -> dict:
        """Glide every numeric value to the preset's over `seconds`; the rest switch at once."""
        values = self.read(name)
        if not (0 <= seconds <= 600):
            raise PresetError(f"morph time {seconds} s is outside 0..600")
        self._cancel_morph()
        start = self.params.snapshot()
        glide = {a: (float(start[a]), float(v)) for a, v in values.items()
                 if self.params.params[a].kind in ("float", "int")}
        self.params.set_many({a: v for a, v in values.items() if a not in glide}, source="preset")
        stop = threading.Event()
        with self._lock:
            self._morph = stop
        self._loaded(name, values, f"morphing to preset {clip(repr(name), 70)} over {seconds:g} s")
        threading.Thread(target=self._glide, args=(glide, seconds, stop), name="morph", daemon=True).start()
        return values

    def _glide(self, glide: dict, seconds: float, stop: threading.Event) -> None:
        t0 = time.monotonic()
        while not stop.is_set():
            t = 1.0 if seconds == 0 else min((time.monotonic() - t0) / seconds, 1.0)
            self.params.set_many({address: a + (b - a) * t for address, (a, b) in glide.items()}, source="preset")
            if t >= 1.0:
                return
            stop.wait(1.0 / MORPH_HZ)

    def stop_morph(self) -> None:
        """A glide in progress stops where it is (an undo, a panic, a load)."""
        self._cancel_morph()

    def _cancel_morph(self) -> None:
        with self._lock:
            if self._morph is not None:
                self._morph.set()
                self._morph = None


def commands(presets: "Presets", later, refuse) -> list:
    """/preset/save, /preset/load, /preset/morph, /preset/list: files, so on the worker (later)."""
    from ..commands import Command

    def list_them(address, args, sender):
        return later(sender, "listing presets", lambda: [("/preset/list", tuple(presets.names()))])

    def act(address, args, sender):
        action = address.rsplit("/", 1)[-1]
        if not args or not isinstance(args[0], str):
            return refuse(f"{address} needs a preset name")
        name = args[0]
        seconds = float(args[1]) if len(args) > 1 and isinstance(args[1], (int, float)) else 4.0

        def job():
            if action == "save":
                overwrite = len(args) > 1 and isinstance(args[1], (int, float)) and bool(args[1])
                return [("/preset/saved", (presets.save(name, overwrite).stem,))]
            if action == "load":
                presets.load(name)
                return [("/preset/loaded", (name,))]
            presets.morph(name, seconds)
            return [("/preset/morphing", (name,))]
        return later(sender, f"{action} preset {name[:40]!r}", job)

    return [
        Command("/preset/save", "s name [i overwrite]", "the sound now into presets/NAME.yaml, and into the bank; "
                "an existing preset is replaced only with overwrite 1 ('bank' is reserved); answers "
                "`/preset/saved STEM`", act),
        Command("/preset/load", "s name", "recall a preset as one move; answers `/preset/loaded NAME`", act),
        Command("/preset/morph", "s name [f seconds]", "glide to a preset (4 s unless given); answers "
                "`/preset/morphing NAME`", act),
        Command("/preset/list", "", "answers `/preset/list` with every preset's name", list_them),
    ]
