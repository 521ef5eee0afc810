"""File work is done on the worker's thread: never in the MIDI callback (JACK's process cycle)
nor on the OSC receive thread; and OSC names a mapping, never a path."""
from __future__ import annotations

import threading

import mido

from instrument.control.mapping import load_mapping
from instrument.control.midi import MidiControl
from instrument.control.osc import OscRouter
from instrument.control.presets import Presets
from instrument.control.worker import Worker
from instrument.base.oscwire import message
from instrument.tree import build_tree
from instrument.app.parts import map_control_messages

NAMES = ["bible", "linux"]


def _rig(tmp_path):
    (tmp_path / "presets").mkdir()
    (tmp_path / "presets" / "bank.yaml").write_text("- evening\n")
    (tmp_path / "presets" / "evening.yaml").write_text("values: {/mix/linux: 0.9}\n")
    (tmp_path / "mappings").mkdir()
    mapping = tmp_path / "mappings" / "mine.yaml"
    mapping.write_text("bindings:\n- {channel: 1, cc: 20, target: /mix/bible}\n")
    params = build_tree(NAMES)
    files, threads = Worker(), []
    presets = Presets(params, tmp_path / "presets", on_loaded=lambda name: threads.append(threading.current_thread()))
    midi = MidiControl(params, load_mapping(mapping, params), files=files,
                       on_program=lambda n: files.submit("program change", lambda: presets.recall(n)))
    return params, files, presets, midi, threads


def test_a_program_change_reads_its_preset_on_the_worker_not_in_the_midi_callback(tmp_path):
    params, files, presets, midi, threads = _rig(tmp_path)
    midi.handle(mido.Message("program_change", program=0))
    files.drain()
    assert params.get("/mix/linux") == 0.9 and threads and threads[0] is not threading.current_thread()
    files.stop()


def test_a_learn_writes_the_mapping_on_the_worker(tmp_path, monkeypatch):
    from instrument.control import midi as midi_module

    params, files, presets, midi, _ = _rig(tmp_path)
    writers = []
    real = midi_module.save_mapping
    monkeypatch.setattr(midi_module, "save_mapping", lambda m: (writers.append(threading.current_thread()), real(m)))
    midi.learn("/mix/linux")
    for value in (10, 40):
        midi.handle(mido.Message("control_change", channel=0, control=21, value=value))
    files.drain()
    assert writers and writers[0] is not threading.current_thread()
    assert "cc: 21" in (tmp_path / "mappings" / "mine.yaml").read_text()
    files.stop()


def test_over_osc_a_preset_loads_on_the_worker_and_its_answer_follows(tmp_path):
    params, files, presets, midi, threads = _rig(tmp_path)
    router = OscRouter(params, NAMES)
    map_control_messages(router, midi, presets, files, tmp_path / "mappings")
    assert router.handle_packet(message("/preset/load", "evening"), ("127.0.0.1", 9)) == []  # at once
    files.drain()
    assert router.sent == [(("127.0.0.1", 9), ("/preset/loaded", ("evening",)))]
    assert threads and threads[0] is not threading.current_thread()
    files.stop()


def test_over_osc_a_mapping_is_a_name_in_the_mappings_folder_never_a_path(tmp_path):
    params, files, presets, midi, _ = _rig(tmp_path)
    elsewhere = tmp_path / "elsewhere.yaml"
    elsewhere.write_text("bindings:\n- {channel: 1, cc: 30, target: /mix/linux}\n")
    router = OscRouter(params, NAMES)
    map_control_messages(router, midi, presets, files, tmp_path / "mappings")
    for path in (str(elsewhere), "../elsewhere", "/etc/passwd"):
        assert router.handle_packet(message("/mapping/load", path), ("127.0.0.1", 9)) == []
        files.drain()
        assert midi.mapping.path == tmp_path / "mappings" / "mine.yaml"  # what learn writes stays the same file
    router.handle_packet(message("/mapping/load", "mine"), ("127.0.0.1", 9))
    files.drain()
    assert router.sent[-1] == (("127.0.0.1", 9), ("/mapping/loaded", ("mine",)))
    files.stop()


def test_a_source_that_asks_for_files_too_often_is_held_to_a_few_a_second():
    from instrument.control import worker as worker_module

    now = {"t": 0.0}
    files, ran = Worker(clock=lambda: now["t"]), []
    for k in range(50):  # a flood in one instant
        files.submit("load", lambda k=k: ran.append(k), source="osc:10.0.0.9")
    files.submit("load", lambda: ran.append("other"), source="osc:10.0.0.8")  # another host is not held
    files.drain()
    assert len([r for r in ran if r != "other"]) == worker_module.BURST and "other" in ran
    now["t"] = 1.0
    for k in range(50):
        files.submit("load", lambda k=k: ran.append(k), source="osc:10.0.0.9")
    files.drain()
    assert len([r for r in ran if r != "other"]) == worker_module.BURST + worker_module.PER_SECOND
    files.stop()
