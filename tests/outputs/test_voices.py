"""The voice table, who speaks each phrase, and the cut: the table read and refused as a file, the
phrase's writer found from the frames, its voice chosen by /speech/voice."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from instrument.base.files import FileProblem
from instrument.frames import Frame, Subscription
from instrument.outputs.speech import Phraser, Speech, leads_of
from instrument.outputs.voices import VoiceChoice, load_voices
from instrument.params import SHIPPED_STYLES
from instrument.tree import build_tree

from .test_speech import FakeVoice


def test_the_shipped_table_gives_every_shipped_style_a_voice_of_its_own_in_each_family():
    table = load_voices()
    assert set(table.families["voices"].styles) == set(SHIPPED_STYLES)
    assert set(table.families["piper"].styles) <= set(SHIPPED_STYLES)  # the rest at piper's own pace
    system = table.families["voices"]
    assert system.of("baudelaire").voice == "roa/fr" and system.of("lovesongs").voice == "gmw/en-gb-scotland"
    prose, code = system.of("austen"), system.of("linux")
    assert code.rate > prose.rate and code.pitch < prose.pitch  # code: faster and lower, heard at once
    assert table.families["piper"].of("moby").neural and not table.families["piper"].of("python").neural


@pytest.mark.parametrize("body, says", [
    ("[1, 2]", "a mapping of families"),
    ("opera: {default: {voice: x}}", "unknown family opera"),
    ("voices: {styles: {}}", "needs a `default` voice"),
    ("voices: {default: {voice: x, speed: 2}}", "voices.default: a mapping of voice, rate and pitch"),
    ("voices: {default: {voice: x, rate: 1e-11}}", "voices.default.rate: a number from 0.25 to 4.0"),
    ("voices: {default: {voice: x, rate: .nan}}", "voices.default.rate"),
    ("voices: {default: {voice: x}, styles: {poe: {pitch: 300}}}", "voices.styles.poe.pitch: a whole number"),
    ("voices: {default: {voice: [1]}}", "voices.default.voice: a name of at most 100"),
    ("voices: &a {default: {voice: x}}\npiper: *a", "alias"),
])
def test_a_bad_table_is_refused_with_what_is_wrong_and_where(tmp_path, body, says):
    path = tmp_path / "voices.yaml"
    path.write_text(body)
    with pytest.raises(FileProblem, match="voices.yaml") as e:
        load_voices(path)
    assert says in str(e.value)


def test_voice_picks_the_family_or_one_voice_for_every_style():
    table = load_voices()
    assert table.choose("", "baudelaire") == table.families["voices"].of("baudelaire")
    assert table.choose("piper", "austen").neural
    assert table.choose("en-gb", "baudelaire") == VoiceChoice("en-gb")  # one voice, its own pace and pitch
    assert table.choose("", "a style not in the table") == table.families["voices"].default
    assert table.neural("piper") and table.neural("piper") and not table.neural("") and not table.neural("fr")


def test_a_phrase_is_written_by_the_style_that_wrote_most_of_its_letters():
    phraser = Phraser()
    text, leads = "la mer. the sea\n", [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 2, 0, 0, 0, 0]
    one, two = phraser.feed(text, leads=leads)
    assert (one.text, one.writer) == ("la mer.", 1) and (two.text, two.writer) == ("the sea", 0)
    assert phraser.feed("unknown.\n")[0].writer == -1  # no leads: no writer


def test_the_writers_line_up_with_the_text_from_its_end():
    frames = [Frame(i, c, np.ones(1), np.zeros(1, dtype=int), lead=i % 2) for i, c in enumerate("abcd")]
    assert leads_of(frames, "abcd") == [0, 1, 0, 1]
    assert leads_of(frames[2:], "abcd") == [-1, -1, 0, 1]  # the reader's oldest frames were dropped


class Fed:
    """Speech on its own thread, reading frames pushed by hand with their writers."""

    def __init__(self, names, voice=None, no_piper=None, **values):
        self.params = build_tree(names)
        for address, value in values.items():
            self.params.set(address, value)
        self.speech = Speech(self.params, names=names)
        self.speech._no_piper = no_piper
        self.voice = self.speech.voice = voice or FakeVoice(0.0)
        self.speech.subscription = Subscription(Speech.maxlen)
        self.thread = threading.Thread(target=self.speech.run, daemon=True)
        self.thread.start()

    def write(self, text: str, lead: int) -> None:
        for ch in text:
            self.speech.subscription.push(Frame(0, ch, np.ones(2), np.arange(2), lead=lead))

    def end(self) -> None:
        self.speech.subscription.close()
        self.thread.join(10)
        assert not self.thread.is_alive()


def test_each_phrase_is_spoken_in_its_writers_voice():
    fed = Fed(["linux", "baudelaire"], **{"/speech/policy": "recite"})
    fed.write("le vin des amants.\n", 1)
    fed.write("static int do fork.\n", 0)
    fed.end()
    table = load_voices().families["voices"]
    fr, code = table.of("baudelaire"), table.of("linux")
    assert fed.voice.voices == [("roa/fr", 170.0 * fr.rate, fr.pitch), (code.voice, 170.0 * code.rate, code.pitch)]


def test_one_voice_asked_for_speaks_every_style():
    fed = Fed(["linux", "baudelaire"], **{"/speech/policy": "recite", "/speech/voice": "en-gb"})
    fed.write("le vin.\n", 1)
    fed.write("do fork.\n", 0)
    fed.end()
    assert fed.voice.voices == [("en-gb", 170.0, 50), ("en-gb", 170.0, 50)]


def test_without_piper_the_neural_family_falls_back_to_each_styles_system_voice():
    fed = Fed(["austen"], no_piper="the neural voice is not installed",
              **{"/speech/policy": "recite", "/speech/voice": "piper"})
    fed.write("it is a truth.\n", 0)
    fed.end()
    assert fed.voice.voices == [("gmw/en-gb-x-rp", 170.0 * 0.95, 60)]


def test_at_volume_zero_phrases_pass_unspoken_and_are_counted():
    fed = Fed(["austen"], **{"/speech/policy": "recite", "/speech/volume": 0.0})
    fed.write("one.\ntwo.\n", 0)
    fed.end()
    assert fed.voice.said == [] and fed.speech.muted == 2


def test_a_bad_voice_table_stops_the_start_with_its_entry_named(tmp_path):
    import subprocess
    import sys

    bad = tmp_path / "mine.yaml"
    bad.write_text("voices: {default: {voice: x, rate: 0}}")
    result = subprocess.run([sys.executable, "-m", "instrument", "play", "--chars", "10", "--speak-to",
                             str(tmp_path / "x.wav"), "--voices", str(bad), "--osc-listen", "127.0.0.1:0",
                             "--no-oscquery", "--no-midi"], capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "mine.yaml: voices.default.rate: a number from 0.25" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "x.wav").exists()


def test_words_begin_in_proportion_to_the_characters_before_them():
    from instrument.outputs.voice import onsets

    assert onsets("a bbb cc", 2.0) == pytest.approx([0.0, 2.0 * 2 / 9, 2.0 * 6 / 9])  # 9 = 2 + 4 + 3
    assert onsets("", 1.0) == []


def test_without_piper_installed_the_message_names_the_extra(monkeypatch):
    import importlib.util

    from instrument.outputs.voices import piper_missing

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "piper" else real(name, *a))
    assert piper_missing() == ("the neural voice is not installed (no piper): pip install 'instrument[voice]'; "
                               "speaking with the system voices")
