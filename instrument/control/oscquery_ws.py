"""OSCQuery's WebSocket side (the LISTEN extension), on the same port as the HTTP description: a
client upgrades its connection, sends `{"COMMAND": "LISTEN", "DATA": "/mix/bible"}` (or IGNORE),
and from then on every change of that address is pushed to it as an OSC message in a binary
frame, as VDMX, Chataigne and the other OSCQuery clients expect (the OSCQuery proposal, "LISTEN").

The framing is RFC 6455, written here because it is small (a server reads masked frames and
writes unmasked ones) and the instrument's HTTP side is the standard library's. Each client is
served on the thread of its HTTP connection: it waits on its socket and on a wake-up pipe that a
change of a listened address writes to, so nothing is polled. What a client sends is bounded
(MAX_FRAME); a client that stops answering pings is let go.
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import selectors
import socket
import struct
import threading
import time

from ..base.oscwire import message
from ..base.ratelog import RateLimitedLog

log = logging.getLogger("instrument.oscquery")

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_FRAME = 16 * 1024        # bytes a client frame may carry (a LISTEN is 50)
MAX_LISTENERS = 16           # WebSocket clients at once: half the HTTP server's slots, the rest stay free
READ_PER_SECOND = 64 * 1024  # bytes read from one client a second: LISTENs are 50 bytes; a client pouring
                             # 16 KB frames as fast as TCP carries them took the GIL from the engine (a third
                             # of its text); past this its bytes wait in TCP until the next second
PUSH_INTERVAL = 1 / 120      # s: a flood of moves is pushed at most this often, the latest values
PING_EVERY, GIVE_UP = 20.0, 60.0  # s: a client silent this long after a ping is closed
TEXT, BINARY, CLOSE, PING, PONG = 0x1, 0x2, 0x8, 0x9, 0xA


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1(key.strip().encode() + GUID).digest()).decode()


def frame(opcode: int, payload: bytes) -> bytes:
    """A server's frame: final, unmasked."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return head + payload


class ProtocolError(ValueError):
    pass


