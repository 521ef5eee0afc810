"""Hostile files: whatever a preset, mapping, card or theme file holds, a message naming it, fast,
in little memory, and nothing else changes."""
from __future__ import annotations

import os
import resource
import threading
import time

import pytest

from instrument.control.mapping import MappingError, load_mapping
from instrument.control.presets import PresetError, Presets
from instrument.base.files import FileProblem, read_yaml
from instrument.tree import build_tree

BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(8)
) + "values: {/mix/bible: *i}\n"  # nine levels of ten: 10^9 nodes once expanded


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "fifo.yaml"
    os.mkfifo(path)
    return path


def test_an_alias_bomb_is_refused_at_once_in_little_memory(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)
    before, t = _rss_mb(), time.monotonic()
    with pytest.raises(FileProblem, match="bomb.yaml: line 1: anchors and aliases .* are not allowed"):
        read_yaml(path)
    assert time.monotonic() - t < 1.0 and _rss_mb() - before < 50


@pytest.mark.parametrize("kind", ["fifo", "zero", "huge", "latin1", "deep"])
def test_a_preset_that_is_not_a_small_text_file_is_named_and_changes_nothing(tmp_path, fifo, kind):
    presets = Presets(build_tree(["bible"]), tmp_path)
    target = presets.path("evening")
    if kind == "fifo":
        os.replace(fifo, target)
    elif kind == "zero":
        target.symlink_to("/dev/zero")
    elif kind == "huge":
        target.write_bytes(b"# " + b"x" * 50_000_000 + b"\nvalues: {/mix/bible: 0.5}\n")
    elif kind == "latin1":
        target.write_bytes("values: {/mix/bible: 0.5}  # caf\xe9\n".encode("latin-1"))
    else:
        target.write_text("values: " + "[" * 50_000 + "]" * 50_000 + "\n")
    done = []
    reader = threading.Thread(target=lambda: done.append(pytest.raises(PresetError, presets.load, "evening")))
    reader.start()
    reader.join(5)  # a FIFO used to block the reader forever
    assert done, f"reading a {kind} did not return"
    message = str(done[0].value)
    assert "evening.yaml" in message and len(message) < 400
    assert presets.params.get("/mix/bible") == 0.0


def test_a_mapping_bomb_or_fifo_is_named_and_the_start_goes_on(tmp_path, fifo):
    tree = build_tree(["bible"])
    bomb = tmp_path / "map.yaml"
    bomb.write_text(BOMB.replace("values: {/mix/bible: *i}", "bindings: *i"))
    for path in (bomb, fifo):
        t = time.monotonic()
        with pytest.raises(MappingError) as err:
            load_mapping(path, tree)
        assert path.name in str(err.value) and time.monotonic() - t < 2 and len(str(err.value)) < 400


def test_an_error_never_prints_a_whole_value(tmp_path):
    presets = Presets(build_tree(["bible"]), tmp_path)
    presets.path("long").write_text("values: {/mix/bible: '" + "x" * 100_000 + "'}\n")
    with pytest.raises(PresetError) as err:
        presets.load("long")
    assert len(str(err.value)) < 300
