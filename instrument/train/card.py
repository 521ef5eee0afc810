"""Export the best weights of a run as a shipped model: fp16 safetensors and a YAML card whose
figures are measured from the shipped file itself."""
from __future__ import annotations

import datetime
import hashlib
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from ..core.corpusindex import CorpusIndex
from ..core.words import Lexicon
from ..core.memoryfile import write_memory
from ..core.model import CharLSTM
from ..base.files import write_text
from . import copyfit, memoryfit
from .checkpoint import RunRecord, load_tensors, read_record
from .compressors import references
from .corpus import Corpus
from .evaluate import bits_per_char
from .memoryindex import reversed_bwt

CHECK_SLICE = 20_000  # held-out characters the tests re-measure from the shipped file


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__}"


def say(text: str) -> None:
    """A phase of an export, on stderr as it starts: an export takes minutes (the memory's index,
    the compressors, the gate), and a bar sitting at 100% for six of them looked like a hang."""
    print(f"  {time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)


def sample_lines(name: str, folder: Path, n: int = 3, width: int = 100) -> list[str]:
    """The first n non-empty lines the style writes alone as it plays (its memory and copy too),
    at the defaults but temperature 0.8, seed 0."""
    from ..app.parts import build_engine, load_styles
    from ..app.settings import EngineSettings

    styles = load_styles([str(folder / f"{name}.safetensors")])
    engine = build_engine(EngineSettings(models=None, mix={styles.names[0]: 1.0},
                                         values={"/temperature": 0.8, "/seed": 0}), styles)
    text = engine.write(1200)
    while len([ln for ln in text.splitlines() if ln.strip()]) <= n and len(text) < 6000:
        text += engine.write(1200)  # a paragraph a line (Austen, Chilcot): write on until n lines are whole
    lines = [ln.strip()[:width] for ln in text.splitlines() if ln.strip()]
    return lines[:n]


def put_play(card: dict, model: CharLSTM, corpus: Corpus, out_dir: Path, name: str) -> dict:
    """The style as it plays, fitted and measured: its memory's gate, fitted on the dev slice with a
    corpus memory of the text before it (train/memoryfit.py), and its copy weights, fitted there
    too with the memory mixed in (core/copying.py); the memory it ships holds all its text before
    the held-out part (out_dir/NAME.memory). Then the held-out figures of the LSTM alone (`bpc`),
    with its memories (`memory_bpc`) and as it plays (`played_bpc`), on the whole held-out part
    and its check slice."""
    ids, dev, split = corpus.ids, corpus.dev_start, corpus.split
    say(f"indexing the {dev:,} characters before the dev slice, to fit the memory's gate on it")
    before_dev = CorpusIndex(reversed_bwt(ids[:dev]))
    say(f"fitting the gate on the dev slice ({split - dev:,} characters)")
    recall = memoryfit.fit(model, before_dev, ids, dev, split)
    say("fitting the copy weights")
    table = copyfit.fit_table(memoryfit.style_probs(model, before_dev, recall, ids, dev, split), np.asarray(ids[dev:split]))
    say(f"indexing the {split:,} characters the memory ships with")
    bwt = reversed_bwt(corpus.known)
    index = CorpusIndex(bwt)
    path = out_dir / f"{name}.memory"
    write_memory(path, bwt, recall, {"corpus_sha256": corpus.sha256, "characters": int(split)},
                 Lexicon.of_ids(corpus.known))
    os.chmod(path, 0o644)
    held, check = card["heldout"], card["heldout"]["check"]
    say("measuring the held-out part as it plays")
    for figures, start, end in ((held, split, len(ids)), (check, check["start"], check["end"])):
        p = memoryfit.style_probs(model, index, recall, ids, start, end)
        figures["memory_bpc"] = round(float(-np.log2(p).mean()), 4)
        figures["played_bpc"] = round(copyfit.bits_with_copy(p, np.asarray(ids[start:end]), table), 4)
    card["memory"] = {"file": path.name, "bytes": path.stat().st_size, "sha256": file_sha256(path),
                      "characters": int(split), "orders": recall.orders, "text_orders": recall.text_orders,
                      "fade_from": recall.fade_from, "fade": recall.fade, "text_fade": recall.text_fade,
                      "fitted_on": [int(dev), int(split)]}
    card["copy"] = {**table.to_card(), "fitted_on": [int(dev), int(split)]}
    return card


def refit(card_path: Path, corpus: Corpus) -> dict:
    """Fit an installed style's memory and copy weights again (its LSTM kept) and write them
    beside it, its card updated with the new figures, the rest kept."""
    from ..base.files import read_yaml

    card = read_yaml(card_path)
    held = card.setdefault("heldout", {})
    held.setdefault("check", {"start": corpus.split, "end": min(len(corpus.ids), corpus.split + CHECK_SLICE)})
    held.pop("copy_bpc", None)  # a card from before the memory: "as it plays" is played_bpc now
    held["check"].pop("copy_bpc", None)
    if any(held.get(key) is None for key in ("xz_bpc", "ppmd_bpc", "zpaq_bpc")):
        say("compressing the held-out part with xz, PPMd and zpaq, for comparison")
        held.update(references(corpus.ids, corpus.split))
    put_play(card, CharLSTM.load(card_path.with_suffix(".safetensors")), corpus, card_path.parent, card_path.stem)
    say("writing three sample lines")
    card["samples"] = sample_lines(card_path.stem, card_path.parent)
    write_card(card_path, card)
    return card


def write_card(path: Path, card: dict) -> None:
    write_text(path, yaml.safe_dump(card, sort_keys=False, allow_unicode=False, width=100))


def export(record: RunRecord, best_path: Path, corpus: Corpus, name: str, description: str,
           out_dir: Path) -> dict:
    """Write out_dir/NAME.safetensors (fp16), NAME.memory and NAME.yaml; returns the card. Each
    phase is said on stderr as it starts."""
    say(f"exporting '{name}': the best weights on the dev slice (step {record.best_step}) as fp16")
    model = CharLSTM(record.model_config)
    model.load_state_dict(load_tensors(best_path, "model."))
    at_best = read_record(best_path)  # the run as it stood when these weights were saved
    weights = out_dir / f"{name}.safetensors"
    model.save(weights, dtype=torch.float16)
    os.chmod(weights, 0o644)
    shipped = CharLSTM.load(weights)  # every figure below comes from the shipped fp16 file
    split = corpus.split
    check_end = min(len(corpus.ids), split + CHECK_SLICE)
    say(f"measuring the held-out part ({len(corpus.ids) - split:,} characters) with the LSTM alone, and "
        f"compressing it with xz, PPMd and zpaq for comparison")
    card = {
        "name": name,
        "description": description,
        "corpus": {"file": corpus.path.name, "bytes": corpus.n_bytes, "sha256": corpus.sha256,
                   "characters": int(len(corpus.ids)), "dropped_characters": corpus.dropped},
        "arch": record.model_config.arch,
        "params": shipped.n_params(),
        "file_bytes": weights.stat().st_size,
        "chars_trained": at_best.chars_trained,
        "minutes": round(at_best.elapsed_s / 60, 1),
        "run": {"steps": record.step, "chars": record.chars_trained, "minutes": round(record.elapsed_s / 60, 1),
                "best_step": record.best_step, "dev": [int(corpus.dev_start), int(split)]},
        "machine": machine(),
        "heldout": {"characters": int(len(corpus.ids) - split),
                    "bpc": round(bits_per_char(shipped, corpus.ids, split), 4),
                    **references(corpus.ids, split),
                    "check": {"start": split, "end": check_end,
                              "bpc": round(bits_per_char(shipped, corpus.ids, split, check_end), 4)}},
        "training": dict(record.train),
        **({"init": dict(record.init)} if record.init else {}),
        "date": datetime.date.today().isoformat(),
    }
    put_play(card, shipped, corpus, out_dir, name)
    write_card(out_dir / f"{name}.yaml", card)
    say("writing three sample lines")
    card["samples"] = sample_lines(name, out_dir)
    write_card(out_dir / f"{name}.yaml", card)
    return card
