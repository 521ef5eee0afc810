"""The `instrument` command: thin wiring from flags to the pieces that do the work."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .paths import models_dir, runs_dir


def _add_train(sub) -> None:
    p = sub.add_parser("train", help="train a style model on a corpus",
                       description="Train one character-level LSTM on one text file. The last 5% of "
                       "the text is held out to measure bits per character; the best held-out weights "
                       "are exported to MODELS/NAME.safetensors with a YAML model card.")
    p.add_argument("corpus", type=Path, nargs="+", help="UTF-8 text file (several: one run over all of them, "
                   "each keeping its own last 5%% out of training)")
    p.add_argument("--name", required=True, help="style name (the model's file name and fader label)")
    p.add_argument("--arch", help="LAYERSxUNITS, e.g. 1x256, 2x512 (default 2x256 under a MB of text, else 2x512)")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--minutes", type=float, help="wall-clock training budget")
    budget.add_argument("--epochs", type=float, help="passes over the training text (default 10)")
    p.add_argument("--resume", action="store_true", help="continue the saved run of this name; a new "
                   "--minutes/--epochs replaces its total budget")
    p.add_argument("--export-only", action="store_true", help="export the run's best weights now, no training")
    p.add_argument("--init", type=Path, help="start from these weights (a run's best.safetensors) instead of "
                   "from scratch; the architecture must match")
    p.add_argument("--description", help="one line describing the style, for the model card")
    p.add_argument("--out", type=Path, default=None, help="where models go (default: the project's models/)")
    p.add_argument("--runs", type=Path, default=None, help="checkpoint folder (default ~/.cache/instrument/runs)")
    for flag, kind in (("--batch", int), ("--seq-len", int), ("--lr", float), ("--dropout", float),
                       ("--seed", int), ("--eval-every", float), ("--threads", int)):
        p.add_argument(flag, type=kind, help=argparse.SUPPRESS)
    p.set_defaults(func=_train)


def _train(args) -> int:
    import torch

    from .train.run import train_command

    if args.threads:
        torch.set_num_threads(args.threads)
    out = args.out or models_dir()
    run_dir = (args.runs or runs_dir()) / args.name
    overrides = {"minutes": args.minutes, "epochs": args.epochs, "batch": args.batch, "seq_len": args.seq_len,
                 "lr": args.lr, "dropout": args.dropout, "seed": args.seed}
    if args.eval_every is not None:
        overrides.update(eval_every_s=args.eval_every, ckpt_every_s=args.eval_every)
    return _training("train", lambda: train_command(args.corpus, args.name, args.arch, out, run_dir, args.resume,
                                                    args.description, export_only=args.export_only, init=args.init,
                                                    **overrides))


def _training(command: str, run) -> int:
    """A training command's exit code; a run that cannot go as asked is one line, not a traceback."""
    from .train import TrainingError

    try:
        return run()
    except TrainingError as e:
        print(f"instrument {command}: {e}", file=sys.stderr)
        return 2


def _add_train_styles(sub) -> None:
    p = sub.add_parser("train-styles", help="train the shipped styles from models/recipes.yaml",
                       description="Train, resume or export each style of the recipe file in turn.")
    p.add_argument("names", nargs="*", help="styles to train (default: all, in file order)")
    p.add_argument("--recipes", type=Path, default=None, help="recipe file (default models/recipes.yaml)")
    p.add_argument("--corpora", type=Path, default=None, help="folder of corpora (default ../shared/corpora)")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--runs", type=Path, default=None)
    p.add_argument("--threads", type=int, help=argparse.SUPPRESS)
    p.set_defaults(func=_train_styles)


def _train_styles(args) -> int:
    import torch

    from .paths import PROJECT_ROOT
    from .train.recipes import load_recipes, train_styles

    if args.threads:
        torch.set_num_threads(args.threads)
    corpora = args.corpora or PROJECT_ROOT.parent / "shared" / "corpora"
    return _training("train-styles", lambda: train_styles(load_recipes(args.recipes or models_dir() / "recipes.yaml"),
                                                          args.names, corpora, args.out or models_dir(),
                                                          args.runs or runs_dir()))


