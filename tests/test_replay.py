"""Replay from a recording's lines, without processes: the engine given the same snapshots."""
from __future__ import annotations

from instrument.replay import Recording, replay

from .test_engine import _fresh_engine, _play


def _recording_of(engine, n: int, moves: dict) -> tuple[Recording, str]:
    """What the recorder would write: the whole first state, then each change at its step."""
    changes = []
    engine.snapshot_observers.append(lambda step, snap: changes.append({"step": step, "set": dict(snap.values),
                                                                         "fire": []}))
    text = _play(engine, n, moves)
    first = [changes[0]]
    for previous, change in zip(changes, changes[1:]):
        diff = {a: v for a, v in change["set"].items() if previous["set"].get(a) != v}
        if diff:
            first.append({"step": change["step"], "set": diff, "fire": []})
    return Recording({"models": []}, first, text, n), text


def test_a_recording_made_before_lookahead_existed_replays_with_the_plain_sampler():
    rec, text = _recording_of(_fresh_engine(lookahead=0), 80, {30: [("/mix/b", 0.7)]})
    del rec.changes[0]["set"]["/lookahead"]  # as a first-release recording has it
    assert replay(_fresh_engine(), rec) == text


def test_a_recording_with_lookahead_replays_exactly():
    rec, text = _recording_of(_fresh_engine(), 80, {30: [("/mix/b", 0.7)], 50: [("/beams", 2)]})
    assert rec.changes[0]["set"]["/lookahead"] > 0
    assert replay(_fresh_engine(), rec) == text
