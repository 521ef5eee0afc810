"""The OSC router on plain bytes: no sockets, every kind of good and bad packet."""
from __future__ import annotations

import json
import struct

import pytest

from instrument.control.osc import OscRouter
from instrument.base.oscwire import bundle, message
from instrument.tree import build_tree

NAMES = ["shakespeare", "bible", "linux"]
ME = ("127.0.0.1", 5555)


@pytest.fixture
def router() -> OscRouter:
    return OscRouter(build_tree(NAMES), NAMES)


def test_every_parameter_is_set_at_its_own_address(router):
    for entry in router.params.describe():
        assert entry["address"] in router.params  # the router knows no list of its own
    router.handle_packet(message("/mix/bible", 0.7), ME)
    router.handle_packet(message("/temperature", 0.9), ME)
    router.handle_packet(message("/mode", "product"), ME)
    router.handle_packet(message("/run", 0), ME)
    router.handle_packet(message("/prime", "the house "), ME)
    router.handle_packet(message("/reset"), ME)
    snap = router.params.snapshot()
    assert (snap["/mix/bible"], snap["/temperature"]) == (pytest.approx(0.7), pytest.approx(0.9))  # float32 on the wire
    assert (snap["/mode"], snap["/run"], snap["/prime"], snap["/reset"]) == ("product", False, "the house ", 1)


def test_a_message_with_no_arguments_answers_the_value(router):
    router.handle_packet(message("/mix/linux", 0.25), ME)  # exact in float32
    assert router.handle_packet(message("/mix/linux"), ME) == [("/mix/linux", (0.25,))]


def test_mix_sets_every_weight_in_model_order(router):
    router.handle_packet(message("/mix", 0.125, 0.25, 0.5), ME)
    assert router.params.snapshot().mix(NAMES) == [0.125, 0.25, 0.5]
    assert router.handle_packet(message("/mix"), ME) == [("/mix", (0.125, 0.25, 0.5))]


def raw(address: str, tags: str, *values) -> bytes:
    """A message encoded by hand, so it can carry what our encoder would never send (NaN, inf)."""
    pad = lambda b: b + b"\0" * (4 - len(b) % 4)
    body = b"".join(struct.pack(">f", v) if t == "f" else pad(v.encode()) for t, v in zip(tags, values))
    return pad(address.encode()) + pad(("," + tags).encode()) + body


@pytest.mark.parametrize("packet", [raw("/mix", "ff", 0.5, 0.5), raw("/mix", "fff", 0.1, float("nan"), 0.3),
                                    raw("/mix", "fsf", 0.1, "x", 0.2)], ids=["two", "nan", "text"])
def test_a_bad_mix_changes_no_weight(router, packet):
    router.handle_packet(message("/mix", 0.5, 0.5, 0.5), ME)
    router.handle_packet(packet, ME)
    assert router.params.snapshot().mix(NAMES) == [0.5, 0.5, 0.5]
    assert router.stats.refused == 1


def test_describe_answers_the_whole_tree_as_json(router):
    [(address, (text,))] = router.handle_packet(message("/describe"), ME)
    tree = json.loads(text)
    assert address == "/describe" and [t["address"] for t in tree][:3] == [f"/mix/{n}" for n in NAMES]
    assert all({"address", "kind", "range", "value", "doc"} <= set(t) for t in tree)


def test_bundles_apply_every_message(router):
    router.handle_packet(bundle([message("/mix/bible", 0.25), bundle([message("/mix/linux", 0.75)])]), ME)
    assert router.params.snapshot().mix(NAMES) == [0.0, 0.25, 0.75]


def _nested_bundle(depth: int) -> bytes:
    packet = message("/mix/bible", 0.9)
    for _ in range(depth):
        packet = bundle([packet])
    return packet


BAD_PACKETS = {
    "truncated": message("/mix/bible", 0.9)[:-3],
    "bad type tag": b"/mix/bible\0\0,z\0\0" + struct.pack(">f", 0.9),
    "string for a float": message("/mix/bible", "loud"),
    "NaN": raw("/mix/bible", "f", float("nan")),
    "infinity": raw("/temperature", "f", float("inf")),
    "trailing garbage": message("/mix/bible", 0.9) + b"\0\0\0\1",
    "unknown address": message("/volume", 0.9),
    "no address": b"\0\0\0\0,f\0\0" + struct.pack(">f", 0.9),
    "deep bundle": _nested_bundle(2000),
    "64 KB of junk": bytes(range(256)) * 256,
    "empty": b"",
    "bundle with a lying size": b"#bundle\0" + struct.pack(">Q", 1) + struct.pack(">i", 9999) + b"/x\0\0",
}


