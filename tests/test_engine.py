"""The loop, driven step by step with tiny models (no threads unless the test is about them)."""
from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from instrument.core.ensemble import Ensemble
from instrument.core.mixing import RULES, Rule
from instrument.core.model import CharLSTM, ModelConfig
from instrument.engine import Engine
from instrument.frames import Subscription
from instrument.base.pacing import Pacer


def _fresh_engine(lookahead: int | None = None) -> Engine:
    torch.manual_seed(2)
    models = [CharLSTM(ModelConfig(1, 32, dropout=0.0)).half().float().eval() for _ in range(3)]
    eng = Engine(Ensemble(models, ["a", "b", "c"]))
    eng.params.set("/mix/a", 1.0)
    if lookahead is not None:
        eng.params.set("/lookahead", lookahead)
    return eng


@pytest.fixture
def engine() -> Engine:
    return _fresh_engine()


@pytest.fixture
def plain() -> Engine:
    """The paper's sampler: no lookahead."""
    return _fresh_engine(lookahead=0)


def _play(engine: Engine, n: int, schedule: dict[int, list[tuple]] | None = None) -> str:
    """n characters, applying the scheduled writes before the given steps."""
    out = []
    while len(out) < n:
        for address, value in (schedule or {}).get(engine.steps, []):
            engine.params.set(address, value)
        frame = engine.step()
        assert frame is not None
        out.append(frame.char)
    return "".join(out)


def values_per_step(snapshots: list, n: int) -> list[dict]:
    """The values each of n steps used, from the snapshots a subscription was handed (one per
    change, each with the step that first used it)."""
    out, i, current = [], 0, None
    for step in range(n):
        while i < len(snapshots) and snapshots[i][0] <= step:
            current = dict(snapshots[i][1].values)
            i += 1
        out.append(current)
    return out


SCHEDULE = {0: [("/seed", 5), ("/prime", "the ")], 20: [("/mix/b", 0.8)], 45: [("/mode", "product")],
            60: [("/mix/a", 0.0), ("/temperature", 1.4)], 80: [("/mix/c", 0.3)], 90: [("/reset", None)]}


def test_same_seed_prime_and_moves_give_the_same_text():
    first = _play(_fresh_engine(), 120, SCHEDULE)
    assert _play(_fresh_engine(), 120, SCHEDULE) == first
    other_seed = {**SCHEDULE, 0: [("/seed", 6), ("/prime", "the ")]}
    assert _play(_fresh_engine(), 120, other_seed) != first
    other_moves = {**SCHEDULE, 20: [("/mix/b", 0.3)]}
    moved = _play(_fresh_engine(), 120, other_moves)
    assert moved[:20] == first[:20] and moved != first  # the same until the move, then not


def test_every_fader_down_pauses_and_a_rising_fader_resumes(engine):
    assert engine.step() is not None
    engine.params.set("/mix/a", 0.0)
    assert engine.step() is None and engine.step() is None
    engine.params.set("/mix/c", 0.2)
    frame = engine.step()
    assert frame is not None and frame.active.tolist() == [2]


def test_run_off_pauses(engine):
    engine.params.set("/run", 0)
    assert engine.step() is None
    engine.params.set("/run", 1)
    assert engine.step() is not None


def test_frames_carry_the_mix_and_the_distributions(engine):
    engine.params.set("/mix/b", 0.5)
    engine.params.set("/mix/c", 0.01)  # under the threshold: not stepped
    frame = engine.step()
    assert frame.active.tolist() == [0, 1]
    assert frame.omega.shape == (2, 128) and np.allclose(frame.omega.sum(axis=1), 1)
    assert np.isclose(frame.rho.sum(), 1) and frame.lead in (0, 1)
    np.testing.assert_allclose(frame.rho, (1.0 * frame.omega[0] + 0.5 * frame.omega[1]) / 1.5)
    assert frame.pi.tolist() == [1.0, 0.5, 0.01]


