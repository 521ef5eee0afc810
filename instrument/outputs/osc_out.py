"""OSC out: the text (/text/char, /text/word, /text/line), frames at a capped rate, and an echo of
every parameter change, to each target (--osc-out HOST:PORT, or clients that sent /subscribe).

Sending never blocks: a non-blocking UDP socket, and a datagram that cannot go is dropped.
"""
from __future__ import annotations

import logging
import socket
import threading
import time

import numpy as np

from ..frames import Frame
from ..base.oscwire import bundle, is_loopback, message
from ..base.ratelog import RateLimitedLog
from .base import Sink
from .subscriptions import Subscriptions

log = logging.getLogger("instrument.osc")

TOP_K = 5
MAX_BUNDLE = 1200  # bytes: text bundles stay under a typical network's packet size
ECHO_INTERVAL = 1 / 120  # s: echoes of a flood of moves go at most this often, the latest values


def top_k(p: np.ndarray, k: int = TOP_K) -> tuple:
    """(char, prob, char, prob, ...) of the k likeliest characters."""
    order = np.argsort(-p)[:k]
    return tuple(x for i in order for x in (chr(int(i)), float(p[i])))


def entropy_bits(p: np.ndarray) -> float:
    nz = p[p > 0]
    return float(-(nz * np.log2(nz)).sum())