@pytest.mark.parametrize("name", list(BAD_PACKETS))
def test_bad_packets_change_nothing_and_are_counted(router, name):
    before = router.params.snapshot()
    replies = router.handle_packet(BAD_PACKETS[name], ME)
    assert len(replies) <= 1 and all(address == "/error" for address, _ in replies)  # told why, nothing else
    assert router.params.snapshot().values == before.values
    assert router.stats.refused >= 1


def test_refusals_are_logged_at_a_limited_rate(router, caplog):
    for _ in range(500):
        router.handle_packet(b"junk", ME)
    assert router.stats.refused == 500
    assert len([r for r in caplog.records if "OSC refused" in r.message]) <= 2


def test_a_modules_commands_are_answered_and_an_address_cannot_be_answered_twice(router):
    from instrument.commands import Command

    router.add([Command("/ping", "", "answers /pong", lambda address, args, sender: [("/pong", (sender[1],))])])
    assert router.handle_packet(message("/ping"), ME) == [("/pong", (5555,))]
    with pytest.raises(ValueError, match="answered twice"):
        router.add([Command("/temperature", "", "a command over a parameter", lambda *a: [])])


def test_address_patterns_reach_every_parameter_they_match():
    from instrument.control.osc import OscRouter
    from instrument.base.oscwire import message
    from instrument.tree import build_tree

    names = ["austen", "bible", "baudelaire", "linux"]
    router = OscRouter(build_tree(names), names)
    send = lambda address, *args: router.handle_packet(message(address, *args), ("127.0.0.1", 9))
    send("/mix/*", 0.5)  # a fader group
    assert all(router.params.get(f"/mix/{n}") == 0.5 for n in names)
    send("/mix/{bible,austen}", 0.9)
    send("/mix/b[a-c]*", 0.1)  # baudelaire
    send("/mix/?inux", 0.3)
    send("/mix/[!ab]*", 0.7)  # linux, not the a's and b's
    values = {n: router.params.get(f"/mix/{n}") for n in names}
    assert values == pytest.approx({"austen": 0.9, "bible": 0.9, "baudelaire": 0.1, "linux": 0.7})
    assert sorted(a for a, _ in send("/mix/*")) == [f"/mix/{n}" for n in sorted(names)]  # a query of each


@pytest.mark.parametrize("pattern", ["/mix/[abc", "/mix/{a,b", "/mix/a]", "/" + "*" * 9, "/" + "?" * 300, "/mix/[z-a]"])
def test_a_malformed_or_costly_pattern_is_refused_and_changes_nothing(pattern):
    import time

    from instrument.control.osc import OscRouter
    from instrument.base.oscwire import message
    from instrument.tree import build_tree

    router = OscRouter(build_tree(["bible"]), ["bible"])
    t = time.monotonic()
    assert [a for a, _ in router.handle_packet(message(pattern, 0.5), ("127.0.0.1", 9))] == ["/error"]
    assert router.stats.refused == 1 and router.params.get("/mix/bible") == 0.0 and time.monotonic() - t < 0.1


