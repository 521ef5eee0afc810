"""Playing in time with others: joining an Ableton Link session, and hearing Wekinator's outputs on
a port of their own. Each is started by the session when asked for, and says so, or why not."""
from __future__ import annotations

import logging

from ..engine import Engine
from .parts import _set
from .settings import SetupError

log = logging.getLogger("instrument")


def start_link(engine: Engine):
    """Join the Link session and follow it (its tempo sets /rate, its transport /run); None, with
    a warning, where Link cannot start."""
    from ..control.link import LinkSession, LinkUnavailable

    try:
        session = LinkSession(engine.params).start()
    except (LinkUnavailable, OSError, RuntimeError) as e:
        log.warning("Link: %s; playing on without it", e)
        return None
    _set(engine, "/clock/follow", True)
    log.info("Link: joined the session at %.1f bpm", engine.params.get("/clock/bpm"))
    return session


def start_wekinator(engine: Engine, listen: str, mapping=None):
    """A second OSC port that answers only Wekinator's /wek/outputs (wekinator.py); None, with a
    warning, if the port cannot be opened."""
    from ..control.osc import OscRouter, OscServer
    from ..control.wekinator import Wekinator
    from ..base.oscwire import is_loopback, parse_hostport

    try:
        host, port = parse_hostport(listen)
    except ValueError as e:
        raise SetupError(f"--wekinator: {e}") from None
    if not is_loopback(host):
        raise SetupError(f"--wekinator: {host} reaches the network; Wekinator runs on this computer "
                         f"(listen on 127.0.0.1)")
    router = OscRouter(engine.params, engine.names, values=False)
    router.add(Wekinator(engine.params, engine.names, mapping.wekinator if mapping else None).commands())
    try:
        server = OscServer(router, host, port).start()
    except OSError as e:
        log.warning("Wekinator: cannot listen on %s:%d (%s); playing on without it", host, port, e)
        return None
    log.info("Wekinator: listening for /wek/outputs on %s:%d", *server.address)
    return server