def test_a_character_is_published_before_the_models_read_it(engine):
    """The outputs (and a performer's ears) get the character without waiting for the models'
    step on it, which is most of a step's time."""
    sub = engine.subscribe()
    feed, seen_at_feed = engine.ensemble.feed, []

    def feed_and_look(chars, active):
        seen_at_feed.append(sub.read(timeout=0)[1])
        feed(chars, active)

    engine.ensemble.feed = feed_and_look
    frame = engine.step()
    assert seen_at_feed == [frame.char]


def test_bad_values_never_reach_the_models(engine):
    engine.params.set("/temperature", 0.7)
    for bad in (float("nan"), "hot", None):
        assert not engine.params.set("/temperature", bad).ok
    assert engine.params.get("/temperature") == 0.7
    assert engine.step() is not None


def test_prime_is_read_by_every_style_and_published(engine):
    sub = engine.subscribe()
    engine.params.set("/prime", "In the beginning ")
    engine.step()
    frames, text = sub.read(timeout=1)
    assert text.startswith("In the beginning ") and len(text) == len("In the beginning ") + 1
    assert all(f.primed for f in frames[:-1]) and not frames[-1].primed


def _letters_engine() -> Engine:
    """Two styles that write runs of one letter with a space now and then: words to land between."""
    from .fakes import letter_model

    engine = Engine(Ensemble([letter_model("a"), letter_model("b")], ["ayes", "bees"]))
    engine.params.set("/mix/ayes", 1.0)
    return engine


def _prime_mid_word(engine: Engine, prime: str) -> str:
    """Play until the text is inside a word, send the prime, play 60 more; the whole text."""
    sub = engine.subscribe(maxlen=4096)
    while engine.step().char in " \n" or engine.steps < 5:
        pass
    engine.params.set("/prime", prime)
    for _ in range(60):
        engine.step()
    return sub.read(timeout=1)[1]


def test_a_prime_lands_at_the_end_of_the_word_being_written_never_inside_it():
    text = _prime_mid_word(_letters_engine(), "AMEN ")
    at = text.index("AMEN ")
    assert at > 0 and text[at - 1] in " \n"  # after the word ended, not "whichAMEN"


def test_a_prime_at_once_lands_inside_the_word():
    engine = _letters_engine()
    engine.params.set("/prime_at", "now")
    text = _prime_mid_word(engine, "AMEN ")
    assert text[text.index("AMEN ") - 1] not in " \n"  # the old behaviour, for who wants it


def test_a_prime_waits_at_most_forty_characters_for_a_word_to_end(engine):
    """Untrained styles rarely write a space: the prime lands inside their 'word' after 40."""
    from instrument.engine import PRIME_PATIENCE

    sub = engine.subscribe(maxlen=4096)
    for _ in range(5):
        engine.step()
    engine.params.set("/prime", "AMEN ")
    for _ in range(PRIME_PATIENCE + 5):
        engine.step()
    frames, text = sub.read(timeout=1)
    at = text.index("AMEN ")
    assert 5 < at <= 5 + PRIME_PATIENCE and (text[at - 1] in " \t\n" or at == 5 + PRIME_PATIENCE)


def test_a_slow_reader_loses_frames_but_never_text():
    sub = Subscription(maxlen=4)
    from instrument.frames import Frame
    for i, ch in enumerate("hello world"):
        sub.push(Frame(i, ch, np.ones(1), np.zeros(1, dtype=int)))
    frames, text = sub.read(timeout=0)
    assert text == "hello world" and [f.char for f in frames] == list("orld")
    assert sub.dropped == 7


def test_the_thread_plays_max_chars_and_closes_subscriptions(engine):
    engine.params.set("/rate", 0)
    sub = engine.subscribe(maxlen=1000)
    engine.start(max_chars=50)
    engine._thread.join(10)
    assert not engine.running and sub.closed
    frames, text = sub.read(timeout=0)
    assert len(text) == 50


