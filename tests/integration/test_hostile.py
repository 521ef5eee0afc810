"""Hostile values, files and clients, fuzzed (bounded: seconds). Each class: nothing stops the
piece, nothing leaves its range, nothing large goes to a sender that has not shown it receives.
bench/hostile.py replays the same classes against an engine in its own process, for longer."""
from __future__ import annotations

import math
import random
import socket
import time

import pytest

from instrument.control.mapping import MappingError, load_mapping
from instrument.control.osc import OscRouter
from instrument.control.presets import PresetError, Presets
from instrument.core.ensemble import Ensemble
from instrument.engine import Engine
from instrument.base.oscwire import interface_addresses, message
from instrument.tree import build_tree
from instrument.app.parts import attach_osc
from instrument.app.settings import OscSettings

from ..fakes import letter_model

NAMES = ["ayes", "bees"]
HOSTILE_NUMBERS = [0.0, -0.0, 1e-11, 1e-300, 5e-324, 1e30, 1e308, -1e308, 3.4e38, float("nan"), float("inf"),
                   -float("inf"), 2**31 - 1, -2**31, 65535, 65536, -1, 0.5]
HOSTILE_TEXT = ["", "x" * 10_000, "/", "../../etc/passwd", "\0", "\uff10.\uff17", "nan", "0.7", "\U0001F600" * 50,
                "{a,b}", "*", "[!"]


def _hostile_value(rng: random.Random):
    pick = rng.random()
    if pick < 0.55:
        return rng.choice(HOSTILE_NUMBERS)
    if pick < 0.8:
        return rng.choice(HOSTILE_TEXT)
    return rng.randbytes(rng.randrange(0, 64))


def _addresses(params) -> list[str]:
    return [*params.params, "/mix", "/describe", "/learn", "/unlearn", "/morph", "/preset/load", "/preset/save",
            "/preset/morph", "/preset/list", "/mapping/load", "/mapping", "/subscribe", "/unsubscribe", "/mix/*",
            "/mix/{ayes,bees}", "/*", "/mix/[a-z]*", "/mix/" + "?" * 40]


def _in_range(params) -> bool:
    snap = params.snapshot()
    for address, p in params.params.items():
        value = snap[address]
        if p.kind in ("float", "int") and not (p.range[0] <= value <= p.range[1] and math.isfinite(value)):
            return False
        if p.kind == "enum" and value not in p.range:
            return False
    return True


def test_hostile_values_on_every_address_neither_stop_the_engine_nor_leave_a_range(tmp_path):
    from instrument.control.midi import MidiControl
    from instrument.control.worker import Worker
    from instrument.app.parts import map_control_messages

    engine = Engine(Ensemble([letter_model("a"), letter_model("b")], NAMES))
    engine.params.set("/mix/ayes", 1.0)
    engine.params.set("/rate", 0)
    (tmp_path / "mappings").mkdir()
    mapping = tmp_path / "mappings" / "map.yaml"
    mapping.write_text("bindings: []\n")
    files = Worker()
    midi = MidiControl(engine.params, load_mapping(mapping, engine.params), files=files)
    router = OscRouter(engine.params, NAMES)
    map_control_messages(router, midi, Presets(engine.params, tmp_path / "presets"), files, tmp_path / "mappings")
    rng = random.Random(17)
    engine.start()
    try:
        for _ in range(20_000):
            address = rng.choice(_addresses(engine.params))
            args = [_hostile_value(rng) for _ in range(rng.randrange(0, 4))]
            router.handle_message(address, args, ("127.0.0.1", 9))
        files.drain(10)
        steps = engine.steps
        engine.params.set("/rate", 0)
        engine.params.set("/run", True)
        engine.params.set("/mix/ayes", 1.0)
        time.sleep(0.5)
        assert engine.running and engine.failure is None and engine.steps > steps
        assert _in_range(engine.params)
        assert not any(p.name.startswith("..") for p in tmp_path.rglob("*"))  # no file written outside
        assert {p.name for p in (tmp_path / "mappings").iterdir()} <= {"map.yaml", ".map.yaml.tmp"}
    finally:
        engine.stop()
        files.stop()


