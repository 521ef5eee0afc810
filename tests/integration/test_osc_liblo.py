"""The engine as its own process, played only over OSC by liblo's oscsend and heard by oscdump:
the engine-on-another-machine path, on loopback."""
from __future__ import annotations

import json
import subprocess
import time
import urllib.request

import pytest

from ..fakes import write_letter_models
from ..realparts import Process, free_udp_port, instrument, require


@pytest.fixture
def models(tmp_path):
    return write_letter_models(tmp_path / "models", {"ayes": "a", "bees": "b"})


@pytest.fixture
def ports():
    return free_udp_port(), free_udp_port()


def oscsend(port: int, address: str, *typed) -> None:
    subprocess.run([require("oscsend"), "localhost", str(port), address, *typed], check=True, timeout=10)


def test_oscsend_moves_the_mix_and_oscdump_hears_text_and_echoes(models, ports, tmp_path):
    engine_port, dump_port = ports
    dump = Process([require("oscdump"), "-L", str(dump_port)])
    engine = instrument("play", "--mix", "ayes=1", "--rate", "200", "--osc-listen", f"127.0.0.1:{engine_port}",
                        "--osc-out", f"127.0.0.1:{dump_port}", models=models)
    try:
        engine.wait_for(lambda p: p.text.count("a") > 50, what="text from the a-style")
        oscsend(engine_port, "/mix/ayes", "f", "0")
        oscsend(engine_port, "/mix/bees", "f", "1")
        mark = len(engine.text)
        engine.wait_for(lambda p: p.text[mark:].count("b") > 100, what="text from the b-style")
        tail = engine.text[-100:]
        assert "b" in tail and "a" not in tail  # the style changed with the fader
        dump.wait_for(lambda p: "/mix/bees f 1.0" in p.text and '/text/char s "b"' in p.text, what="oscdump")
        assert '/text/word s "' in dump.text and "/frame " in dump.text
        assert '"bees"' in dump.text.split("/mix/bees f 1.0")[-1]  # frames after the move name bees as lead
    finally:
        engine.stop()
        dump.stop()


def test_a_client_subscribes_and_queries_values(models, ports):
    engine_port, dump_port = ports
    dump = Process([require("oscdump"), "-L", str(dump_port)])
    engine = instrument("play", "--mix", "ayes=1", "--rate", "50", "--osc-listen", f"127.0.0.1:{engine_port}",
                        models=models)
    try:
        engine.wait_for(lambda p: "a" in p.text, what="text")
        time.sleep(0.2)
        # oscdump listens on dump_port; the subscription names that port explicitly
        oscsend(engine_port, "/subscribe", "i", str(dump_port))
        dump.wait_for(lambda p: "/text/char" in p.text, what="text after /subscribe")
        oscsend(engine_port, "/temperature", "f", "0.5")  # a change by another client is echoed
        dump.wait_for(lambda p: "/temperature f 0.5" in p.text, what="the echo of /temperature")
        # and OSCQuery (HTTP on the same port number) describes the live tree
        with urllib.request.urlopen(f"http://127.0.0.1:{engine_port}/temperature?VALUE", timeout=5) as reply:
            assert json.loads(reply.read()) == {"VALUE": [0.5]}
        with urllib.request.urlopen(f"http://127.0.0.1:{engine_port}/?HOST_INFO", timeout=5) as reply:
            assert json.loads(reply.read())["OSC_PORT"] == engine_port
    finally:
        engine.stop()
        dump.stop()
