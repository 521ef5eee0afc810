"""Building a playing engine from names and settings: the shared set-up of `play` and the tests."""
from __future__ import annotations

import logging
import time
from pathlib import Path
from dataclasses import dataclass

from .core.ensemble import Ensemble
from .params import mix_address
from .core.weights import ModelFileError, read_weights
from .engine import Engine
from .library import installed_names, resolve

log = logging.getLogger("instrument")

DEFAULT_MIX = {"shakespeare": 0.6, "bible": 0.4}


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


def default_mix(names: list[str]) -> dict[str, float]:
    """Shakespeare and the Bible, those of them that are loaded; else the first style alone."""
    mix = {n: w for n, w in DEFAULT_MIX.items() if n in names}
    return mix or {names[0]: 1.0}


@dataclass
class Settings:
    models: list[str] | None = None
    mix: dict[str, float] | None = None
    backend: str = "auto"
    precision: str = "int8"
    threads: int | None = None


def full_tree(names: list[str]):
    """The whole parameter tree (tree.py), for every surface alike."""
    from .tree import build_tree

    return build_tree(names)


def _say_how_it_computes(ensemble: Ensemble, backend: str) -> None:
    """Once at start, when the styles are stepped with torch without being asked to: it is several
    times slower, and a performer should know why the fan is loud."""
    from .core.groups import WHY_NO_KERNEL

    if backend == "auto" and ensemble.computed["backend"] != "kernel":
        why = WHY_NO_KERNEL or "a style's size is one the C kernel cannot run (hidden units not a multiple of 16)"
        log.warning("stepping the styles with torch, several times slower than the C kernel: %s", why)


def build_engine(settings: Settings, **values) -> Engine:
    """Load the models, stack them, set the mix and any parameter given as /address=value."""
    names = settings.models or installed_names(tell=log.warning)
    if not names:
        raise SetupError("no models installed: train one with `instrument train`, or check models/")
    t0 = time.monotonic()
    try:
        files = [resolve(n) for n in names]
        models = [read_weights(f) for f in files]
    except ModelFileError as e:
        raise SetupError(str(e)) from None
    names = [f.stem for f in files]
    engine = Engine(Ensemble(models, names, settings.backend, settings.threads, settings.precision),
                    full_tree(names))
    engine.model_files = files
    _say_how_it_computes(engine.ensemble, settings.backend)
    mix = settings.mix if settings.mix is not None else default_mix(names)
    unknown = sorted(set(mix) - set(names))
    if unknown:
        raise SetupError(f"--mix names {unknown}, but the loaded styles are {names}")
    for name, weight in mix.items():
        _set(engine, mix_address(name), weight)
    for address, value in values.items():
        if value is not None:
            _set(engine, address, value)
    log.info("loaded %d styles in %.2f s", len(names), time.monotonic() - t0)
    return engine


def _set(engine: Engine, address: str, value) -> None:
    result = engine.params.set(address, value, source="setup")
    if not result.ok:
        raise SetupError(result.message)


@dataclass
class OscSettings:
    listen: str = "127.0.0.1:9000"
    allow: list[str] | None = None
    outs: list[str] | None = None
    frame_rate: float = 60.0
    oscquery: bool = True


def attach_osc(engine: Engine, settings: OscSettings):
    """OSC in (the tree at its addresses) and out (text, frames, echoes). Returns (server, out);
    the server is None if the port cannot be opened: the instrument says so and plays on."""
    from .control.osc import OscRouter, OscServer
    from .oscwire import is_loopback, parse_hostport
    from .outputs.osc_out import OscOut

    try:
        host, port = parse_hostport(settings.listen, any_port=True)
        targets = [parse_hostport(t) for t in settings.outs or []]
    except ValueError as e:
        raise SetupError(f"OSC: {e}") from None
    if not is_loopback(host) and not settings.allow:
        raise SetupError(f"OSC: listening on {host} reaches the network; name who may play with "
                         f"--osc-allow (e.g. --osc-allow 192.168.1.0/24)")
    out = OscOut(engine.names, targets, settings.frame_rate, engine.params)
    router = OscRouter(engine.params, engine.names)
    router.add(out.commands())
    router.verified, router.heard = out.subscriptions.verified, out.subscriptions.heard
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
    from .control.oscquery import OscQueryServer
    from .oscwire import is_loopback

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


