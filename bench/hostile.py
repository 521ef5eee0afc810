"""Hostile values, files and clients against a running engine in its own process, per class:
whether the text kept flowing (chars/s under attack against quiet windows of the same run,
alternated), the engine's peak RSS, its most threads, its CPU per datagram (above its quiet
rate), the lines it logged per second, whether a panel on this machine can subscribe during the
attack, and the amplification factor of every reply the engine sends to a sender that has not
subscribed (bytes back / bytes sent; the target is at most 4). The classes of the second round
(bundles of 3,249 patterns, learn floods, OSCQuery slowloris, WebSocket frames, console floods,
subscription floods) are in bench/hostile_more.py.

    .venv/bin/python bench/hostile.py              # 3 rounds of 4 s windows
    .venv/bin/python bench/hostile.py --quick      # 1 round of 2 s windows

The engine plays two shipped styles at 400 characters a second, listening on every interface
with only this machine's own outside address allowed; the attacks come from that address (so
they are "from the network"), the text is read by a subscriber on loopback. Hostile values are
in range for an allowed sender, which may play the instrument (a rate of 0.05 is slow text):
after each attack window the performer's settings are restored from loopback, and the text
must be back at once ("after it").
"""
from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from instrument.base.oscwire import decode, interface_addresses, message  # noqa: E402
from hostile_more import Attack, Lines, Peak, busiest_extra, panel_subscribes, second_round, thread_cpu  # noqa: E402

RATE = 400


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hostile_files(folder: Path) -> list[str]:
    """Presets and mappings nobody should be able to hurt the engine with; their names."""
    (folder / "presets").mkdir()
    (folder / "mappings").mkdir()
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"l{i}: &l{i} [{', '.join(['*' + ('a' if i == 0 else f'l{i - 1}')] * 10)}]\n" for i in range(8))
    kinds = {"bomb": (bomb + "values: {/mix/bible: *l7}\n").encode(),
             "deep": b"values: " + b"[" * 100_000 + b"]" * 100_000,
             "huge": b"values: {/mix/bible: '" + b"x" * 50_000_000 + b"'}\n",
             "latin": "values: {/mix/bible: 0.5} # caf\xe9\n".encode("latin-1")}
    for name, data in kinds.items():
        (folder / "presets" / f"{name}.yaml").write_bytes(data)
        (folder / "mappings" / f"{name}.yaml").write_bytes(data.replace(b"values:", b"bindings:"))
    os.mkfifo(folder / "presets" / "fifo.yaml")
    os.mkfifo(folder / "mappings" / "fifo.yaml")
    (folder / "presets" / "zero.yaml").symlink_to("/dev/zero")
    (folder / "mappings" / "default.yaml").write_text("bindings: []\n")
    return [*kinds, "fifo", "zero"]


