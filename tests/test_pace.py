"""`replay --live`'s pace: when each step of a recording is played back."""
from __future__ import annotations

import threading
import time

import pytest

from instrument.app.pace import MAX_WAIT, Pace, ReplayStopped
from instrument.app.recording import ReplayError, read_recording


def test_steps_between_two_timed_lines_are_spread_evenly():
    pace = Pace([(10, 1.0), (30, 2.0)])
    assert pace.at(0) == 0.0 and pace.at(5) == pytest.approx(0.5)
    assert pace.at(20) == pytest.approx(1.5) and pace.at(30) == pytest.approx(2.0)
    assert pace.at(500) == pytest.approx(2.0)  # past the last timed line: at once


def test_a_pause_in_the_piece_is_a_pause_in_the_replay():
    pace = Pace([(10, 1.0), (11, 31.0), (20, 32.0)])  # silence for 30 s after step 10
    assert pace.at(10) == pytest.approx(1.0) and pace.at(11) == pytest.approx(31.0)


def test_hand_edited_times_neither_run_backwards_nor_hold_the_replay_for_ever():
    pace = Pace([(10, 5.0), (20, 1.0), (30, 1e12), (40, 1e12 + 1)])
    seconds = [pace.at(s) for s in range(0, 41, 10)]
    assert seconds == sorted(seconds)  # a line "written earlier" than the one before waits nothing
    assert seconds[3] - seconds[2] <= MAX_WAIT and seconds[4] - seconds[3] == pytest.approx(1.0)


def test_a_recording_without_times_cannot_be_paced():
    with pytest.raises(ReplayError, match="before recordings kept time"):
        Pace([])


def test_stop_ends_a_wait_at_once():
    pace = Pace([(1, 60.0)])
    pace.wait(0)  # the first wait starts the clock
    threading.Timer(0.2, pace.stop).start()
    began = time.monotonic()
    with pytest.raises(ReplayStopped):
        pace.wait(1)  # a minute away
    assert time.monotonic() - began < 30


def _write(path, lines: list[str]) -> None:
    header = '{"instrument":1,"models":[{"name":"ayes","sha256":"00","memory":null}]}'
    path.write_text("\n".join([header, *lines]) + "\n")


def test_a_recordings_times_are_read_and_a_bad_one_ends_its_intact_part(tmp_path):
    piece = tmp_path / "piece.jsonl"
    _write(piece, ['{"step":0,"set":{},"fire":[]}', '{"text":"ab","at":[1,0.05]}', '{"text":"cd","at":[3,0.1]}',
                   '{"end":4}'])
    rec = read_recording(piece)
    assert rec.times == [(1, 0.05), (3, 0.1)] and rec.damage is None
    for bad in ('[1]', '[-1,0.1]', '[1,-0.5]', '["1",0.1]', '[1,"x"]', '[true,0.1]', '[1,Infinity]', '{"s":1}'):
        _write(piece, ['{"step":0,"set":{},"fire":[]}', '{"text":"ab","at":[1,0.05]}', f'{{"text":"cd","at":{bad}}}'])
        rec = read_recording(piece)
        assert rec.text == "ab" and "line 4" in rec.damage and "time" in rec.damage, bad
