"""docs/osc.md, generated from the parameter tree: `instrument describe --markdown`."""
from __future__ import annotations

from ..params import ParamTree

INTRO = """# OSC

Generated from the parameter tree and the command tables of the shipped styles, so it cannot drift
from the code: `instrument describe --markdown > docs/osc.md`.
Every parameter answers at its own address; `/mix/NAME` exists for each style you load.

The engine listens on UDP `127.0.0.1:9000` (`--osc-listen HOST:PORT`). To play it from a phone or
another computer, listen on the network and name who may play: `--osc-listen 0.0.0.0:9000
--osc-allow 192.168.1.0/24`; packets from anyone else are dropped and counted. An allowed sender on
another machine may send up to 1,000 datagrams and 1 MB a second (TouchOSC moving every fader at
once sends a few hundred); past that its datagrams are dropped unread until the next second, so a
flood from one sender cannot slow the text. Senders on this machine have no such limit. One
datagram addresses at most 256 parameters (a pattern counts what it matches); the rest of it is
neither read nor played.

- Numbers: floats 0..1 as TouchOSC sends them; ints where they make sense; out-of-range values are
  clamped, NaN, infinities and wrong types are refused and the old value is kept. A number may
  also come as plain ASCII text (`"0.7"`, `"-1e-2"`), as some tools send them; any other text
  (full-width digits, `"nan"`, `" 0.7"`) is a wrong type.
- On/off: 1/0, true/false, or a TouchOSC toggle's 1.0/0.0. Choices: the name, or its number.
- A message with no arguments on a value's address answers its current value to the sender.
- Malformed packets (cut off, unknown type tags, bundles nested more than 8 deep) are refused
  with a rate-limited log line; nothing changes and the text keeps coming.
- Whatever is refused is answered to its sender as `/error ADDRESS REASON` (the address as sent,
  empty for a packet that could not be read; the reason as the console says it), at most 10 a
  second per host, so a TouchOSC label or a Max patch can show what went wrong.

## Parameters

| address | kind | range | default | what it does |
|---|---|---|---|---|
"""

COMMANDS = """
## Commands

Messages that are actions rather than values, from the modules' own tables (the router answers
exactly these). What reads or writes a file (presets, mappings) is done off the OSC thread and
answered when it is done.

| address | arguments | what it does |
|---|---|---|
"""

EXTRA = """| `/mix/*`, `/mix/{bible,austen}`, `/mix/[a-c]*`, `/mix/?inux` | the parameter's | an OSC 1.0 address pattern reaches every parameter it matches (a fader group); at most 256 characters and 8 stars |

## Subscribing, and what a sender may be sent

A sender on this machine is subscribed at once. From another machine, `/subscribe [port]` is
answered only with `/subscribe/token PORT TOKEN`, sent to the address the stream would go to;
`/subscribe PORT TOKEN` (the token echoed, as an int or a float) starts the stream, and the whole
current state is sent at once (every parameter, a choice also by number at `ADDRESS/index`, and
`/preset/current`). This is because UDP senders can be forged: without it, a 16-byte packet could
have pointed the stream at anyone. Subscriptions expire 120 s after the client's host was last
heard from (any message renews them: the panel's heartbeat, a fader moved); at most 16 at once;
the engine's own ports are refused. `/subscribe/refused PORT REASON` says why one was not taken.
Targets given with `--osc-out` need no handshake and never expire.

Any reply larger than 4 times its request (`/describe`, `/mapping`, `/mix` with many styles) goes
only to a sender on this machine or one holding a proven subscription; others are answered
nothing (and it is logged, rate-limited). The same description is always available over
OSCQuery's HTTP, where a sender cannot be forged.

## What the engine sends

To every `--osc-out HOST:PORT` and every subscribed client:

| address | arguments | when |
|---|---|---|
| `/text/char` | s | every character, none lost |
| `/text/word` | s | each word, when a space, tab or newline ends it |
| `/text/line` | s | each line, when a newline ends it |
| `/frame` | i step, s char, s lead style, N floats pi | at most `--frame-rate` times a second (60), alone and as soon as the character is drawn |
| `/frame/rho` | (s char, f p) x 5 | the five likeliest characters of the mix; it, `/frame/model/NAME` and `/frame/dist` follow `/frame` in one bundle |
| `/frame/model/NAME` | (s char, f p) x 5 | the same for each active style |
| `/frame/dist` | s styles, b blob, f entropies | every distribution as 128 bytes scaled to its peak (the mix first, then each active style), and each one's entropy in bits |
| any parameter address | its value | whenever it changes, from any source (MIDI, presets, other clients), except back to the client that changed it: faders follow the music |

## Discovery (OSCQuery)

The tree is served as OSCQuery JSON over HTTP on the same port number (TCP), e.g.
`http://127.0.0.1:9000/` and `http://127.0.0.1:9000/mix/bible?VALUE`, to the same senders OSC
allows (`--osc-allow`), with a 5 s read timeout and at most 32 connections at once. When the
engine listens beyond this machine it is advertised by zeroconf as `_oscjson._tcp` and
`_osc._udp` at the machine's interface addresses, so VDMX, Max/RNBO and Chataigne find it by
themselves; on loopback (the default) nothing is advertised. `--no-oscquery` turns this off.
"""


def _range(entry: dict) -> str:
    if entry["kind"] == "int":
        return f"{entry['range'][0]} .. {entry['range'][1]}"
    if entry["kind"] == "float":
        return f"{entry['range'][0]:g} .. {entry['range'][1]:g}"
    if entry["kind"] == "enum":
        return " \\| ".join(entry["range"])
    return ""


def render(params: ParamTree, commands: list) -> str:
    """docs/osc.md: the parameters, then the commands, then what the engine sends."""
    rows = [f"| `{e['address']}` | {e['kind']} | {_range(e)} | "
            f"{'' if e['default'] in (None, '') else e['default']} | {e['doc']} |" for e in params.describe()]
    commands_rows = [f"| `{c.address}` | {c.args or 'none'} | {c.doc} |" for c in commands]
    return INTRO + "\n".join(rows) + "\n" + COMMANDS + "\n".join(commands_rows) + "\n" + EXTRA