def restore(engine_port: int) -> None:
    """The performer's controls after an attack (from loopback): the sound the piece started with.
    A sender inside --osc-allow may play the instrument (set the rate to 0.05, every fader down):
    what must hold is that nothing it sends stops the engine, so the text comes back at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for address, value in (("/preset/load", "bench-start"), ("/rate", float(RATE)), ("/run", 1.0)):
            s.sendto(message(address, value), ("127.0.0.1", engine_port))


class Listener:
    """A subscriber on loopback counting the characters the engine writes."""

    def __init__(self, engine_port: int):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.chars = 0
        self.running = True
        self.engine = ("127.0.0.1", engine_port)
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        renewed = 0.0
        while self.running:
            if time.monotonic() - renewed > 5:
                self.sock.sendto(message("/subscribe", self.sock.getsockname()[1]), self.engine)
                renewed = time.monotonic()
            try:
                data = self.sock.recv(65536)
            except (socket.timeout, OSError):
                continue
            try:
                self.chars += sum(1 for a, _ in decode(data) if a == "/text/char")
            except Exception:
                pass


def attacks(engine: tuple[str, int], names: list[str], outside: str):
    """class -> a function sending one burst of that class's packets from `outside`."""
    rng = random.Random(1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((outside, 0))
    sock.setblocking(False)
    numbers = [1e-11, 0.0, 1e30, -1e308, float("nan"), float("inf"), 2**31 - 1, 0.05]
    addresses = ["/rate", "/temperature", "/lookahead", "/beams", "/mix/bible", "/mix/*", "/learn", "/morph",
                 "/threshold", "/presence", "/phrase", "/cap", "/min_p", "/mix"]

    def send(dgram: bytes) -> None:
        try:
            sock.sendto(dgram, engine)
        except OSError:
            pass

    def values():
        for _ in range(50):
            address = rng.choice(addresses)
            args = [rng.choice(numbers + ["0.5", "\uff10.\uff17", "x" * 2000]) for _ in range(rng.randrange(0, 3))]
            if address == "/learn":
                args = ["/mix/bible", rng.choice(numbers)]
            send(message(address, *args))

    def files():
        for name in names:
            send(message("/preset/load", name))
            send(message("/mapping/load", name))
        send(message("/mapping/load", "/etc/passwd"))
        send(message("/preset/load", "../../etc/passwd"))

    def clients():
        for _ in range(30):
            kind = rng.randrange(5)
            if kind == 0:
                send(message("/subscribe", rng.randrange(1, 65536)))      # point the stream elsewhere
            elif kind == 1:
                send(message("/subscribe", engine[1]))                    # at the engine itself
            elif kind == 2:
                send(message("/describe"))
            elif kind == 3:
                send(message("/mix/{" + ",".join(["bible"] * 50) + "}*"))  # costly-looking patterns
            else:
                send(message("/" + "*" * 8 + "x" * 200))
    return {"values": values, "files": files, "clients": clients}, sock


def idle_http(host: str, port: int, n: int) -> list[socket.socket]:
    """OSCQuery connections that connect and say nothing (a slow client, or a flood of them)."""
    out = []
    for _ in range(n):
        try:
            out.append(socket.create_connection((host, port), timeout=1))
        except OSError:
            break
    return out


def amplification(engine: tuple[str, int], outside: str) -> dict[str, float]:
    """Bytes back / bytes sent, per request, from a sender that has not subscribed."""
    requests = {"/describe": message("/describe"), "/mix (query)": message("/mix"),
                "/mapping": message("/mapping"), "/preset/list": message("/preset/list"),
                "/temperature (query)": message("/temperature"), "/subscribe": message("/subscribe"),
                "/mix/* (query)": message("/mix/*"), "/nonsense": message("/nonsense", 1.0)}
    out = {}
    for label, dgram in requests.items():
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((outside, 0))
        sock.settimeout(0.5)
        sock.sendto(dgram, engine)
        back, end = 0, time.monotonic() + 0.8
        while time.monotonic() < end:
            try:
                back += len(sock.recv(65536))
            except socket.timeout:
                break
        sock.close()
        out[label] = back / len(dgram)
    return out


def window(attack: Attack, listener: Listener, pid: int, port: int, lines: Lines, seconds: float) -> dict:
    """A quiet window, then one under attack (a panel on this machine subscribing half-way), then
    the performer's settings restored and a second of text after it."""
    c0, cpu0 = listener.chars, thread_cpu(pid)
    time.sleep(seconds)
    quiet, cpu1 = (listener.chars - c0) / seconds, thread_cpu(pid)
    peak, held = Peak(pid), attack.hold()
    c0, l0, sent, began = listener.chars, lines.count, 0, time.monotonic()
    joined = None
    while time.monotonic() - began < seconds:
        sent += attack.burst()
        if joined is None and time.monotonic() - began > seconds / 2:
            joined = panel_subscribes(port) or -1.0
        time.sleep(0.01)
    took = time.monotonic() - began
    loud, said = (listener.chars - c0) / took, lines.count - l0
    cpu = busiest_extra(cpu0, cpu1, thread_cpu(pid), seconds, took)
    most = peak.stop()
    for s in held:
        s.close()
    restore(port)
    time.sleep(0.3)
    c0 = listener.chars
    time.sleep(1.0)
    return {"quiet": quiet, "loud": loud, "ratio": loud / quiet if quiet else float("nan"),
            "after": listener.chars - c0, "threads": most, "lines": said / took,
            "cpu_ms": 1000 * max(0.0, cpu) / sent if sent else float("nan"),
            "panel": None if joined is None or joined < 0 else joined}


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    global RATE
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=4.0, help="length of each quiet and attack window")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rate", type=float, default=RATE, help=f"the engine's /rate (default {RATE}: more than it "
                    "keeps up with on two cores, so every stolen cycle shows; 60 is a performance's rate)")
    ap.add_argument("--log", type=Path, metavar="FILE", help="write the engine's log here")
    args = ap.parse_args()
    RATE = args.rate
    if args.quick:
        args.rounds, args.seconds = 1, 2.0
    outside = next((ip for ip in interface_addresses() if not ip.startswith("127.")), None)
    if outside is None:
        print("this machine has no address but loopback: nothing to attack from")
        return 1
    folder = Path(tempfile.mkdtemp(prefix="instrument-hostile-"))
    names = hostile_files(folder)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "instrument", "play", "--models", "bible,shakespeare",
                             "--mix", "bible=0.5,shakespeare=0.5", "--rate", str(RATE),
                             "--osc-listen", f"0.0.0.0:{port}", "--osc-allow", f"{outside}/32", "--no-midi",
                             "--presets", str(folder / "presets"), "--mapping", str(folder / "mappings" / "default.yaml")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines = Lines(proc.stderr)  # read as they come: a pipe left full would hold the engine's log thread
    try:
        time.sleep(3)
        engine = (outside, port)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(message("/preset/save", "bench-start"), ("127.0.0.1", port))
        listener = Listener(port)
        time.sleep(1)
        burst, sock = attacks(engine, names, outside)
        per_burst = {"values": 50, "files": 2 * len(names) + 2, "clients": 30}  # datagrams each burst sends
        classes = {name: Attack(lambda attack=attack, n=per_burst[name]: attack() or n,
                                (lambda: idle_http(outside, port, 200)) if name == "clients" else (lambda: []))
                   for name, attack in burst.items()}
        classes.update(second_round(engine, outside))
        print(f"# Hostile inputs against a playing engine ({RATE} chars/s, 2 styles), {args.rounds} rounds of "
              f"{args.seconds:g} s windows\n")
        print("| class | chars/s quiet | chars/s under attack | ratio | chars/s after it (restored) | engine peak RSS MB "
              "| threads, most | CPU ms per datagram (its busiest thread) | console lines/s | a panel subscribes (s) |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for name, attack in classes.items():
            rows = [window(attack, listener, proc.pid, port, lines, args.seconds) for _ in range(args.rounds)]
            med = lambda key: statistics.median(r[key] for r in rows)
            joined = [r["panel"] for r in rows]
            panel = "no" if None in joined else f"yes ({max(joined):.2f})"
            print(f"| {name} | {med('quiet'):.0f} | {med('loud'):.0f} | {med('ratio'):.2f} | {med('after'):.0f} | "
                  f"{peak_rss_mb(proc.pid):.0f} | {max(r['threads'] for r in rows)} | {med('cpu_ms'):.3f} | "
                  f"{med('lines'):.1f} | {panel} |", flush=True)
        print("\n| request from a sender that has not subscribed | bytes back / bytes sent |\n|---|---:|")
        for label, factor in amplification(engine, outside).items():
            print(f"| {label} | {factor:.2f} |")
        listener.running = False
        sock.close()
        alive = proc.poll() is None
        print(f"\nengine still playing at the end: {'yes' if alive else 'NO'}")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        time.sleep(0.5)  # the reader takes the last lines
        if args.log:
            args.log.write_text("".join(lines.text))
        print(f"engine log: {lines.count} lines over the whole run (every warning rate-limited)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