def _whole(value) -> int | None:
    """A port as a client sends it (an int, or a float from TouchOSC), or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or value != int(value):
        return None
    return int(value)


def batches(messages: list[bytes]) -> list[bytes]:
    """Messages as bundles of at most MAX_BUNDLE bytes each."""
    out, batch, size = [], [], 16
    for m in messages:
        if batch and size + len(m) + 4 > MAX_BUNDLE:
            out.append(bundle(batch))
            batch, size = [], 16
        batch.append(m)
        size += len(m) + 4
    if batch:
        out.append(bundle(batch))
    return out


def quantize(p: np.ndarray) -> bytes:
    """A distribution as 128 bytes scaled to its peak: enough to draw bars."""
    peak = float(p.max()) or 1.0
    return np.round(255 * np.asarray(p) / peak).astype(np.uint8).tobytes()


class OscOut(Sink):
    """Text, frames and echoes to every target."""

    name = "osc-out"
    maxlen = 8

    def __init__(self, model_names: list[str], targets: list[tuple[str, int]] = (), frame_rate: float = 60.0,
                 params=None):
        """params: the tree, whose whole state a new subscriber is sent (and whose choices are
        echoed by index too, for controls that send a choice's number)."""
        super().__init__()
        self.names = list(model_names)
        self.params = params
        self.status: dict[str, tuple] = {}  # what else a new subscriber is told: /preset/current
        self._dumps: list[tuple[str, int]] = []
        self.frame_rate = frame_rate
        self.subscriptions = Subscriptions(list(targets))
        self._refusals = RateLimitedLog(log, "refused subscriptions")
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        self._word: list[str] = []
        self._line: list[str] = []
        self._last_frame = 0.0
        self.sent = self.dropped = 0
        self._pending: dict[str, tuple] = {}  # address -> (latest value, its writer), to echo
        self._noted = threading.Lock()  # guards _pending and _dumps, written from other threads
        self._last_echo = 0.0

    # --- targets -----------------------------------------------------------------------------
    @property
    def targets(self) -> list[tuple[str, int]]:
        return self.subscriptions.targets()

    def commands(self) -> list:
        from ..commands import Command

        return [
            Command("/subscribe", "[i port [i token]]", "text, frames and every change are sent to the sender (at "
                    "PORT if given): at once from this machine, from another after the token handshake (below); "
                    "the whole state follows", self.subscribe_handler),
            Command("/unsubscribe", "[i port]", "stops that; answers `/unsubscribed PORT`", self.subscribe_handler),
        ]

    def subscribe_handler(self, address: str, args: list, sender: tuple[str, int]):
        """For the OSC router: /subscribe [PORT [TOKEN]] and /unsubscribe [PORT] (see subscriptions.py)."""
        port = _whole(args[0]) if args else sender[1]
        if port is None:
            return [("/subscribe/refused", (0, "a port is a whole number"))]
        target = (sender[0], port)
        if address == "/unsubscribe":
            self.subscriptions.remove(target)
            return [("/unsubscribed", (port,))]
        why = self.subscriptions.refusal(target)
        if why is None and len(args) > 1 and not self.subscriptions.confirm(target, args[1]):
            why = "that token is not this address's"
        if why is not None:
            self._refusals.log(f"/subscribe from {sender[0]} for port {port} refused: {why}")
            return [("/subscribe/refused", (port, why[:40]))]
        if len(args) > 1 or is_loopback(sender[0]):
            self._subscribed(target)
        else:  # prove you receive there: a small token goes to the address the stream would go to
            self._send_to(target, message("/subscribe/token", port, self.subscriptions.token(target)))
        return []

    def _subscribed(self, target: tuple[str, int]) -> None:
        self.subscriptions.add(target)
        self._send_to(target, message("/subscribed", target[1]))
        with self._noted:  # the whole state follows, from the sink's thread, not the OSC one
            self._dumps.append(target)
        self._nudge()

    def _send_to(self, target: tuple[str, int], dgram: bytes) -> None:
        try:
            self.sock.sendto(dgram, target)
            self.sent += 1
        except OSError:
            self.dropped += 1

    def _send(self, dgram: bytes, skip: str | None = None) -> None:
        for host, port in self.targets:
            if skip == f"osc:{host}:{port}":
                continue
            try:
                self.sock.sendto(dgram, (host, port))
                self.sent += 1
            except OSError:  # buffer full or nobody listening: drop, never wait
                self.dropped += 1

    def broadcast(self, address: str, *args) -> None:
        """A message to every target (announcements such as /learned)."""
        self._send(message(address, *args))

    def announce(self, address: str, *args) -> None:
        """A status to every target now and to every later subscriber (/preset/current)."""
        self.status[address] = args
        self.broadcast(address, *args)

    def state(self) -> list[bytes]:
        """Every parameter's value (with a choice's index) and every status, as messages."""
        out = []
        if self.params is not None:
            snap = self.params.snapshot()
            for address, param in self.params.params.items():
                value = snap[address]
                if param.kind == "trigger" or (param.kind == "text" and len(value) > 200):
                    continue
                out.append(message(address, value))
                if param.kind == "enum":
                    out.append(message(f"{address}/index", param.range.index(value)))
        out += [message(address, *args) for address, args in dict(self.status).items()]  # written by other threads
        return out

    def _send_state(self, target: tuple[str, int]) -> None:
        for dgram in batches(self.state()):
            self._send_to(target, dgram)

    # --- echo ------------------------------------------------------------------------------
    def echo(self, address: str, value, source: str) -> None:
        """Every change goes to every target, except back to the client that made it. Called in
        the writer's thread by the parameter tree; it only notes the change (latest value wins,
        so a flood of moves from one controller is not re-sent, message for message, to all)
        and wakes the sink's thread, which sends it."""
        if value is None:
            return
        param = self.params.params.get(address) if self.params is not None else None
        with self._noted:
            wake = not self._pending
            self._pending[address] = (value, source)
            if param is not None and param.kind == "enum":  # a TouchOSC radio listens for the number
                self._pending[f"{address}/index"] = (param.range.index(value), source)
        if wake:
            self._nudge()

    def _nudge(self) -> None:
        if self.subscription is not None:
            self.subscription.nudge()

    def patience(self) -> float:
        """Until the next echo is due, when one waits; a move alone is echoed at once, a flood
        of moves at most 1 / ECHO_INTERVAL times a second per address."""
        if self._pending or self._dumps:
            return max(0.0, self._last_echo + ECHO_INTERVAL - time.monotonic())
        return super().patience()

    def tend(self) -> bool:
        """Send the whole state to new subscribers and the changes noted since the last echo."""
        if time.monotonic() < self._last_echo + ECHO_INTERVAL:
            return bool(self._pending)
        with self._noted:
            pending, self._pending = self._pending, {}
            dumps, self._dumps = self._dumps, []
        for target in dumps:
            self._send_state(target)
        for address, (value, source) in pending.items():
            self._send(message(address, value), skip=source)
        if pending:
            self._last_echo = time.monotonic()
        return False

    def closed(self) -> None:
        self.sock.close()  # a late subscribe or announcement is then dropped (sendto's OSError), not sent

    # --- text and frames (the sink's own thread) ---------------------------------------------
    def write(self, frames: list[Frame], text: str) -> None:
        now = time.monotonic()
        live = [f for f in frames if not f.primed]
        due = live and now - self._last_frame >= 1.0 / self.frame_rate
        if due:  # /frame alone and first: a performer's move is heard in it, so it waits for nothing
            self._last_frame = now
            self._send(self.frame_head(live[-1]))
        messages = []
        for ch in text:
            messages.append(message("/text/char", ch))
            messages += self._words_and_lines(ch)
        self._send_batched(messages)
        if due:
            self._send(bundle(self.frame_details(live[-1])))

    def _words_and_lines(self, ch: str) -> list[bytes]:
        out = []
        if ch in " \t\n":
            if self._word:
                out.append(message("/text/word", "".join(self._word)))
                self._word.clear()
        else:
            self._word.append(ch)
        if ch == "\n":
            out.append(message("/text/line", "".join(self._line)))
            self._line.clear()
        else:
            self._line.append(ch)
        return out

    def _send_batched(self, messages: list[bytes]) -> None:
        for dgram in batches(messages):
            self._send(dgram)

    def frame_head(self, frame: Frame) -> bytes:
        """/frame: step, character, the style that led it, and pi."""
        lead = self.names[frame.lead] if frame.lead >= 0 else ""
        return message("/frame", frame.step, frame.char, lead, *map(float, frame.pi))

    def frame_details(self, frame: Frame) -> list[bytes]:
        """/frame/rho, /frame/model/<name> (top-k) and /frame/dist (every row, quantised)."""
        active = [self.names[i] for i in frame.active]
        out = [message("/frame/rho", *top_k(frame.rho))]
        out += [message(f"/frame/model/{n}", *top_k(row)) for n, row in zip(active, frame.omega)]
        rows = [frame.rho, *frame.omega]
        out.append(message("/frame/dist", ",".join(active), b"".join(quantize(r) for r in rows),
                           *(entropy_bits(r) for r in rows)))
        return out
