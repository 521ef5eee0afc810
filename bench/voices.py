"""The voices, each backend (espeak-ng through pyttsx3; piper, when instrument[voice] is installed):

- render: phrases of a corpus rendered one by one, as a performance hands them over: the time from
  the phrase to its audio being ready (when a speaker would start), p50/p95, and the real-time
  factor (render time / audio time);
- cut: /speech/stop while a phrase plays, to the player process gone, p50/p95 (the player is a
  real process standing in for aplay, since this machine has no sound card);
- session: the engine at a spoken-word rate (14 chars/s) with speech rendering in real time
  (live policy: each phrase takes as long as it would sound), against the engine without speech,
  alternated: phrases spoken and dropped, the longest wait, the lag from a phrase's last character
  to its start, and the engine's capacity (1 / mean step time) with speech over without.

    .venv/bin/python bench/voices.py [--phrases 40] [--cuts 10] [--minutes 2] [--rounds 1] [--voice piper]
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from instrument.app.library import installed_names
from instrument.frames import Frame, Subscription
from instrument.outputs.speech import Phraser, Speech, speakable
from instrument.outputs.voice import VoiceProcess
from instrument.tree import build_tree
from outputs import make_engine, timed  # bench/outputs.py, beside this file

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "austen.txt"
BACKENDS = {"espeak": "", "piper": "piper"}  # /speech/voice for each
FAKE_PLAYER = "#!/bin/sh\nfor a; do f=$a; done\ncase \"$f\" in *silence.wav) exit 0;; esac\necho $$ >> {log}\nexec sleep 30\n"


def phrases(n: int) -> list[str]:
    text = CORPUS.read_text(encoding="utf-8")[200_000:400_000] if CORPUS.exists() else \
        "It is a truth universally acknowledged, that a single man in possession of a good fortune. " * 200
    found = [speakable(p.text) for p in Phraser(12).feed(text)]
    return [p for p in found if len(p.split()) >= 4][:n]


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def render(backend: str, lines: list[str]) -> dict:
    wav = Path(tempfile.mkdtemp()) / "r.wav"
    voice = VoiceProcess(wav)
    try:
        t = time.perf_counter()
        if backend == "piper":
            voice.warm("piper", 170.0)
        warm = time.perf_counter() - t
        spent, audio = [], []
        for line in lines:
            t = time.perf_counter()
            seconds = voice.speak(line, 170.0, 1.0, BACKENDS[backend] or "gmw/en", 50)
            spent.append(time.perf_counter() - t)
            audio.append(seconds)
    finally:
        voice.close()
    return {"warm": warm, "p50": pct(spent, 50), "p95": pct(spent, 95), "rtf": sum(spent) / sum(audio)}


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] not in "ZX"
    except OSError:
        return False


def cut(backend: str, trials: int) -> list[float]:
    folder = Path(tempfile.mkdtemp())
    played = folder / "played"
    (folder / "aplay").write_text(FAKE_PLAYER.format(log=played))
    (folder / "aplay").chmod(0o755)
    os.environ["PATH"] = f"{folder}{os.pathsep}{os.environ['PATH']}"
    params = build_tree(["austen"])
    params.set("/speech/voice", BACKENDS[backend])
    speech = Speech(params, names=["austen"])
    speech.subscription = Subscription(Speech.maxlen)
    thread = threading.Thread(target=speech.run, daemon=True)
    thread.start()
    took = []
    for i in range(trials):
        before = len(played.read_text().split()) if played.exists() else 0
        for ch in f"phrase number {i} is spoken now.\n":
            speech.subscription.push(Frame(0, ch, np.ones(1), np.zeros(1, dtype=int), lead=0))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (not played.exists() or len(played.read_text().split()) == before):
            time.sleep(0.005)
        pid = int(played.read_text().split()[-1])
        t = time.perf_counter()
        params.set("/speech/stop")
        while _alive(pid):
            time.sleep(0.0005)
        took.append(time.perf_counter() - t)
    speech.subscription.close()
    thread.join(10)
    return took


def session(names: list[str], backend: str | None, minutes: float) -> dict:
    """The engine at 14 chars/s for `minutes`, with speech into a WAV in real time (or none)."""
    engine = make_engine(names, 14)
    spent = timed(engine)
    speech, waiting = None, [0]
    if backend is not None:
        engine.params.set("/speech/voice", BACKENDS[backend])
        speech = Speech(engine.params, Path(tempfile.mkdtemp()) / "s.wav", names=names).start(engine)

        def watch():
            while speech._thread.is_alive():
                waiting[0] = max(waiting[0], len(speech.queue))
                time.sleep(0.05)

        threading.Thread(target=watch, daemon=True).start()
    engine.start()
    time.sleep(60 * minutes)
    engine.stop()
    engine._thread.join()
    result = {"capacity": 1.0 / statistics.mean(spent[len(spent) // 10:]), "chars": engine.steps}
    if speech is not None:
        speech.join(30)
        lags = [spoken - p.sampled for p, spoken, _ in speech.spoken]
        result.update(spoken=len(speech.spoken), dropped=speech.skipped, longest_wait=waiting[0],
                      lag50=pct(lags, 50), lag95=pct(lags, 95))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phrases", type=int, default=40)
    parser.add_argument("--cuts", type=int, default=10)
    parser.add_argument("--minutes", type=float, default=2.0, help="each session run (the issue's figure: 10)")
    parser.add_argument("--rounds", type=int, default=1, help="off/on session pairs per backend, alternated")
    parser.add_argument("--models", help="styles to load (default: all installed)")
    parser.add_argument("--voice", choices=tuple(BACKENDS), help="only this voice (default: both, piper if installed)")
    args = parser.parse_args()
    backends = ["espeak"] + (["piper"] if importlib.util.find_spec("piper") else [])
    backends = [b for b in backends if args.voice in (None, b)]
    names = args.models.split(",") if args.models else installed_names()
    lines = phrases(args.phrases)
    print(f"# voices benchmark\n\n{len(lines)} phrases of Austen (mean {statistics.mean(len(p.split()) for p in lines):.1f} "
          f"words), {args.cuts} cuts, {args.minutes:g}-minute sessions at 14 chars/s ({len(names)} styles loaded)\n")
    print("| voice | load s | render p50 ms | render p95 ms | real-time factor | cut p50 ms | cut p95 ms |\n"
          "|---|---:|---:|---:|---:|---:|---:|")
    for backend in backends:
        r, c = render(backend, lines), cut(backend, args.cuts)
        print(f"| {backend} | {r['warm']:.2f} | {1e3 * r['p50']:.0f} | {1e3 * r['p95']:.0f} | {r['rtf']:.3f} | "
              f"{1e3 * pct(c, 50):.1f} | {1e3 * pct(c, 95):.1f} |")
    print("\n| voice | phrases spoken | dropped | longest wait (phrases) | lag p50 ms | lag p95 ms | "
          "capacity with / without speech |\n|---|---:|---:|---:|---:|---:|---:|")
    for backend in backends:
        pairs = [(session(names, None, args.minutes), session(names, backend, args.minutes)) for _ in range(args.rounds)]
        off, on = pairs[-1]
        ratio = statistics.median(b["capacity"] / a["capacity"] for a, b in pairs)
        print(f"| {backend} | {on['spoken']} | {on['dropped']} | {on['longest_wait']} | {1e3 * on['lag50']:.0f} | "
              f"{1e3 * on['lag95']:.0f} | {ratio:.3f} |")


if __name__ == "__main__":
    main()
