"""The TouchOSC layout: read back, every control plays an address the engine answers."""
from __future__ import annotations

from instrument.control import touchosc
from instrument.control.osc import OscRouter
from instrument.app.parts import map_control_messages
from instrument.tree import build_tree
from instrument.screen.theme import load_theme

from ..conftest import PROJECT

NINE = ["austen", "baudelaire", "bible", "latex", "linux", "nietzsche", "python", "shakespeare", "speeches"]


class _Stub:  # learn and presets are not exercised here; only the addresses the router answers
    mapping = None


def answered(names: list[str]) -> set[str]:
    tree = build_tree(names)
    router = OscRouter(tree, names)
    map_control_messages(router, _Stub(), _Stub())
    from instrument.outputs.osc_out import OscOut

    router.add(OscOut(names).commands())  # as attach_osc does
    return set(tree.params) | set(router.commands)


def test_a_generated_layout_reads_back_and_every_address_is_answered(tmp_path):
    names = ["bible", "linux", "mine"]
    path = tmp_path / "x.tosc"
    touchosc.write(touchosc.build(build_tree(names), names, load_theme(), ["salon", "all voices"]), path)
    root = touchosc.read(path)
    sent = touchosc.addresses(root)
    assert set(sent) <= answered(names)
    assert {f"/mix/{n}" for n in names} <= set(sent) and {"/temperature", "/mode", "/run", "/morph"} <= set(sent)
    faders = {n.find("properties/property[key='name']/value").text: n for n in root.iter("node") if n.get("type") == "FADER"}
    bible = faders["/mix/bible"].find("properties/property[key='color']/value")
    assert [round(float(bible.findtext(c)) * 255) for c in "rgb"] == list(load_theme().styles["bible"])
    temperature = faders["/temperature"].find("messages/osc/arguments/partial")
    assert (float(temperature.findtext("scaleMin")), float(temperature.findtext("scaleMax"))) == (0.05, 3.0)
    presets = [p.findtext("value") for p in root.iter("arguments") for p in p.iter("partial") if p.findtext("type") == "CONSTANT"]
    assert presets == ["salon", "all voices"]


def test_the_mode_radio_listens_for_the_number_the_engine_echoes_and_the_layout_shows_line_and_preset(tmp_path):
    names = ["bible", "linux"]
    root = touchosc.build(build_tree(names), names, load_theme(), [])
    heard = set(touchosc.listens(root))
    assert {"/mode/index", "/text/line", "/preset/current"} <= heard and "/mode" not in heard
    radio = next(n for n in root.iter("node") if n.get("type") == "RADIO")
    sends = [o for o in radio.iter("osc") if o.findtext("send") == "1"]
    assert [o.find("arguments/partial").findtext("conversion") for o in sends] == ["INTEGER"]
    script = root.find("node/properties/property[key='script']/value").text
    assert "/subscribe/token" in script and "sendOSC('/subscribe', arguments[1].value, arguments[2].value)" in script


def test_the_shipped_layout_covers_every_shipped_style():
    from instrument.app.library import installed_names

    shipped = installed_names()
    root = touchosc.read(PROJECT / "mappings" / "instrument.tosc")
    sent = set(touchosc.addresses(root))
    assert {f"/mix/{n}" for n in shipped} <= sent and sent <= answered(shipped)


def test_seventeen_styles_each_get_a_fader_on_one_screen_none_overlapping():
    names = ["austen", "baudelaire", "beeton", "bible", "chilcot", "elisp", "holmes", "javascript", "latex", "linux",
             "lovesongs", "moby", "nietzsche", "poe", "python", "shakespeare", "speeches"]
    root = touchosc.build(build_tree(names), names, load_theme(), [])
    frames = []
    for node in root.iter("node"):
        if node.get("type") in ("FADER", "RADIO", "BUTTON", "XY"):
            r = node.find("properties/property[key='frame']/value")
            frames.append(tuple(int(r.findtext(k)) for k in "xywh"))
    styles = [n for n in root.iter("node") if n.get("type") == "FADER" and
              n.find("properties/property[key='name']/value").text.startswith("/mix/")]
    assert len(styles) == 17
    for i, (x, y, w, h) in enumerate(frames):
        assert 0 <= x and x + w <= touchosc.W and 0 <= y and y + h <= touchosc.H and w >= 40 and h >= 40
        for (x2, y2, w2, h2) in frames[i + 1:]:
            assert x + w <= x2 or x2 + w2 <= x or y + h <= y2 or y2 + h2 <= y, "two controls overlap"


def _frames(root) -> list[tuple[str, tuple]]:
    out = []
    for node in root.iter("node"):
        if node.get("type") == "GROUP":
            continue
        r = node.find("properties/property[key='frame']/value")
        name = node.find("properties/property[key='name']/value").text
        out.append((name, tuple(int(r.findtext(k)) for k in "xywh")))
    return out


def test_no_two_controls_or_labels_of_the_shipped_layout_touch_and_every_label_fits():
    """Read from the .tosc's geometry: a preset button once covered the play button and its label,
    /preset/current a preset, the morph pad the /text/line strip, and labels were cut ("javascrip")."""
    from instrument.app.library import installed_names
    from instrument.base.paths import presets_dir
    from instrument.control.presets import Presets

    names = installed_names()
    presets = Presets(build_tree(names), presets_dir()).bank()  # as `instrument touchosc` reads the bank
    root = touchosc.build(build_tree(names), names, load_theme(), presets)
    frames = _frames(root)
    for i, (a, (x, y, w, h)) in enumerate(frames):
        assert 0 <= x and x + w <= touchosc.W and 0 <= y and y + h <= touchosc.H, a
        for b, (x2, y2, w2, h2) in frames[i + 1:]:
            assert x + w <= x2 or x2 + w2 <= x or y + h <= y2 or y2 + h2 <= y, f"{a} overlaps {b}"
    shown = {n.find("values/value[key='text']/default").text for n in root.iter("node") if n.get("type") == "LABEL"}
    assert set(names) <= shown and set(presets[:12]) <= shown  # whole, not cut
    for node in root.iter("node"):
        if node.get("type") == "LABEL":
            size = int(node.find("properties/property[key='textSize']/value").text)
            width = int(node.find("properties/property[key='frame']/value").findtext("w"))
            text = node.find("values/value[key='text']/default").text
            assert len(text) * touchosc.CHAR_WIDTH * size <= width or node.find("messages/osc") is not None, text
