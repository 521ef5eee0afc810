"""`instrument play`: its manual, its flags (a parameter's flag is built from the tree) and its settings."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


PLAY_MANUAL = """\
Play the ensemble. Every style predicts the next character; the mix weights blend their
predictions, one character is drawn and every style reads it. Text flows to the terminal.

The mix is the instrument: --mix shakespeare=0.7,bible=0.3 starts two faders up (weights 0..1,
only their ratios matter in linear mode). All faders at zero is silence: the text pauses and
resumes when a weight rises. Styles under --threshold are not computed (they catch up on what
they missed when raised).

While it plays, every parameter is an OSC address (see `instrument describe`) and a MIDI CC
(mappings/default.yaml: CC 102-118 the styles in alphabetical order, 20 temperature, 21 play,
22 lookahead, 23 presence, 24 phrase, 25 copy, 26 memory); presets morph it all.

examples:
  instrument play                                  Shakespeare and the Bible, 40 chars/s
  instrument play --mix linux=0.5,austen=0.5 --temperature 0.6
  instrument play --models shakespeare,latex --mode product --rate 0
  instrument play --prime "In the beginning " --seed 7 --chars 400
  instrument play --speak --rate 14 --voice en-gb  spoken word, at the pace of the voice
  instrument play --project --fullscreen --panel   the audience's screen, and yours
  instrument play --learn /mix/bible               move a fader: it now plays the Bible
  instrument play --record tonight.jsonl           then `instrument replay tonight.jsonl`
"""


def flag_name(address: str) -> str:
    """--top-p for /top_p."""
    return "--" + address.strip("/").replace("_", "-").replace("/", "-")


def flag_help(param) -> str:
    """A parameter's doc, range and default, as its flag's help (one source: the tree)."""
    if param.kind in ("float", "int"):
        lo, hi = param.range
        return f"{param.doc} ({lo:g}-{hi:g}, default {param.default:g})"
    if param.kind == "enum":
        return f"{param.doc} (default {param.default})"
    if param.kind == "text":
        return f"{param.doc} (up to {param.range[0]:,} characters)"
    return param.doc


FLAG_TYPES = {"float": float, "int": int, "enum": str, "text": str}


def flagged_params() -> list:
    """The parameters with a flag of their own (tagged "flag"), in the tree's order."""
    from ..tree import build_tree

    return [p for p in build_tree([]).params.values() if "flag" in p.tags]


def add_param_flags(p: argparse.ArgumentParser) -> None:
    """A flag for every parameter tagged "flag": its value lands at the parameter's address
    (play_values), so a new parameter gets its flag by its tag, with its own doc and range."""
    group = p.add_argument_group("the sound (each also an OSC address and a MIDI-learn target: `instrument describe`)")
    for param in flagged_params():
        choices = param.range if param.kind == "enum" else None
        group.add_argument(flag_name(param.address), dest=param.address, type=FLAG_TYPES[param.kind],
                           choices=choices, metavar=None if choices else param.kind.upper(),
                           help=flag_help(param).replace("%", "%%"))


def play_values(args) -> dict:
    """/address -> the value its flag gave (None: not given)."""
    return {param.address: getattr(args, param.address) for param in flagged_params()}