def _add_models(sub) -> None:
    p = sub.add_parser("models", help="list the installed style models",
                       description="List the models in the models folder: name, architecture, size, and "
                       "held-out bits per character (lower is better): the LSTM alone, the style as it plays "
                       "(with its corpus memory and the copy model), and PPMd's and zpaq's on the same text.")
    p.add_argument("--dir", type=Path, default=None, help="models folder (default: the project's models/)")
    p.add_argument("--report", type=Path, metavar="FILE", help="also write the Markdown table (docs/models.md)")
    p.add_argument("--fit", nargs="*", metavar="NAME", help="first fit the corpus memory and copy weights of these "
                   "styles (none named: every one) on their dev slice, write NAME.memory, and put the held-out "
                   "figures with them in their cards (their LSTMs are kept)")
    p.add_argument("--corpora", type=Path, default=None, help="with --fit: folder of corpora (default ../shared/corpora)")
    p.set_defaults(func=_models)


def _fit(infos: list, names: list[str], corpora: Path) -> bool:
    """Fit each named style's memory and copy weights; False if any could not be (each says why,
    and the others are fitted)."""
    from .train.card import refit
    from .train.corpus import load_corpus

    ok = True
    for m in infos:
        if m.problem or (names and m.name not in names):
            continue
        try:
            corpus = load_corpus(corpora / m.card["corpus"]["file"])
            if corpus.sha256 != m.card["corpus"]["sha256"]:
                raise ValueError(f"{corpus.path} is not the corpus it was trained on (sha256 differs)")
            card = refit(m.path.with_suffix(".yaml"), corpus)
        except (KeyError, TypeError, ValueError, OSError) as e:
            print(f"instrument models: {m.name}: cannot fit its memory and copy: {type(e).__name__}: {e}", file=sys.stderr)
            ok = False
            continue
        m.card = card
        held = card["heldout"]
        print(f"{m.name}: fitted; held-out bpc {held.get('bpc')} alone, {held['memory_bpc']} with its memory, "
              f"{held['played_bpc']} as it plays (PPMd {held.get('ppmd_bpc')})", flush=True)
    return ok


def _models(args) -> int:
    from .files import clip
    from .library import installed

    infos = installed(args.dir)
    if not infos:
        print(f"no models in {args.dir or models_dir()}")
        return 1
    if args.fit is not None:
        unknown = sorted(set(args.fit) - {m.name for m in infos})
        if unknown:
            print(f"instrument models: no installed style {', '.join(unknown)}", file=sys.stderr)
            return 2
        from .paths import PROJECT_ROOT

        fitted = _fit(infos, args.fit, args.corpora or PROJECT_ROOT.parent / "shared" / "corpora")
    print(f"{'name':<14}{'arch':<8}{'MB':>6}{'LSTM':>8}{'played':>8}{'PPMd':>8}{'zpaq':>8}  description")
    for m in infos:
        if m.problem:
            print(f"{m.name:<14}{'?':<8}{m.size_mb:>6.1f}{'':>32}  ({clip(m.problem, 120)})")
            continue
        fmt = lambda v: f"{v:>8.3f}" if isinstance(v, (int, float)) else f"{'-':>8}"
        print(f"{m.name:<14}{m.arch[:7]:<8}{m.size_mb:>6.1f}{fmt(m.heldout_bpc)}{fmt(m.played_bpc)}"
              f"{fmt(m.ppmd_bpc)}{fmt(m.zpaq_bpc)}  {clip(m.card.get('description', ''), 60)}")
    if args.report:
        from .train.report import render

        args.report.write_text(render(infos))
        print(f"wrote {args.report}")
    return 0 if args.fit is None or fitted else 1


SCORE_LIMIT = 2_000_000  # bytes: scoring reads about 2,000 characters a second


def _add_score(sub) -> None:
    p = sub.add_parser("score", help="bits per character of a text under one style, as it plays",
                       description="Read FILE with one style exactly as the engine predicts while it plays (its "
                       "LSTM, its corpus memory and its copy of what the text has said, each reading FILE as it "
                       "goes) and print the bits per character (the first number printed), then the LSTM's alone "
                       "and with its memory. The cards' held-out figures can be checked this way.")
    p.add_argument("model", help="style name (see `instrument models`)")
    p.add_argument("file", type=Path, help=f"UTF-8 text, at most {SCORE_LIMIT:,} bytes")
    p.set_defaults(func=_score)


