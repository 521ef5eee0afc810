"""OSC in: every parameter of the tree answers at its own address.

The router takes raw datagrams (so it is testable without sockets) and only writes parameters;
the server is a thin UDP thread in front of it. Addresses come from the tree, never from a list
kept here: a parameter added to the tree is playable over OSC at once.

    /mix/bible 0.7        set          /mix/bible           -> replies /mix/bible 0.7
    /mix 0.2 0.8 ...      every weight, in model order
    /reset                fire a trigger
    /describe             -> replies /describe <JSON of the tree>
    /subscribe [PORT]     text, frames and every parameter change come back to the sender
    /mix/*, /mix/{a,b}    OSC 1.0 address patterns reach every parameter they match
"""
from __future__ import annotations

import ipaddress
import json
import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from ..commands import Command, Reply, Sender
from ..base.files import clip
from ..base.oscwire import OscDecodeError, decode, is_loopback, message
from ..params import ParamTree, mix_address
from ..base.ratelog import RateLimitedLog
from .allowance import PerSecond
from .patterns import PatternError, is_pattern, matching

log = logging.getLogger("instrument.osc")

MAX_DATAGRAM = 65536


AMPLIFICATION = 4  # a sender not known to receive where it says it is gets at most 4x its request


@dataclass
class OscStats:
    packets: int = 0
    messages: int = 0
    refused: int = 0       # malformed packets and messages that changed nothing
    withheld: int = 0      # replies too large for a sender that has not shown it receives
    flooded: int = 0       # datagrams dropped unread: their host had spent its second's allowance


# Parameters one datagram may address, patterns counted by what they match: a whole mixer of 17
# styles and every control at once is ~60; a bundle of 3,249 `/mix/*` (55,000 targets) held the
# OSC thread for a second a packet and a performer's /temperature for eight.
MAX_TARGETS = 256
TEXT_GAP = 2.0  # seconds between writes of a text parameter (/prime) over OSC
ERRORS_PER_SECOND = 10  # /error replies a host gets at most (a patch sending garbage at 1 kHz gets 10)
# What another machine may send a second: TouchOSC moving every fader at once sends a few hundred
# small datagrams; a flood of 65 KB bundles (6.5 MB/s) held the OSC thread, and with it the GIL,
# for 6 ms a datagram and slowed the text to an eighth. Beyond these, datagrams are dropped unread.
PACKETS_PER_SECOND = 1000
BYTES_PER_SECOND = 1 << 20