@dataclass
class MidiSettings:
    enabled: bool = True
    port: str | None = None        # connect to an existing port whose name contains this
    api: str | None = None         # alsa, jack, coremidi, windows (default: the system's, then JACK)
    mapping: str | None = None     # default mappings/default.yaml
    learn: str | None = None       # arm a learn for this address at start
    clock: bool = False            # follow MIDI clock


def attach_presets(engine: Engine, folder=None):
    from .control.presets import Presets
    from .paths import PROJECT_ROOT

    return Presets(engine.params, folder or PROJECT_ROOT / "presets")


def attach_midi(engine: Engine, settings: MidiSettings, presets, announce=lambda *a: None, files=None):
    """The mapping (checked before anything else), the controller and its port. Returns
    (control, port); port is None where no MIDI system exists: the instrument says so and plays on.
    files: the Worker that does the file work a MIDI message asks for (never the MIDI callback)."""
    from pathlib import Path

    from .control.mapping import MappingError, load_mapping
    from .control.midi import MidiControl, MidiUnavailable, open_input
    from .control.presets import PresetError
    from .paths import PROJECT_ROOT

    path = Path(settings.mapping) if settings.mapping else PROJECT_ROOT / "mappings" / "default.yaml"
    try:
        mapping = load_mapping(path, engine.params)
    except MappingError as e:
        raise SetupError(str(e)) from None

    from .control.worker import Immediate

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
    if settings.learn:
        problem = control.learn(settings.learn)
        if problem:
            raise SetupError(f"--learn: {problem}")
    port = None
    if settings.enabled:
        try:
            port = open_input(control.handle, settings.port, settings.api)
            log.info("MIDI: listening on %s", port.name)
        except MidiUnavailable as e:
            log.warning("MIDI: %s; playing on without MIDI", e)
    return control, port


def map_control_messages(router, midi, presets, files=None, mappings=None) -> None:
    """The commands of learn, mappings and presets (their modules' tables) on the router. What
    touches a file runs on `files` (a Worker), never on the OSC receive thread; its answer is
    sent when it is done."""
    from .control import midi as midi_module
    from .control import presets as presets_module
    from .control.worker import Immediate, Later
    from .paths import PROJECT_ROOT

    later = Later(router, files or Immediate(), presets_module.PresetError)
    router.add(presets_module.commands(presets, later, router.refuse))
    router.add(midi_module.commands(midi, later, router.refuse, Path(mappings or PROJECT_ROOT / "mappings")))


def every_command(names: list[str]) -> list:
    """Every command an engine answers, for docs/osc.md (nothing is called)."""
    from .control.osc import OscRouter
    from .outputs.osc_out import OscOut

    router = OscRouter(full_tree(names), names)
    map_control_messages(router, None, None)
    router.add(OscOut(names).commands())
    return list(router.commands.values())


def start_panel(osc_in, theme):
    """`instrument panel` in its own process, pointed at this engine's OSC port."""
    import subprocess
    import sys

    if osc_in is None:
        log.warning("panel: the engine has no OSC input, so no panel")
        return None
    host, port = osc_in.address
    command = [sys.executable, "-m", "instrument", "panel", "--engine", f"{'127.0.0.1' if host == '0.0.0.0' else host}:{port}"]
    return subprocess.Popen(command + (["--theme", theme] if theme else []))


def attach_outputs(engine, args):
    """The recorder, speech and projection as asked (None where not); speech and projection say so
    and are left out where they cannot run."""
    from pathlib import Path

    from .outputs.projection import Projection, display_available
    from .outputs.speech import Speech
    from .theme import ThemeError, load_theme

    recorder = speech = projection = None
    if getattr(args, "record", None):
        from .outputs.record import Recorder

        recorder = Recorder(Path(args.record), engine, engine.model_files)
        recorder.start(engine)
    if args.speak or args.speak_to:
        speech = Speech(engine.params, Path(args.speak_to) if args.speak_to else None)
        for address, value in (("/speech/voice", args.voice), ("/speech/policy", args.policy)):
            if value is not None:
                engine.params.set(address, value, source="setup")
        speech.start(engine)
    if args.project:
        problem = display_available()
        if problem:
            log.warning("projection: %s; playing on without it", problem)
        else:
            try:
                theme = load_theme(args.theme)
            except ThemeError as e:
                raise SetupError(str(e)) from None
            projection = Projection(engine.params, engine.names, theme, args.fullscreen).attach(engine)
            if args.screenshot:
                projection.screenshot(args.screenshot, at_end=True)
    return recorder, speech, projection
