"""The panel's cost, in one run: the engine's chars/s with and without a panel attached (the engine
unpaced in its own process, its rate counted from the text it prints: a pipe never drops, where a
busy UDP receiver would), and the panel's frame rate under Xvfb, beside an unpaced engine and beside
one paced at a performance rate (--paced-rate, default 60 chars/s: a new character every frame).

    .venv/bin/python bench/panel.py [--models a,b] [--seconds 6] [--rounds 5] [--paced-rate 60]
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import threading
import time
from statistics import mean, median

from instrument.app.library import installed_names


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CharCounter(threading.Thread):
    """Counts the characters the engine prints."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream, self.count = stream, 0

    def run(self) -> None:
        for chunk in iter(lambda: self.stream.read1(65536), b""):
            self.count += len(chunk)

    def rate(self, seconds: float) -> float:
        start = self.count
        time.sleep(seconds)
        return (self.count - start) / seconds


def measure(names: list[str], seconds: float, rate: float, rounds: int) -> tuple[list, list, list]:
    """(engine chars/s alone, with the panel attached, the panel's frames/s), one of each per
    round: windows alternated (alone, attached, alone, ...), since the machine's speed drifts by
    more than the effect sought; the panel is started for each attached window and ends after it."""
    osc = free_port()
    engine = subprocess.Popen([sys.executable, "-m", "instrument", "play", "--models", ",".join(names),
                               "--rate", str(rate), "--mix", ",".join(f"{n}=0.5" for n in names),
                               "--osc-listen", f"127.0.0.1:{osc}", "--no-oscquery", "--no-midi"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    counter = CharCounter(engine.stdout)
    counter.start()
    try:
        while counter.count < min(500, 10 * rate or 500):
            time.sleep(0.1)
        alone, attached, fps = [], [], []
        for _ in range(rounds):
            alone.append(counter.rate(seconds))
            # the panel as a performer runs it: `instrument panel`, its own (niced) process
            panel = subprocess.Popen([sys.executable, "-m", "instrument", "panel", "--engine", f"127.0.0.1:{osc}",
                                      "--seconds", str(seconds + 2.5), "--report-fps"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            time.sleep(2)
            attached.append(counter.rate(seconds))
            out, _ = panel.communicate(timeout=60)
            fps.append(float(out.split()[-1]))
        return alone, attached, fps
    finally:
        engine.terminate()
        engine.wait()


def gl_renderer() -> str:
    """The OpenGL renderer the panel gets on this display, from glxinfo (mesa-utils) if present."""
    try:
        out = subprocess.run(["glxinfo", "-B"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "unknown (no glxinfo)"
    return next((line.split(":", 1)[1].strip() for line in out.splitlines() if "renderer string" in line), "unknown")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", help="styles to load (default: all installed)")
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--rounds", type=int, default=5, help="alternated windows alone / attached")
    parser.add_argument("--paced-rate", type=float, default=60.0, help="chars/s of the paced engine")
    args = parser.parse_args()
    xvfb = None
    if not os.environ.get("DISPLAY"):
        xvfb = subprocess.Popen(["Xvfb", ":96", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.environ["DISPLAY"] = ":96"
        time.sleep(1)
    names = args.models.split(",") if args.models else installed_names()
    try:
        alone, attached, fps_flat = measure(names, args.seconds, 0, args.rounds)
        _, _, fps_paced = measure(names, args.seconds, args.paced_rate, 1)
        renderer = gl_renderer()
    finally:
        if xvfb:
            xvfb.terminate()
    ratios = [b / a for a, b in zip(alone, attached)]
    print(f"# panel benchmark\n\n{len(names)} styles, engine unpaced, {args.rounds} alternated windows of "
          f"{args.seconds:g} s alone and attached; OpenGL renderer: {renderer}\n")
    print("| | engine chars/s, mean | ratio of means | median of the rounds' ratios |\n|---|---:|---:|---:|")
    print(f"| no panel | {mean(alone):.0f} | 1.00 | |")
    print(f"| panel attached | {mean(attached):.0f} | {mean(attached) / mean(alone):.2f} | {median(ratios):.2f} |")
    print("\nrounds (alone -> attached): " + ", ".join(f"{a:.0f} -> {b:.0f}" for a, b in zip(alone, attached)))
    print(f"\npanel: {mean(fps_flat):.0f} frames/s beside the unpaced engine (rounds: "
          f"{', '.join(f'{f:.0f}' for f in fps_flat)}), {fps_paced[0]:.0f} frames/s beside an engine at "
          f"{args.paced_rate:g} chars/s (the panel draws a frame when something changed, at most 60 a second; target 60)")


if __name__ == "__main__":
    main()
