"""Small real models with an obvious voice, for tests that must see the text change."""
from __future__ import annotations

from pathlib import Path

import torch
import yaml

from instrument.core.model import CharLSTM, ModelConfig


def letter_model(letter: str, hidden: int = 32) -> CharLSTM:
    """A model that writes (almost) only `letter` and spaces, whatever it has read."""
    torch.manual_seed(ord(letter))
    model = CharLSTM(ModelConfig(1, hidden, dropout=0.0))
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.fill_(-10.0)
        model.head.bias[ord(letter)] = 8.0
        model.head.bias[ord(" ")] = 6.0
    return model.eval()


def write_letter_models(folder: Path, letters: dict[str, str]) -> Path:
    """models/NAME.safetensors + NAME.yaml for each name -> letter; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, letter in letters.items():
        letter_model(letter).save(folder / f"{name}.safetensors")
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(
            {"name": name, "description": f"writes {letter}", "arch": "1x32"}))
    return folder
