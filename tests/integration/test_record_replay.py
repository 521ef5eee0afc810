"""A performance recorded while it is played over OSC, then replayed to the same text."""
from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from ..fakes import letter_model, write_letter_models
from ..realparts import free_udp_port, instrument, require


def run(*args, models):
    import os
    return subprocess.run([sys.executable, "-m", "instrument", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "INSTRUMENT_MODELS": str(models)})


def test_moves_made_during_a_piece_replay_to_the_same_text(tmp_path):
    models = write_letter_models(tmp_path / "models", {"ayes": "a", "bees": "b", "cees": "c"})
    piece = tmp_path / "piece.jsonl"
    port = free_udp_port()
    engine = instrument("play", "--mix", "ayes=1", "--rate", "150", "--chars", "900", "--seed", "4",
                        "--osc-listen", f"127.0.0.1:{port}", "--no-oscquery", "--no-midi", "--record", str(piece),
                        models=models)
    send = lambda *a: subprocess.run([require("oscsend"), "localhost", str(port), *a], check=True, timeout=10)
    try:
        engine.wait_for(lambda p: len(p.text) > 100, what="text")
        send("/mix/bees", "f", "0.7")
        time.sleep(0.4)
        send("/mix", "fff", "0", "0.2", "1")
        time.sleep(0.3)
        send("/prime", "s", "XYZ ")
        time.sleep(0.3)
        send("/run", "i", "0")
        time.sleep(0.3)
        send("/reset")
        send("/run", "i", "1")
        engine.proc.wait(30)
    finally:
        engine.stop()
    lines = [json.loads(l) for l in piece.read_text().splitlines()]
    moves = [l for l in lines if "step" in l]
    assert any(abs(m["set"].get("/mix/bees", 0) - 0.7) < 1e-6 for m in moves[1:])  # recorded with its step
    assert any("/reset" in m["fire"] for m in moves)
    assert lines[0]["models"][0]["name"] == "ayes" and len(lines[0]["models"][0]["sha256"]) == 64
    recorded = "".join(l.get("text", "") for l in lines)
    assert "XYZ" in recorded and set("abc") <= set(recorded)  # the moves really changed the text
    result = run("replay", str(piece), models=models)
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip("\n") == recorded and "the same text" in result.stderr


def test_a_changed_model_file_is_named(tmp_path):
    models = write_letter_models(tmp_path / "models", {"ayes": "a"})
    piece = tmp_path / "piece.jsonl"
    assert run("play", "--chars", "50", "--rate", "0", "--record", str(piece), "--no-midi", "--no-oscquery",
               "--osc-listen", "127.0.0.1:0", models=models).returncode == 0
    letter_model("q").save(models / "ayes.safetensors")  # another model under the same name
    result = run("replay", str(piece), models=models)
    assert result.returncode == 2 and "ayes.safetensors" in result.stderr and "sha256 differs" in result.stderr


def _copying_cards(models, names, lam: float) -> None:
    import yaml

    from instrument.core.copying import BANDS

    for name in names:
        card = yaml.safe_load((models / f"{name}.yaml").read_text())
        card["copy"] = {"lambda": [lam] * BANDS, "fade": 1.0}
        (models / f"{name}.yaml").write_text(yaml.safe_dump(card))