@dataclass
class OscRouter:
    """Turns OSC messages into parameter writes, queries and commands (each module's table)."""

    params: ParamTree
    model_names: list[str]
    commands: dict[str, Command] = field(default_factory=dict)
    stats: OscStats = field(default_factory=OscStats)
    values: bool = True  # the tree's addresses too; False: only the commands added (Wekinator's port)
    verified: Callable[[str], bool] = is_loopback  # may this host get large replies? (outputs/subscriptions.py)
    heard: Callable[[str], None] = lambda ip: None  # told of every host heard from (subscriptions.py again)

    def __post_init__(self):
        self._complaints = RateLimitedLog(log, "refused OSC messages")
        self._errors = PerSecond(ERRORS_PER_SECOND)
        self.sent: list[tuple[Sender, Reply]] = []  # replies sent later (file jobs), without a server
        self.server: "OscServer | None" = None  # the server in front of it (served_by), which sends later replies
        self.request_size = 0  # bytes of the datagram being handled: later replies keep its budget
        self._last_text = -float("inf")  # when a text parameter was last written (_text_allowed)
        self._matched: dict[str, list[str] | str] = {}  # pattern -> its targets, or why it is refused
        if self.values:
            self.add(self.own_commands())

    def own_commands(self) -> list[Command]:
        return [
            Command("/mix", "[N floats]", "every weight at once, in model order, as one move (all or nothing); "
                    "with no arguments answers `/mix` with every weight", self._mix),
            Command("/describe", "", "answers `/describe` with the whole tree as JSON (addresses, kinds, ranges, "
                    "values, docs, tags)", self._describe),
            Command("/morph", "f x, f y", "a point of the morph pad (0..1 each, as an XY pad sends): the weights by "
                    "the point's distance to the styles on a circle (the centre is every style)", self._morph),
        ]

    def add(self, commands: list[Command]) -> None:
        """Commands to answer, by address (each module's own table)."""
        for command in commands:
            if command.address in self.commands or command.address in self.params:
                raise ValueError(f"{command.address} is answered twice")
            self.commands[command.address] = command

    def served_by(self, server: "OscServer") -> None:
        self.server = server

    def send(self, sender: Sender, replies: list[Reply], request_size: int = 0) -> None:
        """Replies that come later than the message (a file job's): the server sends them, within
        the request's budget; without a server they are kept in `sent`."""
        if self.server is not None:
            self.server.reply(sender, replies, request_size)
        else:
            self.sent += [(sender, r) for r in replies]

    def budget(self, sender: Sender, request_size: int) -> float:
        """Bytes of replies this sender may get for a request: AMPLIFICATION times it, unless its
        host is this machine or holds a subscription it proved (a forged source would otherwise
        turn the engine into an amplifier: /describe answered 16 bytes with 5 KB)."""
        return float("inf") if self.verified(sender[0]) else AMPLIFICATION * request_size

    def refuse(self, why: str, sender: Sender | None = None, address: str = "") -> list[Reply]:
        """Log a refusal; with the sender, also answer it `/error ADDRESS REASON` (rate-limited per
        host), so a TouchOSC or Max patch can show what went wrong."""
        self.stats.refused += 1
        self._complaints.log(f"OSC refused: {why}")
        if sender is None or not self._errors.allow(sender[0]):
            return []
        return [("/error", (clip(address, 200), why))]

    def handle_packet(self, data: bytes, sender: Sender) -> list[Reply]:
        """Every message of a datagram (bundles flattened); replies go back to the sender."""
        self.stats.packets += 1
        self.request_size = len(data)
        try:
            messages = decode(data, limit=MAX_TARGETS + 1)  # every message reaches one parameter at least
        except OscDecodeError as e:
            return self.refuse(f"malformed packet of {len(data)} bytes from {sender[0]}: {e}", sender)
        replies, left = [], MAX_TARGETS
        for address, args in messages:
            left -= self._reach(address)
            if left < 0:
                replies += self.refuse(f"a packet from {sender[0]} addresses more than {MAX_TARGETS} parameters; "
                                       "the rest of it is dropped", sender, address)
                break
            replies += self.handle_message(address, args, sender)
        return replies

    def _reach(self, address: str) -> int:
        """How many parameters a message addresses: a pattern every one it matches."""
        if address in self.params or address in self.commands or not is_pattern(address):
            return 1
        targets = self._targets(address)
        return max(len(targets), 1) if isinstance(targets, list) else 1

    def _targets(self, pattern: str) -> list[str] | str:
        """The parameters a pattern matches, or why it is refused; each pattern matched once (a
        bundle repeats one pattern thousands of times, and _reach then _pattern ask for it)."""
        if pattern not in self._matched:
            if len(self._matched) >= 256:
                self._matched.clear()
            try:
                self._matched[pattern] = matching(pattern, self.params.params)
            except PatternError as e:
                self._matched[pattern] = str(e)
        return self._matched[pattern]

    def handle_message(self, address: str, args: list, sender: Sender) -> list[Reply]:
        self.stats.messages += 1
        command = self.commands.get(address)
        if command is not None:
            return command.handler(address, args, sender)
        if not self.values:
            return self.refuse(f"{clip(address)!r} is not answered on this port (only {', '.join(self.commands)})",
                               sender, address)
        if address not in self.params and is_pattern(address):
            return self._pattern(address, args, sender)
        if address not in self.params:
            return self.refuse(f"no parameter at {clip(address)!r}", sender, address)
        param = self.params.params[address]
        if not args and param.kind != "trigger":
            return [(address, (self.params.get(address),))]
        if "status" in param.tags:
            return self.refuse(f"{address} is reported by the instrument, not set (send it without a value to read it)",
                               sender, address)
        if param.kind == "text" and not self._text_allowed():
            return self.refuse(f"{address}: one text every {TEXT_GAP:g} s at most (each costs every style a re-read)",
                               sender, address)
        result = self.params.set(address, args[0] if args else None, source=f"osc:{sender[0]}:{sender[1]}")
        return [] if result.ok else self.refuse(result.message, sender, address)

    def _text_allowed(self) -> bool:
        """A text parameter (/prime) makes every style re-read up to 10,000 characters: ten a
        second from one client left the text at 0.008 of its rate. One every TEXT_GAP seconds."""
        now = time.monotonic()
        if now - self._last_text < TEXT_GAP:
            return False
        self._last_text = now
        return True

    def _pattern(self, pattern: str, args: list, sender: Sender) -> list[Reply]:
        """An OSC 1.0 address pattern (/mix/*): the message goes to every parameter it matches."""
        targets = self._targets(pattern)
        if isinstance(targets, str):
            return self.refuse(targets, sender, pattern)
        if not targets:
            return self.refuse(f"no parameter matches {clip(pattern)!r}", sender, pattern)
        replies = []
        for address in targets:
            replies += self.handle_message(address, args, sender)
        return replies

    def _mix(self, address: str, args: list, sender: Sender) -> list[Reply]:
        """/mix alone answers every weight; /mix w1 w2 ... sets them all, in model order."""
        addresses = [mix_address(n) for n in self.model_names]
        if not args:
            return [("/mix", tuple(float(self.params.get(a)) for a in addresses))]
        if len(args) != len(addresses):
            return self.refuse(f"/mix needs {len(addresses)} weights ({', '.join(self.model_names)}), got {len(args)}",
                               sender, "/mix")
        # all or nothing, and as one move: no step reads half of it
        result = self.params.set_many(dict(zip(addresses, args)), source=f"osc:{sender[0]}:{sender[1]}")
        return [] if result.ok else self.refuse(result.message, sender, "/mix")

    def _morph(self, address: str, args: list, sender: Sender) -> list[Reply]:
        from ..core.morph import weights

        if len(args) < 2 or not all(isinstance(a, (int, float)) and not isinstance(a, bool) and 0 <= a <= 1
                                    for a in args[:2]):
            return self.refuse("/morph needs x and y in 0..1", sender, address)
        return self._mix("/mix", weights(2 * args[0] - 1, 2 * args[1] - 1, len(self.model_names)), sender)

    def _describe(self, address: str, args: list, sender: Sender) -> list[Reply]:
        if not self.verified(sender[0]):  # it would be withheld anyway: do not build 5 KB of JSON for it
            self.stats.withheld += 1
            # and no /error either: a forged source would get that as the amplification it was refused
            return self.refuse(f"/describe from {sender[0]}: subscribe first, or ask over OSCQuery (HTTP)")
        return [("/describe", (json.dumps(self.params.describe()),))]


