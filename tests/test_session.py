"""The Session: parts opened in order, closed in reverse, and a start that fails half-way leaves
nothing running."""
from __future__ import annotations

import threading
import time

import pytest

from instrument.app.session import Session
from instrument.app.settings import (EngineSettings, MidiSettings, OscSettings, OutputSettings, PlaySettings,
                                 SetupError)

from .fakes import write_letter_models


@pytest.fixture
def models(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTRUMENT_MODELS", str(write_letter_models(tmp_path / "models", {"ayes": "a"})))
    return tmp_path


def settings(tmp_path, **outputs) -> PlaySettings:
    return PlaySettings(engine=EngineSettings(mix={"ayes": 1.0}, values={"/rate": 0}),
                        osc=OscSettings("127.0.0.1:0", oscquery=False), midi=MidiSettings(enabled=False),
                        outputs=OutputSettings(**outputs), chars=200)


def test_a_piece_plays_records_and_closes_everything(models, tmp_path):
    before = set(threading.enumerate())
    with Session.open(settings(tmp_path, record=tmp_path / "piece.jsonl")) as session:
        session.run()
    lines = (tmp_path / "piece.jsonl").read_text().splitlines()
    assert lines[-1] == '{"end":200}' and session.failure is None
    time.sleep(0.2)
    assert not [t for t in set(threading.enumerate()) - before if t.is_alive() and not t.name.startswith("pytest")]


def test_a_start_that_fails_after_the_outputs_started_closes_them_at_once(models, tmp_path, monkeypatch):
    monkeypatch.setenv("DISPLAY", ":9999")  # a window would be tried: its theme is refused first
    before = set(threading.enumerate())
    started = time.monotonic()
    with pytest.raises(SetupError):
        Session.open(settings(tmp_path, record=tmp_path / "piece.jsonl", project=True, theme=str(tmp_path / "none.yaml")))
    assert time.monotonic() - started < 5
    time.sleep(0.2)
    assert not [t for t in set(threading.enumerate()) - before if t.is_alive()]
    assert (tmp_path / "piece.jsonl").read_text().splitlines()[-1].startswith('{"end":')  # the recording was closed
