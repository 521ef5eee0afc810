"""Outputs against the engine, in one run: with speech (rendered to WAV) and the projection window
on vs off,
- paced at a performance rate (--rate, default 60 chars/s): the engine's capacity, 1 / mean time
  of a step, which is what outputs steal from when they compete for the CPU;
- unpaced: the text rate itself, when the engine and the outputs share two cores flat out;
and the speech lag (last character of a phrase sampled -> phrase rendered), p50/p99.
Needs espeak-ng and a display (it starts Xvfb itself if DISPLAY is unset).

    .venv/bin/python bench/outputs.py [--models a,b] [--seconds 10] [--rate 60] [--rounds 3]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from instrument.core.ensemble import Ensemble
from instrument.engine import Engine
from instrument.app.library import installed_names, load
from instrument.outputs.projection import Projection
from instrument.outputs.speech import Speech
from instrument.app.parts import default_mix
from instrument.tree import build_tree
from instrument.screen.theme import load_theme


def make_engine(names: list[str], rate: float) -> Engine:
    engine = Engine(Ensemble([load(n) for n in names], names), build_tree(names))
    for name, weight in default_mix(names).items():
        engine.params.set(f"/mix/{name}", weight)
    engine.params.set("/rate", rate)
    return engine


def timed(engine: Engine) -> list[float]:
    """The seconds each of the engine's steps takes from now on (its capacity is 1 / their mean),
    and a reader that keeps up, as the console does."""
    step, spent = engine.step, []

    def timed_step():
        t = time.perf_counter()
        frame = step()
        spent.append(time.perf_counter() - t)
        return frame

    engine.step = timed_step
    sink = engine.subscribe(maxlen=1)
    threading.Thread(target=lambda: [sink.read(0.1) for _ in iter(lambda: sink.closed, True)], daemon=True).start()
    return spent


def run(names: list[str], seconds: float, rate: float, outputs: bool) -> dict:
    engine = make_engine(names, rate)
    spent = timed(engine)
    speech = projection = None
    wav = Path(tempfile.mkdtemp()) / "bench.wav"
    if outputs:
        speech = Speech(engine.params, wav).start(engine)
        projection = Projection(engine.params, names, load_theme()).attach(engine)
    engine.start()
    threading.Timer(1.0, lambda: setattr(engine, "_t0", (time.perf_counter(), engine.steps))).start()
    threading.Timer(1.0 + seconds, engine.stop).start()
    if projection is not None:
        projection.run()
    else:
        engine._thread.join()
    engine._thread.join()
    t0, s0 = engine._t0
    result = {"rate": (engine.steps - s0) / (time.perf_counter() - t0),
              "capacity": 1.0 / statistics.mean(spent[len(spent) // 10:])}
    if speech is not None:
        speech.join()
        lags = [spoken - phrase.sampled for phrase, spoken, _ in speech.spoken]
        result.update(lags=lags, phrases=len(speech.spoken), skipped=speech.skipped, fps=projection.frames_drawn / (seconds + 1))
    return result


def child(args, rate: float, outputs: str) -> dict:
    command = [sys.executable, __file__, "--seconds", str(args.seconds), "--one", str(rate), outputs]
    if args.models:
        command += ["--models", args.models]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONFAULTHANDLER": "1"})
    if done.returncode != 0:
        raise SystemExit(f"a run ({rate:g} chars/s, outputs {outputs}) failed with code {done.returncode}:\n"
                         f"{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", help="styles to load (default: all installed)")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=60.0, help="performance rate for the paced runs")
    parser.add_argument("--rounds", type=int, default=3, help="off/on pairs of each kind, alternated")
    parser.add_argument("--one", nargs=2, metavar=("RATE", "OUTPUTS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    names = args.models.split(",") if args.models else installed_names()
    if args.one:  # a child: Dear PyGui gives one window per process, so each run is its own process
        result = run(names, args.seconds, float(args.one[0]), outputs=args.one[1] == "on")
        print(json.dumps(result))
        return
    xvfb = None
    if not os.environ.get("DISPLAY"):
        xvfb = subprocess.Popen(["Xvfb", ":97", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.environ["DISPLAY"] = ":97"
        time.sleep(1)
    try:
        # off, on, off, on...: the machine's speed drifts between runs by more than the effect sought
        paced = [[child(args, args.rate, o) for o in ("off", "on")] for _ in range(args.rounds)]
        flat = [[child(args, 0, o) for o in ("off", "on")] for _ in range(args.rounds)]
    finally:
        if xvfb:
            xvfb.terminate()
    print(f"# outputs benchmark\n\n{len(names)} styles, {args.seconds:g} s per run, {args.rounds} alternated "
          f"off/on pairs of each kind; medians\n")
    print("| run | outputs | text chars/s | engine capacity chars/s | capacity ratio | ratio per pair |\n"
          "|---|---|---:|---:|---:|---|")
    for label, pairs in ((f"paced at {args.rate:g}/s", paced), ("unpaced", flat)):
        off = {k: statistics.median(p[0][k] for p in pairs) for k in ("rate", "capacity")}
        on = {k: statistics.median(p[1][k] for p in pairs) for k in ("rate", "capacity")}
        per_pair = ", ".join(f"{p[1]['capacity'] / p[0]['capacity']:.3f}" for p in pairs)
        print(f"| {label} | console only | {off['rate']:.0f} | {off['capacity']:.0f} | 1.000 | |")
        print(f"| {label} | + speech (WAV) + projection | {on['rate']:.0f} | {on['capacity']:.0f} | "
              f"{on['capacity'] / off['capacity']:.3f} | {per_pair} |")
    for label, on in ((f"paced at {args.rate:g}/s", paced[-1][1]), ("unpaced", flat[-1][1])):
        lags = on["lags"] or [float("nan")]
        print(f"\n{label}: projection {on['fps']:.0f} frames/s; speech {on['phrases']} phrases rendered, "
              f"{on['skipped']} skipped (live policy); lag sampled -> rendered p50 {1e3 * statistics.median(lags):.0f} ms, "
              f"p99 {1e3 * float(np.percentile(lags, 99)):.0f} ms")


if __name__ == "__main__":
    main()
