"""Phrasing, speakable text, policies with a fake voice, and real speech to a WAV file."""
from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
import wave

import numpy as np
import pytest

from instrument.outputs.speech import Phraser, Speech, speakable
from instrument.tree import build_tree

from ..polling import wait_for
from ..realparts import require


def test_phrases_end_at_sentences_lines_and_the_word_limit():
    p = Phraser(max_words=6)
    phrases = [x.text for x in p.feed("To be, or not to be: that is the question. Whether tis nobler in the mind\nto ")]
    assert phrases == ["To be, or not to be:", "that is the question.", "Whether tis nobler in the mind"]
    assert [x.text for x in Phraser(max_words=3).feed("one two three four five ")] == ["one two three"]


def test_a_phrase_is_kept_until_it_ends():
    p = Phraser()
    assert p.feed("In the beginning") == []
    assert [x.text for x in p.feed(" God created.\n")] == ["In the beginning God created."]


@pytest.mark.parametrize("code", [
    "static int do_fork(struct task_struct *p) { return -EINVAL; }",
    "\\begin{equation} \\int_0^\\infty x^{2} dx \\end{equation}",
    "if (a->b[i] != NULL && *q++ == '\\0') {{{{ }}}}",
    "def __init__(self, *args, **kwargs): return {'k': [1, 2]}",
])
def test_code_is_spoken_as_words_never_spelled_symbol_by_symbol(code):
    said = speakable(code)
    assert not re.search(r"[{}()\[\]*\\^<>|~]", said)       # no bracket or operator survives
    assert len(said.split()) <= len(re.findall(r"[A-Za-z]+|\d+", code.replace("_", " "))) + 3
    assert "task struct" in speakable("struct task_struct") and "do fork" in speakable("do_fork")


def test_prose_is_left_alone():
    assert speakable("Wherefore art thou, Romeo?") == "Wherefore art thou, Romeo?"


class FakeVoice:
    """Speaks by sleeping; records what it was given."""

    def __init__(self, seconds: float):
        self.seconds, self.said, self.started = seconds, [], threading.Event()
        self.voices = []  # (voice, rate, pitch) of each phrase

    def speak(self, text, rate, volume, voice, pitch=50):
        self.started.set()
        threading.Event().wait(self.seconds)
        self.said.append(text)
        self.voices.append((voice, rate, pitch))

    def warm(self, voice, rate):
        self.warmed = (voice, rate)

    def close(self):
        pass


class FakeFileVoice(FakeVoice):
    """Renders at once, as a voice writing a WAV does, and reports the audio's length."""

    def __init__(self, audio_seconds: float):
        super().__init__(0.0)
        self.audio_seconds = audio_seconds

    def speak(self, text, rate, volume, voice, pitch=50):
        super().speak(text, rate, volume, voice, pitch)
        return self.audio_seconds


class Feed:
    """A speech output on its own thread, reading a subscription fed by hand, as the engine feeds it."""

    def __init__(self, policy: str, voice: FakeVoice | None = None):
        from instrument.frames import Subscription

        params = build_tree(["a"])
        params.set("/speech/policy", policy)
        self.speech = Speech(params)
        self.voice = self.speech.voice = voice or FakeVoice(0.2)
        self.speech.subscription = Subscription(Speech.maxlen)
        self._thread = threading.Thread(target=self.speech.run, daemon=True)
        self._thread.start()

    def write(self, text: str) -> None:
        from instrument.frames import Frame

        for ch in text:
            self.speech.subscription.push(Frame(0, ch, np.ones(1), np.zeros(1, dtype=int)))

    def end(self) -> None:
        """The piece is over: the engine closes the subscription, the output finishes."""
        self.speech.subscription.close()
        self._thread.join(10)
        assert not self._thread.is_alive()


@pytest.mark.parametrize("policy", ["live", "recite"])
def test_when_the_voice_falls_behind_the_policy_decides(policy):
    feed = Feed(policy)
    feed.write("one.\n")
    assert feed.voice.started.wait(2)
    feed.write("two.\nthree.\nfour.\nfive.\n")  # four phrases arrive while "one" is spoken
    feed.end()
    if policy == "live":
        assert feed.voice.said == ["one.", "five."] and feed.speech.skipped == 3
    else:
        assert feed.voice.said == ["one.", "two.", "three.", "four.", "five."] and feed.speech.skipped == 0


class FlakyVoice(FakeVoice):
    """Cannot speak its first `bad` phrases (the child answered an error), then speaks."""

    def __init__(self, bad: int):
        super().__init__(0.0)
        self.bad = bad

    def speak(self, text, rate, volume, voice, pitch=50):
        from instrument.outputs.voice import PhraseError

        if self.bad:
            self.bad -= 1
            raise PhraseError("the speech driver wrote no sound in 3 tries")
        super().speak(text, rate, volume, voice, pitch)


