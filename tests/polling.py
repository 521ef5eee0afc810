"""Waiting for something another thread does, without a fixed sleep."""
from __future__ import annotations

import time


def wait_for(condition, seconds: float = 5.0) -> bool:
    """Poll condition() until it holds or `seconds` pass; its last value."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not condition():
        time.sleep(0.01)
    return condition()
