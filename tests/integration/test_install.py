"""`pip install .`, not editable, into a fresh virtualenv: the installed instrument finds the shipped
styles, presets and mappings (setup.py's data files, base/paths.py's search) and plays, from a folder
that is not the checkout."""
from __future__ import annotations

import pytest

import os
import site
import subprocess
import sys
from pathlib import Path

from ..conftest import PROJECT


def _run(args: list, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600, **kwargs)


@pytest.mark.slow
def test_a_plain_install_plays_and_lists_the_shipped_styles(tmp_path):
    wheels = tmp_path / "wheels"
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", wheels, PROJECT],
                 env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert built.returncode == 0, built.stderr
    venv = tmp_path / "venv"
    assert _run([sys.executable, "-m", "venv", "--without-pip", venv]).returncode == 0
    python = venv / "bin" / "python"
    installed = _run([sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps",
                      *wheels.glob("instrument-*.whl")])
    assert installed.returncode == 0, installed.stderr
    # the dependencies (numpy, safetensors, ...) from this environment, after the venv's own packages
    purelib = _run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]).stdout.strip()
    (tmp_path / "venv" / purelib.split(str(venv) + "/")[1] / "deps.pth").write_text(
        "\n".join(site.getsitepackages()) + "\n")
    away = tmp_path / "elsewhere"
    away.mkdir()
    home = tmp_path / "home"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("INSTRUMENT_") and k != "PYTHONPATH"},
           "HOME": str(home), "XDG_DATA_HOME": str(home / "data")}
    where = _run([python, "-c", "import instrument, instrument.base.paths as p; print(instrument.__file__); "
                  "print(p.models_dir()); print(p.presets_dir()); print(p.mappings_dir())"], cwd=away, env=env)
    package, models, presets, mappings = where.stdout.split()
    assert package.startswith(str(venv)) and models.startswith(str(venv / "share" / "instrument")), where.stdout
    # presets and mappings are written to (a save, a learn): the user's own copy, not the installation
    assert (presets, mappings) == (str(home / "data" / "instrument" / "presets"),
                                   str(home / "data" / "instrument" / "mappings"))
    assert sorted(p.name for p in (home / "data" / "instrument" / "presets").iterdir()) == \
        sorted(p.name for p in (PROJECT / "presets").iterdir())
    memories = sorted(p.name for p in (PROJECT / "models").glob("*.memory"))
    assert memories and sorted(p.name for p in Path(models).glob("*.memory")) == memories  # each style's memory ships
    listed = _run([python, "-m", "instrument", "models"], cwd=away, env=env)
    shipped = sorted(p.stem for p in (PROJECT / "models").glob("*.safetensors"))
    assert listed.returncode == 0 and [line.split()[0] for line in listed.stdout.splitlines()[1:]] == shipped
    played = _run([python, "-m", "instrument", "play", "--chars", "120", "--seed", "1", "--rate", "0", "--no-midi",
                   "--osc-listen", "127.0.0.1:0", "--no-oscquery"], cwd=away, env=env)
    assert played.returncode == 0, played.stderr
    assert len(played.stdout.strip()) >= 100 and "left out" not in played.stderr
    assert "without its corpus memory" not in played.stderr
