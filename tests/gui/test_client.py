"""The panel's OSC client against real engines: it notices an engine gone, and takes up with the
one that comes back on the same port (no display needed)."""
from __future__ import annotations

from instrument.gui.client import EngineClient

from ..fakes import write_letter_models
from ..polling import wait_for
from ..realparts import free_udp_port, instrument


def _engine(models, port):
    proc = instrument("play", "--mix", "ayes=1", "--rate", "100", "--osc-listen", f"127.0.0.1:{port}",
                      "--no-oscquery", "--no-midi", models=models)
    proc.wait_for(lambda p: "a" in p.text, what="the engine's text")
    return proc


def test_an_engine_that_goes_is_reported_lost_and_one_that_comes_back_is_followed(tmp_path):
    models = write_letter_models(tmp_path / "models", {"ayes": "a", "bees": "b"})
    port = free_udp_port()
    first = _engine(models, port)
    client = EngineClient(("127.0.0.1", port))
    try:
        assert client.wait_for_tree() and not client.lost
        assert wait_for(lambda: client.text_total > 20)
        first.stop()
        assert wait_for(lambda: client.lost, seconds=10)
        second = _engine(models, port)
        try:
            heard = client.text_total
            assert wait_for(lambda: not client.lost, seconds=10)
            assert wait_for(lambda: client.text_total > heard + 20, seconds=10)  # subscribed again
        finally:
            second.stop()
    finally:
        client.close()
