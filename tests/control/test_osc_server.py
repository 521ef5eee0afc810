"""The UDP server in front of the router, on a real loopback socket."""
from __future__ import annotations

import socket

from instrument.control.osc import OscRouter, OscServer
from instrument.base.oscwire import message
from instrument.tree import build_tree

from ..polling import wait_for

NAMES = ["shakespeare", "bible"]


def test_stopping_the_server_ends_its_thread_at_once():
    """A blocked read must wake when the piece ends: close() alone leaves recvfrom waiting (Linux),
    and `instrument play --chars N` then hung on for the join's timeout before it exited."""
    params = build_tree(NAMES)
    server = OscServer(OscRouter(params, NAMES), "127.0.0.1", 0).start()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        sender.sendto(message("/temperature", 0.5), server.address)
        assert wait_for(lambda: params.get("/temperature") == 0.5)  # the thread is serving, then blocks
    server.stop()
    assert not server._thread.is_alive()


def test_a_refused_message_is_answered_with_an_error_on_the_wire():
    """A client on its own UDP port sends a wrong type and an unknown address: each comes back as
    /error with its address and the reason; the value it tried to set is unchanged."""
    from instrument.base.oscwire import decode

    params = build_tree(NAMES)
    server = OscServer(OscRouter(params, NAMES), "127.0.0.1", 0).start()
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.bind(("127.0.0.1", 0))
            client.settimeout(5)
            client.sendto(message("/temperature", "hot"), server.address)
            (address, args), = decode(client.recv(65536))
            assert address == "/error" and args[0] == "/temperature" and "hot" in args[1]
            client.sendto(message("/tempo", 1.0), server.address)
            assert decode(client.recv(65536)) == [("/error", ["/tempo", "no parameter at '/tempo'"])]
        assert params.get("/temperature") == 0.8
    finally:
        server.stop()
