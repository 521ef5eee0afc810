"""OSC out on real loopback sockets: echoes of parameter changes, frames."""
from __future__ import annotations

import socket
import time

import pytest

from instrument.core.ensemble import Ensemble
from instrument.engine import Engine
from instrument.base.oscwire import decode
from instrument.outputs.osc_out import OscOut

from ..fakes import letter_model

NAMES = ["ayes"]


@pytest.fixture
def listener():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.5)
    yield sock
    sock.close()


@pytest.fixture
def out(listener):
    engine = Engine(Ensemble([letter_model("a")], NAMES))
    sink = OscOut(NAMES, [listener.getsockname()]).start(engine)
    yield sink
    engine.close_subscriptions()
    sink.join(2.0)


def _received(sock, seconds: float = 0.3) -> list[tuple[str, list]]:
    got, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            got += decode(sock.recv(65536))
        except socket.timeout:
            break
    return got


def test_a_single_change_is_echoed(out, listener):
    out.echo("/temperature", 0.5, "midi")
    assert _received(listener) == [("/temperature", [0.5])]


def test_a_flood_of_moves_is_echoed_coalesced_and_ends_on_the_latest_value(out, listener):
    for k in range(2000):
        out.echo("/mix/ayes", k / 2000, "osc:10.0.0.9:9000")
    out.echo("/temperature", 0.9, "midi")
    got = _received(listener)
    mix = [args[0] for address, args in got if address == "/mix/ayes"]
    assert 1 <= len(mix) < 100
    assert mix[-1] == pytest.approx(1999 / 2000)
    assert ("/temperature", [pytest.approx(0.9)]) in got


def test_the_writer_is_not_sent_its_own_change(out, listener):
    host, port = listener.getsockname()
    out.echo("/temperature", 0.5, f"osc:{host}:{port}")
    assert _received(listener) == []


def test_a_new_subscriber_is_sent_the_whole_state_and_a_choice_by_its_number_too(listener):
    from instrument.tree import build_tree

    engine = Engine(Ensemble([letter_model("a")], NAMES))
    engine.params.set("/mix/ayes", 0.25)
    engine.params.set("/mode", "product")
    sink = OscOut(NAMES, [], params=engine.params).start(engine)
    try:
        sink.announce("/preset/current", "salon")
        host, port = listener.getsockname()
        assert sink.subscribe_handler("/subscribe", [port], (host, 55555)) == []  # this machine: at once
        got = dict((a, args) for a, args in _received(listener, 0.5))
        assert got["/subscribed"] == [port]
        every = [a for a, p in build_tree(NAMES).params.items() if p.kind != "trigger"]
        assert set(every) <= set(got)
        assert got["/mix/ayes"] == [pytest.approx(0.25)] and got["/mode"] == ["product"]
        assert got["/mode/index"] == [1] and got["/preset/current"] == ["salon"]
        engine.params.set("/mode", "linear", source="midi")
        sink.echo("/mode", "linear", "midi")
        assert ("/mode/index", [0]) in _received(listener)
    finally:
        engine.close_subscriptions()
        sink.join(2.0)