@pytest.mark.parametrize("bad, spoken", [(2, ["three.", "four.", "five."]), (9, [])])
def test_a_phrase_not_spoken_is_skipped_and_only_a_voice_failing_again_and_again_falls_silent(bad, spoken, caplog):
    feed = Feed("recite", FlakyVoice(bad))
    with caplog.at_level("WARNING"):
        feed.write("one.\ntwo.\nthree.\nfour.\nfive.\n")
        feed.end()
    assert feed.voice.said == spoken
    assert feed.speech.silent == (not spoken)
    if not spoken:
        assert "3 phrases in a row not spoken" in caplog.text and "playing on without speech" in caplog.text


def test_a_file_voice_under_live_is_busy_while_its_phrase_would_sound():
    """So the file holds what a listener would have heard: the newest phrase after each."""
    feed = Feed("live", FakeFileVoice(audio_seconds=30.0))
    feed.write("one.\n")
    assert wait_for(lambda: feed.voice.said == ["one."])
    for phrase in ("two.\n", "three.\n"):
        feed.write(phrase)
        time.sleep(0.05)
    started = time.monotonic()
    feed.end()  # the end of the piece cuts the last phrase's sound short
    assert feed.voice.said == ["one.", "three."] and feed.speech.skipped == 1
    assert time.monotonic() - started < 10


def test_a_file_voice_under_recite_renders_everything_without_waiting():
    feed = Feed("recite", FakeFileVoice(audio_seconds=30.0))
    started = time.monotonic()
    feed.write("one.\n")
    assert wait_for(lambda: feed.voice.said == ["one."])
    feed.write("two.\nthree.\n")
    assert wait_for(lambda: len(feed.voice.said) == 3)
    feed.end()
    assert feed.voice.said == ["one.", "two.", "three."] and time.monotonic() - started < 10


def test_generated_phrases_become_real_speech_in_a_wav(tmp_path):
    require("espeak-ng")
    wav = tmp_path / "piece.wav"
    result = subprocess.run([sys.executable, "-m", "instrument", "play", "--chars", "300", "--seed", "2", "--rate", "0",
                             "--mix", "shakespeare=1", "--speak-to", str(wav), "--policy", "recite",
                             "--osc-listen", "127.0.0.1:0", "--no-oscquery", "--no-midi"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    phraser = Phraser()
    said = [speakable(p.text) for p in phraser.feed(result.stdout) + phraser.flush()]  # the last, unfinished, too
    words = sum(len(s.split()) for s in said)
    assert words >= 20
    with wave.open(str(wav)) as w:
        seconds = w.getnframes() / w.getframerate()
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float64)
    assert w.getnchannels() == 1 and w.getsampwidth() == 2
    assert 0.12 * words < seconds < 1.2 * words  # espeak-ng at 170 words a minute, with pauses
    assert np.sqrt(np.mean(samples ** 2)) > 300   # not silence: speech RMS is thousands


def test_without_a_voice_engine_it_says_so_once_and_the_piece_goes_on(monkeypatch, caplog):
    import instrument.outputs.speech as speech_module
    from instrument.core.ensemble import Ensemble
    from instrument.engine import Engine

    from ..fakes import letter_model

    def no_voice(*args, **kwargs):
        raise speech_module.VoiceError("no espeak-ng here")

    monkeypatch.setattr(speech_module, "VoiceProcess", no_voice)
    engine = Engine(Ensemble([letter_model("a")], ["ayes"]))
    engine.params.set("/mix/ayes", 1.0)
    engine.params.set("/rate", 0)
    speech = Speech(engine.params).start(engine)
    engine.start(max_chars=300)
    engine._thread.join(10)
    speech.join(5)
    assert engine.steps == 300
    assert [r.message for r in caplog.records if "speech" in r.message] == [
        "speech: no espeak-ng here; playing on without speech"]


def _play_speaking(tmp_path, env: dict) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, "-m", "instrument", "play", "--chars", "400", "--seed", "2", "--rate", "0",
                           "--mix", "shakespeare=1", "--speak", "--policy", "recite", "--osc-listen", "127.0.0.1:0",
                           "--no-oscquery", "--no-midi"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env})


def test_without_a_sound_player_speech_says_so_once_and_the_text_plays_on(tmp_path):
    require("espeak-ng")
    result = _play_speaking(tmp_path, {"PATH": str(tmp_path)})  # no aplay, paplay or pw-play to be found
    assert result.returncode == 0, result.stderr
    said = [line for line in result.stderr.splitlines() if "speech" in line or "aplay" in line]
    assert len(said) == 1 and "no sound player found" in said[0], result.stderr
    assert len(result.stdout) >= 400


def test_without_a_sound_card_speech_says_so_once_and_the_text_plays_on(tmp_path):
    require("espeak-ng"), require("aplay")
    if subprocess.run(["aplay", "-l"], capture_output=True).returncode == 0 and "card" in \
            subprocess.run(["aplay", "-l"], capture_output=True, text=True).stdout:
        pytest.skip("this machine has a sound card")
    result = _play_speaking(tmp_path, {})
    assert result.returncode == 0, result.stderr
    said = [line for line in result.stderr.splitlines() if "speech" in line or "ALSA" in line or "aplay" in line]
    assert len(said) == 1 and "no sound output (aplay: " in said[0], result.stderr
    assert len(result.stdout) >= 400


