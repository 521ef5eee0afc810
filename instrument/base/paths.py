"""Where the instrument finds its models, presets and mappings, and keeps training runs.

Each of models/, presets/ and mappings/ is looked for, in order: the environment variable
($INSTRUMENT_MODELS, $INSTRUMENT_PRESETS, $INSTRUMENT_MAPPINGS); the source checkout the package
runs from (an editable install, `make venv`); the copy `pip install .` puts beside the
interpreter (<prefix>/share/instrument/, see setup.py). The first that exists is used.

Presets and mappings are written to (a preset saved, a MIDI-learn), so an installed copy is not
where they are kept: the first time they are needed they are copied to the user's data folder
(user_data(), e.g. ~/.local/share/instrument/presets), and used from there, so a saved preset
survives an upgrade and a root-owned installation is never written to.
"""
from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent  # instrument/ (this file is instrument/base/paths.py)
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


def user_data() -> Path:
    """Where this user's presets and mappings live when the instrument is installed."""
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming")) / "instrument"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "instrument"
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "instrument"


def _writable_dir(kind: str) -> Path:
    """The folder of a kind the instrument writes to: the checkout's or the one named, else the
    user's copy of the installed one (made on first use)."""
    found = _data_dir(kind)
    if os.environ.get(f"INSTRUMENT_{kind.upper()}") or not found.is_relative_to(installed_data()):
        return found
    mine = user_data() / kind
    if not mine.is_dir() and found.is_dir():
        shutil.copytree(found, mine)
    return mine


def models_dir() -> Path:
    return _data_dir("models")


def presets_dir() -> Path:
    return _writable_dir("presets")


def mappings_dir() -> Path:
    return _writable_dir("mappings")


def runs_dir() -> Path:
    """Training checkpoints live outside the repo: $INSTRUMENT_RUNS or ~/.cache/instrument/runs."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "instrument" / "runs"
    return Path(os.environ.get("INSTRUMENT_RUNS", default))

