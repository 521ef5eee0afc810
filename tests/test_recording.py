"""Replay from a recording's lines, without processes: the engine given the same snapshots."""
from __future__ import annotations

from instrument.app.recording import Recording, replay

from .test_engine import _fresh_engine, _play


def _recording_of(engine, n: int, moves: dict) -> tuple[Recording, str]:
    """What the recorder would write: the whole first state, then each change at its step."""
    sub = engine.subscribe(1, snapshots=True)
    text = _play(engine, n, moves)
    snaps = sub.snapshots()
    changes = [{"step": snaps[0][0], "set": dict(snaps[0][1].values), "fire": []}]
    for (_, previous), (step, snap) in zip(snaps, snaps[1:]):
        diff = {a: v for a, v in snap.values.items() if previous.values.get(a) != v}
        if diff:
            changes.append({"step": step, "set": diff, "fire": []})
    return Recording({"models": []}, changes, text, n), text


def test_a_recording_made_before_lookahead_existed_replays_with_the_plain_sampler():
    rec, text = _recording_of(_fresh_engine(lookahead=0), 80, {30: [("/mix/b", 0.7)]})
    del rec.changes[0]["set"]["/lookahead"]  # as a first-release recording has it
    assert replay(_fresh_engine(), rec) == text


def test_a_recording_with_lookahead_replays_exactly():
    rec, text = _recording_of(_fresh_engine(), 80, {30: [("/mix/b", 0.7)], 50: [("/beams", 2)]})
    assert rec.changes[0]["set"]["/lookahead"] > 0
    assert replay(_fresh_engine(), rec) == text


def _lines(rec: Recording) -> list[str]:
    import json

    out = [json.dumps({"instrument": 1, "models": [{"name": "a", "sha256": "0" * 64}]})]
    for change in rec.changes:
        out.append(json.dumps(change))
    out += [json.dumps({"text": rec.text[i : i + 10]}) for i in range(0, len(rec.text), 10)]
    return out


def test_a_torn_last_line_leaves_the_rest_replayable(tmp_path):
    from instrument.app.recording import read_recording

    rec, text = _recording_of(_fresh_engine(), 60, {})
    lines = _lines(rec)
    path = tmp_path / "piece.jsonl"
    path.write_text("\n".join(lines) + '\n{"text": "half a li')  # the disk filled mid-line
    back = read_recording(path)
    assert back.damage.startswith(f"line {len(lines) + 1} is not JSON (torn") and back.text == text
    assert replay(_fresh_engine(), back) == text


import pytest  # noqa: E402


@pytest.mark.parametrize("damage, says", [
    ('{"step": "twelve", "set": {}, "fire": []}', "is a change whose step"),
    ('{"step": 1000000000000, "set": {}, "fire": []}', "past what the recording holds"),
    ('[1, 2, 3]', "a list, not a record"),
    ('{"surprise": 1}', "a line the recorder never writes"),
    ('{"step": 3, "set": {"/mix/a": [1]}, "fire": ["/nowhere"]}', None),  # refused values, no traceback
])
def test_a_hand_damaged_line_ends_the_intact_part_there_without_a_traceback(tmp_path, damage, says):
    from instrument.app.recording import read_recording

    rec, text = _recording_of(_fresh_engine(), 60, {})
    lines = _lines(rec)
    lines.insert(2, damage)
    path = tmp_path / "piece.jsonl"
    path.write_text("\n".join(lines) + "\n")
    back = read_recording(path)
    if says:
        assert says in back.damage
    replay(_fresh_engine(), back)  # plays what is intact: no exception


@pytest.mark.parametrize("damage, says", [
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),          # was RecursionError, then AttributeError
    ('{"step": 3, "set": {"/seed": ' + "9" * 5000 + "}}", "thousands of digits"),  # was a ValueError traceback
    ('{"text": "' + "a" * (1 << 21) + '"}', "longer than"),        # a line far past any the recorder writes
    (b"\xff\xfe".decode("latin-1"), None),                          # not UTF-8 once written as Latin-1 below
])
def test_lines_that_once_crashed_a_replay_end_its_intact_part(tmp_path, damage, says):
    from instrument.app.recording import read_recording

    rec, text = _recording_of(_fresh_engine(), 60, {})
    lines = _lines(rec)
    path = tmp_path / "piece.jsonl"
    path.write_bytes(("\n".join(lines) + "\n").encode() + damage.encode("latin-1" if says is None else "utf-8") + b"\n")
    back = read_recording(path)
    assert back.text == text and back.damage.startswith(f"line {len(lines) + 1} is")
    assert (says or "not UTF-8") in back.damage
    assert replay(_fresh_engine(), back) == text


def test_an_end_mark_past_the_text_does_not_replay_for_ever(tmp_path):
    """{"end": 1000000000000} as the last line once had the replay write until it was killed."""
    from instrument.app.recording import read_recording

    rec, text = _recording_of(_fresh_engine(), 60, {})
    path = tmp_path / "piece.jsonl"
    path.write_text("\n".join(_lines(rec)) + '\n{"end": 1000000000000}\n')
    back = read_recording(path)
    assert back.steps is None and "end mark says 1,000,000,000,000 characters" in back.damage
    assert replay(_fresh_engine(), back) == text


def test_a_header_nested_too_deeply_is_not_a_recording(tmp_path):
    from instrument.app.recording import ReplayError, read_recording

    path = tmp_path / "piece.jsonl"
    path.write_text("[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(ReplayError, match="not a recording"):
        read_recording(path)


def test_a_recording_made_before_the_flood_guard_existed_replays_without_it():
    """Python and Emacs Lisp at top-p 0.01 write a screen of spaces, which the flood guard
    (core/floods.py) pushes down. A recording made before the guard existed (no /flood_guard in its
    starting state) must replay with the spaces."""
    from instrument.app.parts import build_engine
    from instrument.app.settings import EngineSettings

    names = ["python", "elisp"]

    def flooding(guard=None):
        values = {"/seed": 1, "/top_p": 0.01, **({} if guard is None else {"/flood_guard": guard})}
        return build_engine(EngineSettings(models=names, mix={n: 1.0 for n in names}, values=values))

    rec, text = _recording_of(flooding(0.0), 800, {})
    del rec.changes[0]["set"]["/flood_guard"]  # as a recording of the day before has it
    assert replay(flooding(), rec) == text
    assert _play(flooding(), 800, {}) != text  # the guard changes this text: the test can fail


def test_a_recording_made_before_the_loop_guard_existed_replays_without_it():
    """Three shipped styles at top-p 0.01 loop ("and Abiathar, and Abiathar, ..."): the loop the
    guard breaks. A recording made before the guard existed (no /loop_guard in its starting
    state) must replay unguarded."""
    from instrument.app.parts import build_engine
    from instrument.app.settings import EngineSettings

    names = ["bible", "austen", "shakespeare"]

    def looping(guard=None):
        values = {"/seed": 1, "/top_p": 0.01, "/lookahead": 0, **({} if guard is None else {"/loop_guard": guard})}
        return build_engine(EngineSettings(models=names, mix={n: 1.0 for n in names}, values=values))

    rec, text = _recording_of(looping(0.0), 500, {})
    del rec.changes[0]["set"]["/loop_guard"]  # as a recording of the day before has it
    assert replay(looping(), rec) == text
    assert _play(looping(), 500, {}) != text  # the guard changes this text: the test can fail
