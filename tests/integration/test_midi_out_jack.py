"""MIDI out over real JACK ports: the engine's virtual output read back by a second rtmidi client.
Feedback to a mapped fader moved over OSC, the text as notes, and the clock out."""
from __future__ import annotations

import subprocess

import pytest

from ..fakes import write_letter_models
from ..realparts import connect, free_udp_port, heard, instrument, jack_listener, require

MAPPING = "bindings:\n- {channel: 1, cc: 1, target: /mix/ayes}\n- {channel: 2, cc14: 3, target: /mix/bees}\n"


@pytest.fixture
def rig(tmp_path):
    models = write_letter_models(tmp_path / "models", {"ayes": "a", "bees": "b"})
    mapping = tmp_path / "map.yaml"
    mapping.write_text(MAPPING)
    return models, mapping


def play(rig, osc: int, *extra: str):
    models, mapping = rig
    engine = instrument("play", "--mix", "ayes=1", "--rate", "100", "--osc-listen", f"127.0.0.1:{osc}",
                        "--no-oscquery", "--mapping", str(mapping), *extra, models=models)
    engine.wait_for(lambda p: "MIDI out: sending on" in p.err.decode(), what="the MIDI output")
    return engine


def oscsend(port: int, address: str, *typed) -> None:
    subprocess.run([require("oscsend"), "localhost", str(port), address, *typed], check=True, timeout=10)


def test_a_fader_moved_over_osc_is_fed_back_at_its_channel_and_resolution(jack, rig):
    osc = free_udp_port()
    engine = play(rig, osc)
    try:
        with jack_listener() as inp:
            connect(inp, "instrument", client="test-listener")
            oscsend(osc, "/mix/ayes", "f", "0.5")
            oscsend(osc, "/mix/bees", "f", "0.25")
            got = heard(inp, 10, until=lambda m: [0xB1, 35, 0] in m or len(m) > 50)
        assert [0xB0, 1, 64] in got                                  # 7-bit on channel 1
        assert [0xB1, 3, 32] in got and [0xB1, 35, 0] in got         # 14-bit: 0.25 x 16383 = 4096 = 32 x 128
    finally:
        engine.stop()


def test_with_notes_each_character_is_a_note_on_its_styles_channel(jack, rig):
    engine = play(rig, free_udp_port(), "--notes")
    try:
        with jack_listener() as inp:
            connect(inp, "instrument", client="test-listener")
            got = heard(inp, 10, until=lambda m: sum(1 for x in m if x[0] == 0x90) >= 20)
        on = [m for m in got if m[0] & 0xF0 == 0x90 and m[2] > 0]
        assert len(on) >= 20 and {m[0] for m in on} == {0x90}  # ayes leads: channel 1
        assert {m[1] for m in on} == {48}                       # 'a' is C3; the spaces are rests
        offs = [m for m in got if m[0] & 0xF0 == 0x80]
        assert len(offs) >= len(on) - 1                          # a rest or the next note ends each
    finally:
        engine.stop()


def test_the_clock_out_plays_24_ticks_a_beat_at_the_tempo(jack, rig):
    osc = free_udp_port()
    engine = play(rig, osc, "--midi-clock-out")
    try:
        oscsend(osc, "/clock/bpm", "f", "150")
        with jack_listener() as inp:
            connect(inp, "instrument", client="test-listener")
            heard(inp, 0.5)  # the tempo change reaches the clock
            got = heard(inp, 4.0)
        ticks = sum(1 for m in got if m == [0xF8])
        assert ticks == pytest.approx(4.0 * 150 / 60 * 24, rel=0.08)  # 240 in 4 s
    finally:
        engine.stop()