@pytest.mark.parametrize("rate", [0.05, 1e-11])
def test_no_rate_in_range_stops_the_piece_and_a_new_one_is_heard_at_once(rate):
    """/rate 1e-11 was an OverflowError that ended the engine thread; /rate 0.05 then 0 was 20 s
    of silence."""
    engine = _fresh_engine()
    sub = engine.subscribe(maxlen=1)
    engine.params.set("/rate", rate)
    engine.start()
    threading.Event().wait(0.3)
    sub.read(timeout=0)
    engine.params.set("/rate", 0)  # unpaced: text at once
    _, text = sub.read(timeout=1.0)
    assert engine.running and len(text) > 0
    engine.stop()


def test_a_failing_step_is_logged_and_the_engine_plays_on(engine, caplog):
    real, calls = engine.ensemble.distributions, {"n": 0}

    def sometimes(active):
        calls["n"] += 1
        if calls["n"] % 7 == 3:
            raise RuntimeError("a transient fault")
        return real(active)

    engine.ensemble.distributions = sometimes
    engine.params.set("/rate", 0)
    engine.start(max_chars=100)
    engine._thread.join(10)
    assert engine.steps == 100 and engine.failure is None
    assert any("a step failed (RuntimeError: a transient fault); the engine plays on" in r.message for r in caplog.records)
    engine.ensemble.distributions = lambda active: 1 / 0  # a fault that never clears ends the piece, saying why
    engine.start()
    engine._thread.join(10)
    assert not engine.running and isinstance(engine.failure, ZeroDivisionError)


def test_stop_is_prompt_even_at_a_slow_rate(engine):
    engine.params.set("/rate", 0.5)  # one character every two seconds
    engine.start()
    threading.Event().wait(0.1)
    engine.stop(timeout=1.0)
    assert not engine.running


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Sleeper:
    """A stop event whose wait() advances the fake clock instead of sleeping."""

    def __init__(self, clock: FakeClock):
        self.clock = clock

    def wait(self, seconds: float) -> bool:
        self.clock.now += seconds
        return False

    def is_set(self) -> bool:
        return False


def test_pacing_has_no_drift():
    clock = FakeClock()
    pacer, stop = Pacer(clock), Sleeper(clock)
    for _ in range(1000):
        clock.now += 0.003  # each step costs 3 ms of work
        pacer.wait(100.0, stop)
    # anchored at the first character (after its 3 ms): 1000 chars at 100/s end exactly 10 s later
    assert clock.now == pytest.approx(10.003, abs=1e-9)


def test_pacing_reanchors_after_a_stall_instead_of_bursting():
    clock = FakeClock()
    pacer, stop = Pacer(clock), Sleeper(clock)
    pacer.wait(10.0, stop)
    clock.now += 5.0  # a 5 s stall
    pacer.wait(10.0, stop)
    before = clock.now
    pacer.wait(10.0, stop)
    assert clock.now - before == pytest.approx(0.1)  # the next one waits a full period again


def _move_while_stepping(engine: Engine, at_step: int, writes: list[tuple]) -> None:
    """Writes that land while the models step (as an OSC move does, from another thread)."""
    distributions = engine.ensemble.distributions

    def hooked(active):
        out = distributions(active)
        if engine.steps == at_step and not getattr(hooked, "done", False):
            hooked.done = True
            for address, value in writes:
                engine.params.set(address, value)
        return out

    engine.ensemble.distributions = hooked


def test_a_mix_move_during_a_step_is_heard_in_that_character(plain):
    engine = plain
    _play(engine, 5)
    _move_while_stepping(engine, 5, [("/mix/b", 0.9), ("/temperature", 0.5)])
    frame = engine.step()
    assert frame.pi[1] == pytest.approx(0.9) and list(frame.active) == [0, 1]
    assert frame.omega.shape == (2, 128)  # the raised style was stepped in time to predict


