"""Ableton Link with a real second peer: another process on this machine (Link finds it over
loopback), started and steered by the test."""
from __future__ import annotations

import subprocess
import sys

import pytest

from instrument.control.link import LinkSession
from instrument.tree import build_tree

from ..conftest import PROJECT
from ..polling import wait_for

pytest.importorskip("link", reason="LinkPython-extern (the link extra) is not installed")


class Peer:
    def __init__(self, tempo: float):
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.control.link_peer", str(tempo)], cwd=PROJECT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def ready(self) -> str:
        return self.proc.stdout.readline().strip()

    def say(self, line: str) -> list:
        self.proc.stdin.write(line + "\n")
        peers, tempo, playing = self.proc.stdout.readline().split()
        return [int(peers), float(tempo), playing == "True"]

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(10)


@pytest.fixture
def joined():
    tree = build_tree(["a"])
    tree.set("/clock/follow", True)
    session = LinkSession(tree).start()
    peer = Peer(97.0)
    assert peer.ready() == "ready"
    try:
        yield tree, session, peer
    finally:
        peer.close()
        session.stop()


def test_the_session_tempo_and_peers_show_and_the_rate_follows_the_tempo(joined):
    tree, session, peer = joined
    assert wait_for(lambda: tree.get("/link/peers") == 1, 10)
    peer.say("tempo 97")
    assert wait_for(lambda: abs(tree.get("/link/tempo") - 97.0) < 0.01, 10)
    assert tree.get("/clock/bpm") == pytest.approx(97.0, abs=0.01)
    assert tree.get("/rate") == pytest.approx(tree.get("/clock/chars_per_beat") * 97.0 / 60, rel=0.01)
    assert 0 <= session.until_beat() <= 60 / 97 + 0.01


def test_a_tempo_set_here_goes_to_the_whole_session(joined):
    tree, session, peer = joined
    assert wait_for(lambda: tree.get("/link/peers") == 1, 10)
    tree.set("/clock/bpm", 140.0, source="osc:127.0.0.1:9")
    assert wait_for(lambda: peer.say("look")[1] == 140.0, 10)
    assert wait_for(lambda: abs(tree.get("/link/tempo") - 140.0) < 0.01, 5)


def test_the_shared_transport_plays_and_pauses_the_instrument(joined):
    tree, session, peer = joined
    assert wait_for(lambda: tree.get("/link/peers") == 1, 10)
    peer.say("play")
    assert wait_for(lambda: tree.get("/run") is True, 5)
    peer.say("stop")
    assert wait_for(lambda: tree.get("/run") is False, 5)
    peer.say("play")
    assert wait_for(lambda: tree.get("/run") is True, 5)


def test_the_peers_and_tempo_are_reported_not_set_over_osc():
    from instrument.control.osc import OscRouter

    tree = build_tree(["a"])
    router = OscRouter(tree, ["a"])
    assert router.handle_message("/link/peers", [5], ("127.0.0.1", 9)) == [
        ("/error", ("/link/peers", "/link/peers is reported by the instrument, not set (send it without a value to read it)"))]
    assert tree.get("/link/peers") == 0 and router.stats.refused == 1
    assert router.handle_message("/link/tempo", [], ("127.0.0.1", 9)) == [("/link/tempo", (120.0,))]
