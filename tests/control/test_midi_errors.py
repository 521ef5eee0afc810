"""rtmidi's failures in a performer's words: the real one on this machine (no ALSA sequencer, no
JACK server unless a test starts one), and the translation."""
from __future__ import annotations

import os
import subprocess
import sys

from instrument.control.midi_errors import plainly


def test_rtmidis_own_words_become_a_sentence():
    said = plainly(None, RuntimeError("MidiInAlsa::initialize: error creating ALSA sequencer client object."))
    assert said.startswith("the system default: ALSA's MIDI sequencer could not be opened") and "::" not in said
    assert plainly("jack", RuntimeError("MidiInJack::initialize: JACK server not running?")) == \
        "jack: no JACK server is running"
    assert plainly("jack", RuntimeError("something new")) == "jack: something new"  # unknown: as it was said


def test_a_run_without_midi_says_why_without_rtmidis_method_names():
    if os.path.exists("/dev/snd/seq"):
        import pytest

        pytest.skip("this machine has an ALSA sequencer")
    env = {k: v for k, v in os.environ.items() if k != "JACK_DEFAULT_SERVER"}
    result = subprocess.run([sys.executable, "-m", "instrument", "play", "--chars", "20", "--rate", "0",
                             "--osc-listen", "127.0.0.1:0", "--no-oscquery"], capture_output=True, text=True,
                            timeout=120, env={**env, "JACK_NO_START_SERVER": "1"})
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stderr.splitlines() if "MIDI" in line)
    assert "no MIDI system could be opened" in line and "::initialize" not in line, line
