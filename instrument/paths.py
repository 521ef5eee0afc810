"""Where the instrument finds its models, presets and mappings, and keeps training runs.

Each of models/, presets/ and mappings/ is looked for, in order: the environment variable
($INSTRUMENT_MODELS, $INSTRUMENT_PRESETS, $INSTRUMENT_MAPPINGS); the source checkout the package
runs from (an editable install, `make venv`); the copy `pip install .` puts beside the
interpreter (<prefix>/share/instrument/, see setup.py). The first that exists is used.
"""
from __future__ import annotations

import os
import sys
import sysconfig
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE.parent  # the source checkout, when the package runs from one


def installed_data() -> Path:
    """Where `pip install .` puts the shipped models, presets and mappings."""
    return Path(sysconfig.get_path("data", vars={"base": sys.prefix})) / "share" / "instrument"


def _data_dir(kind: str) -> Path:
    override = os.environ.get(f"INSTRUMENT_{kind.upper()}")
    if override:
        return Path(override)
    checkout = PROJECT_ROOT / kind if (PROJECT_ROOT / "pyproject.toml").is_file() else None
    for candidate in (checkout, installed_data() / kind):
        if candidate is not None and candidate.is_dir():
            return candidate
    return checkout or installed_data() / kind  # named in the message of whatever finds it missing


def models_dir() -> Path:
    return _data_dir("models")


def presets_dir() -> Path:
    return _data_dir("presets")


def mappings_dir() -> Path:
    return _data_dir("mappings")


def runs_dir() -> Path:
    """Training checkpoints live outside the repo: $INSTRUMENT_RUNS or ~/.cache/instrument/runs."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "instrument" / "runs"
    return Path(os.environ.get("INSTRUMENT_RUNS", default))

