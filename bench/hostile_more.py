"""The second round's attack classes for bench/hostile.py (issue 28), and what is measured in each
window besides the text's rate: the engine's CPU per datagram, its threads, the lines it writes
to the console, and whether a panel on this machine can still subscribe.

Each class is a burst function (one burst of packets or frames; it returns how many datagrams it
sent, for the CPU per datagram) and a hold function (what is held open for the whole window, e.g.
slow HTTP connections; closed after it)."""
from __future__ import annotations

import base64
import os
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from instrument.base.oscwire import bundle, decode, message


@dataclass
class Attack:
    burst: Callable[[], int]
    hold: Callable[[], list] = field(default=lambda: [])


def second_round(engine: tuple[str, int], outside: str) -> dict[str, Attack]:
    """class -> Attack, every packet from `outside` (an allowed sender, "from the network")."""
    host, port = engine
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((outside, 0))
    sock.setblocking(False)
    patterns = bundle([message("/mix/*", 0.5)] * 3249)  # 65 KB, 55,000 targets at 17 styles
    learns = [message("/learn", f"/mix/{'x' * (i % 40)}{i}") for i in range(200)]
    counter = {"port": 20000}

    def send(dgram: bytes) -> int:
        try:
            sock.sendto(dgram, engine)
            return 1
        except OSError:
            return 0

    def bundles() -> int:
        return send(patterns)

    def learn() -> int:
        return sum(send(d) for d in learns)

    def subscriptions() -> int:
        sent = 0
        for _ in range(50):  # a sender pointing the stream at ports of its own, as many as it can
            counter["port"] = 20000 + (counter["port"] - 19999) % 40000
            sent += send(message("/subscribe", counter["port"]))
        return sent

    def noisy() -> int:  # each refused and logged: the console's lines
        return sum(send(message(f"/no/such/address/{i}", 1.0)) + send(message("/rate", "x" * 100))
                   for i in range(50))

    def slow_http() -> list:
        """Connections that send a request a byte at a time and never finish it (slowloris)."""
        held = []
        for _ in range(60):
            try:
                s = socket.create_connection((host, port), timeout=1, source_address=(outside, 0))
                s.sendall(b"GET /")
                held.append(s)
            except OSError:
                break
        return held

    def trickle() -> int:
        return 0

    def websocket_frames() -> list:
        """One WebSocket client on OSCQuery sending 16 KB masked frames as fast as the server reads."""
        s = _websocket(host, port, outside)
        if s is None:
            return []
        stop = threading.Event()

        def pour() -> None:
            frame = _masked_frame(os.urandom(16384))
            while not stop.is_set():
                try:
                    s.sendall(frame)
                except OSError:
                    return

        threading.Thread(target=pour, daemon=True).start()
        return [_Closer(s, stop)]

    return {"bundles": Attack(bundles), "learns": Attack(learn), "subscriptions": Attack(subscriptions),
            "console": Attack(noisy), "slowloris": Attack(trickle, slow_http),
            "websocket": Attack(trickle, websocket_frames)}


class _Closer:
    def __init__(self, sock: socket.socket, stop: threading.Event):
        self.sock, self.stop = sock, stop

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


def _websocket(host: str, port: int, outside: str) -> socket.socket | None:
    key = base64.b64encode(os.urandom(16)).decode()
    try:
        s = socket.create_connection((host, port), timeout=2, source_address=(outside, 0))
        s.sendall(f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
        answer = s.recv(4096)
    except OSError:
        return None
    return s if answer.startswith(b"HTTP/1.1 101") else None


def _masked_frame(payload: bytes) -> bytes:
    mask = os.urandom(4)
    head = struct.pack("!BBH", 0x82, 0x80 | 126, len(payload)) + mask
    return head + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


# --- what each window measures --------------------------------------------------------------------
def thread_cpu(pid: int) -> dict[int, float]:
    """Each thread's user + system CPU time so far, by thread id."""
    tick, out = os.sysconf("SC_CLK_TCK"), {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # a thread that ended
        out[int(task.name)] = (int(fields[11]) + int(fields[12])) / tick
    return out


def busiest_extra(before: dict, quiet: dict, attack: dict, quiet_s: float, attack_s: float) -> float:
    """CPU seconds the attack added to the thread it loaded most (the thread that reads the
    attacker's packets: the OSC thread for datagrams): its time under attack less what its quiet
    rate would have spent. Measured per thread because the engine's own thread, busy playing,
    spends less when the attack slows it, which hides the attack's cost in the process's total."""
    def extra(tid: int) -> float:
        quiet_rate = (quiet.get(tid, 0.0) - before.get(tid, 0.0)) / quiet_s
        return attack.get(tid, 0.0) - quiet.get(tid, 0.0) - quiet_rate * attack_s
    return max((extra(t) for t in attack), default=0.0)


def threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0


class Peak:
    """The most threads the process had, sampled every 20 ms while running."""

    def __init__(self, pid: int):
        self.pid, self.most, self._stop = pid, 0, threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            try:
                self.most = max(self.most, threads(self.pid))
            except OSError:
                return

    def stop(self) -> int:
        self._stop.set()
        return self.most


class Lines:
    """Counts the lines the engine writes to stderr (its console's log lines), as they come."""

    def __init__(self, stream):
        self.count, self.text = 0, []
        threading.Thread(target=self._run, args=(stream,), daemon=True).start()

    def _run(self, stream) -> None:
        for line in stream:
            self.count += 1
            if len(self.text) < 5000:
                self.text.append(line)


def panel_subscribes(port: int, wait: float = 2.0) -> float | None:
    """A panel on this machine subscribing now, asking again every 0.25 s as the panel does: seconds
    until the engine answers it (its /subscribed, or the text itself), or None. (Text alone is no
    test: an allowed attacker may have paused it.) A datagram can be lost when a flood fills the
    socket's queue; the panel's repeated asking is what gets it in."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(0.1)
        began, asked = time.monotonic(), 0.0
        while time.monotonic() - began < wait:
            if time.monotonic() - asked >= 0.25:  # as the panel asks, until it hears (gui/client.py)
                s.sendto(message("/subscribe", s.getsockname()[1]), ("127.0.0.1", port))
                asked = time.monotonic()
            try:
                data = s.recv(65536)
            except socket.timeout:
                continue
            if any(a.startswith(("/text", "/subscribed", "/frame")) for a, _ in decode(data)):
                s.sendto(message("/unsubscribe", s.getsockname()[1]), ("127.0.0.1", port))
                return time.monotonic() - began
    return None
