"""The command line as a user runs it, in a separate process."""
from __future__ import annotations

import subprocess
import sys


def _instrument(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "instrument", *args], capture_output=True, text=True, timeout=120)


def test_sample_prints_the_same_text_twice_for_a_seed(tiny_model_file):
    args = ("sample", str(tiny_model_file), "--chars", "200", "--seed", "0", "--prime", "The ")
    one, two = _instrument(*args), _instrument(*args)
    assert one.returncode == 0, one.stderr
    assert one.stdout == two.stdout
    assert one.stdout.startswith("The ") and len(one.stdout) == len("The ") + 200 + 1


def test_sample_names_a_bad_model_file(tmp_path):
    bad = tmp_path / "broken.safetensors"
    bad.write_bytes(b"garbage")
    result = _instrument("sample", str(bad))
    assert result.returncode == 1 and "broken.safetensors" in result.stderr and "Traceback" not in result.stderr


def test_models_lists_installed_models(tiny_model_file):
    result = _instrument("models", "--dir", str(tiny_model_file.parent))
    assert result.returncode == 0 and "tiny" in result.stdout and "no model card" in result.stdout


def test_play_prints_the_asked_number_of_characters_from_the_shipped_models():
    result = _instrument("play", "--chars", "200", "--seed", "1")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout) == 200 + 1  # the text and a final newline
    again = _instrument("play", "--chars", "200", "--seed", "1")
    assert again.stdout == result.stdout


def test_play_explains_a_bad_mix():
    result = _instrument("play", "--mix", "nobody=1", "--chars", "5")
    assert result.returncode == 2 and "nobody" in result.stderr and "Traceback" not in result.stderr
