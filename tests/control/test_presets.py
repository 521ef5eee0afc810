import logging
import time

import pytest
import yaml

from instrument.control.presets import PresetError, Presets, slug
from instrument.tree import build_tree

from ..conftest import PROJECT

NAMES = ["bible", "linux"]


@pytest.fixture
def presets(tmp_path):
    return Presets(build_tree(NAMES), tmp_path)


def test_save_then_load_restores_the_sound(presets):
    p = presets.params
    p.set("/mix/bible", 0.6)
    p.set("/mode", "product")
    presets.save("scripture")
    p.set("/mix/bible", 0.1)
    p.set("/mode", "linear")
    presets.load("scripture")
    assert p.get("/mix/bible") == 0.6 and p.get("/mode") == "product"
    saved = yaml.safe_load(presets.path("scripture").read_text())["values"]
    assert "/run" not in saved and "/prime" not in saved and "/seed" not in saved


@pytest.mark.parametrize("text, words", [
    ("values: {/mix/bible: 2.0, /volume: 1}", "/volume: no such parameter"),
    ("values: {/mix/bible: 0.5, /mode: loud}", "/mode is one of"),
    ("values: {/mix/bible: .nan}", "refuses nan"),
    ("values: {/prime: hello}", "a text cannot be part of a preset"),
    ("name: empty", "expected 'values:'"),
    ("values: [1, 2", "not valid YAML"),
])
def test_an_invalid_preset_names_the_file_and_changes_nothing(presets, text, words):
    presets.path("bad").write_text(text)
    before = presets.params.snapshot().values
    with pytest.raises(PresetError) as info:
        presets.load("bad")
    assert "bad.yaml" in str(info.value) and words in str(info.value)
    assert presets.params.snapshot().values == before


def test_a_hand_written_preset_may_choose_the_voice_but_a_saved_one_never_does(presets):
    presets.path("spoken").write_text("values: {/mix/bible: 1.0, /speech/voice: piper}")
    presets.load("spoken")
    assert presets.params.get("/speech/voice") == "piper"
    presets.save("again")
    assert "/speech/voice" not in yaml.safe_load(presets.path("again").read_text())["values"]


def test_missing_preset_lists_what_exists(presets):
    presets.save("one")
    with pytest.raises(PresetError, match="there are: one"):
        presets.load("two")


@pytest.mark.parametrize("name", ["../../etc/passwd", "", "a/b", "x" * 80])
def test_names_cannot_escape_the_folder(name):
    with pytest.raises(PresetError):
        slug(name)


def test_morph_glides_numbers_and_switches_the_rest(presets):
    p = presets.params
    presets.path("target").write_text("values: {/mix/bible: 1.0, /temperature: 1.8, /mode: product}")
    presets.morph("target", 0.4)
    assert p.get("/mode") == "product"
    time.sleep(0.2)
    middle = p.get("/mix/bible")
    assert 0.1 < middle < 0.9
    time.sleep(0.4)
    assert p.get("/mix/bible") == 1.0 and p.get("/temperature") == pytest.approx(1.8)


def test_a_load_cancels_a_morph(presets):
    presets.path("far").write_text("values: {/mix/bible: 1.0}")
    presets.path("near").write_text("values: {/mix/bible: 0.2}")
    presets.morph("far", 2.0)
    time.sleep(0.1)
    presets.load("near")
    time.sleep(0.2)
    assert presets.params.get("/mix/bible") == 0.2


def test_program_change_recalls_the_bank_in_order(presets):
    (presets.folder / "bank.yaml").write_text("- first\n- second\n")
    presets.path("first").write_text("values: {/mix/linux: 0.25}")
    presets.path("second").write_text("values: {/mix/linux: 0.75}")
    presets.recall(1)
    assert presets.params.get("/mix/linux") == 0.75
    assert presets.recall(5) is None and presets.params.get("/mix/linux") == 0.75


SEVENTEEN = ["austen", "baudelaire", "beeton", "bible", "chilcot", "elisp", "holmes", "javascript", "latex", "linux",
             "lovesongs", "moby", "nietzsche", "poe", "python", "shakespeare", "speeches"]
NEW = {"beeton", "chilcot", "elisp", "holmes", "javascript", "lovesongs", "moby", "poe"}


def test_the_shipped_presets_are_valid_sound_different_and_show_the_new_voices_off():
    shipped = Presets(build_tree(SEVENTEEN), PROJECT / "presets")
    bank = shipped.bank()
    assert len(bank) >= 10 and set(bank) <= {n.replace("-", " ") for n in shipped.names()} | set(shipped.names())
    up = {name: {a[5:] for a, v in shipped.read(name).items() if a.startswith("/mix/") and v > 0} for name in bank}
    featuring = [name for name, styles in up.items() if styles & NEW and len(styles) < len(SEVENTEEN)]
    assert len(featuring) >= 4  # in the bank, so a program change reaches them
    mixes = {tuple(sorted((a, v) for a, v in shipped.read(name).items() if a.startswith("/mix/"))) for name in bank}
    assert len(mixes) == len(bank)


