"""The panel's part in a band, without a window: the morph pad's point goes to Wekinator as
/wek/inputs (heard on a real UDP socket), and the Link session is said as the engine reports it."""
from __future__ import annotations

import socket

import pytest

from instrument.gui.client import EngineClient
from instrument.gui.panel import Panel
from instrument.base.oscwire import decode
from instrument.screen.theme import load_theme


@pytest.fixture
def wekinator():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    yield sock
    sock.close()


@pytest.fixture
def client():
    c = EngineClient(("127.0.0.1", 9))  # nobody there: the panel's sends go nowhere, and that is fine
    c.tree = [{"address": f"/mix/{n}", "kind": "float", "range": [0, 1], "tags": ["style"]} for n in ("ayes", "bees")]
    yield c
    c.close()


def test_the_pads_point_goes_to_wekinator_as_its_inputs(client, wekinator):
    panel = Panel(client, load_theme(), wekinator.getsockname())
    panel._pad_moved(0.5, -0.5)  # right of the middle and below it
    (address, args), = decode(wekinator.recv(1024))
    assert address == "/wek/inputs" and args == pytest.approx([0.75, 0.25])


def test_the_link_session_is_said_as_the_engine_reports_it(client):
    panel = Panel(client, load_theme())
    assert panel.link_message() == ""
    client.values.update({"/link/on": True, "/link/peers": 1, "/link/tempo": 128.0})
    assert panel.link_message() == "Link: 1 peer, 128.0 bpm"
