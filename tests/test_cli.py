"""The command line as a user runs it, in a separate process."""
from __future__ import annotations

import os
import subprocess
import sys

from .fakes import write_letter_models


def _instrument(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "instrument", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


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


def test_play_explains_a_bad_mix(tmp_path):
    models = write_letter_models(tmp_path / "models", {"ayes": "a"})
    result = _instrument("play", "--mix", "nobody=1", "--chars", "5", env={"INSTRUMENT_MODELS": str(models)})
    assert result.returncode == 2 and "nobody" in result.stderr and "Traceback" not in result.stderr


def test_play_mixes_what_it_is_told(tmp_path):
    models = write_letter_models(tmp_path / "models", {"ayes": "a", "bees": "b"})
    env = {"INSTRUMENT_MODELS": str(models)}
    only_b = _instrument("play", "--mix", "bees=1", "--chars", "300", "--rate", "0", "--no-oscquery",
                         "--osc-listen", "127.0.0.1:0", env=env)
    assert only_b.returncode == 0, only_b.stderr
    assert set(only_b.stdout.strip()) <= {"b", " "} and only_b.stdout.count("b") > 100
    # the letter styles write words some 30 letters long, so a phrase (the default, 0.8) would
    # be one style's for most of 300 characters: word by word, both are heard in so few
    both = _instrument("play", "--mix", "ayes=1,bees=1", "--chars", "300", "--rate", "0", "--phrase", "0",
                       "--no-oscquery", "--osc-listen", "127.0.0.1:0", env=env)
    assert both.returncode == 0, both.stderr
    assert both.stdout.count("a") > 50 and both.stdout.count("b") > 50


def test_play_without_the_c_kernel_falls_back_to_torch_with_the_same_text(tmp_path):
    models = write_letter_models(tmp_path / "models", {"ayes": "a", "bees": "b"})
    args = ("play", "--mix", "ayes=1,bees=1", "--chars", "200", "--rate", "0", "--seed", "3", "--precision", "fp16",
            "--no-oscquery", "--no-midi", "--osc-listen", "127.0.0.1:0")
    kernel = _instrument(*args, env={"INSTRUMENT_MODELS": str(models)})
    torch_only = _instrument(*args, env={"INSTRUMENT_MODELS": str(models), "INSTRUMENT_KERNEL": "off"})
    assert kernel.returncode == torch_only.returncode == 0, torch_only.stderr
    assert torch_only.stdout == kernel.stdout and len(kernel.stdout) == 201


def test_models_lists_a_hand_damaged_card_and_play_says_which_style_it_leaves_out(tmp_path):
    import os
    import subprocess
    import sys

    from .fakes import write_letter_models

    models = write_letter_models(tmp_path / "models", {"ayes": "a", "bees": "b", "cees": "c"})
    (models / "ayes.yaml").write_text("heldout: [1, 2]\ndescription: '" + "long " * 5000 + "'\n")
    (models / "bees.yaml").write_text("heldout: &a [*a]\n")   # an alias: refused
    (models / "cees.yaml").unlink()                           # no card at all
    env = {**os.environ, "INSTRUMENT_MODELS": str(models)}
    listed = subprocess.run([sys.executable, "-m", "instrument", "models"], capture_output=True, text=True,
                            timeout=60, env=env)
    assert listed.returncode == 0 and "Traceback" not in listed.stderr, listed.stderr
    assert max(len(line) for line in listed.stdout.splitlines()) < 200 and "ayes" in listed.stdout
    played = subprocess.run([sys.executable, "-m", "instrument", "play", "--chars", "20", "--rate", "0", "--mix", "ayes=1",
                             "--no-midi", "--no-oscquery", "--osc-listen", "127.0.0.1:0"], capture_output=True,
                            text=True, timeout=60, env=env)
    assert played.returncode == 0, played.stderr
    assert "style bees left out: unreadable card" in played.stderr and "style cees left out: no model card" in played.stderr


def test_play_starts_from_a_named_preset_and_refuses_an_unknown_one(tmp_path):
    models = write_letter_models(tmp_path / "models", {"ayes": "a", "bees": "b"})
    presets = tmp_path / "presets"
    presets.mkdir()
    (presets / "only-bees.yaml").write_text("name: only bees\nvalues:\n  /mix/ayes: 0.0\n  /mix/bees: 1.0\n")
    env = {"INSTRUMENT_MODELS": str(models)}
    common = ("play", "--mix", "ayes=1", "--chars", "300", "--rate", "0", "--no-oscquery", "--no-midi",
              "--osc-listen", "127.0.0.1:0", "--presets", str(presets))
    result = _instrument(*common, "--preset", "only bees", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("b") > 100 and "a" not in result.stdout
    unknown = _instrument(*common, "--preset", "only wasps", env=env)
    assert unknown.returncode == 2 and "only wasps" in unknown.stderr and "only-bees" in unknown.stderr


def test_an_abbreviated_option_is_refused_not_guessed():
    # `--preset NAME` was once taken as `--presets NAME`, a preset folder, and the piece played on
    result = _instrument("play", "--cha", "5")  # argparse's default took it for --chars
    assert result.returncode == 2 and "unrecognized arguments: --cha" in result.stderr


def _a_value_not_the_default(param):
    if param.kind in ("float", "int"):
        return param.range[1]
    if param.kind == "enum":
        return next(c for c in param.range if c != param.default)
    return "In the beginning "


def test_every_parameter_tagged_flag_is_a_play_flag_that_lands_at_its_address():
    """A parameter's flag is built from the parameter: its name, its type, its choices."""
    from instrument.cli import build_parser
    from instrument.cli.play import _play_settings, flag_name, flagged_params

    flagged = flagged_params()
    assert {"/temperature", "/top_p", "/mode", "/prime", "/seed"} <= {p.address for p in flagged}
    for param in flagged:
        value = _a_value_not_the_default(param)
        args = build_parser().parse_args(["play", flag_name(param.address), str(value)])
        values = _play_settings(args).engine.values
        assert values[param.address] == value, param.address
        assert all(v is None for a, v in values.items() if a != param.address)  # the others: their defaults


def test_learn_without_midi_says_so_first_and_plays_nothing():
    """`--learn` without MIDI once said "move a control for /mix/bible" and only then "no MIDI
    system"; now it says there is nothing to learn from, and stops before playing."""
    result = _instrument("play", "--no-midi", "--learn", "/mix/bible", "--chars", "5", "--rate", "0",
                         "--osc-listen", "127.0.0.1:0", "--no-oscquery")
    assert result.returncode == 2 and "no MIDI input is open" in result.stderr
    assert "move a control" not in result.stderr and result.stdout == ""