def test_a_saved_preset_is_the_sound_as_a_person_set_it_and_joins_the_bank(tmp_path):
    params = build_tree(NAMES)  # the whole tree: speech settings are there, as when the piece speaks
    (tmp_path / "bank.yaml").write_text("# program change N recalls the N-th\n- salon\n")
    (tmp_path / "salon.yaml").write_text("values: {/mix/bible: 1.0}\n")
    presets, heard = Presets(params, tmp_path), []
    presets.on_loaded = heard.append
    params.set("/mix/bible", 0.55)  # stored as 0.55, but a MIDI fader writes floats like 0.550000011920929
    params.set("/mix/linux", 0.550000011920929)
    params.set("/rate", 120.0)
    params.set("/speech/rate", 230.0)
    presets.save("Night train")
    text = presets.path("Night train").read_text()
    saved = yaml.safe_load(text)["values"]
    assert saved["/mix/linux"] == 0.55 and "0.5500000" not in text
    assert "/rate" not in saved and not any(a.startswith("/speech/") for a in saved)
    assert {"/temperature", "/mode", "/lookahead"} <= set(saved)
    assert presets.bank() == ["salon", "Night train"]
    assert (tmp_path / "bank.yaml").read_text().startswith("# program change N")  # its comments kept
    presets.save("night train", overwrite=True)  # the same preset again: not a second bank entry
    assert presets.bank() == ["salon", "Night train"]
    presets.recall(1)
    assert heard == ["Night train"] and presets.current == "Night train"


def test_a_presets_mix_is_the_whole_mix(presets):
    """A style the preset does not name is silent in it (a preset made before a style existed)."""
    presets.path("old").write_text("values: {/mix/bible: 0.8}\n")
    presets.params.set("/mix/linux", 0.9)
    presets.load("old")
    assert presets.params.get("/mix/bible") == 0.8 and presets.params.get("/mix/linux") == 0.0
    presets.path("cool").write_text("values: {/temperature: 0.5}\n")  # no mix named: the mix stays
    presets.load("cool")
    assert presets.params.get("/mix/bible") == 0.8


def test_the_bank_is_not_a_preset_name(presets):
    """/preset/save bank once turned bank.yaml into a preset: every later save said "not in the
    bank" and program changes stopped."""
    (presets.folder / "bank.yaml").write_text("- salon\n")
    for name in ("bank", "Bank", "BANK "):
        with pytest.raises(PresetError, match="reserved"):
            presets.save(name)
        with pytest.raises(PresetError, match="reserved"):
            presets.load(name)
    assert (presets.folder / "bank.yaml").read_text() == "- salon\n"


def test_an_existing_preset_is_replaced_only_when_asked(presets):
    presets.params.set("/temperature", 0.5)
    presets.save("salon")
    before = presets.path("salon").read_text()
    presets.params.set("/temperature", 1.5)
    with pytest.raises(PresetError, match="exists"):
        presets.save("salon")
    assert presets.path("salon").read_text() == before
    presets.save("salon", overwrite=True)
    assert "1.5" in presets.path("salon").read_text()


def test_a_number_of_thousands_of_digits_names_the_preset_file(presets):
    presets.path("big").write_text("values:\n  /seed: " + "9" * 5000 + "\n")
    with pytest.raises(PresetError, match=r"big\.yaml.*thousands of digits"):
        presets.load("big")


def test_loads_from_many_senders_do_not_flood_the_console(presets, caplog):
    presets.path("salon").write_text("values: {/mix/bible: 1.0}\n")
    with caplog.at_level(logging.INFO, logger="instrument.presets"):
        for _ in range(200):
            presets.load("salon")
    assert len(caplog.records) == 1 and presets.current == "salon"


def test_a_save_cut_off_mid_write_leaves_nothing_after_the_next_start(tmp_path):
    import os

    orphan = tmp_path / ".salon.yaml.tmp"  # what a SIGKILL between write and rename leaves
    orphan.write_text("values: {/mix/bi")
    os.utime(orphan, (time.time() - 3600, time.time() - 3600))
    young = tmp_path / ".other.yaml.tmp"  # another instrument writing right now
    young.write_text("values: {")
    (tmp_path / "salon.yaml").write_text("values: {/mix/bible: 1.0}\n")
    Presets(build_tree(NAMES), tmp_path)
    assert not orphan.exists() and young.exists() and (tmp_path / "salon.yaml").exists()


def test_a_morph_is_announced_as_a_morph_not_a_load(presets, caplog):
    presets.path("salon").write_text("values: {/mix/bible: 1.0}\n")
    with caplog.at_level(logging.INFO, logger="instrument.presets"):
        presets.morph("salon", 0.05)
    assert [r.getMessage() for r in caplog.records] == ["morphing to preset 'salon' over 0.05 s"]
    time.sleep(0.2)
