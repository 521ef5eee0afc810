"""A second Ableton Link peer, for the tests: `python -m tests.control.link_peer TEMPO`. It joins
with start/stop shared, then obeys lines on stdin (`tempo 97`, `play`, `stop`) and prints the
session as it sees it (`peers tempo playing`) after each, and `ready` once it has a peer."""
from __future__ import annotations

import sys
import time

import link


def main() -> None:
    peer = link.Link(float(sys.argv[1]))
    peer.startStopSyncEnabled = True
    peer.enabled = True
    deadline = time.monotonic() + 30
    while peer.numPeers() < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    print("ready" if peer.numPeers() else "alone", flush=True)
    for line in sys.stdin:
        word, *rest = line.split()
        state = peer.captureAppSessionState()
        now = peer.clock().micros()
        if word == "tempo":
            state.setTempo(float(rest[0]), now)
        elif word in ("play", "stop"):
            state.setIsPlaying(word == "play", now)
        if word != "look":
            peer.commitAppSessionState(state)
        time.sleep(0.05)
        state = peer.captureAppSessionState()
        print(peer.numPeers(), round(state.tempo(), 2), state.isPlaying(), flush=True)
    peer.enabled = False


if __name__ == "__main__":
    main()
