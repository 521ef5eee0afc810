"""Building a playing engine from names and settings: the shared set-up of `play` and the tests."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from .core.ensemble import Ensemble
from .core.model import ModelFileError
from .engine import Engine
from .library import installed, load

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
    """Shakespeare and the Bible if both are loaded, else the first style alone."""
    if all(n in names for n in DEFAULT_MIX):
        return dict(DEFAULT_MIX)
    return {names[0]: 1.0}


@dataclass
class Settings:
    models: list[str] | None = None
    mix: dict[str, float] | None = None
    backend: str = "auto"
    precision: str = "int8"
    threads: int | None = None


def build_engine(settings: Settings, **values) -> Engine:
    """Load the models, stack them, set the mix and any parameter given as /address=value."""
    names = settings.models or [m.name for m in installed() if not m.problem]
    if not names:
        raise SetupError("no models installed: train one with `instrument train`, or check models/")
    t0 = time.monotonic()
    try:
        models = [load(n) for n in names]
    except ModelFileError as e:
        raise SetupError(str(e)) from None
    names = [n.rsplit("/", 1)[-1].removesuffix(".safetensors") for n in names]
    engine = Engine(Ensemble(models, names, settings.backend, settings.threads, settings.precision))
    mix = settings.mix if settings.mix is not None else default_mix(names)
    unknown = sorted(set(mix) - set(names))
    if unknown:
        raise SetupError(f"--mix names {unknown}, but the loaded styles are {names}")
    for name, weight in mix.items():
        _set(engine, f"/mix/{name}", weight)
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
    out = OscOut(engine.names, targets, settings.frame_rate)
    router = OscRouter(engine.params, engine.names)
    router.map("/subscribe", out.subscribe_handler)
    router.map("/unsubscribe", out.subscribe_handler)
    engine.params.add_listener(out.echo)
    out.start(engine)
    try:
        server = OscServer(router, host, port, settings.allow).start()
    except (OSError, ValueError) as e:
        log.warning("OSC: cannot listen on %s:%s (%s); playing on without OSC input", host, port, e)
        return None, out
    log.info("OSC: listening on %s:%d", *server.address)
    if settings.oscquery:
        server.query = start_oscquery(engine, host, server.address[1])
    return server, out


def start_oscquery(engine: Engine, host: str, osc_port: int):
    """OSCQuery over HTTP on the OSC port number (TCP), or any free port if that one is taken."""
    from .control.oscquery import OscQueryServer

    for port in (osc_port, 0):
        try:
            query = OscQueryServer(engine.params, osc_port, host, port).start()
            log.info("OSCQuery: http://%s:%d/", *query.address)
            return query
        except OSError:
            continue
    log.warning("OSCQuery: no port could be opened; OSC itself works")
    return None
