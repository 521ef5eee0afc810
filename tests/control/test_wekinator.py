"""Wekinator's outputs onto the mix: the router of its port, the order (styles, or the mapping
file's list), clamping, and a port that answers nothing else."""
from __future__ import annotations

import pytest

from instrument.control.mapping import MappingError, load_mapping
from instrument.control.osc import OscRouter
from instrument.control.wekinator import Wekinator
from instrument.base.oscwire import message
from instrument.tree import build_tree

NAMES = ["bible", "linux", "poe"]
SENDER = ("127.0.0.1", 6448)


def router(order=None):
    tree = build_tree(NAMES)
    r = OscRouter(tree, NAMES, values=False)
    r.add(Wekinator(tree, NAMES, order).commands())
    return tree, r


def mix(tree) -> list[float]:
    return [round(tree.get(f"/mix/{n}"), 3) for n in NAMES]


def test_output_i_moves_style_i_as_one_move_clamped_to_the_faders_range():
    tree, r = router()
    version = tree.snapshot().version
    r.handle_packet(message("/wek/outputs", 0.2, 1.4, -0.3), SENDER)
    assert mix(tree) == [0.2, 1.0, 0.0] and tree.snapshot().version == version + 1


def test_fewer_outputs_move_fewer_styles_and_extra_ones_are_ignored():
    tree, r = router()
    r.handle_packet(message("/wek/outputs", 0.5), SENDER)
    assert mix(tree) == [0.5, 0.0, 0.0]
    r.handle_packet(message("/wek/outputs", 0.1, 0.2, 0.3, 0.9, 0.9), SENDER)
    assert mix(tree) == [0.1, 0.2, 0.3]


def test_the_mapping_file_can_name_the_order_and_any_numeric_address(tmp_path):
    path = tmp_path / "map.yaml"
    path.write_text("bindings: []\nwekinator: [poe, /temperature, austen, bible]\n")
    tree = build_tree(NAMES)
    mapping = load_mapping(path, tree)
    r = OscRouter(tree, NAMES, values=False)
    r.add(Wekinator(tree, NAMES, mapping.wekinator).commands())
    r.handle_packet(message("/wek/outputs", 0.7, 1.2, 0.9, 0.4), SENDER)  # austen is not loaded: skipped
    assert mix(tree) == [0.4, 0.0, 0.7] and tree.get("/temperature") == pytest.approx(1.2)


def test_a_bad_wekinator_list_names_the_file(tmp_path):
    path = tmp_path / "map.yaml"
    path.write_text("bindings: []\nwekinator: {poe: 1}\n")
    with pytest.raises(MappingError, match="wekinator: is a list"):
        load_mapping(path, build_tree(NAMES))


def _hostile_outputs() -> bytes:
    """/wek/outputs with a string, a NaN and a True, as a careless sender could write them."""
    import struct

    return (b"/wek/outputs\0\0\0\0" + b",sfT\0\0\0\0" + b"loud\0\0\0\0" + struct.pack(">f", float("nan")))


def test_its_port_answers_only_wekinator_and_nonsense_changes_nothing():
    tree, r = router()
    for packet in (message("/mix/bible", 1.0), _hostile_outputs(), message("/describe")):
        assert all(address == "/error" for address, _ in r.handle_packet(packet, SENDER))
    assert mix(tree) == [0.0, 0.0, 0.0] and r.stats.refused == 2


def test_a_style_of_ones_own_moves_no_shipped_styles_output():
    """Outputs once followed alphabetical order: an own style 'aardvark' took output 1 from bible."""
    names = ["aardvark", *NAMES]
    tree = build_tree(names)
    r = OscRouter(tree, names, values=False)
    r.add(Wekinator(tree, names).commands())
    r.handle_packet(message("/wek/outputs", 0.2, 0.4, 0.6, 0.8), SENDER)
    assert mix(tree) == [0.2, 0.4, 0.6] and tree.get("/mix/aardvark") == pytest.approx(0.8)
