"""`instrument train`: set up or resume a run, show progress, export the best weights."""
from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path

import torch

from ..core.model import CharLSTM, ModelConfig
from ..app.signals import interrupt_on_kill
from . import TrainingError
from .card import export
from .checkpoint import RunRecord, read_record
from .checkpoint import load_tensors
from .corpus import load_corpora
from .hparams import TrainConfig, defaults_for
from .startingpoint import CLOSEST, FINE_TUNE_LR, closest_style, installed_candidates
from .trainer import Trainer


SMALL_CORPUS = 1_000_000  # training characters under which a style is a 2x256 unless told otherwise


def default_arch(train_chars: int) -> str:
    """By the corpus, as the paper chose: a 2x512 learns a few MB; under a MB a 2x256 trains three
    times as fast a character and overfits less, and its corpus memory knows the rest."""
    return "2x256" if train_chars < SMALL_CORPUS else "2x512"


def new_record(name: str, corpus, model_config: ModelConfig, config: TrainConfig) -> RunRecord:
    return RunRecord(name=name, corpus=str(corpus.path), corpus_sha256=corpus.sha256,
                     model=asdict(model_config), train=asdict(config))


def _start_weights(init: Path):
    """(model config, name, weights, characters trained, minutes) of a base run's best weights or
    an exported style's."""
    from safetensors import safe_open

    from .checkpoint import RECORD_KEY

    if not init.is_file():
        raise TrainingError(f"cannot start from {init}: no such file (train the base run first)")
    with safe_open(str(init), framework="pt") as f:
        is_run = RECORD_KEY in (f.metadata() or {})
    if is_run:
        base = read_record(init)
        return (base.model_config, base.name, load_tensors(init, "model."), base.chars_trained,
                round(base.elapsed_s / 60, 1))
    style = CharLSTM.load(init)
    return (style.config, init.stem, style.state_dict(), *_card_cost(init.with_suffix(".yaml")))


def start_from(model: CharLSTM, record: RunRecord, init: Path, start: tuple) -> None:
    """Load a base run's best weights, or an exported style's weights (start: what _start_weights
    read of init), into a fresh model, and note in the record where it began (a style retrained
    from what ships need not start from noise)."""
    config, name, weights, chars, minutes = start
    if config.arch != record.model_config.arch:
        raise TrainingError(f"{init} is a {config.arch}; run '{record.name}' is a {record.model_config.arch}")
    model.load_state_dict(weights)
    record.init = {"run": name, "chars": chars, "minutes": minutes}


def _card(path: Path) -> dict:
    """An exported style's card, or {} (none, unreadable, not a mapping)."""
    from ..base.files import FileProblem, read_yaml

    try:
        facts = read_yaml(path) if path.is_file() else {}
    except FileProblem:
        return {}
    return facts if isinstance(facts, dict) else {}


def _card_description(card: Path) -> str | None:
    """The description an earlier export of this style gave it (a resumed run keeps it)."""
    value = _card(card).get("description")
    return value if isinstance(value, str) else None


def _card_cost(card: Path) -> tuple[int | None, float | None]:
    """What an exported style's card says its training cost (characters, minutes), if it says,
    its own base's cost included (a style continued twice owes both runs)."""
    facts = _card(card)
    chars, minutes = facts.get("chars_trained"), facts.get("minutes")
    base = facts.get("init") if isinstance(facts.get("init"), dict) else {}
    if isinstance(chars, int) and isinstance(base.get("chars"), int):
        chars += base["chars"]
    if isinstance(minutes, (int, float)) and isinstance(base.get("minutes"), (int, float)):
        minutes = round(minutes + base["minutes"], 1)
    return chars, minutes


def prepare(corpus_path: Path | list[Path], name: str, arch: str | None, run_dir: Path, resume: bool,
            init: Path | str | None = None, **overrides) -> Trainer:
    """A Trainer for a fresh run (from scratch, from a base run's or a style's weights, or, with
    init=CLOSEST, from the installed style that predicts the corpus best), or for the saved one
    when resuming. A run from weights is fine-tuned at FINE_TUNE_LR unless an lr is given."""
    paths = corpus_path if isinstance(corpus_path, list) else [corpus_path]
    corpus = load_corpora(paths)
    last = run_dir / "last.safetensors"
    start = None  # the weights a fresh run starts from
    if resume:
        if not last.exists():
            raise TrainingError(f"nothing to resume: no checkpoint at {last}")
        record = read_record(last)
        if record.corpus_sha256 != corpus.sha256:
            raise TrainingError(f"{corpus_path} is not the corpus run '{name}' was trained on (sha256 differs)")
        if arch and arch != record.model_config.arch:
            raise TrainingError(f"run '{name}' is a {record.model_config.arch}; cannot resume it as {arch}")
        config = TrainConfig(**record.train)
        if overrides.get("minutes") is not None or overrides.get("epochs") is not None:
            config.minutes, config.epochs = overrides.get("minutes"), overrides.get("epochs")
            record.train = asdict(config)  # a new budget replaces the old one for the whole run
    else:
        if last.exists():
            raise TrainingError(f"run '{name}' already has a checkpoint at {last}: add --resume, or remove it")
        if init == CLOSEST:
            init = closest_style(corpus.train, installed_candidates(leave_out=name), arch).path
        start = _start_weights(Path(init)) if init is not None else None  # read once, here
        if start is not None and arch is None:
            arch = start[0].arch  # a start's own shape, unless asked otherwise (then it is refused)
        if init is not None and overrides.get("lr") is None:
            overrides["lr"] = FINE_TUNE_LR
        model_arch = ModelConfig.from_arch(arch or default_arch(len(corpus.train)))
        config = defaults_for(model_arch.hidden, len(corpus.train), **overrides)
        model_config = ModelConfig(model_arch.n_layers, model_arch.hidden, dropout=config.dropout)
        record = new_record(name, corpus, model_config, config)
    torch.manual_seed(config.seed)
    model = CharLSTM(record.model_config)
    if not resume and start is not None:
        start_from(model, record, Path(init), start)
    trainer = Trainer(model, corpus, config, record, run_dir)
    if resume:
        trainer.resume()
    return trainer


