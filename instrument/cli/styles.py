"""`instrument train`, `train-styles`, `models`, `score` and `sample`: the styles, their training and their figures."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..base.paths import models_dir, runs_dir


def add_train(sub) -> None:
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
    p.add_argument("--init", help="where a new run starts: 'closest' (default), the installed style that "
                   "predicts the text best, fine-tuned; a style's name; a weights file (a run's best.safetensors); "
                   "or 'none', from scratch")
    p.add_argument("--description", help="one line describing the style, for the model card")
    p.add_argument("--out", type=Path, default=None, help="where models go (default: the project's models/)")
    p.add_argument("--runs", type=Path, default=None, help="checkpoint folder (default ~/.cache/instrument/runs)")
    for flag, kind in (("--batch", int), ("--seq-len", int), ("--lr", float), ("--dropout", float),
                       ("--seed", int), ("--eval-every", float), ("--threads", int)):
        p.add_argument(flag, type=kind, help=argparse.SUPPRESS)
    p.set_defaults(func=_train)


def _train(args) -> int:
    import torch

    from ..train.run import train_command

    from ..train import TrainingError, check_name

    try:
        check_name(args.name)
    except TrainingError as e:
        print(f"instrument train: {e}", file=sys.stderr)
        return 2
    if args.threads:
        torch.set_num_threads(args.threads)
    out = args.out or models_dir()
    run_dir = (args.runs or runs_dir()) / args.name
    overrides = {"minutes": args.minutes, "epochs": args.epochs, "batch": args.batch, "seq_len": args.seq_len,
                 "lr": args.lr, "dropout": args.dropout, "seed": args.seed}
    if args.eval_every is not None:
        overrides.update(eval_every_s=args.eval_every, ckpt_every_s=args.eval_every)
    return _training("train", lambda: train_command(args.corpus, args.name, args.arch, out, run_dir, args.resume,
                                                    args.description, export_only=args.export_only,
                                                    init=_start(args.init), **overrides))


def _start(init: str | None):
    """--init as train_command takes it: CLOSEST, None (from scratch) or a weights file."""
    from ..train.startingpoint import CLOSEST

    if init in (None, CLOSEST):
        return CLOSEST
    if init == "none":
        return None
    style = models_dir() / f"{init}.safetensors"
    return style if "/" not in init and style.exists() else Path(init)


def _training(command: str, run) -> int:
    """A training command's exit code; a run that cannot go as asked is one line, not a traceback."""
    from ..train import TrainingError

    try:
        return run()
    except TrainingError as e:
        print(f"instrument {command}: {e}", file=sys.stderr)
        return 2


def add_train_styles(sub) -> None:
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

    from ..base.paths import PROJECT_ROOT
    from ..train.recipes import load_recipes, train_styles

    if args.threads:
        torch.set_num_threads(args.threads)
    corpora = args.corpora or PROJECT_ROOT.parent / "shared" / "corpora"
    if not corpora.is_dir():
        print(f"instrument train-styles: the corpora are expected in {corpora} (a folder of the recipes' "
              f"text files, e.g. shakespeare.txt); point at yours with --corpora FOLDER", file=sys.stderr)
        return 2
    return _training("train-styles", lambda: train_styles(load_recipes(args.recipes or models_dir() / "recipes.yaml"),
                                                          args.names, corpora, args.out or models_dir(),
                                                          args.runs or runs_dir()))


def add_models(sub) -> None:
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
    from ..train.card import refit
    from ..train.corpus import load_corpus

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
    from ..base.files import clip
    from ..app.library import installed

    infos = installed(args.dir)
    if not infos:
        print(f"no models in {args.dir or models_dir()}")
        return 1
    if args.fit is not None:
        unknown = sorted(set(args.fit) - {m.name for m in infos})
        if unknown:
            print(f"instrument models: no installed style {', '.join(unknown)}", file=sys.stderr)
            return 2
        from ..base.paths import PROJECT_ROOT

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
        from ..train.report import render

        args.report.write_text(render(infos))
        print(f"wrote {args.report}")
    return 0 if args.fit is None or fitted else 1


SCORE_LIMIT = 2_000_000  # bytes: scoring reads about 2,000 characters a second


def add_score(sub) -> None:
    p = sub.add_parser("score", help="bits per character of a text under one style, as it plays",
                       description="Read FILE with one style exactly as the engine predicts while it plays (its "
                       "LSTM, its corpus memory and its copy of what the text has said, each reading FILE as it "
                       "goes) and print the bits per character (the first number printed), then the LSTM's alone "
                       "and with its memory. The cards' held-out figures can be checked this way.")
    p.add_argument("model", help="style name (see `instrument models`)")
    p.add_argument("file", type=Path, help=f"UTF-8 text, at most {SCORE_LIMIT:,} bytes")
    p.set_defaults(func=_score)


def _score(args) -> int:
    from ..core.vocab import encode, transliterate
    from ..base.files import FileProblem, read_text
    from ..app.parts import build_engine, load_styles
    from ..app.settings import EngineSettings, SetupError

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


def add_sample(sub) -> None:
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
    from ..app.parts import build_engine, load_styles
    from ..app.settings import EngineSettings, SetupError

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

