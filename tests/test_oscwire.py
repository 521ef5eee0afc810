"""The OSC encoder against an independent implementation (python-osc's parser) and our decoder."""
from __future__ import annotations

import math

import pytest
from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_message import OscMessage

from instrument.base.oscwire import bundle, decode, message

CASES = [
    ("/run", ()),
    ("/mix/bible", (0.75,)),
    ("/seed", (42,)),
    ("/prime", ("the house ",)),
    ("/prime", ("abc",)),  # a string whose length is 3 mod 4: one zero pads it
    ("/prime", ("abcd",)),  # 0 mod 4: four zeros
    ("/text/char", ("é",)),
    ("/frame/dist", (b"",)),
    ("/frame/dist", (b"\x01\x02\x03",)),
    ("/frame/dist", (bytes(range(128)), "a,b", 1.5, 2.5)),
    ("/frame", (7, "x", "bible", 0.25, 0.5, 0.125)),
]


@pytest.mark.parametrize("address,args", CASES)
def test_python_osc_reads_what_we_write(address, args):
    parsed = OscMessage(message(address, *args))
    assert parsed.address == address
    assert list(parsed.params) == list(args)


@pytest.mark.parametrize("address,args", CASES)
def test_our_decoder_reads_what_we_write(address, args):
    assert decode(message(address, *args)) == [(address, list(args))]


def test_bools_go_as_floats_and_non_finite_floats_as_zero():
    assert decode(message("/a", True, False, math.nan, math.inf)) == [("/a", [1.0, 0.0, 0.0, 0.0])]


def test_ints_beyond_32_bits_go_as_64_bit_ints():
    assert OscMessage(message("/seed", 2**40)).params == [2**40]


def test_bundles_hold_every_message_in_order():
    parts = [message("/a", 1), message("/b", "two"), message("/c", 3.0)]
    parsed = OscBundle(bundle(parts))
    assert [(m.address, m.params) for m in parsed] == [("/a", [1]), ("/b", ["two"]), ("/c", [3.0])]
