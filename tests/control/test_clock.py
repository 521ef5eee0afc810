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


def _delivered(bpm: float, beats: int, period: float = 0.0, jitter: float = 0.0, drop_every: int = 0, seed: int = 0):
    """Arrival times of a steady clock's ticks: delivered in bunches at the end of each audio
    period (JACK: 1024 frames at 48 kHz), with random delay, every drop_every-th tick lost."""
    import numpy as np

    rng = np.random.default_rng(seed)
    sent = np.arange(beats * PPQN) * 60.0 / bpm / PPQN
    arrive = np.ceil(sent / period) * period if period else sent.copy()
    arrive = np.maximum.accumulate(arrive + rng.uniform(0, jitter, len(arrive)))
    keep = np.ones(len(arrive), dtype=bool)
    if drop_every:
        keep[drop_every - 1 :: drop_every] = False
    return arrive[keep]


@pytest.mark.parametrize("bpm", [60, 90, 120, 150, 180])
@pytest.mark.parametrize("period, jitter, drop_every", [
    (1024 / 48000, 0.0, 0),      # JACK's bunches: a steady 90 bpm once read as 113-116
    (1024 / 48000, 0.003, 0),    # bunched and jittered
    (0.0, 0.004, 0),             # a busy USB bus
    (256 / 48000, 0.002, 400),   # a tick lost now and then
])
def test_the_tempo_is_within_1_bpm_however_the_ticks_arrive(bpm, period, jitter, drop_every):
    params = build_tree(["a"])
    fake = Clock()
    clock = MidiClock(params, clock=fake)
    params.set("/clock/follow", True)
    heard = []
    for t in _delivered(bpm, 40, period, jitter, drop_every, seed=bpm):
        fake.now = 1.0 + t
        clock.tick()
        if clock.ticks % PPQN == 0 and clock.ticks > 6 * PPQN:
            heard.append(clock.bpm)
    assert all(abs(b - bpm) <= 1.0 for b in heard), (min(heard), max(heard))
    assert params.get("/rate") == pytest.approx(8 * bpm / 60, abs=8 / 60)
