"""The panel's side of OSC: it subscribes to the engine, keeps the latest of everything it hears in
one place, and sends what the performer does. The engine may be on another machine."""
from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from itertools import islice

import numpy as np

from ..base.oscwire import OscDecodeError, decode, message

TEXT_KEEP = 4000
HEARTBEAT = 1.0    # s between the client's "are you there" (/mix, which any engine answers)
LOST_AFTER = 3.0   # s of silence before the engine counts as lost
RENEW = 20.0       # s between subscriptions renewed, so an engine that forgets subscribers keeps this one


@dataclass
class DistFrame:
    """The latest distributions: rho first, then each active style."""

    names: list[str]
    rows: np.ndarray          # (1 + active, 128), 0..1 scaled to each row's peak
    entropy: list[float]
    step: int = -1
    char: str = ""
    lead: str = ""
    pi: list[float] = field(default_factory=list)


class EngineClient:
    """OSC to and from one engine. All state is read by the panel's drawing loop."""

    def __init__(self, engine: tuple[str, int], listen_host: str = "127.0.0.1"):
        self.engine = engine
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.sock.bind((listen_host, 0))
        self.sock.settimeout(0.2)
        self.lock = threading.Lock()
        self.tree: list[dict] | None = None
        self.values: dict[str, object] = {}
        self.bindings: list[dict] = []
        self.presets: list[str] = []
        self.frame: DistFrame | None = None
        self.text: deque[tuple[str, str]] = deque(maxlen=TEXT_KEEP)  # (char, lead style)
        self.text_total = 0  # characters heard in all; `text` keeps the last TEXT_KEEP of them
        self.learning: str | None = None
        self.notes: deque[str] = deque(maxlen=5)
        self.heard = 0
        self._pending_lead = ""
        self._running = True
        self.last_heard = time.monotonic()
        self.lost = False  # nothing heard from the engine for LOST_AFTER seconds
        self._thread = threading.Thread(target=self._listen, name="panel-osc", daemon=True)
        self._thread.start()
        threading.Thread(target=self._heartbeat, name="panel-heartbeat", daemon=True).start()

    # --- sending -------------------------------------------------------------------------------
    def send(self, address: str, *args) -> None:
        try:
            self.sock.sendto(message(address, *args), self.engine)
        except OSError:
            pass  # the engine is away: the panel keeps drawing and retries with the next move

    def send_to(self, target: tuple[str, int], address: str, *args) -> None:
        """A message to another program (Wekinator), from the same socket."""
        try:
            self.sock.sendto(message(address, *args), target)
        except OSError:
            pass

    def hello(self) -> None:
        """Subscribe and ask for everything the panel draws."""
        port = self.sock.getsockname()[1]
        self.send("/subscribe", port)
        for address in ("/describe", "/mapping", "/preset/list"):
            self.send(address)

    def wait_for_tree(self, timeout: float = 5.0, stop: threading.Event | None = None) -> bool:
        """Whether the engine's tree arrived within timeout (False at once when stop is set)."""
        stop = stop or threading.Event()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not stop.is_set():
            if self.tree is not None:
                return True
            self.hello()
            stop.wait(0.25)
        return self.tree is not None and not stop.is_set()

    # --- hearing -------------------------------------------------------------------------------
    def _listen(self) -> None:
        while self._running:
            try:
                data, _ = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            self.last_heard = time.monotonic()
            if self.lost:  # it is back (perhaps a new engine, which knows nothing of this panel)
                self.lost = False
                self.hello()
            try:
                messages = decode(data)
            except OscDecodeError:
                continue
            with self.lock:
                self.heard += 1
                for address, args in messages:
                    self._on(address, args)

    def _heartbeat(self) -> None:
        """Ask the engine something small every HEARTBEAT seconds; silence for LOST_AFTER means it
        is gone (it quit, crashed, or the network dropped), and the panel says so; once it answers
        again, the panel subscribes again. The subscription is renewed every RENEW seconds."""
        renewed = time.monotonic()
        while self._running:
            time.sleep(HEARTBEAT)
            self.send("/mix")
            now = time.monotonic()
            if now - self.last_heard > LOST_AFTER:
                self.lost = True
            elif now - renewed > RENEW:
                self.send("/subscribe", self.sock.getsockname()[1])
                renewed = now

    def _on(self, address: str, args: list) -> None:
        if address == "/text/char" and args:
            self.text.append((str(args[0]), self._pending_lead))
            self.text_total += 1
        elif address == "/frame" and len(args) >= 3:
            self._pending_lead = str(args[2])
            pi = [float(a) for a in args[3:]]
            if self.frame is not None:
                self.frame.step, self.frame.char, self.frame.lead, self.frame.pi = int(args[0]), str(args[1]), str(args[2]), pi
        elif address == "/frame/dist" and len(args) >= 2:
            names = [n for n in str(args[0]).split(",") if n]
            rows = np.frombuffer(args[1], dtype=np.uint8).reshape(-1, 128).astype(np.float32) / 255.0
            old = self.frame
            self.frame = DistFrame(names, rows, [float(a) for a in args[2:]])
            if old is not None:
                self.frame.step, self.frame.char, self.frame.lead, self.frame.pi = old.step, old.char, old.lead, old.pi
        elif address == "/describe" and args:
            self.tree = json.loads(args[0])
            self.values.update({e["address"]: e["value"] for e in self.tree})
        elif address == "/mapping" and args:
            self.bindings = json.loads(args[0])
        elif address == "/preset/list":
            self.presets = [str(a) for a in args]
        elif address == "/learned" and len(args) >= 4:
            self.learning = None
            self.notes.append(f"{args[1]} {args[3]} on channel {args[2]} now plays {args[0]}")
            self.send("/mapping")
        elif address == "/learn/timeout":
            self.learning = None
            self.notes.append(f"learn for {args[0] if args else '?'} timed out")
        elif address == "/subscribe/token" and len(args) >= 2:  # from another machine: prove we hear it
            self.send("/subscribe", args[0], args[1])
        elif address == "/preset/saved":
            self.send("/preset/list")
        elif address.startswith("/") and args and self.tree is not None and any(e["address"] == address for e in self.tree):
            value = args[0]
            kind = next(e["kind"] for e in self.tree if e["address"] == address)
            self.values[address] = bool(value >= 0.5) if kind == "bool" and isinstance(value, float) else value

    def text_after(self, seen: int) -> list[tuple[str, str]]:
        """The (char, lead) heard after the first `seen` characters, as many of them as are kept."""
        new = min(self.text_total - seen, len(self.text))
        return list(islice(self.text, len(self.text) - new, None)) if new > 0 else []

    def binding_for(self, address: str) -> str:
        """'CC 7' / 'note 36' for the first control bound to address, else ''."""
        for b in self.bindings:
            if b.get("target") == address:
                if "cc" in b:
                    return f"CC {b['cc']}"
                if "cc14" in b:
                    return f"CC {b['cc14']}/{b['cc14'] + 32}"
                return f"note {b.get('note')}"
        return ""

    def close(self) -> None:
        self._running = False
        self.send("/unsubscribe", self.sock.getsockname()[1])
        self.sock.close()