def unmask(payload: bytes, mask: bytes) -> bytes:
    """XOR with the 4-byte mask, repeated: one big-integer XOR, not a Python loop per byte (a
    client sending masked 16 KB frames cut the text to a quarter of its rate that way)."""
    if not payload:
        return b""
    key = (mask * (len(payload) // 4 + 1))[: len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(len(payload), "big")


def parse_frames(buffer: bytearray) -> list[tuple[int, bytes]]:
    """Complete client frames from the front of the buffer (removed from it), unmasked. A client's
    frames must be masked (RFC 6455 5.1) and at most MAX_FRAME long; fragments are not accepted
    (no OSCQuery client sends them)."""
    out = []
    while len(buffer) >= 2:
        first, second = buffer[0], buffer[1]
        if not first & 0x80:
            raise ProtocolError("fragmented frames are not accepted")
        if not second & 0x80:
            raise ProtocolError("a client's frame must be masked")
        n, at = second & 0x7F, 2
        if n == 126:
            if len(buffer) < 4:
                break
            n, at = struct.unpack_from("!H", buffer, 2)[0], 4
        elif n == 127:
            if len(buffer) < 10:
                break
            n, at = struct.unpack_from("!Q", buffer, 2)[0], 10
        if n > MAX_FRAME:
            raise ProtocolError(f"a frame of {n} bytes (at most {MAX_FRAME})")
        if len(buffer) < at + 4 + n:
            break
        mask = buffer[at:at + 4]
        payload = unmask(bytes(buffer[at + 4:at + 4 + n]), bytes(mask))
        del buffer[:at + 4 + n]
        out.append((first & 0x0F, payload))
    return out


class Listener:
    """One WebSocket client: the addresses it listens to, and what changed of them since the last push."""

    def __init__(self, sock: socket.socket, params):
        self.sock, self.params = sock, params
        self.addresses: set[str] = set()
        self._pending: dict[str, object] = {}
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = socket.socketpair()
        self._closed = False
        self._complaints = RateLimitedLog(log, "OSCQuery LISTEN refusals")

    def changed(self, address: str, value) -> None:
        """Called in the writer's thread for every change: noted, and the client's thread woken."""
        if address not in self.addresses or value is None:
            return
        with self._lock:
            wake = not self._pending
            self._pending[address] = value
        if wake:
            try:
                self._wake_w.send(b"x")
            except OSError:
                pass

    def close(self) -> None:
        """From any thread (the server stopping): the client's loop ends."""
        self._closed = True
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass

    def serve(self) -> None:
        """The client's loop, on its connection's thread, until it closes or is let go."""
        self.sock.setblocking(False)
        selector = selectors.DefaultSelector()
        selector.register(self.sock, selectors.EVENT_READ, "client")
        selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        buffer, heard, pinged, last_push = bytearray(), time.monotonic(), 0.0, 0.0
        second, read = 0, 0
        try:
            while not self._closed:
                if read > READ_PER_SECOND and int(time.monotonic()) == second:
                    time.sleep(1.0 - time.monotonic() % 1.0)  # its allowance is spent: TCP holds the rest
                    continue
                wait = PUSH_INTERVAL if self._pending else PING_EVERY
                for key, _ in selector.select(timeout=wait):
                    if key.data == "wake":
                        self._wake_r.recv(4096)
                        continue
                    data = self.sock.recv(65536)
                    if not data:
                        return
                    heard = time.monotonic()
                    if int(heard) != second:
                        second, read = int(heard), 0
                    read += len(data)
                    buffer += data
                    if not self._handle(parse_frames(buffer)):
                        return
                now = time.monotonic()
                if self._pending and now - last_push >= PUSH_INTERVAL:
                    self._push()
                    last_push = now
                if now - heard > GIVE_UP:
                    return
                if now - heard > PING_EVERY and now - pinged > PING_EVERY:
                    self._send(frame(PING, b"instrument"))
                    pinged = now
        except ProtocolError as e:
            self._complaints.log(f"OSCQuery WebSocket client closed: {e}")
            self._send(frame(CLOSE, struct.pack("!H", 1002)))
        except OSError:
            pass  # the client went away
        finally:
            selector.close()
            self._wake_r.close()
            self._wake_w.close()

    def _handle(self, frames: list[tuple[int, bytes]]) -> bool:
        """False once the client has closed."""
        for opcode, payload in frames:
            if opcode == CLOSE:
                self._send(frame(CLOSE, payload[:2]))
                return False
            if opcode == PING:
                self._send(frame(PONG, payload))
            elif opcode == TEXT:
                self._command(payload)
        return True

    def _command(self, payload: bytes) -> None:
        try:
            request = json.loads(payload.decode("utf-8"))
            command, address = request["COMMAND"], request["DATA"]
        except (ValueError, KeyError, TypeError):
            self._complaints.log("OSCQuery WebSocket: a text frame that is not {\"COMMAND\": ..., \"DATA\": ...}")
            return
        if command == "LISTEN" and isinstance(address, str) and address in self.params:
            self.addresses.add(address)
        elif command == "IGNORE" and isinstance(address, str):
            self.addresses.discard(address)
        else:
            self._complaints.log(f"OSCQuery WebSocket: {str(command)[:20]} {str(address)[:60]!r} refused")

    def _push(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
        for address, value in pending.items():
            self._send(frame(BINARY, message(address, value)))

    def _send(self, data: bytes) -> None:
        """Blocking for at most a second: a client that reads nothing is let go, not waited for."""
        self.sock.settimeout(1.0)
        try:
            self.sock.sendall(data)
        finally:
            self.sock.setblocking(False)


def refusal(handler) -> str | None:
    """Why an upgrade request is not taken, or None. A browser names the page that asks (Origin):
    a web page open on this machine must not listen to the instrument (the text, every move) by
    connecting from loopback, so any request with an Origin is refused; OSCQuery's clients (VDMX,
    Chataigne, Max) are programs and send none."""
    if not handler.headers.get("Sec-WebSocket-Key"):
        return "no Sec-WebSocket-Key"
    if handler.headers.get("Origin"):
        return f"a web page ({handler.headers.get('Origin')[:60]}) may not listen"
    return None


def handshake(handler) -> bool:
    """Answer an HTTP Upgrade request on a BaseHTTPRequestHandler; False (and a 403) if refused."""
    why = refusal(handler)
    if why is not None:
        handler.send_error(403, f"OSCQuery LISTEN refused: {why}")
        return False
    key = handler.headers.get("Sec-WebSocket-Key")
    handler.protocol_version = "HTTP/1.1"  # a WebSocket handshake is HTTP/1.1's (RFC 6455 4.1)
    handler.send_response(101, "Switching Protocols")
    handler.send_header("Upgrade", "websocket")
    handler.send_header("Connection", "Upgrade")
    handler.send_header("Sec-WebSocket-Accept", accept_key(key))
    handler.end_headers()
    handler.wfile.flush()
    return True


def wants_upgrade(handler) -> bool:
    return "upgrade" in handler.headers.get("Connection", "").lower() and \
        handler.headers.get("Upgrade", "").lower() == "websocket"