def attach_progress(trainer: Trainer) -> None:
    """A tqdm bar over the budget: chars/s, train and dev bpc, ETA; eval lines in logs."""
    from tqdm import tqdm

    tty = sys.stderr.isatty()
    bar = tqdm(total=100.0, initial=round(100 * trainer.progress, 2), unit="%", file=sys.stderr,
               mininterval=0.5 if tty else 60, bar_format="{l_bar}{bar}| {n:.1f}/100% [{elapsed}<{remaining}{postfix}]")
    start = {"chars": trainer.record.chars_trained, "t": trainer.record.elapsed_s}

    def on_batch_end(t: Trainer) -> None:
        dt = max(1e-9, t.record.elapsed_s - start["t"])
        dev = f"{t.last_dev_bpc:.3f}" if t.last_dev_bpc is not None else "-"
        bar.set_postfix_str(f"{(t.record.chars_trained - start['chars']) / dt:,.0f} chars/s, "
                            f"train {t.last_train_bpc:.3f} bpc, dev {dev} bpc", refresh=False)
        bar.update(max(0.0, 100 * min(t.progress, 1.0) - bar.n))

    def on_eval(t: Trainer) -> None:
        bar.write(f"step {t.record.step}: {t.record.elapsed_s / 60:.1f} min, train {t.last_train_bpc:.3f} bpc, "
                  f"dev {t.last_dev_bpc:.4f} bpc (best {t.record.best_bpc:.4f} at step {t.record.best_step})",
                  file=sys.stderr)

    def on_stalled(t: Trainer) -> None:
        bar.write(f"stopping early: {t.config.patience} checks without a better dev figure since step "
                  f"{t.record.best_step} (the best weights are kept)", file=sys.stderr)

    trainer.add_callback("on_batch_end", on_batch_end)
    trainer.add_callback("on_eval", on_eval)
    trainer.add_callback("on_stalled", on_stalled)


FEW_STEPS = 1000


def resume_command(corpora: list[Path], name: str, run_dir: Path, out_dir: Path | None) -> str:
    """The command that continues this run where it stopped, with the folders it used."""
    import shlex

    parts = ["instrument", "train", *map(str, corpora), "--name", name, "--resume", "--runs", str(run_dir.parent)]
    if out_dir is not None:
        parts += ["--out", str(out_dir)]
    return " ".join(shlex.quote(p) for p in parts)


def train_command(corpus: Path | list[Path], name: str, arch: str | None, out_dir: Path | None, run_dir: Path,
                  resume: bool, description: str | None, export_only: bool = False,
                  init: Path | None = None, **overrides) -> int:
    """Train (or resume) one run and export its best weights to out_dir; out_dir None keeps them in
    the run folder only (a base run that styles start from)."""
    corpora = corpus if isinstance(corpus, list) else [corpus]
    trainer = prepare(corpora, name, arch, run_dir, resume or export_only, init=init, **overrides)
    corpus = trainer.corpus.path
    print(f"training '{name}' ({trainer.record.model_config.arch}, {trainer.model.n_params():,} params) on "
          f"{corpus} ({len(trainer.corpus.train):,} train / {trainer.corpus.split - trainer.corpus.dev_start:,} dev / "
          f"{len(trainer.corpus.heldout):,} held-out chars), "
          f"budget {trainer.config.budget()}, checkpoints in {run_dir}", file=sys.stderr)
    if not export_only:
        attach_progress(trainer)
        interrupt_on_kill()
        try:
            trainer.run()
        except KeyboardInterrupt:
            best = trainer.record.best_bpc
            print(f"\nstopped; checkpoint saved, the best so far {best:.4f} bpc on the dev slice at step "
                  f"{trainer.record.best_step} (what was learned since the last check included). Resume with: "
                  f"{resume_command(corpora, name, run_dir, out_dir)}\n(or export it as it is with --export-only)"
                  if best is not None else
                  f"\nstopped; checkpoint saved. Resume with: {resume_command(corpora, name, run_dir, out_dir)}",
                  file=sys.stderr)
            return 130
        if trainer.record.step < FEW_STEPS:
            print(f"note: this budget trained {trainer.record.step} steps; a style writes words after a few "
                  f"thousand (add --resume with a larger --minutes or --epochs to go on)", file=sys.stderr)
    if out_dir is None:
        print(f"base run '{name}' done: {trainer.best_path} (best {trainer.record.best_bpc:.4f} bpc)",
              file=sys.stderr)
        return 0
    card = export(trainer.record, trainer.best_path, trainer.corpus, name,
                  description or _card_description(out_dir / f"{name}.yaml") or f"{name} style", out_dir)
    print(f"exported {out_dir / (name + '.safetensors')}: held-out {card['heldout']['bpc']} bpc "
          f"(xz {card['heldout']['xz_bpc']})", file=sys.stderr)
    return 0
