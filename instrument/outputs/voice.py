"""The voice: pyttsx3 in a process of its own, created and used on that process's main thread.

Why a process: pyttsx3's macOS driver (NSSpeechSynthesizer through PyObjC) runs an event loop
that hangs when it is not on the main thread, and the main thread of the instrument belongs to
the console or the projection window; its Windows driver (SAPI 5 through comtypes) needs COM
initialised on the thread that uses it, which comtypes does for the thread that imports it. In
its own process both hold, and synthesis also no longer takes the engine's GIL.

The parent sends one JSON line per phrase on the child's stdin and reads one JSON line back:
    {"say": TEXT, "rate": WPM, "volume": 0-1, "voice": "..."} -> {"seconds": S or null} or {"error": "..."}
The first line the child writes says whether it could start: {"ready": true} or {"error": ...}.

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
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

from .audio import AudioFileError, read_pcm

PLAYERS = (("aplay", "-q"), ("paplay",), ("pw-play",))  # Linux, in order of preference
START_TIMEOUT = 60.0


class VoiceError(RuntimeError):
    """The voice cannot speak (no engine, no sound output, the process ended); says why."""


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
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, bufsize=1)
        reply = self._reply()
        if "error" in reply:
            self.close()
            raise VoiceError(reply["error"])

    def _reply(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise VoiceError(f"the voice process ended (exit code {self.proc.poll()})")
        return json.loads(line)

    def speak(self, text: str, rate: float, volume: float, voice: str) -> float | None:
        """Say text; into the WAV file, returns the seconds of audio it made (to the speakers it
        returns None, once the phrase has been heard)."""
        try:
            self.proc.stdin.write(json.dumps({"say": text, "rate": rate, "volume": volume, "voice": voice}) + "\n")
        except (BrokenPipeError, OSError):
            raise VoiceError(f"the voice process ended (exit code {self.proc.poll()})") from None
        reply = self._reply()
        if "error" in reply:
            raise PhraseError(reply["error"])
        if reply.get("warning"):
            import logging

            logging.getLogger("instrument.speech").warning("speech: %s", reply["warning"])
        return reply.get("seconds")

    def close(self) -> None:
        """End the process (its WAV file is complete when it has gone)."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


# --- the child ---------------------------------------------------------------------------------
def find_player() -> tuple[list[str] | None, str]:
    """A command that plays a WAV file here and works (checked with a moment of silence), or None
    and why not."""
    if not sys.platform.startswith("linux"):
        return None, ""  # the driver plays by itself
    silence = Path(tempfile.mkdtemp(prefix="instrument-voice-")) / "silence.wav"
    with wave.open(str(silence), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(22050)
        w.writeframes(b"\0\0" * 1100)
    reasons = []
    for player in PLAYERS:
        path = shutil.which(player[0])
        if path is None:
            continue
        result = subprocess.run([path, *player[1:], str(silence)], capture_output=True, text=True, timeout=20)
        if result.returncode == 0:
            return [path, *player[1:]], ""
        said = _last_line(result.stderr, result.returncode)
        reasons.append(said if said.startswith(player[0] + ":") else f"{player[0]}: {said}")
    if not reasons:
        return None, "no sound player found (install alsa-utils for aplay, or pulseaudio-utils for paplay)"
    return None, "no sound output (" + "; ".join(reasons) + ")"


def _last_line(stderr: str, code: int) -> str:
    """What a failed player said last (aplay's own summary comes after ALSA's lines)."""
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else f"exit code {code}"


class ChildVoice:
    """pyttsx3 itself, on this process's main thread."""

    def __init__(self, wav_path: Path | None):
        import pyttsx3

        self.engine = pyttsx3.init()
        self.wav_path = wav_path
        self.tmp = Path(tempfile.mkdtemp(prefix="instrument-voice-"))
        self.player = None
        self._voice = ""
        self._out: wave.Wave_write | None = None
        if wav_path is None and sys.platform.startswith("linux"):
            self.player, why = find_player()
            if self.player is None:
                raise VoiceError(why)

    def configure(self, rate: float, volume: float, voice: str) -> str:
        """Set rate, volume and voice; a warning when no voice matches."""
        self.engine.setProperty("rate", int(rate))
        self.engine.setProperty("volume", float(volume))
        if voice == self._voice:
            return ""
        self._voice = voice
        match = next((v.id for v in self.engine.getProperty("voices")
                      if voice and (voice.lower() in v.id.lower() or voice.lower() in (v.name or "").lower())), None)
        if voice and match is None:
            return f"no voice matching {voice!r}; keeping the current one"
        if match:
            self.engine.setProperty("voice", match)
        return ""

    def say(self, text: str) -> float | None:
        if self.wav_path is None and self.player is None:
            self.engine.say(text)  # macOS, Windows: the driver plays it
            self.engine.runAndWait()
            return None
        part = self.tmp / "phrase.wav"
        params, frames = self._render(text, part)
        if self.wav_path is None:
            result = subprocess.run([*self.player, str(part)], capture_output=True, text=True)
            if result.returncode != 0:
                raise VoiceError(f"the sound output failed ({self.player[0]}: "
                                 f"{_last_line(result.stderr, result.returncode)})")
            return None
        return self._append(params, frames)

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
        if self._out is None:
            self._out = wave.open(str(self.wav_path), "wb")
            self._out.setnchannels(params.channels), self._out.setsampwidth(params.width)
            self._out.setframerate(params.rate)
        self._out.writeframes(frames)  # the header is patched each write
        return len(frames) / (params.channels * params.width * params.rate)

    def close(self) -> None:
        if self._out is not None:
            self._out.close()


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
    try:
        for line in sys.stdin:
            ask = json.loads(line)
            try:
                warning = voice.configure(ask["rate"], ask["volume"], ask["voice"])
                send({"seconds": voice.say(ask["say"]), "warning": warning})
            except Exception as e:
                send({"error": str(e) or type(e).__name__})
    finally:
        voice.close()
    return 0


if __name__ == "__main__":
    sys.exit(serve(int(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else None))
