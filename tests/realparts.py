"""Helpers for tests that use the real parts: liblo's tools, JACK, espeak-ng, Xvfb.

Locally a missing tool skips the test; under .ci/run (INSTRUMENT_REAL_PARTS=1) it fails, so CI can
never pass by skipping what it was meant to prove."""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest


def require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("INSTRUMENT_REAL_PARTS") == "1":
            pytest.fail(f"{tool} is not installed, and CI must run this test")
        pytest.skip(f"{tool} is not installed")
    return path


def require_module(module: str) -> None:
    """A Python module an extra installs (piper: instrument[voice]); CI must have it."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        if os.environ.get("INSTRUMENT_REAL_PARTS") == "1":
            pytest.fail(f"{module} is not installed, and CI must run this test")
        pytest.skip(f"{module} is not installed")


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    """A child process whose stdout is collected by a thread (so it never blocks on a full pipe)."""

    def __init__(self, args: list[str], env: dict | None = None):
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env={**os.environ, **(env or {})})
        self.out = bytearray()
        self.err = bytearray()
        self._threads = [threading.Thread(target=self._pump, args=(self.proc.stdout, self.out), daemon=True),
                         threading.Thread(target=self._pump, args=(self.proc.stderr, self.err), daemon=True)]
        for t in self._threads:
            t.start()

    @staticmethod
    def _pump(stream, into: bytearray) -> None:
        for chunk in iter(lambda: stream.read1(4096), b""):
            into.extend(chunk)

    @property
    def text(self) -> str:
        return self.out.decode("utf-8", "replace")

    def wait_for(self, predicate, timeout: float = 20.0, what: str = "") -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate(self):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; stderr: {self.err.decode(errors='replace')[-2000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for t in self._threads:
            t.join(2)


def instrument(*args: str, models: Path | None = None) -> Process:
    env = {"INSTRUMENT_MODELS": str(models)} if models else {}
    return Process([sys.executable, "-u", "-m", "instrument", *args], env=env)


def start_xvfb():
    """An Xvfb display of our own; returns (process, ':N')."""
    xvfb = require("Xvfb")
    for n in range(91, 120):
        if Path(f"/tmp/.X11-unix/X{n}").exists() or Path(f"/tmp/.X{n}-lock").exists():
            continue
        proc = subprocess.Popen([xvfb, f":{n}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            if Path(f"/tmp/.X11-unix/X{n}").exists():
                return proc, f":{n}"
            time.sleep(0.05)
        proc.kill()
    pytest.fail("could not start Xvfb")


def read_png(path):
    """An 8-bit RGB or RGBA, non-interlaced PNG as an array (H, W, channels): enough for our
    screenshots, without an imaging library."""
    import struct
    import zlib

    import numpy as np

    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    at, idat, header = 8, b"", None
    while at < len(data):
        (length,), kind = struct.unpack(">I", data[at:at + 4]), data[at + 4:at + 8]
        body = data[at + 8:at + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, f"unsupported PNG {header}"
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    out = np.zeros((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.int32)
    for y in range(height):
        kind, row = raw[y * (stride + 1)], np.frombuffer(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)], np.uint8).astype(np.int32)
        cur = np.zeros(stride, dtype=np.int32)
        for x in range(stride):
            a = cur[x - channels] if x >= channels else 0
            b = prev[x]
            c = prev[x - channels] if x >= channels else 0
            if kind == 0:
                p = 0
            elif kind == 1:
                p = a
            elif kind == 2:
                p = b
            elif kind == 3:
                p = (a + b) // 2
            else:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                p = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            cur[x] = (row[x] + p) & 255
        out[y], prev = cur, cur
    return out.reshape(height, width, channels)


@contextlib.contextmanager
def private_jack():
    """A JACK server of our own (dummy driver), named so it cannot meet anyone else's; yields its name."""
    jackd = require("jackd")
    name = f"instrument-test-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    env = {**os.environ, "JACK_NO_AUDIO_RESERVATION": "1", "JACK_DEFAULT_SERVER": name}
    proc = subprocess.Popen([jackd, "--no-realtime", "-n", name, "-d", "dummy", "-r", "48000", "-p", "256"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    sock = Path(f"/dev/shm/jack_{name}_0_0")
    deadline = time.monotonic() + 10
    while not sock.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    try:
        if not sock.exists():
            pytest.fail("jackd did not start")
        yield name
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
        for leftover in Path("/dev/shm").glob(f"*{name}*"):
            leftover.unlink(missing_ok=True)


@contextlib.contextmanager
def jack_client(name: str = "test-controller"):
    """An rtmidi output client on JACK, freed when the block ends: a client still allocated when
    its JACK server stops makes libjack complain ("Jack server was closed but clients are still
    allocated") and can take the next test's client down with it, which is why a learn test
    failed once in a loaded full run; closing the port alone leaves the client allocated until
    the garbage collector happens to run."""
    import rtmidi

    out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name=name)
    try:
        yield out
    finally:
        out.close_port()
        out.delete()


@contextlib.contextmanager
def jack_listener(name: str = "test-listener"):
    """An rtmidi input client on JACK that hears everything (clock too), freed when the block ends."""
    import rtmidi

    inp = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name=name)
    inp.ignore_types(sysex=True, timing=False, active_sense=True)
    try:
        yield inp
    finally:
        inp.close_port()
        inp.delete()


def heard(inp, seconds: float, until=None) -> list[list[int]]:
    """Every message an rtmidi input receives for `seconds` (or until until(messages) holds)."""
    out, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        got = inp.get_message()
        if got is None:
            time.sleep(0.002)
            continue
        out.append(got[0])
        if until is not None and until(out):
            break
    return out


def _jack_connections(listing: str) -> dict[str, str]:
    """client -> the ports its ports connect to, from `jack_lsp -c` (a port, then its peers indented)."""
    out, port = {}, None
    for line in listing.splitlines():
        if line[:1] in (" ", "\t"):
            if port is not None:
                client = port.split(":", 1)[0]
                out[client] = out.get(client, "") + line.strip() + "\n"
        else:
            port = line.strip()
    return out


JACK_PERIOD = 256 / 48000  # s: the private server's period (-p 256 at -r 48000)


def connect(out, port_fragment: str, timeout: float = 10.0, client: str = "test-controller") -> None:
    """Connect a client to the first port whose name contains the fragment (waiting for it), and
    return once the connection carries messages. rtmidi's open_port asks JACK to connect and
    returns before JACK's graph has the connection: a message sent at once was lost 4 times in 30
    (a program change in the scripted piece, a learn's move), so this waits until JACK lists the
    connection, and then two periods more."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = [i for i, p in enumerate(out.get_ports()) if port_fragment in p]
        if match:
            out.open_port(match[0])
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"no port containing {port_fragment!r}: {out.get_ports()}")
    lsp = require("jack_lsp")
    while time.monotonic() < deadline:
        listing = subprocess.run([lsp, "-c"], capture_output=True, text=True, timeout=10).stdout
        if port_fragment in _jack_connections(listing).get(client, ""):
            time.sleep(2 * JACK_PERIOD)
            return
        time.sleep(0.01)
    raise AssertionError(f"JACK never listed the connection to {port_fragment!r}:\n{listing}")
