"""OSC under load. The engine runs as its own process at full speed, sending every frame
(--frame-rate 100000) to this one.
- Latency from an OSC /mix message sent to the first character sampled under the new weights,
  p50/p99, quiet and under a flood of 5,000 messages/s of other moves sent by another process
  (target p99 <= one step + 2 ms).
- The engine's chars/s (counted from its printed text) quiet and under a flood of 100,000 malformed
  and random packets, in alternating windows (target: within 10%).

    .venv/bin/python bench/osc.py [--models a,b,...] [--trials 200]
"""
from __future__ import annotations

import argparse
import multiprocessing
import socket
import statistics
import subprocess
import sys
import threading
import time

import numpy as np

from instrument.app.library import installed_names
from instrument.base.oscwire import OscDecodeError, decode, message


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FrameWatcher(threading.Thread):
    """Receives /frame messages; records (arrival time, pi) and counts frames."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind(("127.0.0.1", port))
        self.frames: list[tuple[float, tuple]] = []
        self.lock = threading.Lock()
        self.running = True

    def run(self) -> None:
        while self.running:
            data, _ = self.sock.recvfrom(65536)
            now = time.perf_counter()
            try:
                messages = decode(data)
            except OscDecodeError:
                continue
            for address, args in messages:
                if address == "/frame":
                    with self.lock:
                        self.frames.append((now, tuple(args[3:])))


def measure(watcher: FrameWatcher, target: tuple, index: int, trials: int, flood: bool) -> tuple[list[float], float]:
    """Send /mix/<model> with a new value, wait for the first frame that carries it. Returns the
    latencies and the mean step (s) of the engine meanwhile, under the same load."""
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    stop = multiprocessing.Event()
    if flood:  # from a process of its own, as a second controller would send it
        multiprocessing.Process(target=flood_sender, args=(target, stop), daemon=True).start()
    latencies = []
    names_addr = watcher.names[index]
    time.sleep(0.5)  # let the flood settle in
    frames_before, started = len(watcher.frames), time.perf_counter()
    for k in range(trials):
        value = 0.5 + 0.25 * (k % 2)  # alternate 0.5 / 0.75 (exact in float32)
        time.sleep(0.02 + np.random.default_rng(k).random() * 0.02)
        with watcher.lock:
            start_at = len(watcher.frames)
        t0 = time.perf_counter()
        sender.sendto(message(f"/mix/{names_addr}", value), target)
        deadline = t0 + 2.0
        while time.perf_counter() < deadline:
            with watcher.lock:
                hit = next((t for t, pi in watcher.frames[start_at:] if abs(pi[index] - value) < 1e-6), None)
            if hit is not None:
                latencies.append(hit - t0)
                break
            time.sleep(0.0002)
    step = (time.perf_counter() - started) / (len(watcher.frames) - frames_before)
    stop.set()
    return latencies, step


def flood_sender(target: tuple, stop, per_second: int = 5000) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t0, n = time.perf_counter(), 0
    while not stop.is_set():
        sock.sendto(message("/temperature", 0.7 + 0.1 * (n % 3)), target)
        n += 1
        delay = t0 + n / per_second - time.perf_counter()
        if delay > 0:
            time.sleep(delay)


def chars_while(printed: list, seconds: float, load) -> tuple[int, float]:
    """(characters printed, seconds) while `load` runs, or for `seconds` if that is longer."""
    start, t0 = printed[0], time.perf_counter()
    load()
    remaining = seconds - (time.perf_counter() - t0)
    if remaining > 0:
        time.sleep(remaining)
    return printed[0] - start, time.perf_counter() - t0


def junk_ratio(printed: list, target: tuple, packets: int, rounds: int = 4) -> tuple[float, float]:
    """chars/s quiet and under junk, in alternating windows (quiet, junk, quiet, junk...), so that
    a drift of the machine's speed during the run falls on both alike."""
    quiet, junk = [0, 0.0], [0, 0.0]
    for _ in range(rounds):
        for tally, load in ((quiet, lambda: None), (junk, lambda: junk_flood(target, packets // rounds))):
            chars, seconds = chars_while(printed, 2.5, load)
            tally[0] += chars
            tally[1] += seconds
    return quiet[0] / quiet[1], junk[0] / junk[1]


def junk_flood(target: tuple, n: int) -> None:
    """n packets of random bytes and broken messages, as fast as they go."""
    import random
    import struct

    rng = random.Random(1)
    good = message("/mix/x", 0.5)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(n):
        kind = i % 4
        if kind == 0:
            packet = rng.randbytes(rng.randrange(1, 300))
        elif kind == 1:
            packet = good[: rng.randrange(1, len(good))]
        elif kind == 2:
            packet = message("/" + rng.randbytes(4).hex(), rng.random())
        else:
            packet = b"#bundle\0" + struct.pack(">Q", 1) + struct.pack(">i", 9999) + good
        sock.sendto(packet, target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", help="styles to load (default: all installed)")
    parser.add_argument("--trials", type=int, default=200)
    args = parser.parse_args()
    names = args.models.split(",") if args.models else installed_names()
    osc_port, frame_port = free_port(), free_port()
    watcher = FrameWatcher(frame_port)
    watcher.names = names
    watcher.start()
    mix = ",".join(f"{n}=0.5" for n in names)
    engine = subprocess.Popen([sys.executable, "-m", "instrument", "play", "--models", ",".join(names), "--mix", mix,
                               "--rate", "0", "--osc-listen", f"127.0.0.1:{osc_port}", "--osc-out",
                               f"127.0.0.1:{frame_port}", "--frame-rate", "100000", "--no-oscquery", "--no-midi"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    printed = [0]
    threading.Thread(target=lambda: [printed.__setitem__(0, printed[0] + len(c))
                                     for c in iter(lambda: engine.stdout.read1(65536), b"")], daemon=True).start()
    try:
        while len(watcher.frames) < 200:
            time.sleep(0.05)
        print(f"# OSC latency\n\n{len(names)} styles, engine at full speed; one step is the engine's mean "
              f"step while the trials ran, under the same load\n")
        print("| load | trials | one step ms | p50 ms | p99 ms | p99 - one step |\n|---|---:|---:|---:|---:|---:|")
        for label, flood in (("quiet", False), ("flood of 5,000 msg/s", True)):
            lat, step = measure(watcher, ("127.0.0.1", osc_port), 0, args.trials, flood)
            p50, p99, step_ms = 1e3 * statistics.median(lat), 1e3 * float(np.percentile(lat, 99)), 1e3 * step
            print(f"| {label} | {len(lat)} | {step_ms:.2f} | {p50:.2f} | {p99:.2f} | {p99 - step_ms:+.2f} |",
                  flush=True)
        quiet, junk = junk_ratio(printed, ("127.0.0.1", osc_port), 100_000)
        print(f"\nengine chars/s quiet {quiet:.0f}, under 100,000 malformed packets {junk:.0f} "
              f"(ratio {junk / quiet:.3f}; four alternating windows of each, 10 s in all)")
    finally:
        watcher.running = False
        engine.terminate()
        engine.wait()


if __name__ == "__main__":
    main()
