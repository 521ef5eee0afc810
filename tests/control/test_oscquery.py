"""OSCQuery: the tree as JSON over real HTTP, advertised by zeroconf."""
from __future__ import annotations

import json
import threading
import urllib.request

import pytest

from instrument.control.oscquery import OscQueryServer, namespace
from instrument.tree import build_tree

NAMES = ["bible", "linux"]


@pytest.fixture
def server():
    params = build_tree(NAMES)
    params.set("/mix/bible", 0.5)
    srv = OscQueryServer(params, osc_port=9123, port=0, name="instrument-test").start(advertise=False)
    yield srv
    srv.stop()


def get(srv, target: str):
    with urllib.request.urlopen(f"http://127.0.0.1:{srv.address[1]}{target}", timeout=5) as reply:
        return json.loads(reply.read() or b"{}")


def test_every_parameter_is_a_leaf_of_the_namespace(server):
    tree = namespace(server.params)
    for entry in server.params.describe():
        node = tree
        for part in entry["address"].strip("/").split("/"):
            node = node["CONTENTS"][part]
        assert node["FULL_PATH"] == entry["address"] and node["DESCRIPTION"] == entry["doc"]


def test_a_node_over_http_has_type_range_value_and_access(server):
    node = get(server, "/mix/bible")
    assert node == {"FULL_PATH": "/mix/bible", "TYPE": "f", "ACCESS": 3, "VALUE": [0.5],
                    "RANGE": [{"MIN": 0.0, "MAX": 1.0}], "DESCRIPTION": "weight of the bible style in the mix"}
    assert get(server, "/mode")["RANGE"] == [{"VALS": ["linear", "product"]}]
    assert get(server, "/reset")["TYPE"] == "N" and "VALUE" not in get(server, "/reset")


def test_value_queries_follow_the_live_tree(server):
    server.params.set("/mix/linux", 0.25)
    assert get(server, "/mix/linux?VALUE") == {"VALUE": [0.25]}


def test_host_info_names_the_osc_port(server):
    info = get(server, "/?HOST_INFO")
    assert info["OSC_PORT"] == 9123 and info["OSC_TRANSPORT"] == "UDP" and info["EXTENSIONS"]["VALUE"]


def test_unknown_paths_are_404(server):
    with pytest.raises(urllib.error.HTTPError) as info:
        get(server, "/volume")
    assert info.value.code == 404


def test_zeroconf_advertises_both_services_on_loopback():
    zeroconf = pytest.importorskip("zeroconf")
    params = build_tree(NAMES)
    srv = OscQueryServer(params, osc_port=9124, port=0, name="instrument-zc-test").start(advertise=True)
    found: dict[str, int] = {}
    done = threading.Event()

    class Listener:
        def add_service(self, zc, kind, name):
            info = zc.get_service_info(kind, name)
            if info and name.startswith("instrument-zc-test."):
                found[kind] = info.port
                if len(found) == 2:
                    done.set()

        update_service = remove_service = lambda *a: None

    zc = zeroconf.Zeroconf(interfaces=["127.0.0.1"])
    try:
        zeroconf.ServiceBrowser(zc, ["_oscjson._tcp.local.", "_osc._udp.local."], Listener())
        assert done.wait(15), f"found only {found}"
        assert found == {"_oscjson._tcp.local.": srv.address[1], "_osc._udp.local.": 9124}
    finally:
        zc.close()
        srv.stop()


def test_on_every_interface_both_services_are_advertised_at_the_machines_addresses():
    # zeroconf refused interfaces=None: on 0.0.0.0 (the TouchOSC setup) nothing was advertised
    zeroconf = pytest.importorskip("zeroconf")
    from instrument.base.oscwire import interface_addresses

    outside = next((ip for ip in interface_addresses() if not ip.startswith("127.")), None)
    if outside is None:
        pytest.skip("this machine has no address but loopback")
    srv = OscQueryServer(build_tree(NAMES), osc_port=9125, host="0.0.0.0", port=0,
                         name="instrument-zc-any").start(advertise=True)
    found: dict[str, list[str]] = {}
    done = threading.Event()

    class Listener:
        def add_service(self, zc, kind, name):
            info = zc.get_service_info(kind, name)
            if info and name.startswith("instrument-zc-any."):
                found[kind] = info.parsed_addresses()
                if len(found) == 2:
                    done.set()

        update_service = remove_service = lambda *a: None

    zc = zeroconf.Zeroconf(interfaces=[outside])
    try:
        zeroconf.ServiceBrowser(zc, ["_oscjson._tcp.local.", "_osc._udp.local."], Listener())
        assert done.wait(15), f"found only {found}"
        assert all(outside in addresses and "0.0.0.0" not in addresses for addresses in found.values())
    finally:
        zc.close()
        srv.stop()


