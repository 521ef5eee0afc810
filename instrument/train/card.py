"""Export the best weights of a run as a shipped model: fp16 safetensors and a YAML card whose
figures are measured from the shipped file itself."""
from __future__ import annotations

import datetime
import lzma
import os
import platform
from pathlib import Path

import numpy as np
import torch
import yaml

from ..core.generate import generate
from ..core.model import CharLSTM
from ..files import write_text
from .checkpoint import RunRecord, load_tensors, read_record
from . import copyfit
from .corpus import Corpus
from .evaluate import bits_per_char

CHECK_SLICE = 20_000  # held-out characters the tests re-measure from the shipped file


def xz_bpc(ids: np.ndarray, split: int) -> float:
    """The reference: bits(xz -9e of all) - bits(xz -9e of the first part), per held-out char."""
    preset = 9 | lzma.PRESET_EXTREME
    whole = len(lzma.compress(ids.tobytes(), preset=preset))
    head = len(lzma.compress(ids[:split].tobytes(), preset=preset))
    return 8 * (whole - head) / (len(ids) - split)


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


def sample_lines(model: CharLSTM, n: int = 3, width: int = 100) -> list[str]:
    """The first n non-empty lines of text at temperature 0.8, seed 0."""
    text = generate(model, 1200, prime="", temperature=0.8, seed=0)
    lines = [ln.strip()[:width] for ln in text.splitlines() if ln.strip()]
    return lines[:n]


def put_copy(card: dict, model: CharLSTM, corpus: Corpus) -> dict:
    """Fit the style's copy weights on its training text (core/copying.py) and put them in the
    card, with the held-out figures of the style as it plays, the LSTM mixed with the copy model
    (`copy_bpc`, beside the LSTM's own `bpc`)."""
    ids, split = corpus.ids, corpus.split
    check = card["heldout"]["check"]
    table = copyfit.fit(model, ids, split)
    card["heldout"]["copy_bpc"] = round(copyfit.bits_per_char_with_copy(model, ids, split, len(ids), table), 4)
    check["copy_bpc"] = round(copyfit.bits_per_char_with_copy(model, ids, check["start"], check["end"], table), 4)
    card["copy"] = {**table.to_card(), "fitted_on": [max(0, split - copyfit.FIT_CHARS), split]}
    return card


def add_copy(card_path: Path, corpus: Corpus) -> dict:
    """Fit the copy weights of an installed style and write them into its card, the rest kept."""
    from ..files import read_yaml

    card = read_yaml(card_path)
    put_copy(card, CharLSTM.load(card_path.with_suffix(".safetensors")), corpus)
    write_text(card_path, yaml.safe_dump(card, sort_keys=False, allow_unicode=False, width=100))
    return card


def export(record: RunRecord, best_path: Path, corpus: Corpus, name: str, description: str,
           out_dir: Path) -> dict:
    """Write out_dir/NAME.safetensors (fp16) and out_dir/NAME.yaml; returns the card."""
    model = CharLSTM(record.model_config)
    model.load_state_dict(load_tensors(best_path, "model."))
    at_best = read_record(best_path)  # the run as it stood when these weights were saved
    weights = out_dir / f"{name}.safetensors"
    model.save(weights, dtype=torch.float16)
    os.chmod(weights, 0o644)
    shipped = CharLSTM.load(weights)  # every figure below comes from the shipped fp16 file
    split = corpus.split
    check_end = min(len(corpus.ids), split + CHECK_SLICE)
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
                "best_step": record.best_step},
        "machine": machine(),
        "heldout": {"characters": int(len(corpus.ids) - split),
                    "bpc": round(bits_per_char(shipped, corpus.ids, split), 4),
                    "xz_bpc": round(xz_bpc(corpus.ids, split), 4),
                    "check": {"start": split, "end": check_end,
                              "bpc": round(bits_per_char(shipped, corpus.ids, split, check_end), 4)}},
        "training": dict(record.train),
        **({"init": dict(record.init)} if record.init else {}),
        "date": datetime.date.today().isoformat(),
        "samples": sample_lines(shipped),
    }
    put_copy(card, shipped, corpus)
    write_text(out_dir / f"{name}.yaml", yaml.safe_dump(card, sort_keys=False, allow_unicode=False, width=100))
    return card
