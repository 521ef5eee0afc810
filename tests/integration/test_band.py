"""In time with the band, end to end: `instrument play` as its own process with Wekinator's port
played by liblo's oscsend, and in a Link session with a second peer started here."""
from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from instrument.base.oscwire import decode, message

from ..conftest import PROJECT
from ..fakes import write_letter_models
from ..realparts import free_udp_port, instrument, require


@pytest.fixture
def models(tmp_path):
    return write_letter_models(tmp_path / "models", {"ayes": "a", "bees": "b"})


def ask(port: int, address: str) -> list:
    """A value read over OSC, as any client would."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        sock.sendto(message(address), ("127.0.0.1", port))
        return decode(sock.recv(65536))[0][1]


def test_wekinator_outputs_sent_by_oscsend_move_the_mix(models):
    wek, osc = free_udp_port(), free_udp_port()
    engine = instrument("play", "--mix", "ayes=1", "--rate", "200", "--osc-listen", f"127.0.0.1:{osc}",
                        "--no-oscquery", "--no-midi", "--wekinator", f"127.0.0.1:{wek}", models=models)
    try:
        engine.wait_for(lambda p: p.text.count("a") > 20, what="text from the a-style")
        subprocess.run([require("oscsend"), "localhost", str(wek), "/wek/outputs", "ff", "0.0", "1.0"],
                       check=True, timeout=10)
        mark = len(engine.text)
        engine.wait_for(lambda p: p.text[mark:].count("b") > 60, what="Wekinator's move heard")
        assert "a" not in engine.text[-40:]
        assert ask(osc, "/mix/bees") == [1.0] and ask(osc, "/mix/ayes") == [0.0]
    finally:
        engine.stop()


def test_with_link_the_peers_and_tempo_are_readable_and_the_rate_follows(models):
    pytest.importorskip("link", reason="LinkPython-extern (the link extra) is not installed")
    osc = free_udp_port()
    engine = instrument("play", "--mix", "ayes=1", "--osc-listen", f"127.0.0.1:{osc}", "--no-oscquery",
                        "--no-midi", "--link", models=models)
    peer = subprocess.Popen([sys.executable, "-m", "tests.control.link_peer", "90"], cwd=PROJECT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    try:
        assert peer.stdout.readline().strip() == "ready"
        peer.stdin.write("tempo 90\n")
        peer.stdout.readline()
        engine.wait_for(lambda p: ask(osc, "/link/peers") == [1] and abs(ask(osc, "/link/tempo")[0] - 90) < 0.01,
                        what="the Link session seen over OSC")
        assert ask(osc, "/rate")[0] == pytest.approx(8 * 90 / 60, rel=0.01)  # chars per beat 8 x 1.5 beats/s
        assert "Link: joined the session" in engine.err.decode()
    finally:
        peer.stdin.close()
        peer.wait(10)
        engine.stop()