def test_listening_on_every_interface_points_each_client_where_it_reached_the_engine():
    """HOST_INFO's OSC_IP and zeroconf's addresses: never 0.0.0.0, and not loopback for a phone."""
    from instrument.base.oscwire import interface_addresses

    params = build_tree(NAMES)
    srv = OscQueryServer(params, osc_port=9123, host="0.0.0.0", port=0,
                         allow=[f"{ip}/32" for ip in interface_addresses()]).start(advertise=False)
    try:
        for ip in ["127.0.0.1", *[a for a in interface_addresses() if a != "127.0.0.1"]]:
            with urllib.request.urlopen(f"http://{ip}:{srv.address[1]}/?HOST_INFO", timeout=5) as reply:
                assert json.loads(reply.read())["OSC_IP"] == ip
        advertised = srv.advertised_addresses()
        assert "0.0.0.0" not in advertised and advertised == interface_addresses()
        if any(not a.startswith("127.") for a in interface_addresses()):
            assert not any(a.startswith("127.") for a in advertised)
    finally:
        srv.stop()


def test_http_clients_are_capped_timed_out_and_held_to_the_allow_list(monkeypatch):
    import socket as socketlib
    import time

    from instrument.control import oscquery

    monkeypatch.setattr(oscquery, "READ_TIMEOUT", 1.0)
    monkeypatch.setattr(oscquery, "MAX_CLIENTS", 4)
    srv = OscQueryServer(build_tree(NAMES), osc_port=9123, port=0).start(advertise=False)
    try:
        idle = [socketlib.create_connection(srv.address, timeout=2) for _ in range(4)]  # they say nothing
        time.sleep(0.2)
        extra = socketlib.create_connection(srv.address, timeout=2)
        extra.sendall(b"GET /?HOST_INFO HTTP/1.0\r\n\r\n")
        assert extra.recv(100) == b""  # the fifth is closed at once, unanswered
        time.sleep(1.5)  # the idle ones are let go after READ_TIMEOUT
        assert get(srv, "/?HOST_INFO")["OSC_PORT"] == 9123
        for s in idle + [extra]:
            s.close()
    finally:
        srv.stop()
    outsider = next((ip for ip in __import__("instrument.base.oscwire", fromlist=["x"]).interface_addresses()
                     if not ip.startswith("127.")), None)
    if outsider is not None:  # listening on every interface, a host outside --osc-allow is refused
        srv = OscQueryServer(build_tree(NAMES), osc_port=9123, host="0.0.0.0", port=0).start(advertise=False)
        try:
            s = socketlib.create_connection((outsider, srv.address[1]), timeout=2)
            s.sendall(b"GET /?HOST_INFO HTTP/1.0\r\n\r\n")
            assert s.recv(100) == b""
            s.close()
        finally:
            srv.stop()


def test_on_loopback_nothing_is_advertised_on_the_network():
    """zeroconf listens on 0.0.0.0:5353 once started: with the default (loopback) flags it is not."""
    import threading
    import time

    from instrument.core.ensemble import Ensemble
    from instrument.engine import Engine
    from instrument.app.parts import start_oscquery

    from ..fakes import letter_model

    engine = Engine(Ensemble([letter_model("a")], ["ayes"]))
    query = start_oscquery(engine, "127.0.0.1", 0)
    try:
        time.sleep(0.3)
        assert query._zeroconf is None and not any(t.name == "zeroconf" for t in threading.enumerate())
    finally:
        query.stop()


def test_a_request_sent_a_byte_at_a_time_is_cut_off_at_READ_TIMEOUT(monkeypatch):
    """A byte every 3 s once held a slot for ever (the timeout was per read): 17 such connections
    and 16 idle WebSockets shut every new client out."""
    import socket as socketlib
    import time

    from instrument.control import oscquery

    monkeypatch.setattr(oscquery, "READ_TIMEOUT", 1.0)
    srv = OscQueryServer(build_tree(NAMES), osc_port=9123, port=0).start(advertise=False)
    try:
        slow = socketlib.create_connection(srv.address, timeout=3)
        started, closed = time.monotonic(), False
        for ch in b"GET /?HOST_INFO HTTP/1.0\r\n":  # one byte each 0.3 s: every read well inside the timeout
            try:
                slow.sendall(bytes([ch]))
            except OSError:
                closed = True
                break
            time.sleep(0.3)
            if time.monotonic() - started > 3.0:
                break
        if not closed:
            slow.settimeout(3)
            closed = slow.recv(100) == b""
        assert closed and time.monotonic() - started < 4.0
        slow.close()
    finally:
        srv.stop()


def test_one_host_cannot_take_every_connection(monkeypatch):
    import socket as socketlib
    import time

    from instrument.control import oscquery

    monkeypatch.setattr(oscquery, "MAX_PER_HOST", 3)
    srv = OscQueryServer(build_tree(NAMES), osc_port=9123, port=0).start(advertise=False)
    try:
        idle = [socketlib.create_connection(srv.address, timeout=2) for _ in range(3)]
        time.sleep(0.2)
        fourth = socketlib.create_connection(srv.address, timeout=2)
        fourth.sendall(b"GET /?HOST_INFO HTTP/1.0\r\n\r\n")
        assert fourth.recv(100) == b""  # 127.0.0.1 holds its three
        other = socketlib.create_connection(srv.address, timeout=2, source_address=("127.0.0.2", 0))
        other.sendall(b"GET /?HOST_INFO HTTP/1.0\r\n\r\n")
        assert other.recv(100).startswith(b"HTTP/1.0 200")  # another host is served
        for s in idle + [fourth, other]:
            s.close()
    finally:
        srv.stop()
