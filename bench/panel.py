"""The panel's cost: its frame rate under Xvfb, and the engine's chars/s with and without a panel
attached, in one run. The engine runs unpaced in its own process; its rate is counted from the
text it prints (a pipe never drops, where a busy UDP receiver would).

    .venv/bin/python bench/panel.py [--models a,b] [--seconds 10]
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import threading
import time

from instrument.gui.client import EngineClient
from instrument.gui.panel import Panel
from instrument.library import installed_names
from instrument.theme import load_theme


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", help="styles to load (default: all installed)")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    xvfb = None
    if not os.environ.get("DISPLAY"):
        xvfb = subprocess.Popen(["Xvfb", ":96", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.environ["DISPLAY"] = ":96"
        time.sleep(1)
    names = args.models.split(",") if args.models else installed_names()
    osc = free_port()
    engine = subprocess.Popen([sys.executable, "-m", "instrument", "play", "--models", ",".join(names), "--rate", "0",
                               "--mix", ",".join(f"{n}=0.5" for n in names), "--osc-listen", f"127.0.0.1:{osc}",
                               "--no-oscquery", "--no-midi"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    counter = CharCounter(engine.stdout)
    counter.start()
    try:
        while counter.count < 500:
            time.sleep(0.1)
        alone = counter.rate(args.seconds)
        client = EngineClient(("127.0.0.1", osc))
        client.wait_for_tree()
        panel = Panel(client, load_theme())
        result = {}
        threading.Thread(target=lambda: result.update(rate=(time.sleep(2), counter.rate(args.seconds))[1]),
                         daemon=True).start()
        panel.run(args.seconds + 2.5)
        fps = panel.frames_drawn / (args.seconds + 2.5)
        client.close()
    finally:
        engine.terminate()
        engine.wait()
        if xvfb:
            xvfb.terminate()
    print(f"# panel benchmark\n\n{len(names)} styles, engine unpaced, {args.seconds:g} s each\n")
    print("| | engine chars/s | ratio |\n|---|---:|---:|")
    print(f"| no panel | {alone:.0f} | 1.00 |\n| panel attached | {result['rate']:.0f} | {result['rate'] / alone:.2f} |")
    print(f"\npanel: {fps:.0f} frames/s under Xvfb (target 60)")


if __name__ == "__main__":
    main()
