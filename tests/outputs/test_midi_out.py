"""MIDI out without a MIDI system: the note table, feedback bytes, coalescing and the clock's
timing, with a port that records what it was sent (the real JACK ports: tests/integration)."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from instrument.control.mapping import Binding, Mapping
from instrument.frames import Frame, Subscription
from instrument.outputs.midi_out import (DRUMS, ClockOut, MidiOut, note_for, style_channel, velocity)
from instrument.tree import build_tree

from ..polling import wait_for


class Recorded:
    """A LockedPort's interface, keeping every message with the time it was sent."""

    def __init__(self):
        self.messages: list[tuple[float, list[int]]] = []

    def send(self, data):
        self.messages.append((time.monotonic(), list(data)))

    def close(self):
        pass

    def of(self, status_low: int, status_high: int) -> list[list[int]]:
        return [m for _, m in self.messages if status_low <= m[0] <= status_high]


def test_letters_walk_the_scale_digits_the_pentatonic_and_punctuation_hits_the_drums():
    assert [note_for(c)[1] for c in "abcdefgh"] == [48, 50, 52, 53, 55, 57, 59, 60]
    assert note_for("A") == (False, 60) and note_for("z") == (False, 91)
    assert [note_for(c)[1] for c in "05"] == [36, 48]
    assert note_for(".") == (True, 36) and note_for(",") == (True, 38) and note_for("{") == (True, 42)
    assert note_for(" ") is None and note_for("\n") is None


def test_styles_get_channels_of_their_own_around_the_drums():
    channels = [style_channel(i) for i in range(16)]
    assert DRUMS not in channels and len(set(channels[:15])) == 15 and channels[15] == channels[0]
    assert velocity(0.0) == 20 and velocity(1.0) == 127


@pytest.mark.parametrize("binding, value, sent", [
    (Binding(channel=1, target="/mix/a", cc=7), 0.5, [[0xB0, 7, 64]]),
    (Binding(channel=3, target="/mix/a", cc14=16), 0.5, [[0xB2, 16, 64], [0xB2, 48, 0]]),
    (Binding(channel=10, target="/run", note=36, mode="toggle"), False, [[0x99, 36, 0]]),
    (Binding(channel=1, target="/temperature", cc=9, min=0.2, max=1.6), 1.6, [[0xB0, 9, 127]]),
])
def test_feedback_shows_the_control_its_value_at_its_channel_and_resolution(binding, value, sent):
    tree = build_tree(["a"])
    assert binding.feedback(tree.params[binding.target], value) == sent


class Rig:
    """A MidiOut on its own thread over a hand-fed subscription, as the engine would feed it."""

    def __init__(self, bindings: list[Binding], names=("a", "b")):
        self.tree = build_tree(list(names))
        self.port = Recorded()
        control = type("Control", (), {"mapping": Mapping(None, bindings)})()
        self.out = MidiOut(self.port, self.tree, control, list(names))
        self.out.subscription = Subscription(self.out.maxlen)
        self.thread = threading.Thread(target=self.out.run, daemon=True)
        self.thread.start()

    def frame(self, ch: str, lead: int, p: float = 0.5) -> None:
        rho = np.zeros(128)
        rho[ord(ch)] = p
        self.out.subscription.push(Frame(0, ch, np.ones(2), np.arange(2), None, rho, lead, time=time.monotonic()))

    def end(self) -> None:
        self.out.subscription.close()
        self.thread.join(5)


def test_a_move_from_elsewhere_is_fed_back_but_a_control_is_never_echoed_its_own_move():
    fader = Binding(channel=1, target="/mix/a", cc=1)
    rig = Rig([fader])
    rig.tree.set("/mix/a", 1.0, source="osc:127.0.0.1:5000")
    assert wait_for(lambda: rig.port.of(0xB0, 0xBF) == [[0xB0, 1, 127]])
    rig.tree.set("/mix/a", 0.0, source=fader.source)  # the fader itself: a motor fader must not fight
    time.sleep(0.1)
    rig.end()
    assert rig.port.of(0xB0, 0xBF) == [[0xB0, 1, 127]]


def test_a_flood_of_moves_is_coalesced_to_at_most_a_hundred_a_second_ending_on_the_last_value():
    rig = Rig([Binding(channel=1, target="/mix/a", cc=1)])
    started = time.monotonic()
    for i in range(2000):
        rig.tree.set("/mix/a", (i % 128) / 127, source="osc:x")
    rig.tree.set("/mix/a", 0.25, source="osc:x")
    seconds = time.monotonic() - started
    assert wait_for(lambda: rig.port.of(0xB0, 0xBF) and rig.port.of(0xB0, 0xBF)[-1] == [0xB0, 1, 32])
    rig.end()
    sent = rig.port.of(0xB0, 0xBF)
    assert len(sent) <= 100 * (seconds + 0.2) + 2, (len(sent), seconds)


def test_notes_go_to_the_leading_styles_channel_and_rests_end_the_sounding_note():
    rig = Rig([])
    rig.tree.set("/midi/notes", True)
    for ch, lead in (("a", 0), (" ", 0), ("b", 1), (".", 1)):
        rig.frame(ch, lead, p=1.0)
        time.sleep(0.03)  # slower than NOTE_RATE: every character plays
    rig.end()
    messages = [m for _, m in rig.port.messages]
    assert messages == [[0x90, 48, 127], [0x80, 48, 0], [0x91, 50, 127], [0x81, 50, 0],
                        [0x99, 36, 127], [0x89, 36, 0]]


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_the_clock_out_ticks_24_a_beat_at_the_tempo_and_starts_and_stops_with_run():
    tree = build_tree(["a"])
    tree.set("/clock/bpm", 150.0)
    port, clock = Recorded(), Clock()
    out = ClockOut(port, tree, clock)
    out.opened()
    for _ in range(4000):  # 4 s of 1 ms steps
        out.tend()
        clock.now += 0.001
    assert out.ticks == pytest.approx(4 * 150 / 60 * 24, abs=1)
    tree.set("/run", False)
    out.tend()
    assert [m[0] for _, m in port.messages if m[0] != 0xF8] == [0xFA, 0xFC]


def test_a_style_of_ones_own_moves_no_shipped_styles_channel():
    """Channels once followed alphabetical order: a performer's own 18th style rerouted Live."""
    from instrument.params import SHIPPED_STYLES, style_numbers

    before = style_numbers(list(SHIPPED_STYLES))
    after = style_numbers(["aardvark", *SHIPPED_STYLES, "zebra"])
    assert all(after[n] == before[n] for n in SHIPPED_STYLES)
    assert after["aardvark"] == len(SHIPPED_STYLES) and after["zebra"] == len(SHIPPED_STYLES) + 1


def test_every_shipped_style_has_its_place_in_the_fixed_order():
    import yaml

    from ..conftest import PROJECT
    from instrument.params import SHIPPED_STYLES

    recipes = yaml.safe_load((PROJECT / "models" / "recipes.yaml").read_text())
    shipped = {n for n in recipes if (PROJECT / "models" / f"{n}.safetensors").exists()}
    assert shipped == set(SHIPPED_STYLES) and len(SHIPPED_STYLES) == len(set(SHIPPED_STYLES))
