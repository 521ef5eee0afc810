"""Playing a rendered phrase on this computer: finding a command that plays a WAV file here (aplay,
paplay or pw-play on Linux, afplay on macOS; Windows' own winsound), playing one to its end, and
when each of its words begins. The voice's child process (outputs/voice.py) uses these."""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

PLAYERS = (("aplay", "-q"), ("paplay",), ("pw-play",))  # Linux, in order of preference


class VoiceError(RuntimeError):
    """The voice cannot speak (no engine, no sound output, the process ended); says why."""


def find_player() -> tuple[list[str] | None, str]:
    """A command that plays a WAV file here and works (checked with a moment of silence), or None
    and why not. On macOS it is afplay; on Windows, where no command plays a file, winsound
    (WINSOUND)."""
    if sys.platform == "win32":
        return [WINSOUND], ""
    players = (("afplay",),) if sys.platform == "darwin" else PLAYERS
    silence = Path(tempfile.mkdtemp(prefix="instrument-voice-")) / "silence.wav"
    with wave.open(str(silence), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(22050)
        w.writeframes(b"\0\0" * 1100)
    reasons = []
    for player in players:
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


WINSOUND = "winsound"


def play(player: list[str], path: Path, onsets: list[float] = (), on_word=None) -> None:
    """Play a WAV file to its end, calling on_word(i) at each word's onset (seconds from the
    start); VoiceError when the sound output fails."""
    if player == [WINSOUND]:
        import winsound  # Windows' own module: plays a WAV file synchronously

        winsound.PlaySound(str(path), winsound.SND_FILENAME)
        return
    proc = subprocess.Popen([*player, str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    started = time.monotonic()
    for i, onset in enumerate(onsets):
        try:
            proc.wait(max(0.0, started + onset - time.monotonic()))
            break  # it ended (or failed) before this word
        except subprocess.TimeoutExpired:
            on_word(i)
    stderr = proc.communicate()[1]
    if proc.returncode != 0:
        raise VoiceError(f"the sound output failed ({player[0]}: {_last_line(stderr, proc.returncode)})")


def onsets(text: str, seconds: float) -> list[float]:
    """When each word of text begins, if the voice spends its time in proportion to characters."""
    words, at, out = text.split(), 0, []
    total = sum(len(w) + 1 for w in words) or 1
    for word in words:
        out.append(seconds * at / total)
        at += len(word) + 1
    return out


def _last_line(stderr: str, code: int) -> str:
    """What a failed player said last (aplay's own summary comes after ALSA's lines)."""
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else f"exit code {code}"