def test_a_replay_copies_as_the_piece_did_whatever_the_cards_say_now(tmp_path):
    models = write_letter_models(tmp_path / "models", {"ayes": "a", "bees": "b"})
    _copying_cards(models, ["ayes", "bees"], 0.912345)  # as a hand-edited card may have it
    piece = tmp_path / "piece.jsonl"
    assert run("play", "--chars", "400", "--rate", "0", "--mix", "ayes=0.5,bees=0.5", "--seed", "2",
               "--record", str(piece), "--no-midi", "--no-oscquery", "--osc-listen", "127.0.0.1:0",
               models=models).returncode == 0
    lines = [json.loads(l) for l in piece.read_text().splitlines()]
    assert lines[0]["models"][0]["copy"]["lambda"][1] == 0.912345  # every digit: the replay must copy the same
    recorded = "".join(l.get("text", "") for l in lines)
    _copying_cards(models, ["ayes", "bees"], 0.0)  # the cards refitted since: they copy no more
    result = run("replay", str(piece), "--quiet", models=models)
    assert result.returncode == 0 and "the same text" in result.stderr, result.stderr
    for m in lines[0]["models"]:
        del m["copy"]  # as a recording made before the styles copied: it replays without copying
    piece.write_text("\n".join(json.dumps(l) for l in lines) + "\n")
    assert run("replay", str(piece), models=models).stdout.rstrip("\n") != recorded  # so the copy mattered
    lines[0]["models"][1]["copy"] = {"lambda": "x", "fade": 1.0}
    piece.write_text("\n".join(json.dumps(l) for l in lines) + "\n")
    result = run("replay", str(piece), models=models)
    assert result.returncode == 2 and "copy weights for 'bees' are damaged" in result.stderr


def _memory(models, name: str, text: bytes) -> None:
    """NAME.memory holding text, with a gate that leans on it."""
    import numpy as np

    from instrument.core.memoryfile import write_memory
    from instrument.core.recall import Recall, n_features
    from instrument.train.memoryindex import reversed_bwt

    gate = np.zeros((n_features(4), 5))
    gate[-1, 0] = -2.0
    write_memory(models / f"{name}.memory", reversed_bwt(np.frombuffer(text, dtype=np.uint8)), Recall(gate, 24, 0.8),
                 {"corpus_sha256": "x"})


def test_a_replay_recalls_with_the_memory_the_piece_played(tmp_path):
    """The recording names each style's memory by its hash: the same file replays to the same
    text, another is refused by name, and a recording made before styles remembered replays
    without one."""
    models = write_letter_models(tmp_path / "models", {"ayes": "a", "bees": "b"})
    _memory(models, "ayes", b"a bab abba cab ab a dab " * 30)
    piece = tmp_path / "piece.jsonl"
    assert run("play", "--chars", "400", "--rate", "0", "--mix", "ayes=0.5,bees=0.5", "--seed", "5",
               "--record", str(piece), "--no-midi", "--no-oscquery", "--osc-listen", "127.0.0.1:0",
               models=models).returncode == 0
    lines = [json.loads(l) for l in piece.read_text().splitlines()]
    assert len(lines[0]["models"][0]["memory"]) == 64 and lines[0]["models"][1]["memory"] is None
    recorded = "".join(l.get("text", "") for l in lines)
    assert set("cd") & set(recorded)  # the memory was heard: the letter models write neither
    result = run("replay", str(piece), "--quiet", models=models)
    assert result.returncode == 0 and "the same text" in result.stderr, result.stderr
    _memory(models, "ayes", b"a dab ab " * 30)  # another memory under the same name
    result = run("replay", str(piece), models=models)
    assert result.returncode == 2 and "ayes.memory" in result.stderr and "sha256 differs" in result.stderr
    for m in lines[0]["models"]:
        del m["memory"]  # as a recording made before the styles remembered
    piece.write_text("\n".join(json.dumps(l) for l in lines) + "\n")
    result = run("replay", str(piece), models=models)
    assert result.returncode == 1 and "differs" in result.stderr  # it replays, without the memory


def test_a_finished_piece_is_recorded_to_its_end_mark(tmp_path):
    """The recorder's last lines are written before the process exits, however fast it stops."""
    models = write_letter_models(tmp_path / "models", {"ayes": "a", "bees": "b"})
    piece = tmp_path / "piece.jsonl"
    assert run("play", "--chars", "300", "--rate", "0", "--mix", "ayes=0.5,bees=0.5", "--record", str(piece),
               "--no-midi", "--no-oscquery", "--osc-listen", "127.0.0.1:0", models=models).returncode == 0
    lines = [json.loads(l) for l in piece.read_text().splitlines()]
    assert lines[-1] == {"end": 300}
    assert len("".join(l.get("text", "") for l in lines)) == 300


