"""A TouchOSC layout generated from the parameter tree and the loaded styles:
`instrument touchosc --out mappings/instrument.tosc`.

A .tosc file is zlib-compressed XML (`<lexml version='3'>`, nodes with properties, values and OSC
messages). tosclib (a package for this) was judged and not taken: it pins old numpy and targets
editing existing files; the few node kinds needed here are written directly with ElementTree.
Every control sends to, and listens on, an address the engine answers, so TouchOSC's faders follow
the engine's echo.
"""
from __future__ import annotations

import uuid
import zlib
import xml.etree.ElementTree as ET
from pathlib import Path

from ..params import ParamTree, mix_address
from ..screen.theme import Theme

W, H = 1280, 800
FADERS_PER_ROW = 9   # a phone's finger needs ~80 px: more styles go into more rows, all on one screen
FADER_AREA = 450     # px of height the style faders share

# The engine's subscription handshake (docs/osc.md), in TouchOSC's Lua: echo the token it sends,
# and subscribe again every 30 s, so an idle phone keeps hearing the piece.
HANDSHAKE = """-- instrument: answer the engine's subscription token (docs/osc.md)
local last = 0
function onReceiveOSC(message, connections)
  local path, arguments = message[1], message[2]
  if path == '/subscribe/token' and #arguments >= 2 then
    sendOSC('/subscribe', arguments[1].value, arguments[2].value)
  end
end
function update()
  if getMillis() - last > 30000 then
    last = getMillis()
    sendOSC('/subscribe')
  end
end
"""


def _prop(parent, kind: str, key: str, value) -> None:
    p = ET.SubElement(parent, "property", type=kind)
    ET.SubElement(p, "key").text = key
    v = ET.SubElement(p, "value")
    if kind == "r":
        for k, n in zip("xywh", value):
            ET.SubElement(v, k).text = str(int(n))
    elif kind == "c":
        for k, n in zip("rgba", value):
            ET.SubElement(v, k).text = f"{n:.3f}"
    else:
        v.text = str(int(value)) if kind == "b" else str(value)


def _partial(parent, kind: str, conversion: str, value: str, lo=0.0, hi=1.0) -> None:
    p = ET.SubElement(parent, "partial")
    for key, text in (("type", kind), ("conversion", conversion), ("value", value), ("scaleMin", lo), ("scaleMax", hi)):
        ET.SubElement(p, key).text = str(text)


def _osc(node, address: str, args: list[tuple], trigger: str = "x", condition: str = "ANY",
         receive: bool = True, send: bool = True) -> None:
    messages = node.find("messages")
    osc = ET.SubElement(messages, "osc")
    for key, text in (("enabled", 1), ("send", int(send)), ("receive", int(receive)), ("feedback", 0),
                      ("connections", "00001")):
        ET.SubElement(osc, key).text = str(text)
    t = ET.SubElement(ET.SubElement(osc, "triggers"), "trigger")
    ET.SubElement(t, "var").text = trigger
    ET.SubElement(t, "condition").text = condition
    _partial(ET.SubElement(osc, "path"), "CONSTANT", "STRING", address)
    arguments = ET.SubElement(osc, "arguments")
    for arg in args:
        _partial(arguments, *arg)


def _value(parent, key: str, default) -> None:
    v = ET.SubElement(parent, "value")
    for k, text in (("key", key), ("locked", 0), ("lockedDefaultCurrent", 0), ("default", default), ("defaultPull", 0)):
        ET.SubElement(v, k).text = str(text)


def _node(parent, kind: str, name: str, frame, colour, **props):
    node = ET.SubElement(parent, "node", ID=str(uuid.uuid4()), type=kind)
    properties = ET.SubElement(node, "properties")
    _prop(properties, "s", "name", name)
    _prop(properties, "r", "frame", frame)
    _prop(properties, "c", "color", colour)
    for key, (kind_, value) in props.items():
        _prop(properties, kind_, key, value)
    ET.SubElement(node, "values")
    ET.SubElement(node, "messages")
    ET.SubElement(node, "children")
    return node


def _rgba(rgb, a: float = 1.0) -> tuple:
    return (rgb[0] / 255, rgb[1] / 255, rgb[2] / 255, a)


CHAR_WIDTH = 0.6  # of the text size: a generous average glyph width, to check that a label fits


def fitted(text: str, width: float, size: int) -> str:
    """The text cut to what a label `width` px wide shows at `size`."""
    room = int(width / (CHAR_WIDTH * size))
    return text if len(text) <= room else text[: max(room - 1, 1)] + "."


def _label(children, text: str, frame, colour, size: int = 18) -> None:
    text = fitted(text, frame[2], size)
    node = _node(children, "LABEL", f"label {text}", frame, (0, 0, 0, 0), background=("b", False),
                 textColor=("c", _rgba(colour)), textSize=("i", size))
    _value(node.find("values"), "text", text)


def _status(children, address: str, placeholder: str, frame, colour) -> None:
    """A label that shows the text the engine sends to `address` (it sends nothing back)."""
    node = _node(children, "LABEL", address, frame, (0, 0, 0, 0), background=("b", False),
                 textColor=("c", _rgba(colour)), textSize=("i", 16))
    _value(node.find("values"), "text", placeholder)
    _osc(node, address, [("VALUE", "STRING", "text")], trigger="text", send=False)


def _fader(children, address: str, label: str, frame, colour, lo=0.0, hi=1.0, horizontal=False) -> None:
    props = {"orientation": ("i", 1 if horizontal else 0)} if horizontal else {}
    node = _node(children, "FADER", address, frame, _rgba(colour), **props)
    _value(node.find("values"), "x", 0)
    _osc(node, address, [("VALUE", "FLOAT", "x", lo, hi)])


