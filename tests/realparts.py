"""Helpers for tests that use the real parts: liblo's tools, JACK, espeak-ng, Xvfb.

Locally a missing tool skips the test; under .ci/run (INSTRUMENT_REAL_PARTS=1) it fails, so CI can
never pass by skipping what it was meant to prove."""
from __future__ import annotations

import os
import shutil
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