LOOPBACK, ALLOWED, STRANGER = "loopback", "allowed", "stranger"  # what a sender's address is to the server


class OscServer:
    """A UDP thread in front of the router. Off loopback, only allow-listed senders are heard."""

    def __init__(self, router: OscRouter, host: str = "127.0.0.1", port: int = 9000,
                 allow: list[str] | None = None):
        self.router = router
        self.allow = [ipaddress.ip_network(a, strict=False) for a in (allow or [])]
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.address = self.sock.getsockname()
        self._thread: threading.Thread | None = None
        self._running = False
        self._strangers = RateLimitedLog(log, "OSC packets from senders not allowed")
        self._failures = RateLimitedLog(log, "OSC handler failures")
        self._withheld = RateLimitedLog(log, "OSC replies withheld")
        self._flooded = RateLimitedLog(log, "OSC datagrams over a host's allowance")
        self._packets, self._bytes = PerSecond(PACKETS_PER_SECOND), PerSecond(BYTES_PER_SECOND)
        self._hosts: dict[str, str] = {}  # ip -> LOOPBACK, ALLOWED or STRANGER (_host)
        self.query = None  # the OSCQuery server that describes this one, if any
        router.served_by(self)

    def within_allowance(self, ip: str, size: int) -> bool:
        """Whether a datagram of `size` bytes from `ip` is within its second's allowance (this
        machine's loopback senders have none: the panel, the performer's own scripts)."""
        if self._host(ip) is LOOPBACK:
            return True
        return self._packets.allow(ip) and self._bytes.allow(ip, size)

    def allowed(self, ip: str) -> bool:
        return self._host(ip) is not STRANGER

    def _host(self, ip: str) -> str:
        """LOOPBACK, ALLOWED or STRANGER: the address parsed once per host, not per datagram (a
        flood reads thousands a second); the table is bounded whatever sources a flood forges."""
        kind = self._hosts.get(ip)
        if kind is None:
            addr = ipaddress.ip_address(ip)
            kind = LOOPBACK if addr.is_loopback else ALLOWED if any(addr in net for net in self.allow) else STRANGER
            if len(self._hosts) >= 1024:
                self._hosts.clear()
            self._hosts[ip] = kind
        return kind

    def start(self) -> "OscServer":
        self._running = True
        self._thread = threading.Thread(target=self._serve, name="osc-in", daemon=True)
        self._thread.start()
        return self

    def _serve(self) -> None:
        while self._running:
            try:
                data, sender = self.sock.recvfrom(MAX_DATAGRAM)
            except OSError:
                break  # the socket was closed by stop()
            if not self._running:
                break  # stop() shut the socket down, which wakes this read with nothing
            if not self.allowed(sender[0]):
                self._strangers.log(f"OSC from {sender[0]} dropped: not in --osc-allow")
                continue
            if not self.within_allowance(sender[0], len(data)):
                self.router.stats.flooded += 1
                self._flooded.log(f"OSC from {sender[0]} dropped: more than {PACKETS_PER_SECOND} datagrams or "
                                  f"{BYTES_PER_SECOND >> 20} MB a second")
                continue
            self.router.heard(sender[0])
            try:
                self.reply(sender, self.router.handle_packet(data, sender), len(data))
            except Exception as e:
                self._failures.log(f"OSC handler failed ({type(e).__name__}: {e}); the server goes on")

    def reply(self, sender: Sender, replies: list[Reply], request_size: int) -> None:
        budget = self.router.budget(sender, request_size)
        for address, args in replies:
            dgram = message(address, *args)
            if len(dgram) > budget:
                self.router.stats.withheld += 1
                self._withheld.log(f"OSC reply {address} ({len(dgram)} bytes) to {sender[0]} withheld: more than "
                                   f"{AMPLIFICATION}x its request; subscribe first, or ask over OSCQuery (HTTP)")
                continue
            budget -= len(dgram)
            try:
                self.sock.sendto(dgram, sender)
            except OSError:
                pass  # a reply that cannot be delivered (the sender went away) is dropped

    def stop(self) -> None:
        self._running = False
        if self.query is not None:
            self.query.stop()
        try:
            # close() alone does not wake a thread blocked in recvfrom (Linux); shutdown() does,
            # even on an unconnected UDP socket, though it also answers ENOTCONN there
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.sock.close()
        finally:
            if self._thread is not None:
                self._thread.join(1.0)
