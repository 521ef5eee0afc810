"""A short scripted piece through every real part at once: the engine as its own process; liblo's
oscsend glides the mix from one style to another; a program change over a real JACK MIDI port
recalls a preset; oscdump captures the text; speech renders to a WAV; the recording replays."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import wave

import pytest

from instrument.app.library import installed_names
from instrument.train.corpus import load_corpus

from ..conftest import CORPORA
from ..realparts import Process, connect, free_udp_port, instrument, jack_client, private_jack, require

PAIRS = [("bible", "baudelaire"), ("shakespeare", "baudelaire"), ("austen", "linux"), ("shakespeare", "bible")]  # most distinct first


def pick_pair():
    names = set(installed_names())
    for a, b in PAIRS:
        if a in names and b in names and (CORPORA / f"{a}.txt").exists():
            return a, b
    pytest.skip("needs two shipped styles with distinct vocabularies")


def vocabulary(name: str) -> set[str]:
    ids = load_corpus(CORPORA / f"{name}.txt").train
    return set(re.findall(r"[a-z]{3,}", ids.tobytes().decode("ascii").lower()))


def share(text: str, own: set[str], other: set[str]) -> float:
    """The share of the text's words that only the one corpus has."""
    words = re.findall(r"[a-z]{3,}", text.lower())
    return sum(w in own and w not in other for w in words) / max(len(words), 1)


@pytest.mark.slow
def test_a_scripted_piece_through_every_real_part(tmp_path):
    a, b = pick_pair()
    va, vb = vocabulary(a), vocabulary(b)
    presets = tmp_path / "presets"
    presets.mkdir()
    (presets / "back.yaml").write_text(f"values: {{/mix/{a}: 1.0, /mix/{b}: 0.0}}\n")
    (presets / "bank.yaml").write_text("- none\n- back\n")
    (presets / "none.yaml").write_text("values: {/temperature: 0.8}\n")
    port, dump_port = free_udp_port(), free_udp_port()
    piece, wav = tmp_path / "piece.jsonl", tmp_path / "piece.wav"
    marks = {}
    with private_jack() as jack:
        os.environ["JACK_DEFAULT_SERVER"] = jack
        dump = Process([require("oscdump"), "-L", str(dump_port)])
        engine = instrument("play", "--models", f"{a},{b}", "--mix", f"{a}=1", "--rate", "80", "--seed", "11",
                            "--osc-listen", f"127.0.0.1:{port}", "--osc-out", f"127.0.0.1:{dump_port}",
                            "--no-oscquery", "--presets", str(presets), "--record", str(piece),
                            "--speak-to", str(wav), "--policy", "recite")
        send = lambda *args: subprocess.run([require("oscsend"), "localhost", str(port), *args], check=True, timeout=10)
        try:
            engine.wait_for(lambda p: len(p.text) > 400, timeout=60, what=f"text from {a}")
            marks["glide"] = len(engine.text)
            for k in range(11):                       # a two-second glide from a to b
                send(f"/mix/{a}", "f", f"{1 - k / 10:.1f}")
                send(f"/mix/{b}", "f", f"{k / 10:.1f}")
                time.sleep(0.2)
            marks["b"] = len(engine.text)
            engine.wait_for(lambda p: len(p.text) > marks["b"] + 500, timeout=60, what=f"text from {b}")
            with jack_client() as midi:
                connect(midi, "instrument")
                midi.send_message([0xC0, 1])          # program change 1: the preset "back"
                marks["back"] = len(engine.text)
                engine.wait_for(lambda p: len(p.text) > marks["back"] + 500, timeout=60, what=f"text from {a} again")
        finally:
            engine.stop()
            time.sleep(0.5)
            dump.stop()
            os.environ.pop("JACK_DEFAULT_SERVER", None)
    text = engine.text
    first, middle, last = text[:marks["glide"]], text[marks["b"] + 100:marks["back"]], text[marks["back"] + 200:]
    assert share(first, va, vb) > share(first, vb, va)      # it starts in a's words
    assert share(middle, vb, va) > share(middle, va, vb)    # the glide brought b's
    assert share(last, va, vb) > share(last, vb, va)        # the preset brought a back
    # nothing lost: every character the engine wrote reached oscdump, in order
    lines = [json.loads(l) for l in piece.read_text().splitlines()]
    recorded = "".join(l.get("text", "") for l in lines)
    heard = "".join(re.findall(r'/text/char s "(.)"', dump.text, flags=re.S))
    assert len(recorded) > 1500 and recorded.startswith(heard[:1000]) and recorded[:len(heard)] == heard
    assert len(heard) >= 0.99 * len(recorded)
    # the voice spoke: a real WAV of plausible length
    with wave.open(str(wav)) as w:
        assert w.getnframes() / w.getframerate() > 5
    # and the recording replays to the same text
    replayed = subprocess.run([sys.executable, "-m", "instrument", "replay", str(piece), "--quiet"],
                              capture_output=True, text=True, timeout=300)
    assert replayed.returncode == 0, replayed.stderr