def _hostile_yaml(rng: random.Random) -> bytes:
    kind = rng.randrange(6)
    if kind == 0:
        levels = rng.randrange(3, 9)
        text = "a: &a [x, x, x, x, x, x, x, x]\n" + "".join(
            f"l{i}: &l{i} [{', '.join(['*' + ('a' if i == 0 else f'l{i - 1}')] * 8)}]\n" for i in range(levels))
        return (text + f"values: {{/mix/ayes: *l{levels - 1}}}\nbindings: *l{levels - 1}\n").encode()
    if kind == 1:
        depth = rng.randrange(100, 20_000)
        return b"values: " + b"[" * depth + b"]" * depth
    if kind == 2:
        return rng.randbytes(rng.randrange(1, 2000))
    if kind == 3:
        return b"values: {/mix/ayes: '" + b"x" * rng.randrange(1, 3_000_000) + b"'}\n"
    if kind == 4:
        return "values: {/mix/ayes: 0.5}  # caf\xe9\n".encode("latin-1")
    return f"values: {{/mix/ayes: {rng.choice(['.nan', '.inf', '1e999', '[1]', '{{a: 1}}', 'yes'])}}}\nbindings: [{{channel: 99}}]\n".encode()


def test_hostile_files_are_named_refused_fast_and_change_nothing(tmp_path):
    rng = random.Random(5)
    params = build_tree(NAMES)
    presets = Presets(params, tmp_path)
    before = params.snapshot().values
    for k in range(60):
        data = _hostile_yaml(rng)
        presets.path("fuzz").write_bytes(data)
        t = time.monotonic()
        try:
            presets.load("fuzz")
            loaded = True
        except PresetError as e:
            loaded = False
            assert "fuzz.yaml" in str(e) and len(str(e)) < 500
        try:  # as a mapping: refused with its name, or (no bindings at all) an empty mapping
            assert load_mapping(presets.path("fuzz"), params).bindings == []
        except MappingError as e:
            assert "fuzz.yaml" in str(e) and len(str(e)) < 500
        assert time.monotonic() - t < 3.0, f"file {k} took {time.monotonic() - t:.1f} s"
        if not loaded:
            assert params.snapshot().values == before
    assert _in_range(params)


OUTSIDE = next((ip for ip in interface_addresses() if not ip.startswith("127.")), None)


@pytest.mark.skipif(OUTSIDE is None, reason="this machine has no address but loopback")
def test_hostile_clients_get_no_more_than_four_times_what_they_send_and_subscriptions_stay_capped():
    from instrument.outputs import subscriptions

    engine = Engine(Ensemble([letter_model("a")], ["ayes"]))
    engine.params.set("/mix/ayes", 1.0)
    engine.params.set("/rate", 300)
    server, out = attach_osc(engine, OscSettings("0.0.0.0:0", [f"{OUTSIDE}/32"], None, 60.0, oscquery=False))
    engine.start()
    rng = random.Random(3)
    clients = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(40)]
    try:
        for c in clients:
            c.bind((OUTSIDE, 0))
            c.setblocking(False)
        sent = received = 0
        target = (OUTSIDE, server.address[1])
        for _ in range(3000):
            c = rng.choice(clients)
            kind = rng.randrange(6)
            if kind == 0:
                dgram = message("/describe")
            elif kind == 1:
                dgram = message("/subscribe", rng.choice([server.address[1], rng.randrange(1, 65536), 0, -5, 1e9]))
            elif kind == 2:
                dgram = message("/subscribe", rng.randrange(1, 65536), rng.randrange(0, 1 << 24))  # guessed tokens
            elif kind == 3:
                dgram = message("/mix")
            elif kind == 4:
                dgram = message("/mapping")
            else:
                dgram = message(rng.choice(["/mix/*", "/temperature", "/preset/list"]))
            c.sendto(dgram, target)
            sent += len(dgram)
        time.sleep(1.0)
        for c in clients:
            while True:
                try:
                    received += len(c.recv(65536))
                except BlockingIOError:
                    break
        assert received <= 4 * sent  # no amplification for anyone who has not proved they receive
        assert len(out.targets) <= subscriptions.CAP and engine.running
        assert server.router.stats.withheld > 0
    finally:
        for c in clients:
            c.close()
        engine.stop()
        server.stop()