def test_the_voice_lives_in_a_process_of_its_own(tmp_path):
    """pyttsx3 is created and used on that process's main thread (macOS and Windows need it)."""
    require("espeak-ng")
    from instrument.outputs.voice import VoiceProcess

    voice = VoiceProcess(tmp_path / "out.wav")
    try:
        seconds = voice.speak("In the beginning", 170, 1.0, "")
        assert 0.3 < seconds < 5 and voice.proc.pid != __import__("os").getpid()
    finally:
        voice.close()
    assert "pyttsx3" not in sys.modules  # never imported here: only the voice's process has it
    with wave.open(str(tmp_path / "out.wav")) as w:
        assert abs(w.getnframes() / w.getframerate() - seconds) < 0.01


EARLY_RETURN = """
import sys
from pathlib import Path
from instrument.outputs.voice import ChildVoice, VoiceError

class ReturnsEarly:
    # the real pyttsx3 engine, except that its first `bad` runAndWait leave phrase.wav empty, as
    # pyttsx3's espeak driver does when its stop() cancels the new utterance (issue #219)
    def __init__(self, engine, bad):
        self.engine, self.bad, self.file = engine, bad, None
    def save_to_file(self, text, path):
        self.file = path
        self.engine.save_to_file(text, path)
    def runAndWait(self):
        self.engine.runAndWait()
        if self.bad:
            self.bad -= 1
            open(self.file, "wb").close()

voice = ChildVoice(Path(sys.argv[1]))
voice.engine = ReturnsEarly(voice.engine, int(sys.argv[2]))
try:
    print("seconds", voice.say("In the beginning was the word"))
except VoiceError as e:
    print("error", e)
voice.close()
"""


@pytest.mark.parametrize("bad, says", [(2, "seconds"), (3, "error")])
def test_a_phrase_the_driver_left_empty_is_rendered_again(tmp_path, bad, says):
    require("espeak-ng")
    out = tmp_path / "out.wav"
    result = subprocess.run([sys.executable, "-c", EARLY_RETURN, str(out), str(bad)], capture_output=True,
                            text=True, timeout=60)
    said = [line for line in result.stdout.splitlines() if line.startswith(("seconds", "error"))]
    assert said and said[0].startswith(says), result.stdout + result.stderr
    if says == "seconds":  # the third try wrote the phrase, and it is in the piece's WAV
        assert 0.5 < float(said[0].split()[1]) < 5
        with wave.open(str(out)) as w:
            assert w.getnframes() > 0.5 * w.getframerate()
    else:
        assert "wrote no sound in 3 tries" in said[0]


def test_an_aiff_phrase_is_read_as_aiff(tmp_path):
    """macOS's driver writes AIFF whatever the file's name; the voice appends it to the WAV."""
    sox = require("sox")
    for kind in ("aiff", "wav"):
        subprocess.run([sox, "-n", "-r", "22050", "-b", "16", "-c", "1", str(tmp_path / f"tone.{kind}"), "synth", "0.5",
                        "sine", "440"], check=True)
    from instrument.outputs.audio import read_pcm

    (aiff, a), (wav, b) = read_pcm(tmp_path / "tone.aiff"), read_pcm(tmp_path / "tone.wav")
    assert aiff == wav and len(a) == len(b) == 2 * 11025
    diff = np.frombuffer(a, np.int16).astype(int) - np.frombuffer(b, np.int16)
    assert np.abs(diff).max() <= 2  # the same tone, within sox's dither


class TimedVoice(FakeVoice):
    """Notes when each phrase began."""

    def __init__(self):
        super().__init__(0.0)
        self.starts: list[float] = []

    def speak(self, text, rate, volume, voice, pitch=50):
        self.starts.append(time.monotonic())
        super().speak(text, rate, volume, voice)


def test_on_the_beat_each_phrase_waits_for_the_next_beat():
    beat, t0 = 0.25, time.monotonic()
    feed = Feed("recite", TimedVoice())
    feed.speech.beats = lambda: beat - (time.monotonic() - t0) % beat
    feed.speech.params.set("/speech/on_beat", True)
    for phrase in ("one.\n", "two.\n", "three.\n"):
        feed.write(phrase)
        time.sleep(0.1)
    assert wait_for(lambda: len(feed.voice.starts) == 3)
    feed.end()
    offsets = [((s - t0) % beat) for s in feed.voice.starts]
    assert all(min(o, beat - o) < 0.03 for o in offsets), offsets  # each within 30 ms of a beat


def test_without_a_beat_to_follow_on_the_beat_does_not_wait():
    feed = Feed("recite", TimedVoice())
    feed.speech.params.set("/speech/on_beat", True)
    started = time.monotonic()
    feed.write("one.\n")
    assert wait_for(lambda: feed.voice.starts)
    feed.end()
    assert feed.voice.starts[0] - started < 0.5
