"""Engine speed: chars/s of the full loop (step, mix, sample) against a naive loop, step latency,
the plain sampler against lookahead (chars/s and model-steps per character), start-up time, and
what int8 weights cost in held-out bpc. The table of the first part uses the plain sampler.

    .venv/bin/python bench/engine.py            # prints a Markdown report
    .venv/bin/python bench/engine.py --quick    # shorter runs

Everything is measured in one run on one machine, so the ratios compare like with like.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np
import torch

from instrument.core.copying import Copier
from instrument.core.ensemble import Ensemble
from instrument.core.sampling import softmax
from instrument.core.groups import kernel_available
from instrument.core.mixing import linear
from instrument.core.model import CharLSTM, ModelConfig
from instrument.core.sampling import draw, shape_distribution
from instrument.engine import Engine
from instrument.app.library import installed_names, load, resolve
from instrument.app.parts import load_styles, read_copy_table


def engine_rate(models, names, seconds: float, precision: str, backend: str = "auto", lookahead: int = 0,
                beams: int | None = None, ensemble: Ensemble | None = None, copying: bool = False,
                memory=None, settings: dict | None = None) -> dict:
    """chars/s and step latency of Engine.step with every model at equal weight (none skipped),
    and how many model-steps a character cost (a lookahead path stepping one model is one).
    copying: with the styles' copy weights from their cards; memory: their corpus memories (a
    core.memory.Memory), as `instrument play` has them."""
    ensemble = ensemble or Ensemble(models, names, backend=backend, precision=precision)
    copier = Copier([read_copy_table(resolve(n)) for n in names]) if copying else None
    if memory is not None:
        memory.reset()
    engine = Engine(ensemble, copier=copier, memory=memory)
    for n in names:
        engine.params.set(f"/mix/{n}", 1.0)
    engine.params.set("/threshold", 0.0)
    engine.params.set("/lookahead", lookahead)
    if beams:
        engine.params.set("/beams", beams)
    for address, value in (settings or {}).items():
        engine.params.set(address, value)
    counted = {"model_steps": 0}
    feed, step_rows = ensemble.feed, ensemble.step_rows

    def count_feed(chars, active):
        counted["model_steps"] += len(chars) * len(active)
        return feed(chars, active)

    def count_rows(active, chars):
        counted["model_steps"] += int((np.asarray(chars) >= 0).sum()) * len(active)
        return step_rows(active, chars)

    ensemble.feed, ensemble.step_rows = count_feed, count_rows
    for _ in range(20):
        engine.step()
    times = []
    counted["model_steps"] = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        t = time.perf_counter()
        engine.step()
        times.append(time.perf_counter() - t)
    ensemble.feed, ensemble.step_rows = feed, step_rows
    return {"rate": len(times) / (time.perf_counter() - start), "steps_per_char": counted["model_steps"] / len(times),
            "p50": 1e3 * statistics.median(times), "p99": 1e3 * float(np.percentile(times, 99))}


def idle_styles_cost_nothing(models, names, seconds: float, rounds: int = 3) -> None:
    """Nine styles up: nine loaded against every installed style loaded (the rest at weight 0),
    default settings (lookahead on, the cards' copy weights and the memories), alternated in
    rounds; medians."""
    nine = list(range(9))
    memories = {len(idx): load_styles([names[i] for i in idx]).memory() for idx in (nine, range(len(names)))}

    def rate(idx):
        ensemble = Ensemble([models[i] for i in idx], [names[i] for i in idx])
        memory = memories[len(idx)]
        memory.reset()
        engine = Engine(ensemble, copier=Copier([read_copy_table(resolve(n)) for n in ensemble.names]), memory=memory)
        for i in range(9):
            engine.params.set(f"/mix/{names[i]}", 1.0)
        for _ in range(20):
            engine.step()
        start, n = time.perf_counter(), 0
        while time.perf_counter() - start < seconds:
            engine.step()
            n += 1
        return n / (time.perf_counter() - start)

    runs = {"nine": [], "all": []}
    for _ in range(rounds):
        runs["nine"].append(rate(nine))
        runs["all"].append(rate(list(range(len(names)))))
    a, b = statistics.median(runs["nine"]), statistics.median(runs["all"])
    print(f"\nnine styles up, lookahead on: {a:.0f} chars/s with nine loaded, {b:.0f} with all {len(names)} "
          f"loaded ({b / a:.2f}; the styles at weight 0 are not stepped)")


def lookahead_table(models, names, seconds: float, rounds: int = 3) -> None:
    """Plain sampler against lookahead (default depth, 4 and 8 beams) on the same ensemble,
    alternated in rounds so a drifting machine affects both alike; medians of the rounds."""
    from instrument.tree import build_tree

    depth = build_tree([]).params["/lookahead"].default
    ensemble = Ensemble(models, names)
    memory = load_styles(names).memory()
    # what the guards cost (core/repeats.py, floods.py, words.py)
    no_guards = {"/loop_guard": 0.0, "/flood_guard": 0.0, "/words": 0.0}
    cases = [("plain (lookahead 0), LSTMs alone", 0, None, False, None), ("plain, copying", 0, None, True, None),
             ("plain, as played (memory and copy)", 0, None, "played", None),
             ("plain, as played, loop, flood and words guards off", 0, None, "played", no_guards),
             (f"lookahead {depth}, 4 beams, LSTMs alone", depth, 4, False, None),
             (f"lookahead {depth}, 4 beams, copying", depth, 4, True, None),
             (f"lookahead {depth}, 4 beams, as played (the default)", depth, 4, "played", None),
             (f"lookahead {depth}, 4 beams, as played, words guard off", depth, 4, "played", {"/words": 0.0}),
             (f"lookahead {depth}, 4 beams, as played, loop, flood and words guards off", depth, 4, "played", no_guards),
             (f"lookahead {depth}, 8 beams, as played", depth, 8, "played", None)]
    results = {label: [] for label, *_ in cases}
    for _ in range(rounds):
        for label, d, k, playing, settings in cases:
            results[label].append(engine_rate(models, names, seconds, "int8", lookahead=d, beams=k, ensemble=ensemble,
                                              copying=bool(playing), memory=memory if playing == "played" else None,
                                              settings=settings))
    plain = statistics.median(r["rate"] for r in results[cases[0][0]])
    print(f"\n| {len(names)} styles, equal weights | chars/s | of plain | model-steps / char | p50 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, *_ in cases:
        rs = results[label]
        rate = statistics.median(r["rate"] for r in rs)
        print(f"| {label} | {rate:.0f} | {rate / plain:.2f} | {statistics.median(r['steps_per_char'] for r in rs):.1f} | "
              f"{statistics.median(r['p50'] for r in rs):.2f} | {statistics.median(r['p99'] for r in rs):.2f} |", flush=True)


@torch.no_grad()
def naive_rate(models, seconds: float) -> float:
    """The obvious implementation: each nn.LSTM stepped in turn, softmax, mix, sample."""
    rng = np.random.default_rng(0)
    states = [None] * len(models)
    x = 10
    pi = np.ones(len(models))
    steps = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        rows = []
        for i, m in enumerate(models):
            logits, states[i] = m(torch.tensor([[x]]), states[i])
            rows.append(softmax(logits[0, 0].numpy()))
        x = draw(shape_distribution(linear(pi, np.stack(rows)), 0.8), rng)
        steps += 1
    return steps / (time.perf_counter() - start)


def synthetic(n: int, arch: str = "2x512") -> list[CharLSTM]:
    torch.manual_seed(0)
    return [CharLSTM(ModelConfig.from_arch(arch, dropout=0.0)).half().float().eval() for _ in range(n)]


def start_and_stop_seconds() -> tuple[float, float]:
    """Wall time from launching `instrument play --chars 1` to its character on stdout, and from
    there to the process's exit (the shutdown a performer waits through when a piece ends)."""
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "instrument", "play", "--chars", "1", "--rate", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    proc.stdout.read(1)
    first = time.perf_counter()
    proc.wait()
    return first - t, time.perf_counter() - first


RESIDENT = """import os, subprocess, sys
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(os.wait4(p.pid, 0)[2].ru_maxrss)"""


def resident_mb(chars: int = 2000) -> float:
    """Peak resident memory (MB) of `instrument play` writing `chars` with every installed style
    loaded. Measured by a small launcher: a child's peak counts the memory it had before it became
    the instrument, and forked from this benchmark that was this benchmark's 1.2 GB."""
    out = subprocess.run([sys.executable, "-c", RESIDENT, sys.executable, "-m", "instrument", "play", "--chars",
                          str(chars), "--rate", "0", "--no-midi", "--osc-listen", "127.0.0.1:0", "--no-oscquery"],
                         capture_output=True, text=True, timeout=600)
    return int(out.stdout.strip()) / 1024


def heldout_delta(name: str, n_chars: int) -> tuple[float, float]:
    """bpc of one shipped model on n_chars of its held-out text, fp16 (exact) vs int8, streamed
    character by character through the ensemble exactly as the engine reads them."""
    import yaml

    from instrument.base.paths import PROJECT_ROOT
    from instrument.train.corpus import load_corpus

    card = yaml.safe_load((PROJECT_ROOT / "models" / f"{name}.yaml").read_text())
    corpus = load_corpus(PROJECT_ROOT.parent / "shared" / "corpora" / card["corpus"]["file"])
    text = corpus.ids[corpus.split - 256: corpus.split + n_chars]  # 256 chars of context first
    out = []
    for precision in ("fp16", "int8"):
        ens = Ensemble([load(name)], [name], precision=precision)
        bits, active = 0.0, np.arange(1)
        for t, ch in enumerate(text):
            if t >= 256:
                bits -= np.log2(ens.distributions(active)[0, ch])
            ens.feed([int(ch)], active)
        out.append(bits / (len(text) - 256))  # a small corpus's held-out text may be shorter than n_chars
    return out[0], out[1]


def catch_up_ms(models, names) -> float:
    """A style raised after missing CATCH_UP characters replays them before it predicts: the time
    that takes (the one step that is longer than the others)."""
    from instrument.core.ensemble import CATCH_UP

    ens = Ensemble(models, names)
    rest = np.arange(1, len(models))
    for ch in (b"the quick brown fox jumps over the lazy dog. " * 40)[:CATCH_UP]:
        ens.feed([ch], rest)
    t = time.perf_counter()
    ens.distributions(np.arange(1))
    return 1e3 * (time.perf_counter() - t)


FIRST_RELEASE = ["shakespeare", "bible", "austen", "nietzsche", "baudelaire", "speeches", "linux", "python", "latex"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    secs = 2.0 if args.quick else 5.0
    torch.set_num_threads(os.cpu_count() or 1)
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")),
               platform.processor()) if os.path.exists("/proc/cpuinfo") else platform.processor()
    print(f"# engine benchmark\n\n{cpu}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"C kernel {'built' if kernel_available() else 'NOT built (torch fallback)'}\n")
    print("| ensemble | models | engine int8 chars/s | engine fp16 chars/s | naive chars/s | int8 / naive | p50 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    shipped = installed_names()
    cases = [("synthetic 2x512", synthetic(8), [f"s{i}" for i in range(8)])]
    loaded = {n: CharLSTM.from_weights(load(n)) for n in shipped}  # modules, for the naive loop
    for k in sorted({1, 2, 4, len(shipped)}):
        if 0 < k <= len(shipped):
            cases.append((f"shipped ({', '.join(shipped[:k]) if k < len(shipped) else 'all'})",
                          [loaded[n] for n in shipped[:k]], shipped[:k]))
    for label, models, names in cases:
        int8 = engine_rate(models, names, secs, "int8")
        fp16 = engine_rate(models, names, secs, "fp16")
        naive = naive_rate(models, secs)
        print(f"| {label} | {len(models)} | {int8['rate']:.0f} | {fp16['rate']:.0f} | {naive:.0f} | "
              f"{int8['rate'] / naive:.1f}x | {int8['p50']:.2f} | {int8['p99']:.2f} |", flush=True)
    first_nine = [n for n in FIRST_RELEASE if n in loaded] or shipped[:9]
    if len(first_nine) >= 2:  # the figure: nine styles, lookahead against plain
        lookahead_table([loaded[n] for n in first_nine], first_nine, secs)
    if len(shipped) > 9:
        idle_styles_cost_nothing([loaded[n] for n in shipped], shipped, secs)
    synth = cases[0][1]
    from instrument.core.ensemble import CATCH_UP
    print(f"\ncatch-up: a 2x512 style raised after missing {CATCH_UP} characters replays them in "
          f"{catch_up_ms(synth[:2], ['s0', 's1']):.0f} ms (once, in the step that raises it)")
    if shipped:
        runs = [start_and_stop_seconds() for _ in range(5)]
        print(f"\nstart to first character (`instrument play`, {len(shipped)} styles, their memories too): "
              f"{statistics.median(r[0] for r in runs):.2f} s, then to exit "
              f"{statistics.median(r[1] for r in runs):.2f} s (medians of 5); peak resident memory writing "
              f"2,000 characters: {resident_mb():.0f} MB\n")
        print("| style | held-out bpc fp16 | int8 | change |\n|---|---:|---:|---:|")
        for name in shipped:
            fp16, int8 = heldout_delta(name, 3000 if args.quick else 20000)
            print(f"| {name} | {fp16:.4f} | {int8:.4f} | {int8 - fp16:+.4f} |", flush=True)


if __name__ == "__main__":
    main()