def _score(args) -> int:
    from .core.vocab import encode, transliterate
    from .files import FileProblem, read_text
    from .parts import build_engine, load_styles
    from .settings import EngineSettings, SetupError

    try:
        ids = encode(transliterate(read_text(args.file, SCORE_LIMIT)).text)
        if len(ids) == 0:
            raise FileProblem(f"{args.file}: no text to score")
        engine = build_engine(EngineSettings(models=[args.model], mix={}), load_styles([args.model]))
    except (FileProblem, SetupError) as e:
        print(f"instrument score: {e}", file=sys.stderr)
        return 2
    bits = engine.surprise(ids, 0).mean(axis=0)
    print(f"{bits[2]:.4f} bits per character: {engine.names[0]} as it plays, over {len(ids):,} characters of "
          f"{args.file}\n{bits[0]:.4f} its LSTM alone\n{bits[1]:.4f} its LSTM with its corpus memory")
    return 0


def _add_sample(sub) -> None:
    p = sub.add_parser("sample", help="print text from one style",
                       description="Let one style write alone, as it plays (its corpus memory and copy too; "
                       "--memory 0 --copy 0 for its LSTM alone). The same seed gives the same text.")
    p.add_argument("model", help="style name (see `instrument models`) or a .safetensors path")
    p.add_argument("--chars", type=int, default=400, help="how many characters to write (default 400)")
    p.add_argument("--temperature", type=float, default=0.8, help="below 1 safer, above 1 wilder (default 0.8)")
    p.add_argument("--top-p", type=float, default=1.0, help="keep only the most likely mass p (default 1: all)")
    p.add_argument("--memory", type=float, default=None, help="0-1: how much it recalls its corpus (default 1)")
    p.add_argument("--copy", type=float, default=None, help="0-1: how much it repeats what it wrote (default 1)")
    p.add_argument("--prime", default="", help="text the style reads first")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_sample)


def _sample(args) -> int:
    from .parts import build_engine, load_styles
    from .settings import EngineSettings, SetupError

    if not 0 <= args.chars <= 1_000_000:
        print("instrument sample: --chars from 0 to 1,000,000", file=sys.stderr)
        return 2
    values = {"/temperature": args.temperature, "/top_p": args.top_p, "/seed": args.seed,
              "/memory": args.memory, "/copy": args.copy, "/prime": args.prime or None}
    try:
        styles = load_styles([args.model])
        engine = build_engine(EngineSettings(models=None, mix={styles.names[0]: 1.0}, values=values), styles)
    except SetupError as e:
        print(f"instrument sample: {e}", file=sys.stderr)
        return 1
    sys.stdout.write(args.prime + engine.write(args.chars) + "\n")
    return 0


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


