from pathlib import Path

import pytest

from instrument.control.mapping import (Binding, MappingError, curve_value, inverse_curve, load_mapping,
                                        save_mapping)
from instrument.tree import build_tree

TREE = build_tree(["bible", "linux"])


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "map.yaml"
    path.write_text(text)
    return path


def test_a_good_file_loads_with_defaults(tmp_path):
    m = load_mapping(write(tmp_path, """bindings:
- {channel: 1, cc: 7, target: /mix/bible}
- {channel: 2, cc14: 3, target: /temperature, min: 0.2, max: 1.5, curve: exponential}
- {channel: 10, note: 36, target: /reset}
- {channel: 1, cc: 20, target: /threshold, mode: relative}
"""), TREE)
    b = m.find(("cc", 1, 7))
    assert (b.target, b.mode, b.soft_takeover, b.curve) == ("/mix/bible", "absolute", True, "linear")
    assert m.find(("note", 10, 36)).mode == "momentary" and not m.find(("note", 10, 36)).soft_takeover
    assert m.find(("cc", 1, 20)).soft_takeover is False
    assert m.find(("cc14", 2, 3)).max == 1.5


@pytest.mark.parametrize("entry, words", [
    ("{channel: 1, cc: 7, target: /volume}", "no parameter at /volume"),
    ("{channel: 1, cc: 128, target: /mix/bible}", "cc must be a whole number 0..127"),
    ("{channel: 17, cc: 1, target: /mix/bible}", "channel must be"),
    ("{channel: 1, cc14: 40, target: /mix/bible}", "cc14 must be a whole number 0..31"),
    ("{channel: 1, cc: 1, note: 3, target: /mix/bible}", "exactly one of"),
    ("{channel: 1, cc: 1, target: /mix/bible, mode: toggle}", "mode 'toggle'"),
    ("{channel: 1, cc: 1, target: /mix/bible, curve: cubic}", "curve 'cubic'"),
    ("{channel: 1, cc: 1, target: /mix/bible, min: .nan}", "min must be a number"),
    ("{channel: 1, cc: 1, target: /mix/bible, colour: red}", "unknown keys"),
    ("just text", "an entry is a mapping"),
])
def test_bad_entries_name_the_file_and_the_entry(tmp_path, entry, words):
    path = write(tmp_path, f"bindings:\n- {{channel: 1, cc: 1, target: /mix/linux}}\n- {entry}\n")
    with pytest.raises(MappingError) as info:
        load_mapping(path, TREE)
    assert str(path) in str(info.value) and "binding 2" in str(info.value) and words in str(info.value)


def test_a_duplicate_control_is_an_error(tmp_path):
    path = write(tmp_path, "bindings:\n- {channel: 1, cc: 1, target: /mix/linux}\n- {channel: 1, cc: 1, target: /mix/bible}\n")
    with pytest.raises(MappingError, match="binding 2.*same control as binding 1"):
        load_mapping(path, TREE)


@pytest.mark.parametrize("text", ["bindings: 5", ": : :", "- a list at the top"])
def test_unreadable_files_are_errors_naming_the_file(tmp_path, text):
    path = write(tmp_path, text)
    with pytest.raises(MappingError, match=str(path)):
        load_mapping(path, TREE)


def test_weights_of_styles_not_loaded_are_kept_inactive(tmp_path):
    m = load_mapping(write(tmp_path, "bindings:\n- {channel: 1, cc: 1, target: /mix/austen}\n"), TREE)
    assert not m.bindings and m.inactive[0].target == "/mix/austen"


def test_save_keeps_the_leading_comments_and_the_order(tmp_path):
    path = write(tmp_path, "# my faders\n# row one\nbindings:\n- {channel: 1, cc: 2, target: /mix/linux}\n"
                           "- {channel: 1, cc: 1, target: /mix/bible}\n")
    m = load_mapping(path, TREE)
    m.bindings.append(Binding(channel=3, cc=9, target="/temperature"))
    save_mapping(m)
    text = path.read_text()
    assert text.startswith("# my faders\n# row one\n")
    again = load_mapping(path, TREE)
    assert [b.key for b in again.bindings] == [("cc", 1, 2), ("cc", 1, 1), ("cc", 3, 9)]
    assert not list(tmp_path.glob("*.tmp"))


def test_curves_run_end_to_end_and_invert():
    for curve in ("linear", "exponential"):
        assert curve_value(curve, 0) == 0 and curve_value(curve, 1) == pytest.approx(1)
        for x in (0.1, 0.5, 0.9):
            assert inverse_curve(curve, curve_value(curve, x)) == pytest.approx(x)
    assert curve_value("exponential", 0.5) < 0.2  # fine control at the low end


def test_scaling_by_kind():
    t = TREE.params
    b = Binding(channel=1, cc=1, target="/temperature", min=0.2, max=1.0)
    assert b.scaled(t["/temperature"], 0.5) == pytest.approx(0.6)
    assert b.position(t["/temperature"], 0.6) == pytest.approx(0.5)
    assert Binding(channel=1, cc=1, target="/mode").scaled(t["/mode"], 0.9) == "product"
    assert Binding(channel=1, cc=1, target="/run").scaled(t["/run"], 0.2) is False
    rate = Binding(channel=1, cc=1, target="/rate")  # a fader covers /rate's span: slow at the bottom
    assert (rate.scaled(t["/rate"], 0.0), rate.scaled(t["/rate"], 1.0)) == (1.0, 400.0)


def test_no_surface_reaches_flat_out_by_pulling_the_rate_down():
    """/rate 0 is "as fast as it goes": pulling the TouchOSC rate fader (0..400) down once flooded
    the screen, and a value under 0 clamped to it. Flat out is now only ever an explicit 0."""
    from instrument.control import touchosc
    from instrument.screen.theme import load_theme

    tree = build_tree(["a"])
    assert tree.set("/rate", -5).value == 1.0 and tree.set("/rate", 0).value == 0.0
    root = touchosc.build(tree, ["a"], load_theme(), [])
    fader = next(n for n in root.iter("node") if n.find("properties/property[key='name']/value").text == "/rate")
    lo = float(fader.find("messages/osc/arguments/partial/scaleMin").text)
    assert lo == 1.0
    panel_row = next(e for e in tree.describe() if e["address"] == "/rate")
    assert panel_row["span"][0] == 1.0


def test_the_default_mapping_stays_off_the_controllers_general_midi_defines():
    """A keyboard's mod wheel (1), volume (7), pan (10) or expression pedal (11) must not move a
    style or pause the text: GM leaves 20-31 and 102-119 undefined."""
    import yaml

    from ..conftest import PROJECT

    entries = yaml.safe_load((PROJECT / "mappings" / "default.yaml").read_text())["bindings"]
    ccs = [e["cc"] for e in entries if "cc" in e]
    assert ccs and all(20 <= cc <= 31 or 102 <= cc <= 119 for cc in ccs), ccs
    styles = sorted(e["target"][5:] for e in entries if e["target"].startswith("/mix/"))
    recipes = yaml.safe_load((PROJECT / "models" / "recipes.yaml").read_text())
    assert styles == sorted(n for n, r in recipes.items() if r.get("ship", True))  # every style has a fader