def build(params: ParamTree, names: list[str], theme: Theme, presets: list[str]) -> ET.Element:
    """The layout: a fader per style (in rows of up to FADERS_PER_ROW), temperature, top-p, rate,
    mode, play, presets, an XY morph pad."""
    root = ET.Element("lexml", version="3")
    page = _node(root, "GROUP", "instrument", (0, 0, W, H), _rgba(theme.background), background=("b", True),
                 script=("s", HANDSHAKE))
    children = page.find("children")
    colours = theme.colours(names)
    rows = max(1, -(-len(names) // FADERS_PER_ROW))
    per_row = max(1, -(-len(names) // rows))  # as even as can be: 17 styles are two rows of 9 and 8
    width = min(110, (W - 480) // per_row)
    height = (FADER_AREA - rows * 30) // rows
    for i, (name, colour) in enumerate(zip(names, colours)):
        x, y = 20 + (i % per_row) * width, 20 + (i // per_row) * (height + 30)
        _fader(children, mix_address(name), name, (x, y, width - 14, height), colour)
        _label(children, name, (x - 4, y + height + 2, width - 6, 26), colour, size=12)
    right = W - 440
    phone = [a for a in params.tagged("phone") if params.params[a].kind in ("float", "int")]
    for row, address in enumerate(phone):  # every parameter tagged "phone", a horizontal fader each
        lo, hi = params.params[address].span or params.params[address].range
        _fader(children, address, address[1:], (right, 20 + row * 56, 300, 46), theme.text, lo, hi, horizontal=True)
        _label(children, address[1:], (right + 305, 28 + row * 56, 130, 30), theme.text, size=16)
    y = 20 + len(phone) * 56
    modes = params.params["/mode"].range
    radio = _node(children, "RADIO", "/mode", (right, y, 300, 46), _rgba(theme.text), steps=("i", len(modes)))
    _value(radio.find("values"), "x", 0)
    # the radio sends the choice's number; the engine echoes /mode as a name, and its number at
    # /mode/index, which is what the radio listens to
    _osc(radio, "/mode", [("VALUE", "INTEGER", "x", 0, len(modes) - 1)], receive=False)
    _osc(radio, "/mode/index", [("VALUE", "INTEGER", "x", 0, len(modes) - 1)], send=False)
    _label(children, " | ".join(modes), (right + 305, y + 8, 130, 30), theme.text, size=14)
    y += 60
    play = _node(children, "BUTTON", "/run", (right, y, 140, 56), _rgba((92, 222, 122)), buttonType=("i", 1))
    _value(play.find("values"), "x", 1)
    _osc(play, "/run", [("VALUE", "FLOAT", "x", 0, 1)])
    _label(children, "play", (right + 10, y + 58, 120, 26), theme.text)
    reset = _node(children, "BUTTON", "/reset", (right + 160, y, 140, 56), _rgba((214, 72, 72)))
    _value(reset.find("values"), "x", 0)
    _osc(reset, "/reset", [], condition="RISE", receive=False)
    _label(children, "reset", (right + 170, y + 58, 120, 26), theme.text)
    sync = _node(children, "BUTTON", "/subscribe", (right + 320, y, 100, 56), _rgba((236, 186, 84)))
    _value(sync.find("values"), "x", 0)
    _osc(sync, "/subscribe", [], condition="RISE", receive=False)
    _label(children, "sync", (right + 330, y + 58, 80, 26), theme.text)
    _status(children, "/preset/current", "preset", (right, y + 90, 420, 30), theme.text)
    # below the faders: the morph pad, then the presets (three a row), then the last line; every
    # control in its own rectangle (tests/control/test_touchosc.py checks that none overlap)
    xy = _node(children, "XY", "/morph", (20, 480, 260, 256), _rgba(theme.text, 0.8))
    _value(xy.find("values"), "x", 0.5)
    _value(xy.find("values"), "y", 0.5)
    _osc(xy, "/morph", [("VALUE", "FLOAT", "x", 0, 1), ("VALUE", "FLOAT", "y", 0, 1)], receive=False)
    _label(children, "morph: centre = all styles", (20, 738, 260, 22), theme.text, size=14)
    _status(children, "/text/line", "the last line", (20, H - 36, W - 40, 30), theme.text)
    for i, preset in enumerate(presets[:12]):
        x, y = 300 + (i % 3) * 176, 480 + (i // 3) * 68
        button = _node(children, "BUTTON", f"preset {preset}", (x, y, 166, 48), _rgba((108, 170, 252), 0.7))
        _value(button.find("values"), "x", 0)
        _osc(button, "/preset/load", [("CONSTANT", "STRING", preset)], condition="RISE", receive=False)
        _label(children, preset, (x, y + 49, 166, 17), theme.text, size=12)
    return root


def write(root: ET.Element, path: Path) -> None:
    data = b"<?xml version='1.0' encoding='UTF-8'?>\n" + ET.tostring(root, encoding="utf-8")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes(zlib.compress(data))


def read(path: Path) -> ET.Element:
    return ET.fromstring(zlib.decompress(Path(path).read_bytes()))


def _paths(root: ET.Element, flag: str) -> list[str]:
    return [p.findtext("value") for osc in root.iter("osc") if osc.findtext(flag) == "1"
            for path in osc.iter("path") for p in path.iter("partial") if p.findtext("type") == "CONSTANT"]


def addresses(root: ET.Element) -> list[str]:
    """Every OSC path a layout sends to."""
    return _paths(root, "send")


def listens(root: ET.Element) -> list[str]:
    """Every OSC path a layout's controls take values from."""
    return _paths(root, "receive")
