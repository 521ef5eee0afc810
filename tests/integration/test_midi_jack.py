"""Real MIDI end to end: a private JACK server (dummy driver), the engine's virtual port opened
through it, CCs sent from a second rtmidi client."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from ..fakes import write_letter_models
from ..realparts import connect, instrument, jack_client

MAPPING = "# test rig\nbindings:\n- {channel: 1, cc: 1, target: /mix/ayes}\n- {channel: 1, cc: 2, target: /mix/bees}\n"


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
        with jack_client() as out:
            connect(out, "instrument")
            out.send_message([0xB0, 2, 127])   # CC 2 up: bees
            out.send_message([0xB0, 1, 0])     # CC 1 down: ayes
            mark = len(engine.text)
            engine.wait_for(lambda p: p.text[mark:].count("b") > 100, what="text from the b-style")
        assert "a" not in engine.text[-80:]
        assert "without MIDI" not in engine.err.decode()
    finally:
        engine.stop()


def test_learn_binds_a_moved_control_and_writes_the_mapping(jack, rig):
    models, mapping = rig
    engine = start(models, mapping, "--learn", "/mix/bees")
    try:
        engine.wait_for(lambda p: "a" in p.text, what="text")
        with jack_client() as out:
            connect(out, "instrument")
            for value in (10, 11, 30, 60):     # a real move of CC 40
                out.send_message([0xB0, 40, value])
                time.sleep(0.02)
            deadline = time.monotonic() + 30   # the file is written off the MIDI thread: under load, later
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
    finally:
        engine.stop()


def test_midi_in_connects_to_an_existing_port_by_part_of_its_name(jack, rig):
    models, mapping = rig
    with jack_client("nanoKONTROL2") as controller:
        controller.open_virtual_port("nanoKONTROL2 SLIDER/KNOB")
        engine = start(models, mapping, "--midi-in", "kontrol2 slider", "--midi-api", "jack")
        try:
            engine.wait_for(lambda p: p.text.count("a") > 30, what="text from the a-style")
            time.sleep(0.5)
            controller.send_message([0xB0, 2, 127])
            controller.send_message([0xB0, 1, 0])
            mark = len(engine.text)
            engine.wait_for(lambda p: p.text[mark:].count("b") > 100, what="text after the controller's CCs")
            assert "without MIDI" not in engine.err.decode()
        finally:
            engine.stop()
