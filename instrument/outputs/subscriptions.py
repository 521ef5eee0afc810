"""Who hears the engine over OSC: the targets given at start (--osc-out), and clients that
subscribed and proved they can receive.

UDP senders can be forged. A /subscribe that anyone could make with a victim's address as its
source would have the engine stream ~32 KB/s at the victim for a 16-byte packet. So a subscription
from off this machine is a handshake: /subscribe [PORT] is answered with a small token sent to
the address that would receive the stream (/subscribe/token PORT TOKEN), and only a /subscribe
PORT TOKEN that echoes it starts the stream (and the whole state, sent at once). The token is a
keyed hash of the target, so the engine keeps nothing for a forged request. A sender on this
machine (loopback) cannot be forged from outside: it is subscribed at once.

Subscriptions are capped (CAP in all, PER_HOST for one other host, HERE_SLOTS of them kept for
this machine's panel) and expire LIFETIME seconds after the target's host was last heard
from (any message renews it: the panel's heartbeat, a fader moved on a phone). The engine's own
ports are refused as targets: a subscription pointing the engine at itself was a feedback loop.
"""
from __future__ import annotations

import hashlib
import hmac
import math
import os
import threading
import time

from ..base.oscwire import interface_addresses, is_loopback

Target = tuple[str, int]

CAP = 16
PER_HOST = 4    # targets one other host may hold (a phone, a laptop's panel and its Max patch)
HERE_SLOTS = 2  # of CAP, kept for this machine: 16 ports of one host once kept the local panel out for 272 s
LIFETIME = 120.0  # seconds


def is_here(ip: str) -> bool:
    """Whether an address is this machine's."""
    return is_loopback(ip) or ip in ("0.0.0.0", "") or ip in interface_addresses()


class Subscriptions:
    def __init__(self, static: list[Target] = (), clock=time.monotonic):
        self.static = set(static)          # --osc-out: the performer's own, never expire
        self.clock = clock
        self.own_ports: set[int] = set()   # the engine's sockets: never a target
        self._secret = os.urandom(16)
        self._live: dict[Target, float] = {}  # target -> when its host was last heard from
        self._lock = threading.Lock()

    def token(self, target: Target) -> int:
        """24 bits of a keyed hash of the target (exact as an OSC float, for clients that send floats)."""
        digest = hmac.new(self._secret, f"{target[0]}:{target[1]}".encode(), hashlib.sha256).digest()
        return int.from_bytes(digest[:3], "big")

    def refusal(self, target: Target) -> str | None:
        """Why a target may not be subscribed, or None."""
        ip, port = target
        if not 0 < port < 65536:
            return f"port {port} is not a port"
        if port in self.own_ports and is_here(ip):
            return f"port {port} is the engine's own"
        with self._lock:
            self._expire()
            if target in self._live:
                return None
            if is_here(ip):
                return f"{CAP} clients are subscribed already" if len(self._live) >= CAP else None
            if sum(1 for t in self._live if t[0] == ip) >= PER_HOST:
                return f"{ip} holds {PER_HOST} subscriptions already (one host may hold {PER_HOST})"
            if sum(1 for t in self._live if not is_here(t[0])) >= CAP - HERE_SLOTS:
                return f"{CAP - HERE_SLOTS} clients from other machines are subscribed already"
        return None

    def confirm(self, target: Target, token) -> bool:
        """Whether a token (int or integral float) is this target's."""
        if isinstance(token, bool) or not isinstance(token, (int, float)) or not math.isfinite(token) \
                or token != int(token):
            return False
        return hmac.compare_digest(str(int(token)), str(self.token(target)))

    def add(self, target: Target) -> None:
        with self._lock:
            self._live[target] = self.clock()

    def remove(self, target: Target) -> None:
        with self._lock:
            self._live.pop(target, None)

    def heard(self, ip: str) -> None:
        """A message from this host: its subscriptions live on."""
        now = self.clock()
        with self._lock:
            for target in self._live:
                if target[0] == ip:
                    self._live[target] = now

    def verified(self, ip: str) -> bool:
        """Whether replies larger than a request may go to this host: it is this machine, or it
        holds a subscription it proved it can receive."""
        if is_loopback(ip):
            return True
        with self._lock:
            self._expire()
            return any(t[0] == ip for t in self._live) or any(t[0] == ip for t in self.static)

    def targets(self) -> list[Target]:
        with self._lock:
            self._expire()
            return sorted(self.static | set(self._live))

    def _expire(self) -> None:
        cutoff = self.clock() - LIFETIME
        for target in [t for t, seen in self._live.items() if seen < cutoff]:
            del self._live[target]