def test_a_recording_cut_off_mid_piece_replays_as_far_as_it_goes(tmp_path):
    models = write_letter_models(tmp_path / "models", {"ayes": "a", "bees": "b"})
    piece = tmp_path / "piece.jsonl"
    assert run("play", "--chars", "300", "--rate", "0", "--mix", "ayes=0.5,bees=0.5", "--seed", "3",
               "--record", str(piece), "--no-midi", "--no-oscquery", "--osc-listen", "127.0.0.1:0",
               models=models).returncode == 0
    lines = piece.read_text().splitlines()[:-1]  # the end mark lost, as when the machine dies
    piece.write_text("\n".join(lines) + "\n")
    held = "".join(json.loads(l).get("text", "") for l in lines)
    result = run("replay", str(piece), models=models)
    assert result.returncode == 0, result.stderr
    assert "no end mark" in result.stderr and result.stdout.rstrip("\n") == held


def test_replay_to_a_wav_recites_every_phrase_though_the_piece_was_spoken_live(tmp_path):
    import wave

    from instrument.outputs.speech import Phraser, speakable

    require("espeak-ng")
    piece, live, again = tmp_path / "piece.jsonl", tmp_path / "live.wav", tmp_path / "again.wav"
    played = subprocess.run([sys.executable, "-m", "instrument", "play", "--chars", "700", "--rate", "0", "--seed", "5",
                             "--mix", "shakespeare=1", "--record", str(piece), "--speak-to", str(live),
                             "--no-midi", "--no-oscquery", "--osc-listen", "127.0.0.1:0"],
                            capture_output=True, text=True, timeout=120)
    assert played.returncode == 0, played.stderr
    replayed = subprocess.run([sys.executable, "-m", "instrument", "replay", str(piece), "--speak-to", str(again),
                               "--quiet"], capture_output=True, text=True, timeout=120)
    assert replayed.returncode == 0, replayed.stderr
    # twice (2026-12-02, clean clones' CI) the live run left no WAV: the espeak driver had left a phrase's file
    # empty and the voice fell silent (now rendered again: voice.ChildVoice._render); the logs say if it recurs
    assert live.exists() and again.exists(), f"play's log:\n{played.stderr}\nreplay's log:\n{replayed.stderr}"
    words = sum(len(speakable(p.text).split()) for p in Phraser().feed(played.stdout))
    seconds = lambda path: (lambda w: w.getnframes() / w.getframerate())(wave.open(str(path)))
    assert seconds(again) > 0.2 * words > seconds(live)  # live skipped most phrases; the replay has them all


def _record_three(piece, env: dict | None = None, chars: int = 800) -> dict:
    import os

    # with these styles and seed the VNNI rows step and the fp32 ones part at character 371
    played = subprocess.run([sys.executable, "-m", "instrument", "play", "--chars", str(chars), "--rate", "0", "--seed", "8",
                             "--mix", "shakespeare=0.5,bible=0.5,austen=0.5", "--record", str(piece), "--no-midi",
                             "--no-oscquery", "--osc-listen", "127.0.0.1:0"],
                            capture_output=True, text=True, timeout=600, env={**os.environ, **(env or {})})
    assert played.returncode == 0, played.stderr
    return json.loads(piece.read_text().splitlines()[0])


