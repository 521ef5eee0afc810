"""OSCQuery's LISTEN: a real WebSocket client (the websockets library) on the HTTP port, values
pushed as OSC messages as they change, and clients that misbehave let go."""
from __future__ import annotations

import json
import socket
import struct
import time
import urllib.request

import pytest

from instrument.control.oscquery import OscQueryServer
from instrument.base.oscwire import decode
from instrument.tree import build_tree

websockets = pytest.importorskip("websockets.sync.client", reason="websockets (the test extra) is not installed")


@pytest.fixture
def server():
    tree = build_tree(["bible", "linux"])
    srv = OscQueryServer(tree, osc_port=9123, port=0).start(advertise=False)
    yield srv
    srv.stop()


def url(srv) -> str:
    return f"ws://127.0.0.1:{srv.address[1]}/"


def pushed(ws, seconds: float = 0.5) -> list:
    out = []
    try:
        while True:
            out += decode(ws.recv(timeout=seconds))
    except TimeoutError:
        return out


def listen(ws, address: str) -> None:
    ws.send(json.dumps({"COMMAND": "LISTEN", "DATA": address}))
    time.sleep(0.1)  # the server reads it on the client's thread; a change before that is not the client's


def test_host_info_says_listen_is_served(server):
    with urllib.request.urlopen(f"http://127.0.0.1:{server.address[1]}/?HOST_INFO", timeout=5) as reply:
        assert json.loads(reply.read())["EXTENSIONS"]["LISTEN"] is True


def test_a_listened_address_is_pushed_as_an_osc_message_and_the_others_are_not(server):
    with websockets.connect(url(server)) as ws:
        listen(ws, "/mix/bible")
        server.params.set("/mix/linux", 0.3)
        server.params.set("/mix/bible", 0.7)
        got = pushed(ws)
        assert [a for a, _ in got] == ["/mix/bible"] and got[0][1][0] == pytest.approx(0.7)
        ws.send(json.dumps({"COMMAND": "IGNORE", "DATA": "/mix/bible"}))
        time.sleep(0.1)
        server.params.set("/mix/bible", 0.1)
        assert pushed(ws, 0.3) == []


def test_a_flood_of_moves_is_pushed_coalesced_ending_on_the_last_value(server):
    with websockets.connect(url(server)) as ws:
        listen(ws, "/mix/bible")
        for i in range(2000):
            server.params.set("/mix/bible", (i % 100) / 100)
        server.params.set("/mix/bible", 0.42)
        got = pushed(ws)
        assert got[-1][1][0] == pytest.approx(0.42) and len(got) < 2001


def test_two_clients_each_hear_what_they_listen_to(server):
    with websockets.connect(url(server)) as one, websockets.connect(url(server)) as two:
        listen(one, "/mix/bible")
        listen(two, "/temperature")
        server.params.set("/mix/bible", 0.9)
        server.params.set("/temperature", 1.1)
        assert [a for a, _ in pushed(one)] == ["/mix/bible"]
        assert [a for a, _ in pushed(two)] == ["/temperature"]


def _raw_upgrade(srv) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", srv.address[1]), timeout=5)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    reply = sock.recv(4096)
    assert reply.startswith(b"HTTP/1.1 101") and b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in reply  # RFC 6455's example
    return sock


@pytest.mark.parametrize("hostile", [
    struct.pack("!BB", 0x81, 5) + b"hello",                                # unmasked: a client must mask
    struct.pack("!BBQ", 0x81, 0xFF, 1 << 40) + b"\0\0\0\0",               # a terabyte announced
])
def test_a_client_that_breaks_the_protocol_is_closed_and_the_others_play_on(server, hostile):
    bad = _raw_upgrade(server)
    bad.sendall(hostile)
    closing = bad.recv(16)
    assert closing[:1] == b"\x88" and struct.unpack("!H", closing[2:4])[0] == 1002
    bad.close()
    with websockets.connect(url(server)) as ws:
        listen(ws, "/mix/bible")
        server.params.set("/mix/bible", 0.6)
        assert pushed(ws)[-1][1][0] == pytest.approx(0.6)


def test_a_listen_to_nothing_or_nonsense_changes_nothing(server):
    with websockets.connect(url(server)) as ws:
        ws.send(json.dumps({"COMMAND": "LISTEN", "DATA": "/nowhere"}))
        ws.send("not json at all")
        ws.send(json.dumps({"COMMAND": "FORMAT_DISK", "DATA": "/"}))
        listen(ws, "/mix/linux")
        server.params.set("/mix/linux", 0.2)
        assert [a for a, _ in pushed(ws)] == ["/mix/linux"]


def test_stopping_the_server_ends_its_websocket_clients(server):
    with websockets.connect(url(server)) as ws:
        listen(ws, "/mix/bible")
        server.stop()
        from websockets.exceptions import ConnectionClosed

        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)


@pytest.mark.parametrize("size", [0, 1, 3, 4, 5, 9, 16384])
def test_unmasking_is_the_rfc_xor_at_any_length(size):
    import os

    from instrument.control.oscquery_ws import unmask

    payload, mask = os.urandom(size), os.urandom(4)
    assert unmask(payload, mask) == bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def test_a_client_pouring_frames_is_read_no_faster_than_its_allowance(server):
    """16 KB masked frames sent as fast as TCP takes them: the server reads READ_PER_SECOND of them
    a second and TCP holds the rest, so the sender is soon blocked (it took the GIL, and a third
    of the text, when every byte was read at once)."""
    from instrument.control.oscquery_ws import READ_PER_SECOND

    pour = _raw_upgrade(server)
    pour.settimeout(0.2)
    payload = bytes(16384)
    frame = struct.pack("!BBH", 0x82, 0x80 | 126, len(payload)) + b"\0\0\0\0" + payload  # mask 0: unchanged
    sent, began = 0, time.monotonic()
    while time.monotonic() - began < 2.0:
        try:
            sent += pour.send(frame)
        except (socket.timeout, BlockingIOError):
            continue
    # what TCP's buffers hold (a few MB on loopback) and three seconds' allowance, not hundreds of MB
    assert sent < 3 * READ_PER_SECOND + 16 * 1024 * 1024, sent
    with websockets.connect(url(server)) as ws:  # and another client is served meanwhile
        listen(ws, "/temperature")
        server.params.set("/temperature", 0.5)
        assert [a for a, _ in pushed(ws)] == ["/temperature"]
    pour.close()
