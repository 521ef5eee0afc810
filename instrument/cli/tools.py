"""`instrument panel`, `replay`, `touchosc`, `describe` and `midi`."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def add_panel(sub) -> None:
    p = sub.add_parser("panel", help="the mixer and distributions window (an OSC client of the engine)",
                       description="The panel: a fader per style with MIDI-learn, temperature, mode, rate, "
                       "a morph pad, every style's distribution and the text. It talks to the engine only "
                       "over OSC, so the engine can run on another computer.")
    p.add_argument("--engine", default="127.0.0.1:9000", metavar="HOST:PORT", help="the engine's OSC address")
    p.add_argument("--theme", metavar="FILE", help="colours of the styles (default instrument/screen/theme.yaml)")
    p.add_argument("--wek-inputs", nargs="?", const="127.0.0.1:6448", metavar="HOST:PORT",
                   help="send the morph pad's point to Wekinator as /wek/inputs x y (default 127.0.0.1:6448, its own)")
    p.add_argument("--seconds", type=float, help=argparse.SUPPRESS)
    p.add_argument("--screenshot", metavar="FILE.png", help=argparse.SUPPRESS)
    p.add_argument("--report-fps", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=_panel)


def _panel(args) -> int:
    from ..app.signals import stop_on_kill

    # Ctrl-C or `kill -INT` (even of a panel started in the background, SIGINT ignored from birth)
    # ends the panel between its phases or in its loop, with 0
    return _open_panel(args, stop_on_kill())


def _open_panel(args, stop) -> int:
    from ..screen.priority import idle_priority, one_software_renderer_thread

    # first of all, so that every thread of the panel inherits it: numpy's (started on import),
    # the OSC client's, the software renderer's. The engine (the music) comes first.
    idle_priority()
    one_software_renderer_thread()
    from ..gui.client import EngineClient
    from ..gui.panel import Panel
    from ..base.oscwire import is_loopback, parse_hostport
    from ..screen import display_available
    from ..screen.theme import ThemeError, load_theme

    problem = display_available()
    if problem:
        print(f"instrument panel: {problem}", file=sys.stderr)
        return 3
    try:
        host, port = parse_hostport(args.engine)
        wek_inputs = parse_hostport(args.wek_inputs) if args.wek_inputs else None
        theme = load_theme(args.theme)
    except (ValueError, ThemeError) as e:
        print(f"instrument panel: {e}", file=sys.stderr)
        return 2
    if stop.is_set():
        return 0
    client = EngineClient((host, port), "127.0.0.1" if is_loopback(host) else "0.0.0.0")
    if not client.wait_for_tree(stop=stop):
        client.close()
        if stop.is_set():
            return 0
        print(f"instrument panel: no engine answers at {host}:{port} (is `instrument play` running, and "
              f"does its --osc-allow admit this computer?)", file=sys.stderr)
        return 1
    panel = Panel(client, theme, wek_inputs, stop)
    if args.screenshot:
        import threading
        threading.Timer(max((args.seconds or 3) - 0.5, 0.5), panel.screenshot, args=(args.screenshot,)).start()
    started = time.monotonic()
    try:
        panel.run(args.seconds)
    finally:
        client.close()
    if args.report_fps:
        print(f"frames/s {panel.frames_drawn / (time.monotonic() - started):.1f}")
    return 0


def add_replay(sub) -> None:
    p = sub.add_parser("replay", help="play a recorded performance back to the same text",
                       description="Replay a recording made with `instrument play --record`: the same models "
                       "(checked by their file hashes), every move at the step it took effect, the same text.")
    p.add_argument("recording", type=Path)
    p.add_argument("--live", action="store_true", help="at the pace it was played, the text on the console as it "
                   "comes (default: as fast as it can)")
    p.add_argument("--speak", action="store_true", help="with --live: speak it as it plays")
    p.add_argument("--project", action="store_true", help="with --live: the projection window")
    p.add_argument("--fullscreen", action="store_true", help="with --project: fill the screen")
    p.add_argument("--speak-to", metavar="FILE.wav", help="render the text's speech into a WAV file")
    p.add_argument("--quiet", action="store_true", help="do not print the text, only whether it matched")
    p.set_defaults(func=_replay)


def _replay(args) -> int:
    from ..app.library import installed
    from ..app.pace import ReplayStopped
    from ..app.recording import (ReplayError, check_models, first_difference, plan_computation, read_recording,
                            recorded_copies, recorded_memories)
    from ..app.parts import build_engine, load_styles
    from ..app.settings import EngineSettings, SetupError

    if (args.speak or args.project) and not args.live:
        print("instrument replay: --speak and --project play along with --live only (a WAV of the voice: "
              "--speak-to)", file=sys.stderr)
        return 2
    try:
        rec = read_recording(args.recording)
        if args.live and not rec.times:
            raise ReplayError(f"{args.recording} was recorded before recordings kept time: replay it without --live")
        files = {m.name: m.path for m in installed()}
        check_models(rec, files)
        names = [m["name"] for m in rec.header["models"]]
        how = plan_computation(rec)
        for difference in how.differences:
            print(f"instrument replay: {difference}", file=sys.stderr)
        styles = load_styles(names)
        styles.copies = recorded_copies(rec)  # as the piece copied, whatever the cards say now
        styles.memories = recorded_memories(rec, files)  # and recalled
        engine = build_engine(EngineSettings(models=names, mix={}, backend=how.backend, precision=how.precision),
                              styles)
    except (ReplayError, SetupError) as e:
        print(f"instrument replay: {e}", file=sys.stderr)
        return 2
    try:
        text = _replay_live(engine, rec, args) if args.live else _replay_fast(engine, rec, args)
    except ReplayStopped as e:
        print(f"instrument replay: {e} of {rec.steps if rec.steps is not None else 'the'} steps (Ctrl-C, or the "
              "window closed)", file=sys.stderr)
        return 130
    except ReplayError as e:
        print(f"instrument replay: {e}", file=sys.stderr)
        return 1
    if not args.quiet and not args.live:  # live, the console wrote it as it came
        sys.stdout.write(text + "\n")
    if rec.damage is not None:
        print(f"instrument replay: {args.recording}: {rec.damage}; replayed the piece as far as it is intact",
              file=sys.stderr)
    elif rec.steps is None:
        print("instrument replay: the recording has no end mark (it was cut off mid-piece); "
              "replayed as far as its text goes", file=sys.stderr)
    cut_off = rec.damage is not None or rec.steps is None
    # a recording killed between a change line and the text after it holds changes past its text:
    # the replay writes on to make them, and only the part the recording holds is compared
    where = first_difference(text[: len(rec.text)] if cut_off else text, rec.text)
    if where is None:
        print(f"replayed {len(rec.text) if cut_off else len(text)} characters: the same text as the recording",
              file=sys.stderr)
        return 0
    why = ("; ".join(how.differences) if how.differences else
           "though it was computed the same way (same models, backend, precision and inner loop)")
    print(f"instrument replay: the text differs from the recording from character {where}: {why}", file=sys.stderr)
    return 1


def _replay_fast(engine, rec, args) -> str:
    from ..app.recording import replay

    speech = None
    if args.speak_to:
        from ..outputs.speech import Speech

        speech = Speech(engine.params, Path(args.speak_to), policy="recite", names=engine.names).start(engine)
    try:
        return replay(engine, rec)
    finally:
        engine.close_subscriptions()
        if speech is not None:
            speech.join()


def _replay_live(engine, rec, args) -> str:
    from ..app.pace import play_back
    from ..app.settings import OutputSettings

    outputs = OutputSettings(speak=args.speak, speak_to=args.speak_to, project=args.project,
                             fullscreen=args.fullscreen)
    try:
        return play_back(engine, rec, outputs)
    finally:
        print(flush=True)  # the console's last line may be half a line: what is said next starts its own


def _styles(args) -> list[str]:
    """--styles a,b,c, or every installed style."""
    from ..app.library import installed_names

    return args.styles.split(",") if args.styles else installed_names()


def add_touchosc(sub) -> None:
    p = sub.add_parser("touchosc", help="write a TouchOSC layout for the installed styles",
                       description="Generate a TouchOSC layout from the parameter tree: a fader per style in its "
                       "colour, temperature, top-p, rate, mode, play, reset, preset buttons and an XY morph pad.")
    p.add_argument("--out", type=Path, default=Path("mappings/instrument.tosc"), help="where to write the .tosc")
    p.add_argument("--theme", metavar="FILE", help="colours of the styles")
    p.add_argument("--styles", help="style names, comma separated (default: the installed styles)")
    p.set_defaults(func=_touchosc)


def _touchosc(args) -> int:
    from ..control import touchosc
    from ..control.presets import Presets
    from ..base.paths import presets_dir
    from ..screen.theme import load_theme
    from ..tree import build_tree

    names = _styles(args)
    tree = build_tree(names)
    presets = Presets(tree, presets_dir()).bank()
    touchosc.write(touchosc.build(tree, names, load_theme(args.theme), presets), args.out)
    print(f"wrote {args.out}: {len(names)} style faders, {len(presets)} presets")
    return 0


def add_describe(sub) -> None:
    p = sub.add_parser("describe", help="print the parameter tree (every OSC address)",
                       description="The parameter tree of the installed styles: as JSON, or as the "
                       "Markdown of docs/osc.md.")
    p.add_argument("--markdown", action="store_true", help="print docs/osc.md")
    p.add_argument("--styles", help="style names, comma separated (default: the installed styles)")
    p.set_defaults(func=_describe)


def _describe(args) -> int:
    import json

    from ..control.osc_doc import render
    from ..app.parts import every_command
    from ..tree import build_tree

    names = _styles(args)
    tree = build_tree(names)
    print(render(tree, every_command(names)) if args.markdown else json.dumps(tree.describe(), indent=1))
    return 0


def add_midi(sub) -> None:
    p = sub.add_parser("midi", help="MIDI ports", description="What the MIDI system offers.")
    p.add_argument("what", choices=("ports",), help="ports: list the MIDI inputs the instrument can see")
    p.add_argument("--midi-api", choices=("alsa", "jack", "coremidi", "windows"))
    p.set_defaults(func=_midi)


def _midi(args) -> int:
    from ..control.midi import MidiUnavailable, list_ports

    try:
        ports = list_ports(args.midi_api)
    except MidiUnavailable as e:
        print(f"instrument midi: {e}", file=sys.stderr)
        return 1
    print("\n".join(ports) if ports else "no MIDI inputs")
    return 0