def _replay(piece, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    # a generous limit: a replay through torch took 128-139 s on a loaded machine (the limit was 120)
    return subprocess.run([sys.executable, "-m", "instrument", "replay", str(piece), "--quiet"],
                          capture_output=True, text=True, timeout=900, env={**os.environ, **(env or {})})


@pytest.mark.slow
def test_a_recording_says_how_it_was_computed_and_a_replay_without_the_kernel_says_why_it_may_differ(tmp_path):
    from instrument.core.groups import kernel_available

    if not kernel_available():
        pytest.skip("the C kernel is not built here")
    header = _record_three(tmp_path / "piece.jsonl", chars=200)  # through torch, a quarter of the text will do
    assert header["backend"] == "kernel" and header["precision"] == "int8" and header["rows"] in ("avx2", "avx512", "vnni")
    result = _replay(tmp_path / "piece.jsonl", {"INSTRUMENT_KERNEL": "torch"})
    assert "computed with the C kernel (int8 weights), and here INSTRUMENT_KERNEL asks for torch" in result.stderr
    if result.returncode == 1:  # where the text parts, the reason is given with it
        assert "differs from the recording from character" in result.stderr and "fp32" in result.stderr.splitlines()[-1]
    else:
        assert result.returncode == 0, result.stderr


@pytest.mark.slow
def test_a_lookahead_recorded_on_a_smaller_cpu_replays_exactly_on_a_larger_one(tmp_path):
    """Recorded where the rows step had no VNNI (AVX-512 fp32 or AVX2), replayed where it has:
    the replay uses the recording's inner loop, so the text is the same character for character."""
    from instrument.core.groups import kernel_available

    if not kernel_available():
        pytest.skip("the C kernel is not built here")
    header = _record_three(tmp_path / "piece.jsonl", {"INSTRUMENT_NO_VNNI": "1", "INSTRUMENT_NO_AVX512": "1"})
    assert header["rows"] == "avx2"
    result = _replay(tmp_path / "piece.jsonl")
    assert result.returncode == 0 and "the same text" in result.stderr, result.stderr


def test_a_recording_killed_between_a_change_and_its_text_replays_without_a_false_difference(tmp_path):
    """The recorder writes a step's change line before the text line that holds its character; a
    kill between the two leaves a change past the text, which the replay must make, and the text
    it writes on to make it is not a difference."""
    models = write_letter_models(tmp_path / "models", {"ayes": "a", "bees": "b"})
    piece = tmp_path / "piece.jsonl"
    assert run("play", "--chars", "300", "--rate", "0", "--mix", "ayes=0.5,bees=0.5", "--seed", "3",
               "--record", str(piece), "--no-midi", "--no-oscquery", "--osc-listen", "127.0.0.1:0",
               models=models).returncode == 0
    lines = piece.read_text().splitlines()[:-2]  # the end mark and the last text line lost
    held = "".join(json.loads(l).get("text", "") for l in lines)
    lines.append(json.dumps({"step": len(held) + 5, "set": {"/mix/ayes": 0.9}, "fire": []}))
    piece.write_text("\n".join(lines) + "\n")
    result = run("replay", str(piece), "--quiet", models=models)
    assert result.returncode == 0, result.stderr
    assert f"replayed {len(held)} characters: the same text as the recording" in result.stderr


def test_a_live_replay_keeps_the_pace_and_the_text_of_the_piece(tmp_path):
    """Played at 40 characters a second with a pause of a second, the piece replays --live in no
    less time than it took (a loaded machine can only make it slower), to the same text; without
    --live the same recording replays as fast as it can."""
    models = write_letter_models(tmp_path / "models", {"ayes": "a", "bees": "b"})
    piece = tmp_path / "piece.jsonl"
    port = free_udp_port()
    engine = instrument("play", "--mix", "ayes=1", "--rate", "40", "--chars", "120", "--seed", "4",
                        "--osc-listen", f"127.0.0.1:{port}", "--no-oscquery", "--no-midi", "--record", str(piece),
                        models=models)
    try:
        engine.wait_for(lambda p: len(p.text) > 40, what="text")
        subprocess.run([require("oscsend"), "localhost", str(port), "/run", "i", "0"], check=True, timeout=10)
        time.sleep(1.0)
        subprocess.run([require("oscsend"), "localhost", str(port), "/mix/bees", "f", "1"], check=True, timeout=10)
        subprocess.run([require("oscsend"), "localhost", str(port), "/run", "i", "1"], check=True, timeout=10)
        engine.proc.wait(30)
    finally:
        engine.stop()
    lines = [json.loads(l) for l in piece.read_text().splitlines()]
    recorded = "".join(l.get("text", "") for l in lines)
    took = max(l["at"][1] for l in lines if "at" in l)
    assert took > 3.0 + 1.0 * 0.9  # 120 characters at 40 a second, and the pause
    began = time.monotonic()
    result = run("replay", str(piece), "--live", models=models)
    live = time.monotonic() - began
    assert result.returncode == 0 and "the same text" in result.stderr, result.stderr
    assert result.stdout.replace("\n", "") == recorded.replace("\n", "")  # the console wrote it as it came
    assert live > 0.9 * took, (live, took)
    lines = [{k: v for k, v in l.items() if k != "at"} for l in lines]  # as recorded before recordings kept time
    piece.write_text("\n".join(json.dumps(l) for l in lines) + "\n")
    result = run("replay", str(piece), "--live", models=models)
    assert result.returncode == 2 and "before recordings kept time" in result.stderr
    assert run("replay", str(piece), "--quiet", models=models).returncode == 0
    result = run("replay", str(piece), "--speak", models=models)
    assert result.returncode == 2 and "with --live only" in result.stderr


def test_a_piece_played_with_every_new_control_replays_exactly(tmp_path):
    """Issue 29's closing condition: a scripted piece using the controls it added (a prime landing
    at a word's end, undo, panic, the projection's blank and clear, the voice's stop, a refusal
    answered with /error) recorded, then replayed as fast as it can and at its own pace, both to
    the same text."""
    models = write_letter_models(tmp_path / "models", {"ayes": "a", "bees": "b"})
    presets = tmp_path / "presets"
    presets.mkdir()
    (presets / "bees.yaml").write_text("values: {/mix/ayes: 0.0, /mix/bees: 1.0}\n")
    piece = tmp_path / "piece.jsonl"
    port = free_udp_port()
    engine = instrument("play", "--mix", "ayes=1", "--rate", "120", "--chars", "700", "--seed", "6",
                        "--osc-listen", f"127.0.0.1:{port}", "--no-oscquery", "--no-midi", "--presets", str(presets),
                        "--record", str(piece), models=models)
    send = lambda *a: subprocess.run([require("oscsend"), "localhost", str(port), *a], check=True, timeout=10)
    try:
        engine.wait_for(lambda p: len(p.text) > 60, what="text")
        for move in (("/prime", "s", "XYZ "), ("/preset/load", "s", "bees"), ("/mix/ayes", "f", "0.6"), ("/undo",),
                     ("/project/blank", "i", "1"), ("/project/clear",), ("/speech/stop",), ("/panic",),
                     ("/temperature", "s", "hot"), ("/project/blank", "i", "0"), ("/prime_at", "s", "now"),
                     ("/prime", "s", "QQ ")):
            send(*move)
            time.sleep(0.25)
        engine.proc.wait(30)
    finally:
        engine.stop()
    lines = [json.loads(l) for l in piece.read_text().splitlines()]
    recorded = "".join(l.get("text", "") for l in lines)
    fired = {a for l in lines if "step" in l for a in l["fire"]} | {a for l in lines if "step" in l for a in l["set"]}
    assert {"/undo", "/panic", "/project/clear", "/speech/stop", "/prime_at", "/project/blank"} <= fired
    assert "XYZ " in recorded and "QQ " in recorded and "b" in recorded
    for how in ((), ("--live",)):
        result = run("replay", str(piece), "--quiet", *how, models=models)
        assert result.returncode == 0 and "the same text" in result.stderr, (how, result.stderr)
