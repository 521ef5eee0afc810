"""The voice: pyttsx3 in a process of its own, created and used on that process's main thread.

Why a process: pyttsx3's macOS driver (NSSpeechSynthesizer through PyObjC) runs an event loop
that hangs when it is not on the main thread, and the main thread of the instrument belongs to
the console or the projection window; its Windows driver (SAPI 5 through comtypes) needs COM
initialised on the thread that uses it, which comtypes does for the thread that imports it. In
its own process both hold, and synthesis also no longer takes the engine's GIL.

The parent sends one JSON line per phrase on the child's stdin and reads one JSON line back:
    {"say": TEXT, "rate": WPM, "volume": 0-1, "voice": "...", "pitch": 0-100}
        -> {"seconds": S or null} or {"error": "..."}
    {"warm": "piper", "rate": WPM} -> {"seconds": null} once the neural voice is loaded at that pace
While a phrase plays through a player, the child also writes {"word": I} as word I begins (its
onset estimated from the audio's length, in proportion to the characters before it), for the
projection's caption of the word being spoken.
The first line the child writes says whether it could start: {"ready": true} or {"error": ...}.
The voice "piper" is the neural voice (neural.py), rendered by piper's own processes and played
as any rendered phrase is.

Cut (/speech/stop): the parent kills the child's whole process group, player included, so the
sound stops at once, wherever the child was; the next phrase starts a new child. A piper process
reading from the child ends when its input closes.

Sound: on Linux pyttsx3's espeak driver plays through `aplay` with os.system, which prints an error
line after every phrase when aplay or the sound card is missing. The voice renders each phrase to
a WAV file instead and plays it with the first of aplay, paplay, pw-play it finds, after checking
once at start that it can play at all. On macOS and Windows the driver's own playback is used.
Rendering to a file (--speak-to): every phrase is appended to one WAV file; a driver that writes
AIFF (macOS) is read as AIFF.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

from .audio import AudioFileError, read_pcm
from .players import VoiceError, find_player, onsets, play  # VoiceError here too: where callers find it

START_TIMEOUT = 60.0


class PhraseError(VoiceError):
    """One phrase could not be spoken; the voice itself is alive and may speak the next."""


class VoiceProcess:
    """The parent's handle on the voice process."""

    def __init__(self, wav_path: Path | None = None, niceness: int = 10):
        from ..base.extras import missing

        problem = missing("pyttsx3")
        if problem:
            raise VoiceError(problem)
        args = [sys.executable, "-m", "instrument.outputs.voice", str(niceness)]
        if wav_path is not None:
            args.append(str(Path(wav_path).resolve()))
        own_group = {"start_new_session": True} if os.name == "posix" else {}  # the cut kills the player too
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, bufsize=1, **own_group)
        self.on_word = None  # called with a word's index as it begins to sound
        reply = self._reply()
        if "error" in reply:
            self.close()
            raise VoiceError(reply["error"])

    def _reply(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise VoiceError(f"the voice process ended (exit code {self.proc.poll()})")
        return json.loads(line)

    def speak(self, text: str, rate: float, volume: float, voice: str, pitch: int = 50) -> float | None:
        """Say text; into the WAV file, returns the seconds of audio it made (to the speakers it
        returns None, once the phrase has been heard)."""
        return self._ask({"say": text, "rate": rate, "volume": volume, "voice": voice, "pitch": pitch})

    def warm(self, voice: str, rate: float) -> None:
        """Load a voice that takes a while to load (piper: a second or two) before its first phrase."""
        self._ask({"warm": voice, "rate": rate})

    def _ask(self, message: dict) -> float | None:
        try:
            self.proc.stdin.write(json.dumps(message) + "\n")
        except (BrokenPipeError, OSError):
            raise VoiceError(f"the voice process ended (exit code {self.proc.poll()})") from None
        reply = self._reply()
        while "word" in reply:
            if self.on_word is not None:
                self.on_word(reply["word"])
            reply = self._reply()
        if "error" in reply:
            raise PhraseError(reply["error"])
        if reply.get("warning"):
            import logging

            logging.getLogger("instrument.speech").warning("speech: %s", reply["warning"])
        return reply.get("seconds")

    def cut(self) -> None:
        """Silence now: the process and everything it started (the player) killed. Safe from any
        thread; whoever waits on a reply gets VoiceError."""
        if self.proc.poll() is not None:
            return
        try:
            if os.name == "posix":
                os.killpg(self.proc.pid, signal.SIGKILL)
            else:
                self.proc.kill()
        except (ProcessLookupError, PermissionError):
            pass

    def close(self) -> None:
        """End the process (its WAV file is complete when it has gone)."""
        end_child(self.proc, 10)


def end_child(proc: subprocess.Popen, seconds: float) -> None:
    """End a child that reads its stdin until it closes (the voice, a piper): its input closed,
    `seconds` to finish what it was doing, then killed."""
    if proc.poll() is None:
        try:
            proc.stdin.close()
            proc.wait(seconds)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()


# --- the child ---------------------------------------------------------------------------------
def match_voice(voices, asked: str) -> str | None:
    """The id of the voice asked for: an exact id first (`roa/fr`, not `roa/fr-be`), then the id's
    last part (`fr`), then any id or name containing it (`scotland`)."""
    asked = asked.lower()
    ids = [(v.id, (v.name or "")) for v in voices]
    for test in (lambda i, n: i.lower() == asked, lambda i, n: i.lower().rsplit("/", 1)[-1] == asked,
                 lambda i, n: asked in i.lower() or asked in n.lower()):
        found = next((i for i, n in ids if test(i, n)), None)
        if found:
            return found
    return None


class ChildVoice:
    """pyttsx3 itself, on this process's main thread, and piper's processes when a phrase asks
    for the neural voice."""

    def __init__(self, wav_path: Path | None):
        import pyttsx3

        self.engine = pyttsx3.init()
        self.wav_path = wav_path
        self.tmp = Path(tempfile.mkdtemp(prefix="instrument-voice-"))
        self.player = None
        self.neural = None     # piper's processes, from the first phrase that asks for them
        self._voice = ""
        self._unknown: set[str] = set()
        self._out: wave.Wave_write | None = None
        self._format = None    # the WAV file's PcmParams
        self.on_word = lambda i: None  # the parent is told each word as it begins (serve sets it)
        if wav_path is None and sys.platform.startswith("linux"):
            self.player = self._player()

    @staticmethod
    def _player() -> list[str]:
        player, why = find_player()
        if player is None:
            raise VoiceError(why)
        return player

    def configure(self, rate: float, volume: float, voice: str, pitch: int = 50) -> str:
        """Set rate, volume, pitch and voice; a warning, once per name, when no voice matches."""
        self.engine.setProperty("rate", int(rate))
        self.engine.setProperty("volume", float(volume))
        try:
            self.engine.setProperty("pitch", int(pitch))
        except Exception:  # a driver without pitch (NSSpeechSynthesizer)
            pass
        if voice == self._voice or voice == "piper":
            return ""
        self._voice = voice
        match = match_voice(self.engine.getProperty("voices"), voice) if voice else None
        if voice and match is None:
            if voice in self._unknown:
                return ""
            self._unknown.add(voice)
            return f"no voice matching {voice!r}; keeping the current one"
        if match:
            self.engine.setProperty("voice", match)
        return ""

    def warm(self, voice: str, rate: float) -> None:
        if voice == "piper":
            self._neural().warm(rate)

    def _neural(self):
        if self.neural is None:
            from .neural import NeuralVoice

            self.neural = NeuralVoice()
            if self.wav_path is None and self.player is None:
                self.player = self._player()  # macOS, Windows: piper's files need a player
        return self.neural

    def say(self, text: str, voice: str = "", rate: float = 170.0, volume: float = 1.0) -> float | None:
        if voice == "piper":
            part = self._neural().render(text, rate)
            params, frames = read_pcm(part)
            if volume < 1.0:
                frames = scaled(frames, params.width, volume)
                if self.wav_path is None:
                    _write_wav(part, params, frames)
        elif self.wav_path is None and self.player is None:
            self.engine.say(text)  # macOS, Windows: the driver plays it
            self.engine.runAndWait()
            return None
        else:
            part = self.tmp / "phrase.wav"
            params, frames = self._render(text, part)
        try:
            if self.wav_path is None:
                play(self.player, part, onsets(text, params.seconds(frames)), self.on_word)
                return None
            return self._append(params, frames)
        finally:
            if voice == "piper":
                part.unlink(missing_ok=True)

    RENDER_TRIES = 3

    def _render(self, text: str, part: Path):
        """text as speech into the file part: (its PCM parameters, its frames). pyttsx3 2.99's espeak
        driver begins each runAndWait with stop(): when espeak still reports the last utterance as
        playing, stop() cancels and flags the loop, which then ends as soon as the new utterance
        has begun, before its file is written (pyttsx3 issue #219, "Espeak returns early"). Seen
        twice in clean-clone CI runs here, as an empty phrase.wav, after which the voice fell
        silent for the whole piece. So a phrase that did not come out as sound is rendered again,
        a few times, before giving up."""
        problem: Exception | None = None
        for attempt in range(self.RENDER_TRIES):
            part.unlink(missing_ok=True)
            self.engine.save_to_file(text, str(part))  # one file per runAndWait: with two, only one is written
            self.engine.runAndWait()
            try:
                params, frames = read_pcm(part)
                if frames or not text.strip():
                    return params, frames
                problem = AudioFileError(f"{part}: no sound in it")
            except (OSError, EOFError, wave.Error, AudioFileError) as e:
                problem = e
            time.sleep(0.05 * (attempt + 1))  # let espeak's own thread finish the utterance it cancelled
        raise VoiceError(f"the speech driver wrote no sound in {self.RENDER_TRIES} tries ({problem})")

    def _append(self, params, frames: bytes) -> float:
        """Into the one WAV file; a phrase at another sample rate (piper's against espeak's) is
        resampled to the file's."""
        if self._out is None:
            self._out = wave.open(str(self.wav_path), "wb")
            self._out.setnchannels(params.channels), self._out.setsampwidth(params.width)
            self._out.setframerate(params.rate)
            self._format = params
        file = self._format
        if (params.channels, params.width) != (file.channels, file.width):
            raise PhraseError(f"a phrase of {params.channels} channels at {8 * params.width} bits cannot join "
                              f"a file of {file.channels} at {8 * file.width}")
        if params.rate != file.rate and file.channels == 1:
            frames = resampled(frames, file.width, params.rate, file.rate)
        self._out.writeframes(frames)  # the header is patched each write
        return file.seconds(frames)

    def close(self) -> None:
        if self.neural is not None:
            self.neural.close()
        if self._out is not None:
            self._out.close()


def scaled(frames: bytes, width: int, volume: float) -> bytes:
    """16-bit PCM at a volume (0-1): piper has no volume of its own once loaded."""
    if width != 2 or volume >= 1.0:
        return frames
    import numpy as np

    return (np.frombuffer(frames, "<i2").astype(np.float32) * max(volume, 0.0)).astype("<i2").tobytes()


def resampled(frames: bytes, width: int, rate: int, to: int) -> bytes:
    """16-bit mono PCM at another sample rate, by linear interpolation (the two voices' rates are
    close: espeak-ng's 22,050 Hz, piper's 16,000 or 22,050)."""
    import numpy as np

    if width != 2:
        raise PhraseError(f"cannot resample {8 * width}-bit audio")  # both voices write 16-bit mono
    x = np.frombuffer(frames, "<i2").astype(np.float32)
    n = int(round(len(x) * to / rate))
    return np.interp(np.linspace(0, len(x) - 1, n), np.arange(len(x)), x).astype("<i2").tobytes()


def _write_wav(path: Path, params, frames: bytes) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(params.channels), w.setsampwidth(params.width), w.setframerate(params.rate)
        w.writeframes(frames)


def serve(niceness: int, wav_path: Path | None) -> int:
    """The child's main: answer phrases until stdin closes."""
    replies = os.fdopen(os.dup(1), "w", buffering=1)  # the protocol; fd 1 itself goes quiet, since
    devnull = os.open(os.devnull, os.O_WRONLY)        # the espeak driver prints "Audio saved to ..."
    os.dup2(devnull, 1)
    sys.stdout = open(os.devnull, "w")
    if hasattr(os, "nice"):
        os.nice(niceness)  # synthesis takes what the engine leaves
    send = lambda obj: replies.write(json.dumps(obj) + "\n")
    try:
        voice = ChildVoice(wav_path)
    except Exception as e:  # no espeak-ng, no driver, no sound output
        send({"error": str(e) or type(e).__name__})
        return 1
    send({"ready": True})
    voice.on_word = lambda i: send({"word": i})
    try:
        for line in sys.stdin:
            ask = json.loads(line)
            try:
                if "warm" in ask:
                    voice.warm(ask["warm"], ask["rate"])
                    send({"seconds": None})
                    continue
                warning = voice.configure(ask["rate"], ask["volume"], ask["voice"], ask.get("pitch", 50))
                send({"seconds": voice.say(ask["say"], ask["voice"], ask["rate"], ask["volume"]),
                      "warning": warning})
            except Exception as e:
                send({"error": str(e) or type(e).__name__})
    finally:
        voice.close()
    return 0


if __name__ == "__main__":
    sys.exit(serve(int(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else None))