def test_events_and_dropped_styles_wait_for_the_next_step(plain):
    engine = plain
    engine.params.set("/mix/b", 0.5)
    _play(engine, 5)
    _move_while_stepping(engine, 5, [("/mix/b", 0.0)])
    frame = engine.step()
    assert frame.pi[1] == pytest.approx(0.5) and list(frame.active) == [0, 1]
    assert list(engine.step().active) == [0]
    _move_while_stepping(engine, 7, [("/mix/c", 0.4), ("/seed", 9)])
    assert list(engine.step().active) == [0]  # a seed is an event: the whole write waits
    assert list(engine.step().active) == [0, 2]


@pytest.mark.parametrize("lookahead", [0, 8])
def test_late_moves_are_recorded_where_they_were_heard(lookahead):
    """What the observers log, applied before each step, replays to the same text (with lookahead
    a move that lands during a step is taken by the next one, and logged there)."""
    live = _fresh_engine(lookahead)
    changes = live.subscribe(1, snapshots=True)
    for step, writes in {10: [("/mix/b", 0.8)], 30: [("/mix/c", 0.6), ("/mode", "product")],
                         50: [("/mix/b", 0.0)], 70: [("/temperature", 1.3)]}.items():
        _move_while_stepping(live, step, writes)
    text = _play(live, 90)
    log = values_per_step(changes.snapshots(), 90)
    if lookahead == 0:
        assert log[10]["/mix/b"] == pytest.approx(0.8) and log[50]["/mix/b"] == pytest.approx(0.8)
    else:
        assert log[10]["/mix/b"] == 0.0 and log[11]["/mix/b"] == pytest.approx(0.8)
    replay = _fresh_engine(lookahead)
    previous, out = dict(replay.params.snapshot().values), []
    for values in log:
        for address, value in values.items():
            if previous.get(address) != value:
                replay.params.set(address, value)
        previous = values
        out.append(replay.step().char)
    assert "".join(out) == text


class _Zeds(Rule):
    """A rule that writes nothing but 'z': any part of the engine that went its own way instead of
    asking the rule (a test of the mode's name, a mixture written out by hand) would write other
    letters."""

    def combine(self, pi, omega):
        return np.eye(128)[ord("z")]

    def proposals(self, paths, logw, phrase):
        return np.repeat(np.eye(128)[ord("z")][None], len(paths.chars), axis=0)

    def scores(self, paths, logw, phrase):
        return np.zeros(len(paths.chars))

    def sharpness(self, weights):
        return 1.0


@pytest.mark.parametrize("lookahead", [0, 4])
@pytest.mark.parametrize("mode", sorted(RULES))
def test_the_engine_plays_each_mode_as_its_rule_says(monkeypatch, mode, lookahead):
    """A rule is one object in RULES: put another in a mode's place and that mode plays it,
    plainly and with lookahead, with the styles at any weights."""
    monkeypatch.setitem(RULES, mode, _Zeds())
    eng = _fresh_engine(lookahead)
    eng.params.set("/mix/b", 0.7)
    eng.params.set("/mode", mode)
    assert eng.write(60) == "z" * 60


def test_a_setting_the_machine_cannot_play_in_time_is_said_once(caplog, monkeypatch):
    """17 styles at lookahead 16 x 16 beams played at 5.5 characters a second with 1.6 s gaps, in
    silence: a character slower than SLOW_STEP is reported, at most every 30 s."""
    import time

    eng = _fresh_engine()
    step = eng.step
    monkeypatch.setattr(eng, "SLOW_STEP", 0.05)
    monkeypatch.setattr(eng, "step", lambda: (time.sleep(0.06), step())[1])
    eng.params.set("/rate", 0)
    with caplog.at_level("WARNING", logger="instrument.engine"):
        eng.run(max_chars=5)
    said = [r.getMessage() for r in caplog.records if "to choose" in r.getMessage()]
    assert len(said) == 1 and "lower /beams or /lookahead" in said[0]