def _add_play(sub) -> None:
    from .core.mixing import RULES

    p = sub.add_parser("play", help="play the instrument", description=PLAY_MANUAL,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", help="styles to load, comma separated (default: every installed style)")
    p.add_argument("--mix", help="starting weights, NAME=W,NAME=W (default shakespeare=0.6,bible=0.4)")
    p.add_argument("--temperature", type=float, help="below 1 plays safe, above 1 wild (default 0.8)")
    p.add_argument("--top-p", type=float, help="draw only from the likeliest mass p (default 1 = all)")
    p.add_argument("--mode", choices=tuple(RULES), help="linear: the paper's weighted average; product: styles "
                   "must agree (log-linear product of experts)")
    p.add_argument("--threshold", type=float, help="weights below this are not computed (default 0.05)")
    p.add_argument("--lookahead", type=int, metavar="D", help="characters of foresight: paths are written D "
                   "ahead, and a mix keeps to those that read as one style's words (default 8; 0 = the "
                   "paper's plain sampler)")
    p.add_argument("--beams", type=int, metavar="K", help="candidate paths the lookahead keeps (default 4)")
    p.add_argument("--presence", type=float, help="with lookahead, 0-1: how strongly a style the text does not "
                   "show is raised until it is heard as its fader asks (default 1; 0 = off)")
    p.add_argument("--phrase", type=float, help="with lookahead, 0-0.95: the chance that the style that wrote a "
                   "word writes the next too, so styles take turns by phrases (default 0.8; 0 = word by word)")
    p.add_argument("--copy", type=float, help="0-1: how much each style recalls what this piece has already said "
                   "(its text memory and copy model), as fitted (default 1; 0 = nothing of it)")
    p.add_argument("--memory", type=float, help="0-1: how much each style recalls its own corpus, as its fitted "
                   "memory asks (default 1; with --copy 0, 0 = the LSTMs alone, the paper's styles)")
    p.add_argument("--min-p", type=float, help="leave out characters less likely than this fraction of the "
                   "likeliest (default 0 = none)")
    p.add_argument("--cap", type=float, help="no style gives one character more than this probability, so a "
                   "style sure of itself cannot take the mix over (default 1 = uncapped)")
    p.add_argument("--prime", help="text every style reads first (and you see first)")
    p.add_argument("--seed", type=int, help="the same seed, prime and moves give the same text")
    p.add_argument("--rate", type=float, help="characters per second, 0 = as fast as it goes (default 40)")
    p.add_argument("--chars", type=int, help="stop after this many characters")
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
    out.add_argument("--voice", help="voice: part of its id or name, e.g. en-us or fr")
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
    from .settings import (EngineSettings, MidiSettings, OscSettings, OutputSettings, PlaySettings,
                           parse_mix)

    values = {"/temperature": args.temperature, "/top_p": args.top_p, "/mode": args.mode,
              "/threshold": args.threshold, "/lookahead": args.lookahead, "/beams": args.beams,
              "/presence": args.presence, "/phrase": args.phrase, "/copy": args.copy, "/memory": args.memory, "/min_p": args.min_p, "/cap": args.cap,
              "/rate": args.rate, "/seed": args.seed, "/prime": args.prime}
    return PlaySettings(
        engine=EngineSettings(args.models.split(",") if args.models else None,
                              parse_mix(args.mix) if args.mix else None, args.backend, args.precision,
                              values=values),
        osc=OscSettings(args.osc_listen, args.osc_allow, args.osc_out, args.frame_rate, not args.no_oscquery),
        midi=MidiSettings(not args.no_midi, args.midi_in, args.midi_api, args.mapping, args.learn, args.midi_clock,
                          not args.no_midi_out, args.midi_out, args.notes, args.midi_clock_out),
        outputs=OutputSettings(args.record, args.speak, args.speak_to, args.voice, args.policy, args.project,
                               args.fullscreen, args.theme, args.screenshot, args.panel, args.on_beat),
        presets=args.presets, preset=args.preset, chars=args.chars, link=args.link, wekinator=args.wekinator)


def _play(args) -> int:
    import logging

    from .session import Session
    from .settings import SetupError

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


def _add_panel(sub) -> None:
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
    from .screen.priority import idle_priority, one_software_renderer_thread

    # first of all, so that every thread of the panel inherits it: numpy's (started on import),
    # the OSC client's, the software renderer's. The engine (the music) comes first.
    idle_priority()
    one_software_renderer_thread()
    from .gui.client import EngineClient
    from .gui.panel import Panel
    from .oscwire import is_loopback, parse_hostport
    from .screen import display_available
    from .screen.theme import ThemeError, load_theme

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
    client = EngineClient((host, port), "127.0.0.1" if is_loopback(host) else "0.0.0.0")
    if not client.wait_for_tree():
        print(f"instrument panel: no engine answers at {host}:{port} (is `instrument play` running, and "
              f"does its --osc-allow admit this computer?)", file=sys.stderr)
        return 1
    panel = Panel(client, theme, wek_inputs)
    if args.screenshot:
        import threading
        threading.Timer(max((args.seconds or 3) - 0.5, 0.5), panel.screenshot, args=(args.screenshot,)).start()
    started = time.monotonic()
    try:
        panel.run(args.seconds)
    except KeyboardInterrupt:
        pass
    finally:
        client.close()
    if args.report_fps:
        print(f"frames/s {panel.frames_drawn / (time.monotonic() - started):.1f}")
    return 0


def _add_replay(sub) -> None:
    p = sub.add_parser("replay", help="play a recorded performance back to the same text",
                       description="Replay a recording made with `instrument play --record`: the same models "
                       "(checked by their file hashes), every move at the step it took effect, the same text.")
    p.add_argument("recording", type=Path)
    p.add_argument("--speak-to", metavar="FILE.wav", help="render the text's speech into a WAV file")
    p.add_argument("--quiet", action="store_true", help="do not print the text, only whether it matched")
    p.set_defaults(func=_replay)


def _replay(args) -> int:
    from .library import installed
    from .recording import (ReplayError, check_models, first_difference, plan_computation, read_recording,
                            recorded_copies, recorded_memories, replay)
    from .parts import build_engine, load_styles
    from .settings import EngineSettings, SetupError

    try:
        rec = read_recording(args.recording)
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
    speech = None
    if args.speak_to:
        from .outputs.speech import Speech

        speech = Speech(engine.params, Path(args.speak_to), policy="recite").start(engine)  # every phrase
    try:
        text = replay(engine, rec)
    except ReplayError as e:
        print(f"instrument replay: {e}", file=sys.stderr)
        return 1
    finally:
        engine.close_subscriptions()
        if speech is not None:
            speech.join()
    if not args.quiet:
        sys.stdout.write(text + "\n")
    if rec.damage is not None:
        print(f"instrument replay: {args.recording}: {rec.damage}; replayed the piece as far as it is intact",
              file=sys.stderr)
    elif rec.steps is None:
        print("instrument replay: the recording has no end mark (it was cut off mid-piece); "
              "replayed as far as its text goes", file=sys.stderr)
    where = first_difference(text, rec.text)
    if where is None:
        print(f"replayed {len(text)} characters: the same text as the recording", file=sys.stderr)
        return 0
    why = ("; ".join(how.differences) if how.differences else
           "though it was computed the same way (same models, backend, precision and inner loop)")
    print(f"instrument replay: the text differs from the recording from character {where}: {why}", file=sys.stderr)
    return 1


def _styles(args) -> list[str]:
    """--styles a,b,c, or every installed style."""
    from .library import installed_names

    return args.styles.split(",") if args.styles else installed_names()


def _add_touchosc(sub) -> None:
    p = sub.add_parser("touchosc", help="write a TouchOSC layout for the installed styles",
                       description="Generate a TouchOSC layout from the parameter tree: a fader per style in its "
                       "colour, temperature, top-p, rate, mode, play, reset, preset buttons and an XY morph pad.")
    p.add_argument("--out", type=Path, default=Path("mappings/instrument.tosc"), help="where to write the .tosc")
    p.add_argument("--theme", metavar="FILE", help="colours of the styles")
    p.add_argument("--styles", help="style names, comma separated (default: the installed styles)")
    p.set_defaults(func=_touchosc)


def _touchosc(args) -> int:
    from .control import touchosc
    from .control.presets import Presets
    from .paths import presets_dir
    from .screen.theme import load_theme
    from .tree import build_tree

    names = _styles(args)
    tree = build_tree(names)
    presets = Presets(tree, presets_dir()).bank()
    touchosc.write(touchosc.build(tree, names, load_theme(args.theme), presets), args.out)
    print(f"wrote {args.out}: {len(names)} style faders, {len(presets)} presets")
    return 0


def _add_describe(sub) -> None:
    p = sub.add_parser("describe", help="print the parameter tree (every OSC address)",
                       description="The parameter tree of the installed styles: as JSON, or as the "
                       "Markdown of docs/osc.md.")
    p.add_argument("--markdown", action="store_true", help="print docs/osc.md")
    p.add_argument("--styles", help="style names, comma separated (default: the installed styles)")
    p.set_defaults(func=_describe)


def _describe(args) -> int:
    import json

    from .control.osc_doc import render
    from .parts import every_command
    from .tree import build_tree

    names = _styles(args)
    tree = build_tree(names)
    print(render(tree, every_command(names)) if args.markdown else json.dumps(tree.describe(), indent=1))
    return 0


def _add_midi(sub) -> None:
    p = sub.add_parser("midi", help="MIDI ports", description="What the MIDI system offers.")
    p.add_argument("what", choices=("ports",), help="ports: list the MIDI inputs the instrument can see")
    p.add_argument("--midi-api", choices=("alsa", "jack", "coremidi", "windows"))
    p.set_defaults(func=_midi)


def _midi(args) -> int:
    from .control.midi import MidiUnavailable, list_ports

    try:
        ports = list_ports(args.midi_api)
    except MidiUnavailable as e:
        print(f"instrument midi: {e}", file=sys.stderr)
        return 1
    print("\n".join(ports) if ports else "no MIDI inputs")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="instrument", description="A text instrument: an ensemble of character-level LSTMs, each trained on "
        "one corpus, mixed live by faders (MIDI, OSC, the panel) while it writes. Start with `instrument play`; "
        "each command's --help is its manual.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (_add_play, _add_panel, _add_replay, _add_models, _add_score, _add_sample, _add_describe, _add_touchosc,
                _add_midi, _add_train, _add_train_styles):
        add(sub)
    for p in (parser, *sub.choices.values()):
        p.allow_abbrev = False  # `--preset x` once set the preset *folder* to x (an abbreviation of --presets)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
