"""Real MIDI end to end: a private JACK server (dummy driver), the engine's virtual port opened
through it, CCs sent from a second rtmidi client."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from ..fakes import write_letter_models
from ..realparts import instrument, require

MAPPING = "# test rig\nbindings:\n- {channel: 1, cc: 1, target: /mix/ayes}\n- {channel: 1, cc: 2, target: /mix/bees}\n"


@pytest.fixture
def jack(monkeypatch):
    """A JACK server of our own, named so it cannot meet anyone else's."""
    jackd = require("jackd")
    name = f"instrument-test-{os.getpid()}"
    env = {"JACK_NO_AUDIO_RESERVATION": "1", "JACK_DEFAULT_SERVER": name}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    proc = subprocess.Popen([jackd, "--no-realtime", "-n", name, "-d", "dummy", "-r", "48000", "-p", "256"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **env})
    socket = Path(f"/dev/shm/jack_{name}_0_0")
    deadline = time.monotonic() + 10
    while not socket.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    if not socket.exists():
        proc.kill()
        pytest.fail("jackd did not start")
    yield name
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
    for leftover in Path("/dev/shm").glob(f"*{name}*"):
        leftover.unlink(missing_ok=True)


def midi_out_to(port_fragment: str, timeout: float = 10.0):
    import rtmidi

    out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="test-controller")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ports = out.get_ports()
        match = [i for i, p in enumerate(ports) if port_fragment in p]
        if match:
            out.open_port(match[0])
            return out
        time.sleep(0.1)
    raise AssertionError(f"no port containing {port_fragment!r}: {out.get_ports()}")


@pytest.fixture
def rig(tmp_path):
    models = write_letter_models(tmp_path / "models", {"ayes": "a", "bees": "b"})
    mapping = tmp_path / "map.yaml"
    mapping.write_text(MAPPING)
    return models, mapping


def start(models: Path, mapping: Path, *extra: str):
    return instrument("play", "--mix", "ayes=1", "--rate", "200", "--osc-listen", "127.0.0.1:0", "--no-oscquery",
                      "--mapping", str(mapping), *extra, models=models)


def test_faders_on_a_real_port_move_the_weights_and_the_text(jack, rig):
    models, mapping = rig
    engine = start(*rig)
    try:
        engine.wait_for(lambda p: p.text.count("a") > 30, what="text from the a-style")
        out = midi_out_to("instrument")
        out.send_message([0xB0, 2, 127])   # CC 2 up: bees
        out.send_message([0xB0, 1, 0])     # CC 1 down: ayes
        mark = len(engine.text)
        engine.wait_for(lambda p: p.text[mark:].count("b") > 100, what="text from the b-style")
        assert "a" not in engine.text[-80:]
        assert "without MIDI" not in engine.err.decode()
        out.close_port()
    finally:
        engine.stop()


def test_learn_binds_a_moved_control_and_writes_the_mapping(jack, rig):
    models, mapping = rig
    engine = start(models, mapping, "--learn", "/mix/bees")
    try:
        engine.wait_for(lambda p: "a" in p.text, what="text")
        out = midi_out_to("instrument")
        for value in (10, 11, 30, 60):     # a real move of CC 40
            out.send_message([0xB0, 40, value])
            time.sleep(0.02)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            bindings = yaml.safe_load(mapping.read_text())["bindings"]
            if any(b.get("cc") == 40 for b in bindings):
                break
            time.sleep(0.05)
        assert {"channel": 1, "cc": 40, "target": "/mix/bees"} in bindings  # written as a person would
        assert mapping.read_text().startswith("# test rig")
        out.send_message([0xB0, 40, 127])
        out.send_message([0xB0, 1, 0])
        mark = len(engine.text)
        engine.wait_for(lambda p: p.text[mark:].count("b") > 100, what="the learned control playing")
        out.close_port()
    finally:
        engine.stop()
