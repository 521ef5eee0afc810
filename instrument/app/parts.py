"""Each part of a playing instrument, built from its settings (app/settings.py): the engine from its
styles, OSC in and out, OSCQuery, the presets, MIDI, the control commands, the outputs and the
panel. session.py puts them together and takes them apart; replay and the tests use them alone.
Each says plainly what it cannot do (SetupError for a setting that cannot start; a warning, and
the instrument plays on, for a port or a device that is not there)."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from ..core.copying import Copier, CopyTable
from ..core.ensemble import Ensemble
from ..core.corpusindex import CorpusIndex
from ..core.memory import Memory
from ..core.memoryfile import MemoryFile, read_memory
from ..core.weights import ModelFileError, ModelWeights, read_weights
from ..engine import Engine
from .library import installed_names, read_card, resolve
from ..params import mix_address
from ..base.paths import mappings_dir, presets_dir
from .settings import EngineSettings, MidiSettings, OscSettings, OutputSettings, SetupError
from ..tree import build_tree

log = logging.getLogger("instrument")

DEFAULT_MIX = {"shakespeare": 0.6, "bible": 0.4}


def default_mix(names: list[str]) -> dict[str, float]:
    """Shakespeare and the Bible, those of them that are loaded; else the first style alone."""
    mix = {n: w for n, w in DEFAULT_MIX.items() if n in names}
    return mix or {names[0]: 1.0}


# --- the engine ---------------------------------------------------------------------------------
@dataclass
class Styles:
    """The models to play, read and checked, with the files they came from (a recording names them)."""

    names: list[str]
    files: list[Path]
    models: list[ModelWeights]
    copies: list[CopyTable] | None = None  # each style's copy weights, from its card
    memories: list[MemoryFile | None] | None = None  # each style's corpus memory, NAME.memory beside it

    def memory(self) -> Memory:
        """The styles' memories as the engine's stage (a style without one plays its LSTM)."""
        files = self.memories or [None] * len(self.names)
        return Memory([CorpusIndex(f.bwt) if f else None for f in files], [f.recall if f else None for f in files],
                      [f.lexicon if f else None for f in files])


def read_copy_table(weights: Path) -> CopyTable:
    """The copy weights in the card beside a model file; none (the style does not copy) when the
    card has none, and a warning when its copy: section is not well formed."""
    card, _ = read_card(weights.with_suffix(".yaml"))
    if "copy" not in card:
        return CopyTable()
    try:
        return CopyTable.from_card(card["copy"])
    except ValueError as e:
        log.warning("style %s plays without copying: its card's %s", weights.stem, e)
        return CopyTable()


def memory_path(weights: Path) -> Path:
    return weights.with_suffix(".memory")


def read_memory_beside(weights: Path) -> MemoryFile | None:
    """The corpus memory beside a model file: none when there is none (the style plays its LSTM
    with the copy, as styles did before they remembered), and a warning naming what is wrong
    when it is damaged (the style plays without it)."""
    path = memory_path(weights)
    if not path.exists():
        return None
    try:
        return read_memory(path)
    except ModelFileError as e:
        log.warning("style %s plays without its corpus memory: %s", weights.stem, e)
        return None


def load_styles(names: list[str] | None = None) -> Styles:
    """Named styles (or paths), or every installed style."""
    names = names or installed_names(tell=log.warning)
    if not names:
        raise SetupError("no models installed: train one with `instrument train`, or check models/")
    from ..core.groups import map_on_cores

    try:
        files = [resolve(n) for n in names]
        models = map_on_cores(read_weights, files)  # reading and widening 17 files' fp16 was a third of a start
    except ModelFileError as e:
        raise SetupError(str(e)) from None
    return Styles([f.stem for f in files], files, models, [read_copy_table(f) for f in files],
                  map_on_cores(read_memory_beside, files))


def build_engine(settings: EngineSettings, styles: Styles | None = None) -> Engine:
    """The styles stacked, the mix set and any parameter given as /address=value."""
    t0 = time.monotonic()
    styles = styles or load_styles(settings.models)
    names = styles.names
    engine = Engine(Ensemble(styles.models, names, settings.backend, settings.threads, settings.precision),
                    build_tree(names), Copier(styles.copies, n_styles=len(names)), styles.memory())
    _say_how_it_computes(engine.ensemble, settings.backend)
    mix = settings.mix if settings.mix is not None else default_mix(names)
    unknown = sorted(set(mix) - set(names))
    if unknown:
        raise SetupError(f"--mix names {unknown}, but the loaded styles are {names}")
    for name, weight in mix.items():
        _set(engine, mix_address(name), weight)
    for address, value in settings.values.items():
        if value is not None:
            _set(engine, address, value)
    log.info("loaded %d styles in %.2f s", len(names), time.monotonic() - t0)
    return engine


def _say_how_it_computes(ensemble: Ensemble, backend: str) -> None:
    """Once at start, when the styles are stepped with torch without being asked to: it is several
    times slower, and a performer should know why the fan is loud."""
    from ..core.groups import WHY_NO_KERNEL

    if backend == "auto" and ensemble.computed["backend"] != "kernel":
        why = WHY_NO_KERNEL or "a style's size is one the C kernel cannot run (hidden units not a multiple of 16)"
        log.warning("stepping the styles with torch, several times slower than the C kernel: %s", why)


def _set(engine: Engine, address: str, value) -> None:
    result = engine.params.set(address, value, source="setup")
    if not result.ok:
        raise SetupError(result.message)


# --- OSC ------------------------------------------------------------------------------------------
def attach_osc(engine: Engine, settings: OscSettings):
    """OSC in (the tree at its addresses) and out (text, frames, echoes). Returns (server, out);
    the server is None if the port cannot be opened: the instrument says so and plays on."""
    from ..control.osc import OscRouter, OscServer
    from ..base.oscwire import is_loopback, parse_hostport
    from ..outputs.osc_out import OscOut

    import ipaddress

    try:
        host, port = parse_hostport(settings.listen, any_port=True)
        targets = [parse_hostport(t) for t in settings.outs or []]
        for network in settings.allow or []:
            ipaddress.ip_network(network, strict=False)
    except ValueError as e:
        raise SetupError(f"OSC: {e}") from None
    if not is_loopback(host) and not settings.allow:
        raise SetupError(f"OSC: listening on {host} reaches the network; name who may play with "
                         f"--osc-allow (e.g. --osc-allow 192.168.1.0/24)")
    out = OscOut(engine.names, targets, settings.frame_rate, engine.params)
    router = OscRouter(engine.params, engine.names, verified=out.subscriptions.verified,
                       heard=out.subscriptions.heard)
    router.add(out.commands())
    engine.params.add_listener(out.echo)
    out.start(engine)
    try:
        server = OscServer(router, host, port, settings.allow).start()
    except (OSError, ValueError) as e:
        log.warning("OSC: cannot listen on %s:%s (%s); playing on without OSC input", host, port, e)
        return None, out
    log.info("OSC: listening on %s:%d", *server.address)
    out.subscriptions.own_ports.add(server.address[1])  # a target there would feed the engine its own echoes
    if settings.oscquery:
        server.query = start_oscquery(engine, host, server.address[1], settings.allow)
        if server.query is not None:
            out.subscriptions.own_ports.add(server.query.address[1])
    return server, out


def start_oscquery(engine: Engine, host: str, osc_port: int, allow: list[str] | None = None):
    """OSCQuery over HTTP on the OSC port number (TCP), or any free port if that one is taken;
    the same allow-list as OSC; advertised by zeroconf only when it listens beyond this machine."""
    from ..control.oscquery import OscQueryServer
    from ..base.oscwire import is_loopback

    for port in (osc_port, 0):
        try:
            query = OscQueryServer(engine.params, osc_port, host, port, allow=allow).start(
                advertise=not is_loopback(host))
            log.info("OSCQuery: http://%s:%d/", *query.address)
            return query
        except OSError:
            continue
    log.warning("OSCQuery: no port could be opened; OSC itself works")
    return None


# --- presets, MIDI and the commands of both ------------------------------------------------------
def attach_presets(engine: Engine, folder: Path | None = None):
    from ..control.presets import Presets

    if folder is not None and not Path(folder).is_dir():
        raise SetupError(f"--presets {folder}: no such folder (create it first; /preset/save writes there)")
    return Presets(engine.params, Path(folder) if folder else presets_dir())


def start_from_preset(presets, name: str) -> None:
    from ..control.presets import PresetError

    try:
        presets.load(name)
    except PresetError as e:
        raise SetupError(f"--preset {name!r}: {e}") from None


def attach_midi(engine: Engine, settings: MidiSettings, presets, announce=lambda *a: None, files=None):
    """The mapping (checked before anything else), the controller and its port. Returns
    (control, port); port is None where no MIDI system exists: the instrument says so and plays on.
    files: the Worker that does the file work a MIDI message asks for (never the MIDI callback)."""
    from ..control.mapping import MappingError, load_mapping
    from ..control.midi import MidiControl, MidiUnavailable, open_input
    from ..control.presets import PresetError
    from ..control.worker import Immediate

    path = Path(settings.mapping) if settings.mapping else mappings_dir() / "default.yaml"
    try:
        mapping = load_mapping(path, engine.params)
    except MappingError as e:
        raise SetupError(str(e)) from None
    files = files or Immediate()

    def recall(n: int) -> None:
        try:
            presets.recall(n)
        except PresetError as e:
            log.warning("%s", e)

    control = MidiControl(engine.params, mapping, follow_clock=settings.clock, files=files,
                          on_program=lambda n: files.submit(f"program change {n}", lambda: recall(n), source="midi"),
                          on_learned=lambda b: announce("/learned", b.target, b.key[0], b.channel, b.key[2]),
                          on_timeout=lambda address: announce("/learn/timeout", address))
    port = None
    if settings.enabled:
        try:
            port = open_input(control.handle, settings.port, settings.api)
            log.info("MIDI: listening on %s", port.name)
        except MidiUnavailable as e:
            log.warning("MIDI: %s; playing on without MIDI", e)
    if settings.learn:  # after the port: "move a control" once said before "no MIDI system"
        if port is None:
            raise SetupError(f"--learn {settings.learn}: no MIDI input is open, so no control can be learned "
                             f"({'--no-midi' if not settings.enabled else 'see the MIDI line above'})")
        problem = control.learn(settings.learn)
        if problem:
            port.close()
            raise SetupError(f"--learn: {problem}")
    return control, port


def open_midi_out(engine: Engine, settings: MidiSettings, control):
    """The MIDI output and what goes through it: feedback to the mapped controls always, notes and
    clock when asked. Returns (port, [sinks]); (None, []) where no output can be opened (it says
    so, and the instrument plays on)."""
    from ..control.midi import MidiUnavailable, open_output
    from ..outputs.midi_out import ClockOut, LockedPort, MidiOut

    try:
        port = LockedPort(open_output(settings.out_port, settings.api))
    except MidiUnavailable as e:
        log.warning("MIDI out: %s; playing on without it", e)
        return None, []
    log.info("MIDI out: sending on %s", port.name)
    if settings.notes:
        _set(engine, "/midi/notes", True)
    sinks = [MidiOut(port, engine.params, control, engine.names).start(engine)]
    if settings.clock_out:
        sinks.append(ClockOut(port, engine.params).start(engine))
    return port, sinks


def map_control_messages(router, midi, presets, files=None, mappings=None) -> None:
    """The commands of learn, mappings and presets (their modules' tables) on the router. What
    touches a file runs on `files` (a Worker), never on the OSC receive thread; its answer is
    sent when it is done."""
    from ..control import midi as midi_module
    from ..control import presets as presets_module
    from ..control.worker import Immediate, Later

    later = Later(router, files or Immediate(), presets_module.PresetError)
    router.add(presets_module.commands(presets, later, router.refuse))
    router.add(midi_module.commands(midi, later, router.refuse, Path(mappings or mappings_dir())))


def every_command(names: list[str]) -> list:
    """Every command an engine answers, for docs/osc.md (nothing is called)."""
    from ..control.osc import OscRouter
    from ..outputs.osc_out import OscOut

    router = OscRouter(build_tree(names), names)
    map_control_messages(router, None, None)
    router.add(OscOut(names).commands())
    return list(router.commands.values())


# --- outputs --------------------------------------------------------------------------------------
def start_recorder(engine: Engine, path: Path, files: list[Path]):
    from .recording import Recorder

    return Recorder(Path(path), engine, files).start(engine)


def start_speech(engine: Engine, settings: OutputSettings, beats=None):
    """Speech to the speakers or into a WAV; it says so and is silent where no voice can start.
    beats: seconds to the next beat (Link, MIDI clock), for phrases on the beat."""
    from ..base.files import FileProblem
    from ..outputs.speech import Speech
    from ..outputs.voices import load_voices

    try:
        voices = load_voices(settings.voices)
    except FileProblem as e:
        raise SetupError(f"the voice table: {e}") from None
    for address, value in (("/speech/voice", settings.voice), ("/speech/policy", settings.policy),
                           ("/speech/on_beat", settings.on_beat or None)):
        if value is not None:
            _set(engine, address, value)
    speech = Speech(engine.params, Path(settings.speak_to) if settings.speak_to else None, voices=voices,
                    names=engine.names)
    speech.beats = beats
    return speech.start(engine)


def attach_projection(engine: Engine, settings: OutputSettings):
    """The projection window, subscribed (its loop is run on the main thread), or None where no
    window can open: it says so and the instrument plays on."""
    from ..outputs.projection import Projection
    from ..screen import display_available
    from ..screen.theme import ThemeError, load_theme

    problem = display_available()
    if problem:
        log.warning("projection: %s; playing on without it", problem)
        return None
    try:
        theme = load_theme(settings.theme)
    except ThemeError as e:
        raise SetupError(str(e)) from None
    projection = Projection(engine.params, engine.names, theme, settings.fullscreen).start(engine)
    if settings.screenshot:
        projection.screenshot(settings.screenshot, at_end=True)
    return projection


def start_panel(osc_in, theme: str | None, wekinator: bool = False):
    """`instrument panel` in its own process, pointed at this engine's OSC port (and with
    Wekinator, its pad's point sent to Wekinator's inputs)."""
    import subprocess
    import sys

    if osc_in is None:
        log.warning("panel: the engine has no OSC input, so no panel")
        return None
    host, port = osc_in.address
    command = [sys.executable, "-m", "instrument", "panel", "--engine", f"{'127.0.0.1' if host == '0.0.0.0' else host}:{port}"]
    return subprocess.Popen(command + (["--theme", theme] if theme else []) + (["--wek-inputs"] if wekinator else []))
