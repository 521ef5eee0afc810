"""The copy model (instrument/core/copying.py) per style: how far it takes each style's held-out
bpc past xz, and what it does to the text it plays.

xz wins on code because code repeats itself: an identifier, a call, a block of boilerplate comes
back hundreds of characters later, further than these LSTMs remember. The copy model remembers
(where the last 6 characters occurred before, it predicts what followed them then) and each style
mixes it in by weights fitted on its training text, kept in its card (`instrument models
--fit-copy`). This bench fits them afresh (with --fade) and measures:

    .venv/bin/python bench/copying.py                       # the five code and markup styles
    .venv/bin/python bench/copying.py shakespeare austen    # any installed styles
    .venv/bin/python bench/copying.py --fade 1              # no fade: the copy's weight never tires
    .venv/bin/python bench/copying.py python --play 3000    # and what the engine writes with it

--play N writes N characters with each style alone in the engine (default settings: lookahead 8,
T 0.8; seeds 0-2), with its card's copy weights at /copy 1 and with /copy 0 (the LSTM alone), and
measures what a listener would notice if copying fed on itself: distinct words per word, and the
longest stretch of text written twice, verbatim.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from instrument.core.copying import Copier  # noqa: E402
from instrument.core.ensemble import Ensemble  # noqa: E402
from instrument.core.model import CharLSTM  # noqa: E402
from instrument.engine import Engine  # noqa: E402
from instrument.app.library import load, resolve  # noqa: E402
from instrument.app.parts import read_copy_table  # noqa: E402
from instrument.train import copyfit  # noqa: E402
from instrument.train.corpus import load_corpus  # noqa: E402
from quality import longest_repeat  # noqa: E402  (bench/ is on the path: this script's folder)

CODE = ["linux", "python", "latex", "javascript", "elisp"]


def study(name: str, corpora: Path, fit_chars: int, fade: float) -> dict:
    card = yaml.safe_load(resolve(name).with_suffix(".yaml").read_text())
    corpus = load_corpus(corpora / card["corpus"]["file"])
    ids, split = np.asarray(corpus.ids), corpus.split
    model = CharLSTM.from_weights(load(name))
    table = copyfit.fit(model, ids, split, fit_chars, fade)
    p, held = copyfit.lstm_probs(model, ids, split, len(ids)), ids[split:]
    pred, _, _ = copyfit.trace(held)
    return {"name": name, "xz": card["heldout"]["xz_bpc"], "lstm": float(-np.log2(p).mean()),
            "copy": copyfit.bits_with_copy(p, held, table), "matched": float((pred >= 0).mean()),
            "right": float((pred == held)[pred >= 0].mean()), "lam": table.lam}


def play(name: str, chars: int, seed: int, copy: float) -> str:
    """chars characters of the style alone, as the instrument plays it (its card's copy weights)."""
    engine = Engine(Ensemble([load(name)], [name]), copier=Copier([read_copy_table(resolve(name))]))
    for address, value in {f"/mix/{name}": 1.0, "/seed": seed, "/copy": copy}.items():
        engine.params.set(address, value)
    return "".join(engine.step().char for _ in range(chars))


def distinct(text: str) -> float:
    words = text.split()
    return len(set(words)) / max(1, len(words))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("styles", nargs="*", default=CODE)
    ap.add_argument("--corpora", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "corpora")
    ap.add_argument("--fit", type=int, default=copyfit.FIT_CHARS, help="training characters lambda is fitted on")
    ap.add_argument("--fade", type=float, default=copyfit.FADE, help="the copy's weight times this for every "
                    "character of the copy's run (right copies, halved at a miss; 1: no fade; the cards have 0.9)")
    ap.add_argument("--play", type=int, default=0, help="also write this many characters with each style (see above)")
    args = ap.parse_args()
    torch.set_num_threads(2)
    print(f"fade {args.fade}, lambda fitted on the last {args.fit:,} training characters\n")
    print("| style | LSTM bpc | LSTM + copy | xz -9e | LSTM vs xz | with copy vs xz | matched | copy right | "
          "lambda at 6-7 / 16-19 / 64+ |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for name in args.styles:
        r = study(name, args.corpora, args.fit, args.fade)
        print(f"| {name} | {r['lstm']:.4f} | {r['copy']:.4f} | {r['xz']:.4f} | {r['lstm'] - r['xz']:+.3f} | "
              f"{r['copy'] - r['xz']:+.3f} | {r['matched']:.0%} | {r['right']:.0%} | "
              f"{r['lam'][1]:.2f} / {r['lam'][4]:.2f} / {r['lam'][16]:.2f} |", flush=True)
    if args.play:
        print(f"\n{args.play:,} characters each in the engine (default settings, the cards' copy weights), seeds 0-2: "
              "distinct words per word; longest stretch written twice\n\n"
              "| style | /copy 0 distinct | /copy 1 | /copy 0 longest repeat | /copy 1 |\n|---|---:|---:|---:|---:|")
        for name in args.styles:
            alone = [play(name, args.play, seed, 0.0) for seed in range(3)]
            copying = [play(name, args.play, seed, 1.0) for seed in range(3)]
            d = lambda texts: "/".join(f"{distinct(t):.2f}" for t in texts)
            n = lambda texts: "/".join(str(longest_repeat(t)) for t in texts)
            print(f"| {name} | {d(alone)} | {d(copying)} | {n(alone)} | {n(copying)} |", flush=True)
            print("\n    " + copying[0][-400:].replace("\n", "\n    ") + "\n", file=sys.stderr)


if __name__ == "__main__":
    main()
