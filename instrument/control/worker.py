"""The controls' file work (a preset recalled, saved or morphed to, a mapping re-read or written
after a learn) on a thread of its own, one job after another.

Neither the MIDI callback nor the OSC receive thread may wait on a disk: the MIDI callback runs
inside JACK's process cycle (a program change to a 10 MB preset held it for 47 s, and jackd
logged 7,574 process errors), and while the OSC thread reads a file no fader is heard. They hand
the job here and return at once. The queue is short: a flood of program changes is not a backlog
of minutes; a job that finds it full is dropped and said so (rate-limited).
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Callable

from ..base.ratelog import RateLimitedLog

log = logging.getLogger("instrument.control")

DEPTH = 16
BURST, PER_SECOND = 8, 4.0  # file jobs one source may ask for at once, and then per second


class Worker:
    """Each source (an OSC sender's host, MIDI) may ask for BURST jobs at once and PER_SECOND
    after that: a file that is slow to refuse (64 KB of YAML is 50 ms of parsing, holding the
    Python lock the engine's loop also needs) cannot be asked for a hundred times a second."""

    def __init__(self, depth: int = DEPTH, clock=time.monotonic):
        self._jobs: queue.Queue = queue.Queue(maxsize=depth)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # source -> (tokens, when counted)
        self._dropped = RateLimitedLog(log, "file jobs dropped")
        self._failed = RateLimitedLog(log, "file jobs that failed")
        self._thread = threading.Thread(target=self._run, name="control-files", daemon=True)
        self._thread.start()

    def _allowed(self, source: str | None) -> bool:
        if source is None:
            return True
        now = self.clock()
        tokens, then = self._buckets.get(source, (BURST, now))
        tokens = min(BURST, tokens + (now - then) * PER_SECOND)
        if tokens < 1:
            self._buckets[source] = (tokens, now)
            return False
        self._buckets[source] = (tokens - 1, now)
        if len(self._buckets) > 1000:  # forget the quiet ones (sources are hosts: few)
            self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < 10}
        return True

    def submit(self, what: str, job: Callable[[], None], source: str | None = None) -> bool:
        """Run job() soon, in order; False (and a warning) if the source asks too often or the
        queue is full."""
        if not self._allowed(source):
            self._dropped.log(f"{what}: dropped, {source} asks for files more than {PER_SECOND:g} times a second")
            return False
        try:
            self._jobs.put_nowait((what, job))
            return True
        except queue.Full:
            self._dropped.log(f"{what}: dropped, {DEPTH} file jobs are already waiting")
            return False

    def _run(self) -> None:
        while True:
            item = self._jobs.get()
            if item is None:
                return
            what, job = item
            try:
                job()
            except Exception as e:  # a job's own errors are its messages; anything else is said here
                self._failed.log(f"{what} failed ({type(e).__name__}: {e})")
            finally:
                self._jobs.task_done()

    def drain(self, timeout: float = 5.0) -> None:
        """Wait (up to timeout) for every job submitted so far: tests, and the end of a piece."""
        done = threading.Event()
        if self.submit("drain", done.set):
            done.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        self.drain(timeout)
        try:
            self._jobs.put_nowait(None)
        except queue.Full:
            pass
        self._thread.join(timeout)


class Immediate:
    """A Worker that runs each job at once, in the caller's thread (tests, one-shot commands)."""

    def submit(self, what: str, job: Callable[[], None], source: str | None = None) -> bool:
        job()
        return True

    def drain(self, timeout: float = 5.0) -> None:
        pass

    def stop(self, timeout: float = 5.0) -> None:
        pass


class Later:
    """Answers that come once a file job is done: later(sender, what, job) runs job() on the
    worker and sends its replies to the sender, with the budget of the request that asked (see
    OscRouter.budget). `refusal` is the exception a job raises to say no (PresetError)."""

    def __init__(self, router, files, refusal: type[Exception] = ValueError):
        self.router, self.files, self.refusal = router, files, refusal

    def __call__(self, sender, what: str, job) -> list:
        size = self.router.request_size

        def run():
            try:
                self.router.send(sender, job(), size)
            except self.refusal as e:
                self.router.send(sender, self.router.refuse(str(e)), size)
        self.files.submit(what, run, source=f"osc:{sender[0]}")
        return []
