"""Where the instrument finds its models, presets and mappings, and keeps training runs."""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def models_dir() -> Path:
    """$INSTRUMENT_MODELS, else the project's models/ folder."""
    return Path(os.environ.get("INSTRUMENT_MODELS", PROJECT_ROOT / "models"))


def runs_dir() -> Path:
    """Training checkpoints live outside the repo: $INSTRUMENT_RUNS or ~/.cache/instrument/runs."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "instrument" / "runs"
    return Path(os.environ.get("INSTRUMENT_RUNS", default))


# The shipped monospace font (DejaVu Sans Mono, Bitstream Vera licence): the projection and the panel.
FONT = Path(__file__).resolve().parent / "assets" / "fonts" / "DejaVuSansMono.ttf"
