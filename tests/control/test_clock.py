import pytest

from instrument.control.clock import PPQN, MidiClock
from instrument.tree import build_tree


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def play_ticks(clock: MidiClock, fake: Clock, bpm: float, beats: int, jitter=lambda i: 0.0) -> None:
    interval = 60.0 / bpm / PPQN
    for i in range(beats * PPQN):
        fake.now += interval + jitter(i)
        clock.tick()


def test_clock_sets_the_rate_from_the_tempo():
    params = build_tree(["a"])
    fake = Clock()
    clock = MidiClock(params, clock=fake)
    params.set("/clock/follow", True)
    params.set("/clock/chars_per_beat", 4)
    play_ticks(clock, fake, 120, beats=30)
    assert params.get("/rate") == pytest.approx(4 * 120 / 60, rel=0.01)


def test_jitter_does_not_wobble_the_rate():
    params = build_tree(["a"])
    fake = Clock()
    clock = MidiClock(params, clock=fake)
    params.set("/clock/follow", True)
    rates = []
    params.add_listener(lambda a, v, s: rates.append(v) if a == "/rate" else None)
    play_ticks(clock, fake, 100, beats=20)
    rates.clear()
    # +-2 ms of jitter on every tick (a busy USB bus), alternating
    play_ticks(clock, fake, 100, beats=20, jitter=lambda i: 0.002 if i % 2 else -0.002)
    assert all(v == pytest.approx(8 * 100 / 60, rel=0.01) for v in [params.get("/rate"), *rates])


def test_clock_is_ignored_unless_followed():
    params = build_tree(["a"])
    fake = Clock()
    clock = MidiClock(params, clock=fake)
    play_ticks(clock, fake, 90, beats=8)
    assert params.get("/rate") == 40.0 and clock.bpm == pytest.approx(90)
