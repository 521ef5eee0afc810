"""OSC 1.0 on the wire: encoding (the server's replies, the outputs) and a strict decoder.

Both are written here rather than taken from python-osc: its message builder parses every
datagram it has just built (a third of a frame's cost at full speed), and its parser pads
truncated numbers and skips unknown tags. tests/test_oscwire.py checks both directions against
python-osc, and the integration tests against liblo.
"""
from __future__ import annotations

import ipaddress
import math
import struct

_BUNDLE_HEAD = b"#bundle\0" + struct.pack(">Q", 1)  # time tag 1: immediately


def _padded(raw: bytes) -> bytes:
    """An OSC string or blob body: at least one zero, padded to a multiple of 4."""
    return raw + b"\0" * (4 - len(raw) % 4)


FLOAT32_MAX = 3.4028234663852886e38


def _arg(value) -> tuple[str, bytes]:
    """(type tag, bytes) of one argument; bools go as 0/1 floats (what TouchOSC faders and
    toggles expect), non-finite floats as 0, floats past float32's range as doubles, anything
    else as its string."""
    if isinstance(value, bool):
        return "f", struct.pack(">f", 1.0 if value else 0.0)
    if isinstance(value, float):
        if not math.isfinite(value):
            return "f", struct.pack(">f", 0.0)
        if abs(value) > FLOAT32_MAX:
            return "d", struct.pack(">d", value)
        return "f", struct.pack(">f", value)
    if isinstance(value, int) and -2**31 <= value < 2**31:
        return "i", struct.pack(">i", value)
    if isinstance(value, int):
        return "h", struct.pack(">q", value)
    if isinstance(value, (bytes, bytearray)):
        blob = bytes(value)
        return "b", struct.pack(">i", len(blob)) + blob + b"\0" * (-len(blob) % 4)
    return "s", _padded(str(value).encode("utf-8"))


def message(address: str, *args) -> bytes:
    """One OSC message."""
    parts = [_arg(a) for a in args]
    return (_padded(address.encode("utf-8")) + _padded(("," + "".join(t for t, _ in parts)).encode("ascii"))
            + b"".join(b for _, b in parts))


def bundle(messages: list[bytes]) -> bytes:
    """Encoded messages in one bundle, to be applied together, immediately."""
    return _BUNDLE_HEAD + b"".join(struct.pack(">i", len(m)) + m for m in messages)


def parse_hostport(text: str, default_host: str = "127.0.0.1", any_port: bool = False) -> tuple[str, int]:
    """'HOST:PORT' or 'PORT' -> (host, port), with a clear error; any_port admits 0 (any free port)."""
    host, sep, port = text.rpartition(":")
    host = host if sep else default_host
    try:
        number = int(port)
    except ValueError:
        raise ValueError(f"{text!r} is not HOST:PORT") from None
    if not (0 if any_port else 1) <= number < 65536:
        raise ValueError(f"port {number} is out of range (1-65535)")
    return host or default_host, number


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class OscDecodeError(ValueError):
    """A datagram that is not well-formed OSC; the message says where it breaks."""


MAX_BUNDLE_DEPTH = 8
_FIXED = {"i": (">i", 4), "f": (">f", 4), "d": (">d", 8), "h": (">q", 8), "c": (">I", 4)}
_CONSTANT = {"T": True, "F": False, "N": None, "I": float("inf")}


def decode(data: bytes, depth: int = 0, limit: int | None = None) -> list[tuple[str, list]]:
    """Every message of a datagram as (address, args), bundles flattened; with `limit`, at most
    that many (the rest is not read: a router that takes 256 need not decode 3,249). Strict: a
    wrong length, an unknown type tag or a bundle nested deeper than MAX_BUNDLE_DEPTH is an
    OscDecodeError (python-osc's own parser pads truncated numbers and skips unknown tags)."""
    if data.startswith(b"#bundle\0"):
        return _decode_bundle(data, depth, limit)
    return [_decode_message(data)]


def _decode_bundle(data: bytes, depth: int, limit: int | None) -> list[tuple[str, list]]:
    if depth >= MAX_BUNDLE_DEPTH:
        raise OscDecodeError(f"bundles nested deeper than {MAX_BUNDLE_DEPTH}")
    if len(data) < 16:
        raise OscDecodeError("bundle shorter than its header")
    out, at = [], 16
    while at < len(data) and (limit is None or len(out) < limit):
        if at + 4 > len(data):
            raise OscDecodeError("bundle element size cut off")
        (size,) = struct.unpack(">i", data[at:at + 4])
        if size <= 0 or size % 4 or at + 4 + size > len(data):
            raise OscDecodeError(f"bundle element of impossible size {size}")
        out += decode(data[at + 4:at + 4 + size], depth + 1, None if limit is None else limit - len(out))
        at += 4 + size
    return out


def _read_string(data: bytes, at: int) -> tuple[str, int]:
    end = data.find(b"\0", at)
    if end < 0:
        raise OscDecodeError("string without its terminating zero")
    try:
        text = data[at:end].decode("utf-8")
    except UnicodeDecodeError:
        raise OscDecodeError("string that is not UTF-8") from None
    return text, (end + 4) & ~3  # past the zero, padded to 4


def _decode_message(data: bytes) -> tuple[str, list]:
    if len(data) % 4:
        raise OscDecodeError(f"message length {len(data)} is not a multiple of 4")
    address, at = _read_string(data, 0)
    if not address.startswith("/"):
        raise OscDecodeError(f"address {address[:40]!r} does not start with /")
    if at >= len(data):
        return address, []  # old-style message without a type tag string
    tags, at = _read_string(data, at)
    if not tags.startswith(","):
        raise OscDecodeError("type tags do not start with ','")
    args = []
    for tag in tags[1:]:
        if tag in _FIXED:
            fmt, size = _FIXED[tag]
            if at + size > len(data):
                raise OscDecodeError(f"argument '{tag}' cut off")
            (value,) = struct.unpack(fmt, data[at:at + size])
            args.append(chr(value) if tag == "c" and value < 0x110000 else value)
            at += size
        elif tag in "sS":
            value, at = _read_string(data, at)
            args.append(value)
        elif tag == "b":
            if at + 4 > len(data):
                raise OscDecodeError("blob size cut off")
            (size,) = struct.unpack(">i", data[at:at + 4])
            if size < 0 or at + 4 + size > len(data):
                raise OscDecodeError(f"blob of impossible size {size}")
            args.append(data[at + 4:at + 4 + size])
            at += 4 + ((size + 3) & ~3)
        elif tag in _CONSTANT:
            args.append(_CONSTANT[tag])
        else:
            raise OscDecodeError(f"unknown type tag {tag!r}")
    if at != len(data):
        raise OscDecodeError(f"{len(data) - at} bytes left over after the arguments")
    return address, args


def interface_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback (loopback alone where there are none):
    what a client on the network can reach when the engine listens on 0.0.0.0."""
    try:
        import ifaddr  # zeroconf's own dependency

        found = [ip.ip for a in ifaddr.get_adapters() for ip in a.ips if isinstance(ip.ip, str)]
    except ImportError:
        found = []
    outside = [ip for ip in found if not ip.startswith("127.")]
    return outside or ["127.0.0.1"]