def add_play(sub) -> None:
    p = sub.add_parser("play", help="play the instrument", description=PLAY_MANUAL,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", help="styles to load, comma separated (default: every installed style)")
    p.add_argument("--mix", help="starting weights, NAME=W,NAME=W (default shakespeare=0.6,bible=0.4)")
    p.add_argument("--chars", type=int, help="stop after this many characters")
    add_param_flags(p)
    p.add_argument("--precision", choices=("int8", "fp16"), default="int8",
                   help="weights as the C kernel reads them: int8 is faster, fp16 is exactly the shipped file")
    p.add_argument("--backend", choices=("auto", "kernel", "torch"), default="auto", help=argparse.SUPPRESS)
    osc = p.add_argument_group("OSC (TouchOSC, Ableton via Max, another computer, the panel)")
    osc.add_argument("--osc-listen", default="127.0.0.1:9000", metavar="HOST:PORT",
                     help="where the engine hears OSC (default 127.0.0.1:9000: this computer only)")
    osc.add_argument("--osc-allow", action="append", metavar="CIDR",
                     help="senders allowed when listening on the network, e.g. 192.168.1.0/24 (repeatable)")
    osc.add_argument("--osc-out", action="append", metavar="HOST:PORT",
                     help="send /text/* and /frame there (repeatable); clients can also send /subscribe")
    osc.add_argument("--frame-rate", type=float, default=60.0, help="cap on /frame messages per second")
    osc.add_argument("--no-oscquery", action="store_true",
                     help="do not serve or advertise the OSCQuery description (HTTP + zeroconf)")
    midi = p.add_argument_group("MIDI (faders, pads, Ableton)")
    midi.add_argument("--midi-in", metavar="NAME", help="connect to an existing input whose name contains NAME "
                      "(default: open a virtual input called 'instrument')")
    midi.add_argument("--midi-api", choices=("alsa", "jack", "coremidi", "windows"),
                      help="MIDI system to use (default: the system's, then JACK)")
    midi.add_argument("--no-midi", action="store_true", help="do not open MIDI")
    midi.add_argument("--mapping", metavar="FILE", help="controls -> parameters (default mappings/default.yaml); "
                      "MIDI-learn writes into it")
    midi.add_argument("--learn", metavar="ADDRESS", help="bind the next control you move to ADDRESS, e.g. /mix/bible")
    midi.add_argument("--midi-clock", action="store_true", help="follow MIDI clock: /rate = chars per beat x tempo")
    midi.add_argument("--midi-out", metavar="NAME", help="send feedback (and notes, clock) to an existing output whose "
                      "name contains NAME (default: a virtual output called 'instrument', opened with MIDI input)")
    midi.add_argument("--no-midi-out", action="store_true", help="open no MIDI output")
    midi.add_argument("--notes", action="store_true", help="play each character as a note on its style's channel "
                      "(the table: docs/ableton.md)")
    midi.add_argument("--midi-clock-out", action="store_true", help="send MIDI clock at /clock/bpm, and Start/Stop: "
                      "the instrument leads the tempo")
    midi.add_argument("--presets", type=Path, metavar="DIR", help="preset folder (default presets/)")
    midi.add_argument("--preset", metavar="NAME", help="start from this preset, e.g. 'kitchen scripts' (its values "
                      "over the options' own; any preset of the --presets folder)")
    band = p.add_argument_group("in time with others (Ableton Link, Wekinator)")
    band.add_argument("--link", action="store_true", help="join the Ableton Link session: /rate = chars per beat x "
                      "its tempo, its start/stop plays and pauses")
    band.add_argument("--wekinator", nargs="?", const="127.0.0.1:12000", metavar="HOST:PORT",
                      help="hear Wekinator's /wek/outputs (default 127.0.0.1:12000, its own default): output i moves "
                      "style i (docs/wekinator.md)")
    out = p.add_argument_group("outputs (the console always shows the text)")
    out.add_argument("--speak", action="store_true", help="speak the text (pyttsx3: espeak-ng, or the system voices)")
    out.add_argument("--speak-to", type=Path, metavar="FILE.wav", help="render the spoken phrases into a WAV file instead")
    out.add_argument("--voice", help="empty (default): each style its own voice, from the voice table; piper: the "
                     "neural voice (instrument[voice]); else one voice for all, part of its id or name, e.g. en-us")
    out.add_argument("--voices", type=Path, metavar="FILE.yaml", help="the voice table: who speaks each style "
                     "(default instrument/outputs/voices.yaml; copy it and edit)")
    out.add_argument("--on-beat", action="store_true", help="the voice starts each phrase on the beat (of Link or "
                     "the MIDI clock followed)")
    out.add_argument("--policy", choices=("live", "recite"), help="when the voice falls behind: live skips "
                     "to the newest phrase (default), recite speaks everything")
    out.add_argument("--project", action="store_true", help="open the projection window (large text on black)")
    out.add_argument("--fullscreen", action="store_true", help="the projection window fills the screen")
    out.add_argument("--theme", metavar="FILE", help="colours of the styles (default instrument/screen/theme.yaml)")
    out.add_argument("--screenshot", metavar="FILE.png", help=argparse.SUPPRESS)
    out.add_argument("--panel", action="store_true", help="open the panel too (its own process, talking OSC)")
    out.add_argument("--record", type=Path, metavar="FILE.jsonl", help="record the performance (models, every move, the text) "
                     "for `instrument replay`")
    p.set_defaults(func=_play)


def _play_settings(args):
    from ..app.settings import (EngineSettings, MidiSettings, OscSettings, OutputSettings, PlaySettings,
                           parse_mix)

    return PlaySettings(
        engine=EngineSettings(models=args.models.split(",") if args.models else None,
                              mix=parse_mix(args.mix) if args.mix else None, backend=args.backend,
                              precision=args.precision, values=play_values(args)),
        osc=OscSettings(listen=args.osc_listen, allow=args.osc_allow, outs=args.osc_out, frame_rate=args.frame_rate,
                        oscquery=not args.no_oscquery),
        midi=MidiSettings(enabled=not args.no_midi, port=args.midi_in, api=args.midi_api, mapping=args.mapping,
                          learn=args.learn, clock=args.midi_clock, out=not args.no_midi_out, out_port=args.midi_out,
                          notes=args.notes, clock_out=args.midi_clock_out),
        outputs=OutputSettings(record=args.record, speak=args.speak, speak_to=args.speak_to, voice=args.voice,
                               voices=args.voices, policy=args.policy, project=args.project, fullscreen=args.fullscreen,
                               theme=args.theme, screenshot=args.screenshot, panel=args.panel, on_beat=args.on_beat),
        presets=args.presets, preset=args.preset, chars=args.chars, link=args.link, wekinator=args.wekinator)


def _play(args) -> int:
    import logging

    from ..app.session import Session
    from ..app.settings import SetupError

    logging.basicConfig(level=logging.WARNING, format="instrument: %(message)s")
    logging.getLogger("instrument").setLevel(logging.INFO)  # ports opened, presets loaded: a performer wants these
    try:
        with Session.open(_play_settings(args)) as session:
            session.run()
    except SetupError as e:
        print(f"instrument play: {e}", file=sys.stderr)
        return 2
    if session.failure is not None:
        print(f"instrument play: the engine stopped on an error it could not play through: "
              f"{type(session.failure).__name__}: {session.failure}", file=sys.stderr)
        return 1
    return 0

