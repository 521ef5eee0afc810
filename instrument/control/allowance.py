"""How much each host may still spend this second: /error replies sent back, and datagrams and
bytes taken in from other machines. One table per allowance, bounded whatever sources a flood
forges; this machine's own senders (the performer's panel) are never counted against."""
from __future__ import annotations

import time


class PerSecond:
    """An allowance of `per_second` (things or bytes) a host, renewed each whole second."""

    def __init__(self, per_second: int, clock=time.monotonic):
        self.per_second, self.clock = per_second, clock
        self._spent: dict[str, tuple[int, int]] = {}  # host -> (the second, spent in it)

    def allow(self, host: str, cost: int = 1) -> bool:
        """Whether `host` may spend `cost` more this second (and if so, it is spent)."""
        second = int(self.clock())
        if len(self._spent) > 256:  # a bounded table, whatever sources a flood forges
            self._spent.clear()
        at, spent = self._spent.get(host, (second, 0))
        spent = spent if at == second else 0
        if spent + cost > self.per_second:
            self._spent[host] = (second, spent)
            return False
        self._spent[host] = (second, spent + cost)
        return True
