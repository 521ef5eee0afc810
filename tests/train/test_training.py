"""Seconds-long real training runs on tiny models and synthetic text."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import yaml

from instrument.cli import main
from instrument.core.model import CharLSTM
from instrument.core.vocab import encode
from instrument.train.batches import StreamBatcher
from instrument.train import TrainingError
from instrument.train.checkpoint import load_tensors, read_record
from instrument.core.copying import CopyTable
from instrument.core.memoryfile import read_memory
from instrument.train.corpus import load_corpus
from instrument.train.run import prepare

FAST = ["--arch", "1x64", "--batch", "16", "--seq-len", "64", "--threads", "1"]


def _train(corpus, tmp_path, *extra: str) -> int:
    return main(["train", str(corpus), "--name", "rep", "--out", str(tmp_path / "models"),
                 "--runs", str(tmp_path / "runs"), *FAST, *extra])


@pytest.mark.slow
def test_training_learns_a_repeating_text_and_exports_a_card(repeating_text, tmp_path, capsys):
    assert _train(repeating_text, tmp_path, "--epochs", "12", "--lr", "0.01", "--eval-every", "1000") == 0
    said = capsys.readouterr().err
    # the export says each phase as it starts (it sat silent at 100% for six minutes)
    for phase in ("exporting 'rep'", "xz, PPMd and zpaq", "fitting the gate", "indexing", "as it plays", "sample lines"):
        assert phase in said, phase
    card = yaml.safe_load((tmp_path / "models" / "rep.yaml").read_text())
    assert card["heldout"]["bpc"] < 0.1  # near zero: the phrase is fully predictable
    assert card["arch"] == "1x64" and card["params"] == CharLSTM.load(tmp_path / "models" / "rep.safetensors").n_params()
    assert card["corpus"]["bytes"] == repeating_text.stat().st_size
    assert len(card["samples"]) >= 1 and "the cat sat" in " ".join(card["samples"])
    CopyTable.from_card(card["copy"])  # the copy weights, fitted on the dev slice
    memory = read_memory(tmp_path / "models" / "rep.memory")  # the memory, beside it
    assert memory.recall.orders == card["memory"]["orders"] and card["memory"]["fitted_on"] == card["run"]["dev"]
    assert card["heldout"]["played_bpc"] <= card["heldout"]["bpc"] + 0.01
    assert {"memory_bpc", "played_bpc"} <= set(card["heldout"]["check"])
    for key in ("xz_bpc", "ppmd_bpc", "zpaq_bpc"):  # the references (None where the program is missing)
        assert key in card["heldout"]


@pytest.mark.slow
def test_fit_fits_the_memory_and_copy_of_an_installed_style(repeating_text, tmp_path, capsys):
    """A style from before the memory (no NAME.memory, no memory figures) is fitted anew, its
    LSTM and the rest of its card kept; a wrong corpus or name is a clear message."""
    assert _train(repeating_text, tmp_path, "--epochs", "1", "--eval-every", "1000") == 0
    card_path = tmp_path / "models" / "rep.yaml"
    card = yaml.safe_load(card_path.read_text())
    card.pop("copy")
    card.pop("memory")
    for key in ("memory_bpc", "played_bpc"):
        card["heldout"].pop(key)
    card_path.write_text(yaml.safe_dump(card))
    (tmp_path / "models" / "rep.memory").unlink()
    models = ["models", "--dir", str(tmp_path / "models"), "--corpora", str(repeating_text.parent)]
    assert main([*models, "--fit", "nosuch"]) == 2
    assert "no installed style nosuch" in capsys.readouterr().err
    assert main([*models, "--fit"]) == 0
    refit = yaml.safe_load(card_path.read_text())
    assert CopyTable.from_card(refit["copy"]) and read_memory(tmp_path / "models" / "rep.memory")
    assert refit["heldout"]["played_bpc"] < refit["heldout"]["bpc"] and refit["heldout"]["bpc"] == card["heldout"]["bpc"]
    refit["corpus"]["sha256"] = "0" * 64  # trained on another text than the one named
    card_path.write_text(yaml.safe_dump(refit))
    assert main([*models, "--fit"]) == 1
    err = capsys.readouterr().err
    assert "rep: cannot fit its memory and copy" in err and "sha256 differs" in err


@pytest.mark.slow
def test_resume_continues_the_same_run(repeating_text, tmp_path):
    assert _train(repeating_text, tmp_path, "--epochs", "1") == 0
    ckpt = tmp_path / "runs" / "rep" / "last.safetensors"
    first = read_record(ckpt)
    saved = load_tensors(ckpt, "model.")
    trainer = prepare(repeating_text, "rep", None, tmp_path / "runs" / "rep", resume=True, epochs=2.0)
    assert trainer.record.step == first.step and trainer.progress == pytest.approx(0.5, abs=0.02)
    for name, value in trainer.model.state_dict().items():
        assert torch.equal(value, saved[name])
    assert all(int(s["step"]) == first.step for s in trainer.optimizer.state.values())
    assert _train(repeating_text, tmp_path, "--resume", "--epochs", "2") == 0
    second = read_record(ckpt)
    assert second.step == pytest.approx(2 * first.step, abs=2)
    assert second.chars_trained == pytest.approx(2 * first.chars_trained, rel=0.01)


@pytest.mark.slow
def test_a_new_run_refuses_to_overwrite_a_checkpoint(repeating_text, tmp_path, capsys):
    assert _train(repeating_text, tmp_path, "--epochs", "0.2") == 0
    capsys.readouterr()
    assert _train(repeating_text, tmp_path, "--epochs", "0.2") == 2
    said = capsys.readouterr().err.strip().splitlines()
    assert said[-1].startswith("instrument train: run ") and "add --resume" in said[-1]


def test_interrupt_saves_a_checkpoint(repeating_text, tmp_path):
    trainer = prepare(repeating_text, "rep", "1x32", tmp_path / "runs" / "rep", resume=False,
                      epochs=5.0, batch=8, seq_len=32)

    def stop_after_ten(t):
        if t.record.step == 10:
            raise KeyboardInterrupt

    trainer.add_callback("on_batch_end", stop_after_ten)
    with pytest.raises(KeyboardInterrupt):
        trainer.run()
    assert read_record(tmp_path / "runs" / "rep" / "last.safetensors").step == 10


def test_heldout_text_is_never_trained_on(tmp_path):
    path = tmp_path / "split.txt"
    path.write_text("a" * 19_000 + "Z" * 1_000)  # the last 5% is all Z
    corpus = load_corpus(path)
    assert corpus.split == 19_000 and (corpus.heldout == encode("Z")[0]).all()
    batcher = StreamBatcher(corpus.train, batch=4, seq_len=16)
    for _ in range(3 * batcher.batches_per_epoch):
        x, y, _ = batcher.next()
        assert not (x == ord("Z")).any() and not (y == ord("Z")).any()


def test_sequences_are_at_least_80_characters_by_default():
    from instrument.train.hparams import defaults_for

    assert defaults_for(512, 4_000_000).seq_len >= 80
    assert 0.1 <= defaults_for(512, 4_000_000).dropout <= 0.3
    assert 0.1 <= defaults_for(256, 200_000).dropout <= 0.3


@pytest.mark.slow
def test_kill_stops_a_run_with_a_checkpoint(repeating_text, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    runs = tmp_path / "runs"
    proc = subprocess.Popen([sys.executable, "-m", "instrument", "train", str(repeating_text), "--name", "rep",
                             "--runs", str(runs), "--out", str(tmp_path / "models"), *FAST, "--epochs", "500"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    # SIGTERM once it is training (its handler is installed before the first progress line), not
    # after a fixed sleep: on a loaded machine 6 s came before the handler and the run died of -15
    seen, deadline = b"", time.monotonic() + 120
    while b"chars/s" not in seen and time.monotonic() < deadline:
        seen += os.read(proc.stderr.fileno(), 4096)
    time.sleep(1.0)  # a few steps learned since the last check
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    err = seen + err
    assert proc.returncode == 130, err
    assert b"best so far" in err  # Ctrl-C measured what was learned since the last check
    assert read_record(runs / "rep" / "last.safetensors").step > 0
    command = err.decode().split("Resume with: ")[1].splitlines()[0]  # it names the folders it used
    assert f"--runs {runs}" in command and "--resume" in command and f"--out {tmp_path / 'models'}" in command
    from instrument.cli import main

    assert main(command.split()[1:] + [*FAST, "--minutes", "0.05"]) == 0  # and it works


def test_a_joined_corpus_keeps_every_texts_dev_and_heldout_parts_out_of_training(tmp_path):
    """A base run trains on neither text's dev slice nor held-out part, and is judged on the dev
    slices; the held-out parts are nowhere in it."""
    from instrument.train.corpus import load_corpora

    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("a" * 361_000 + "D" * 19_000 + "Y" * 20_000)  # dev: 5% of the 380,000 before the held-out part
    b.write_text("b" * 18_500 + "E" * 10_000 + "Z" * 1_500)    # dev: at least 10,000
    one, two = load_corpus(a), load_corpus(b)
    assert (one.dev_start, one.split, two.dev_start, two.split) == (361_000, 380_000, 18_500, 28_500)
    joined = load_corpora([a, b])
    assert joined.split == one.dev_start + two.dev_start
    assert not np.isin(joined.train, encode("DEYZ")).any()
    assert not np.isin(joined.ids, encode("YZ")).any() and np.isin(joined.heldout, encode("DE")).all()
    assert joined.dev_start == joined.split  # judged on the dev slices, as its held-out part
    assert joined.sha256 != load_corpus(a).sha256


@pytest.mark.slow
def test_a_run_can_start_from_a_base_runs_weights(repeating_text, tmp_path):
    assert _train(repeating_text, tmp_path, "--epochs", "1") == 0
    base = tmp_path / "runs" / "rep" / "best.safetensors"
    trainer = prepare(repeating_text, "fine", "1x64", tmp_path / "runs" / "fine", resume=False, init=base,
                      epochs=1.0, batch=16, seq_len=64)
    for name, value in load_tensors(base, "model.").items():
        assert torch.equal(trainer.model.state_dict()[name], value)
    assert trainer.record.init["run"] == "rep" and trainer.record.init["chars"] == read_record(base).chars_trained
    with pytest.raises(TrainingError, match="1x64"):
        prepare(repeating_text, "wide", "1x32", tmp_path / "runs" / "wide", resume=False, init=base, epochs=1.0)


def test_a_short_budget_warms_up_within_it():
    """--minutes 1 is a few dozen steps: the warm-up takes at most 5% of the budget, not 50 steps."""
    from instrument.train.hparams import TrainConfig
    from instrument.train.trainer import learning_rate

    config = TrainConfig(lr=0.01, warmup_steps=50, minutes=1.0)
    assert learning_rate(config, step=10, progress=0.2) > 0.9 * 0.01   # 10 steps in, 20% of a minute: full speed
    assert learning_rate(config, step=10, progress=0.01) < 0.5 * 0.01  # early in a long budget: still ramping
    assert learning_rate(config, step=0, progress=0.0) == pytest.approx(0.01 / 50)


def test_every_help_text_reads_as_written():
    """No "%%" left by argparse's formatting, in any command's --help."""
    import contextlib
    import io

    from instrument.cli import build_parser

    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    for name, sub in commands.items():
        out = io.StringIO()
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
            sub.parse_args(["--help"])
        assert "%%" not in out.getvalue(), name


def test_a_run_stops_when_the_dev_figure_stops_improving(repeating_text, tmp_path, monkeypatch):
    """Patience: after `patience` checks without a better dev figure the run stops, its best
    weights kept; a run still improving goes on."""
    trainer = prepare(repeating_text, "rep", "1x64", tmp_path / "runs" / "rep", resume=False, epochs=50.0,
                      batch=16, seq_len=64)
    trainer.config.eval_every_s = 0.0  # a check after every batch
    trainer.config.patience = 3
    figures = iter([2.0, 1.5, 1.6, 1.7, 1.8, 1.9, 2.0] + [9.0] * 100)
    monkeypatch.setattr("instrument.train.trainer.bits_per_char", lambda *a, **k: next(figures))
    trainer.run()
    assert trainer.record.best_bpc == 1.5 and trainer.record.step <= 6 and trainer.progress < 0.1
    assert (tmp_path / "runs" / "rep" / "best.safetensors").exists()


def _bad_corpus(tmp_path, kind: str) -> str:
    import os

    path = tmp_path / kind
    if kind == "binary":
        path.write_bytes(bytes(range(256)) * 100)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "one-byte":
        path.write_bytes(b"a")
    elif kind == "latin-1":
        path.write_bytes("café crème ".encode("latin-1") * 3000)
    elif kind == "folder":
        path.mkdir()
    elif kind == "short":
        path.write_text("the rain in spain " * 58)  # 1,044 characters
    elif kind == "fifo":
        os.mkfifo(path)  # a reader would wait for a writer for ever
    elif kind == "huge":
        with open(path, "wb") as f:  # sparse: 500 MB that cost no disk
            f.truncate(500 << 20)
    elif kind == "device":
        return "/dev/zero"
    return str(path)


@pytest.mark.parametrize("kind, says", [
    ("binary", "binary file"), ("empty", "needs at least"), ("one-byte", "needs at least"),
    ("latin-1", "not UTF-8"), ("folder", "not a regular file"), ("short", "needs at least"),
    ("fifo", "not a regular file"), ("huge", "more than the"), ("device", "not a regular file"),
])
def test_a_corpus_that_is_not_one_is_one_line_and_nothing_written(tmp_path, capsys, kind, says):
    from instrument.cli import main

    corpus = _bad_corpus(tmp_path, kind)
    code = main(["train", corpus, "--name", "t", "--out", str(tmp_path / "out"), "--runs", str(tmp_path / "runs")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and says in err[0], err
    assert not (tmp_path / "out").exists() and not list((tmp_path / "runs").glob("*/*"))


@pytest.mark.parametrize("name", ["../../escaped", "a/b", "", ".hidden", "x" * 65])
def test_a_style_name_is_a_name_not_a_path(tmp_path, capsys, name):
    from instrument.cli import main

    (tmp_path / "c.txt").write_text("the rain in spain stays mainly in the plain\n" * 600)
    code = main(["train", str(tmp_path / "c.txt"), "--name", name, "--out", str(tmp_path / "out"),
                 "--runs", str(tmp_path / "runs"), "--minutes", "0.01"])
    assert code == 2 and "a style's name is" in capsys.readouterr().err
    assert not any(tmp_path.parent.glob("escaped*")) and not (tmp_path / "out").exists()


def test_train_styles_without_the_corpora_says_where_they_are_expected(tmp_path, capsys):
    from instrument.cli import main

    code = main(["train-styles", "bible", "--corpora", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "expected in" in err and "--corpora" in err and "Traceback" not in err


def test_the_models_table_adds_a_base_runs_minutes_only_when_its_card_knows_them():
    from instrument.train.report import _minutes

    assert _minutes({"minutes": 24.1, "init": {"run": "holmes", "minutes": 21.2}}) == "24.1 + 21.2 base"
    assert _minutes({"minutes": 24.1, "init": {"run": "init_holmes", "chars": None, "minutes": None}}) == "24.1"
    assert _minutes({"minutes": 24.1}) == "24.1"


def test_a_style_continued_from_a_continued_style_owes_both_runs(tmp_path):
    from instrument.train.run import _card_cost

    card = tmp_path / "holmes.yaml"
    card.write_text("chars_trained: 3530752\nminutes: 24.1\ninit: {run: holmes, chars: 3719168, minutes: 21.2}\n")
    assert _card_cost(card) == (3530752 + 3719168, 45.3)
    card.write_text("chars_trained: 3530752\nminutes: 24.1\ninit: {run: init_holmes, chars: null, minutes: null}\n")
    assert _card_cost(card) == (3530752, 24.1)


def test_a_recipe_starts_from_scratch_the_style_installed_another_installed_style_or_a_base_run(tmp_path):
    from instrument.train.recipes import starting_weights

    runs, out = tmp_path / "runs", tmp_path / "models"
    assert starting_weights(None, "chilcot", runs, out) is None
    assert starting_weights("installed", "chilcot", runs, out) == out / "chilcot.safetensors"
    assert starting_weights("installed:speeches", "chilcot", runs, out) == out / "speeches.safetensors"
    assert starting_weights("codebase", "linux", runs, out) == runs / "codebase" / "best.safetensors"


def test_the_shipped_recipes_read_and_start_where_their_weights_are(tmp_path):
    from instrument.train.recipes import load_recipes, starting_weights

    from ..conftest import PROJECT

    recipes = load_recipes(PROJECT / "models" / "recipes.yaml")
    for name, recipe in recipes.items():
        init = recipe.get("init")
        if init and init.startswith("installed"):
            start = starting_weights(init, name, tmp_path, PROJECT / "models")
            assert start.exists(), (name, start)
            assert list(recipes).index(start.stem) <= list(recipes).index(name)  # trained before it


def test_a_new_style_starts_from_the_installed_style_that_predicts_its_text_best(tmp_path, capsys):
    """Measured, not guessed: a text of b's starts from the style that writes b's; a style of another
    shape, the style being trained itself, and nothing at all to start from are each handled."""
    import numpy as np

    from instrument.train.startingpoint import closest_style, installed_candidates

    from ..fakes import write_letter_models

    models = write_letter_models(tmp_path / "models", {"ayes": "a", "bees": "b", "cees": "c"})
    text = np.frombuffer(b"b bb bbb b " * 400, dtype=np.uint8).astype(np.int64)
    candidates = installed_candidates(models, leave_out="cees")
    assert [n for n, _, _ in candidates] == ["ayes", "bees"]
    start = closest_style(text, candidates)
    assert start.path == models / "bees.safetensors" and start.arch == "1x32"
    assert start.scores["bees"] < start.scores["ayes"]
    assert "starting from the style 'bees'" in capsys.readouterr().err
    assert closest_style(text, candidates, arch="2x512").path is None  # none of that shape: from scratch
    assert closest_style(text, []).path is None


def test_train_fine_tunes_the_closest_style_unless_told_to_start_from_nothing(repeating_text, tmp_path, capsys,
                                                                                monkeypatch):
    from instrument.cli.styles import _start
    from instrument.train.startingpoint import CLOSEST, FINE_TUNE_LR

    from ..fakes import write_letter_models

    models = write_letter_models(tmp_path / "installed", {"ayes": "a", "bees": "b"})
    monkeypatch.setenv("INSTRUMENT_MODELS", str(models))
    assert _start(None) == CLOSEST and _start("none") is None  # train's --init, as prepare takes it
    assert _start("bees") == models / "bees.safetensors" and _start("runs/x/best.safetensors").name == "best.safetensors"
    runs = tmp_path / "runs"
    fine = prepare(repeating_text, "fine", None, runs / "fine", resume=False, init=_start(None), epochs=1.0)
    assert "starting from the style" in capsys.readouterr().err
    assert fine.record.init["run"] in ("ayes", "bees") and fine.record.model_config.arch == "1x32"  # its shape
    assert fine.config.lr == FINE_TUNE_LR
    scratch = prepare(repeating_text, "scratch", None, runs / "scratch", resume=False, init=_start("none"), epochs=1.0)
    assert scratch.record.init is None and scratch.record.model_config.arch == "2x256" and scratch.config.lr > FINE_TUNE_LR
    named = prepare(repeating_text, "named", None, runs / "named", resume=False, init=_start("bees"), epochs=1.0)
    assert named.record.init["run"] == "bees" and named.record.model_config.arch == "1x32"
    told = prepare(repeating_text, "told", None, runs / "told", resume=False, init=_start("bees"), epochs=1.0, lr=0.01)
    assert told.config.lr == 0.01