def test_a_bundle_of_patterns_addresses_at_most_MAX_TARGETS_parameters():
    """A 65 KB bundle of 3,249 `/mix/*` (55,000 targets at 17 styles) held the OSC thread for a
    second; a datagram now reaches at most MAX_TARGETS parameters, and says it dropped the rest."""
    from instrument.base.oscwire import bundle, message
    from instrument.control.osc import MAX_TARGETS

    names = [f"s{i}" for i in range(17)]
    router = OscRouter(build_tree(names), names)
    router.handle_packet(bundle([message("/mix/*", 0.5)] * 3249), ("127.0.0.1", 5))
    writes = router.params.snapshot().writes
    assert sum(writes[f"/mix/{n}"] for n in names) == (MAX_TARGETS // 17) * 17
    assert router.stats.refused == 1
    router.handle_packet(bundle([message("/mix/*", 0.25)]), ("127.0.0.1", 5))  # the next packet is heard
    assert router.params.get("/mix/s16") == 0.25


def test_a_flood_of_primes_is_one_every_TEXT_GAP_seconds(router, monkeypatch):
    """Ten 10,000-character primes a second from one client left the text at 0.008 of its rate:
    every prime has every style re-read the text. Over OSC a text is taken once per TEXT_GAP."""
    from instrument.control import osc

    now = [1000.0]
    monkeypatch.setattr(osc.time, "monotonic", lambda: now[0])
    for _ in range(10):
        router.handle_packet(message("/prime", "x" * 10_000), ME)
    assert router.params.snapshot().writes["/prime"] == 1 and router.stats.refused == 9
    now[0] += osc.TEXT_GAP
    router.handle_packet(message("/prime", "the house "), ME)
    assert router.params.get("/prime") == "the house "


def test_a_refusal_goes_back_to_its_sender_as_an_error_at_most_ten_a_second_per_host():
    from instrument.base.oscwire import message
    from instrument.control.osc import ERRORS_PER_SECOND, OscRouter
    from instrument.tree import build_tree

    router = OscRouter(build_tree(["bible"]), ["bible"])
    now = {"t": 100.0}
    router._errors.clock = lambda: now["t"]
    assert router.handle_packet(message("/temperature", "hot"), ME) == [
        ("/error", ("/temperature", router.params.set("/temperature", "hot").message))]
    assert router.handle_packet(message("/nowhere", 1.0), ME) == [("/error", ("/nowhere", "no parameter at '/nowhere'"))]
    flood = [router.handle_packet(message("/nowhere", 1.0), ME) for _ in range(50)]
    assert sum(map(len, flood)) == ERRORS_PER_SECOND - 2  # the rest of this second's ten
    assert router.handle_packet(message("/nowhere", 1.0), ("127.0.0.2", 9)) != []  # another host has its own
    now["t"] += 1.0
    assert router.handle_packet(message("/nowhere", 1.0), ME) != []  # and a new second new ones
    assert router.stats.refused == 54


def test_a_bundle_is_decoded_no_further_than_the_router_reads():
    """Every message reaches a parameter at least, so past MAX_TARGETS + 1 nothing is read (the
    3,249-message bundle cost 6 ms a datagram to decode whole; a flood of them slowed the text)."""
    from instrument.base.oscwire import bundle, decode, message

    flat = bundle([message("/mix/*", 0.5)] * 3249)
    assert len(decode(flat)) == 3249 and len(decode(flat, limit=257)) == 257
    nested = bundle([bundle([message("/a", 1.0)] * 200)] * 3)
    assert len(decode(nested, limit=257)) == 257 and len(decode(nested)) == 600
    assert decode(message("/a", 1.0), limit=1) == [("/a", [1.0])]


def test_another_machine_gets_its_seconds_allowance_of_datagrams_and_bytes_and_this_one_none():
    from instrument.control.allowance import PerSecond
    from instrument.control.osc import BYTES_PER_SECOND, PACKETS_PER_SECOND, OscServer

    now = [100.0]
    allowance = PerSecond(10, clock=lambda: now[0])
    assert [allowance.allow("h") for _ in range(12)] == [True] * 10 + [False] * 2
    assert allowance.allow("other") and not allowance.allow("h", 1)
    now[0] += 1.0
    assert allowance.allow("h", 10) and not allowance.allow("h")  # a new second, a new allowance
    assert not PerSecond(10).allow("h", 11)  # more than a second's worth is never taken

    router = OscRouter(build_tree(["a"]), ["a"])
    server = OscServer(router, "127.0.0.1", 0)
    server._packets.clock = server._bytes.clock = lambda: 5.0  # one second throughout, however slow the loop
    try:
        took = sum(server.within_allowance("192.0.2.7", 40) for _ in range(PACKETS_PER_SECOND + 50))
        assert took == PACKETS_PER_SECOND
        assert sum(server.within_allowance("192.0.2.8", 65_000) for _ in range(40)) == BYTES_PER_SECOND // 65_000
        assert all(server.within_allowance("127.0.0.1", 65_000) for _ in range(5000))  # the panel: never held back
    finally:
        server.stop()
