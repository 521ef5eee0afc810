"""Subscriptions over real UDP from an address that is not loopback: a handshake before any
stream, nothing large for a forged source, caps, expiry, and never the engine's own port."""
from __future__ import annotations

import socket
import time

import pytest

from instrument.base.oscwire import interface_addresses
from instrument.core.ensemble import Ensemble
from instrument.engine import Engine
from instrument.base.oscwire import decode, message
from instrument.outputs import subscriptions as subs_module
from instrument.outputs.subscriptions import CAP, HERE_SLOTS, PER_HOST, Subscriptions
from instrument.app.parts import attach_osc
from instrument.app.settings import OscSettings

from ..fakes import letter_model

OUTSIDE = next((ip for ip in interface_addresses() if not ip.startswith("127.")), None)
needs_network = pytest.mark.skipif(OUTSIDE is None, reason="this machine has no address but loopback")


def _socket(ip: str) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((ip, 0))
    s.settimeout(0.3)
    return s


def _heard(sock, seconds=0.6) -> list[tuple[str, list, int]]:
    got, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        got += [(a, args, len(data)) for a, args in decode(data)]
    return got


@pytest.fixture
def engine_on_the_network():
    engine = Engine(Ensemble([letter_model("a")], ["ayes"]))
    engine.params.set("/mix/ayes", 1.0)
    engine.params.set("/rate", 200)
    server, out = attach_osc(engine, OscSettings("0.0.0.0:0", [f"{OUTSIDE}/32"], None, 60.0, oscquery=False))
    engine.start()
    yield engine, server, out
    engine.stop()
    server.stop()


@needs_network
def test_a_client_off_this_machine_is_streamed_to_only_once_it_echoes_its_token(engine_on_the_network):
    engine, server, out = engine_on_the_network
    phone = _socket(OUTSIDE)
    engine_at = (OUTSIDE, server.address[1])
    phone.sendto(message("/subscribe"), engine_at)
    got = _heard(phone)
    assert [a for a, *_ in got] == ["/subscribe/token"]  # a token and nothing else: no text, no state
    port, token = got[0][1]
    assert port == phone.getsockname()[1]
    phone.sendto(message("/subscribe", port, float(token)), engine_at)  # TouchOSC sends numbers as floats
    got = [a for a, *_ in _heard(phone)]
    assert "/subscribed" in got and "/mix/ayes" in got and "/text/char" in got  # the state, then the text


@needs_network
def test_a_forged_subscription_sends_a_victim_one_small_token_and_nothing_else(engine_on_the_network):
    engine, server, out = engine_on_the_network
    attacker, victim = _socket(OUTSIDE), _socket(OUTSIDE)
    request = message("/subscribe", victim.getsockname()[1])  # "send your stream to the victim"
    attacker.sendto(request, (OUTSIDE, server.address[1]))
    got = _heard(victim, 1.0)
    assert [a for a, *_ in got] == ["/subscribe/token"] and got[0][2] <= 4 * len(request)
    attacker.sendto(message("/subscribe", victim.getsockname()[1], 12345), (OUTSIDE, server.address[1]))  # a guess
    assert [a for a, *_ in _heard(victim, 0.6)] == []


@needs_network
def test_a_large_answer_is_withheld_from_a_sender_that_has_not_subscribed(engine_on_the_network):
    engine, server, out = engine_on_the_network
    stranger = _socket(OUTSIDE)
    request = message("/describe")
    stranger.sendto(request, (OUTSIDE, server.address[1]))
    assert _heard(stranger) == [] and server.router.stats.withheld == 1  # 5 KB for 12 bytes: no
    stranger.sendto(message("/temperature"), (OUTSIDE, server.address[1]))
    assert [a for a, *_ in _heard(stranger)] == ["/temperature"]  # a small answer is fine
    stranger.sendto(message("/subscribe"), (OUTSIDE, server.address[1]))
    port, token = _heard(stranger)[0][1]
    stranger.sendto(message("/subscribe", port, token), (OUTSIDE, server.address[1]))
    _heard(stranger)
    stranger.sendto(request, (OUTSIDE, server.address[1]))
    assert "/describe" in [a for a, *_ in _heard(stranger)]  # once it has shown it receives


def test_the_engines_own_port_is_never_a_target(engine_on_the_network):
    engine, server, out = engine_on_the_network
    replies = out.subscribe_handler("/subscribe", [server.address[1]], ("127.0.0.1", 5555))
    assert replies == [("/subscribe/refused", (server.address[1], f"port {server.address[1]} is the engine's own"))]
    assert ("127.0.0.1", server.address[1]) not in out.targets


def test_subscriptions_are_capped_and_expire_unless_their_host_is_heard_from():
    now = {"t": 0.0}
    subs = Subscriptions(static=[("10.0.0.1", 9001)], clock=lambda: now["t"])
    for k in range(subs_module.CAP - subs_module.HERE_SLOTS):  # the rest are kept for this machine
        assert subs.refusal((f"10.0.1.{k}", 9000)) is None
        subs.add((f"10.0.1.{k}", 9000))
    assert "subscribed already" in subs.refusal(("10.0.2.1", 9000))
    now["t"] = subs_module.LIFETIME - 1
    subs.heard("10.0.1.0")
    now["t"] = subs_module.LIFETIME + 1
    assert subs.targets() == [("10.0.0.1", 9001), ("10.0.1.0", 9000)]  # the static one, and the one heard from
    assert subs.verified("10.0.1.0") and not subs.verified("10.0.1.5") and subs.verified("127.0.0.1")


def _subscribe(subs: Subscriptions, target) -> bool:
    if subs.refusal(target) is not None:
        return False
    subs.add(target)
    return True


def test_one_host_holds_at_most_PER_HOST_subscriptions():
    """16 ports of one host re-subscribing every 30 s kept the panel on 127.0.0.1 refused for 272 s."""
    subs = Subscriptions()
    taken = [_subscribe(subs, ("203.0.113.7", 9000 + i)) for i in range(16)]
    assert sum(taken) == PER_HOST
    assert "holds" in subs.refusal(("203.0.113.7", 9100))
    assert _subscribe(subs, ("127.0.0.1", 9001))  # the panel gets in
    assert _subscribe(subs, ("203.0.113.7", 9000))  # a target already subscribed renews


def test_other_machines_leave_room_for_this_one():
    subs = Subscriptions()
    hosts = [f"203.0.113.{i}" for i in range(1, 40)]
    taken = sum(_subscribe(subs, (h, 9000 + p)) for h in hosts for p in range(PER_HOST))
    assert taken == CAP - HERE_SLOTS
    assert all(_subscribe(subs, ("127.0.0.1", 9001 + i)) for i in range(HERE_SLOTS))
    assert subs.refusal(("127.0.0.1", 9999)) is not None  # and the whole is still capped
    assert len(subs.targets()) == CAP
