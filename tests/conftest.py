"""Shared fixtures: tiny models and texts so the tests of the core run in seconds."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from instrument.core.model import CharLSTM, ModelConfig

PROJECT = Path(__file__).resolve().parent.parent
CORPORA = PROJECT.parent / "shared" / "corpora"


@pytest.fixture
def tiny_model() -> CharLSTM:
    torch.manual_seed(0)
    return CharLSTM(ModelConfig(n_layers=2, hidden=32, dropout=0.0)).eval()


@pytest.fixture
def tiny_model_file(tmp_path: Path, tiny_model: CharLSTM) -> Path:
    path = tmp_path / "tiny.safetensors"
    tiny_model.save(path, dtype=torch.float32)
    return path


@pytest.fixture
def repeating_text(tmp_path: Path) -> Path:
    """A corpus with nothing to learn but a repeating phrase: a trained model nears 0 bpc on it."""
    path = tmp_path / "repeat.txt"
    path.write_text("the cat sat on the mat. " * 2000)
    return path


@pytest.fixture
def display(monkeypatch):
    """An Xvfb display of the test's own, as DISPLAY."""
    from .realparts import start_xvfb

    proc, name = start_xvfb()
    monkeypatch.setenv("DISPLAY", name)
    yield name
    proc.terminate()
    proc.wait(5)
