"""The panel's cost, in one run: the engine's chars/s with and without a panel attached (the engine
unpaced in its own process, its rate counted from the text it prints: a pipe never drops, where a
busy UDP receiver would), and the panel's frame rate under Xvfb, beside an unpaced engine and beside
one paced at a performance rate (40 chars/s).

    .venv/bin/python bench/panel.py [--models a,b] [--seconds 10] [--rounds 3]
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import threading
import time

from instrument.library import installed_names


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


def measure(names: list[str], seconds: float, rate: float, rounds: int) -> tuple[float, float, float]:
    """(engine chars/s alone, with the panel attached, the panel's frames/s): `rounds` windows of
    each, alternated (alone, attached, alone, ...), since the machine's speed drifts by more than
    the effect sought; the panel is started for each attached window and ends after it."""
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
        return sum(alone) / rounds, sum(attached) / rounds, sum(fps) / rounds
    finally:
        engine.terminate()
        engine.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", help="styles to load (default: all installed)")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3, help="alternated windows alone / attached")
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
        _, _, fps_paced = measure(names, args.seconds, 40, 1)
    finally:
        if xvfb:
            xvfb.terminate()
    print(f"# panel benchmark\n\n{len(names)} styles, engine unpaced, {args.rounds} alternated windows of "
          f"{args.seconds:g} s alone and attached; means\n")
    print("| | engine chars/s | ratio |\n|---|---:|---:|")
    print(f"| no panel | {alone:.0f} | 1.00 |\n| panel attached | {attached:.0f} | {attached / alone:.2f} |")
    print(f"\npanel under Xvfb (software OpenGL): {fps_flat:.0f} frames/s beside the unpaced engine, "
          f"{fps_paced:.0f} frames/s beside an engine at 40 chars/s, which has 40 new characters a second "
          f"to show (the panel draws a frame when something changed; target 60)")


if __name__ == "__main__":
    main()
