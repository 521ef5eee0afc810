"""A study, not yet part of the instrument: how far a copy model mixed with each style's LSTM goes
on the style's held-out 5%, against xz.

xz wins on code because code repeats itself: an identifier, a call, a block of boilerplate comes
back hundreds of characters later, further than these LSTMs remember. A copy model (a "match
model", as in PAQ and the neural cache of Grave et al., 2017) remembers: where the last MIN
characters occurred before in the text read so far, it predicts the character that followed them
then. It is mixed with the LSTM's distribution with a weight per match length,

    p(x) = (1 - lambda(L)) p_lstm(x) + lambda(L) [x == copied],

so the mixture is a distribution whatever lambda is. The copy model reads only the text itself
(the held-out part, from its start: in the instrument, the text the styles have written), not
the training corpus. lambda, one per band of match lengths, is fitted on the last `--fit`
characters of the training part (the held-out part is never looked at to choose it), then the
held-out bpc is measured with it fixed.

    .venv/bin/python bench/copying.py                       # the five code and markup styles
    .venv/bin/python bench/copying.py shakespeare austen    # any installed styles

What it leaves open: whether a style that copies from its own text at play time loops (what it
copied matches again, so it copies on); that is for the quality bench once the engine has it.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from instrument.core.model import CharLSTM  # noqa: E402
from instrument.library import load, resolve  # noqa: E402
from instrument.train.corpus import load_corpus  # noqa: E402
from instrument.train.evaluate import _windows  # noqa: E402

CODE = ["linux", "python", "latex", "javascript", "elisp"]
MIN = 6          # characters of context a match needs
LONGEST = 64     # a match is followed back this far at most
BANDS = 17       # lambda per band of 4 characters of match length (the last: 64 and over)
GRID = np.linspace(0.0, 0.95, 20)


@torch.no_grad()
def lstm_probs(model: CharLSTM, ids: np.ndarray, start: int, end: int) -> np.ndarray:
    """p_lstm(ids[t] | ids[:t]) for t in [start, end), 32 streams with 256 characters of burn-in
    (as instrument/train/evaluate.py measures the card's bpc)."""
    model.eval()
    inputs, targets, mask = _windows(ids, start, end, 32, 256)
    state, parts = None, []
    for t in range(0, inputs.shape[0], 512):
        logits, state = model(inputs[t:t + 512], state)
        parts.append(F.log_softmax(logits.float(), -1).gather(-1, targets[t:t + 512, :, None])[..., 0])
    logp = torch.cat(parts).t().numpy()
    return np.exp(logp[mask.t().numpy()])  # streams are consecutive segments: row-major is text order


def copies(text: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each position of text: the character the copy model predicts (-1: no match) and the
    match's length, from the text before that position only."""
    b = bytes(text.astype(np.uint8))
    seen: dict[bytes, int] = {}
    pred, length = np.full(len(b), -1), np.zeros(len(b), dtype=np.int64)
    for i in range(MIN, len(b)):
        key = b[i - MIN:i]
        k = seen.get(key)
        if k is not None:
            n = MIN
            while n < LONGEST and k - n - 1 >= 0 and b[k - n - 1] == b[i - n - 1]:
                n += 1
            pred[i], length[i] = b[k], n
        seen[key] = i
    return pred, length


def bands(length: np.ndarray) -> np.ndarray:
    return np.minimum(length // 4, BANDS - 1)


def fit(p: np.ndarray, hit: np.ndarray, band: np.ndarray, matched: np.ndarray) -> np.ndarray:
    """lambda per band, the grid value that maximises the mixture's log-likelihood there."""
    lam = np.zeros(BANDS)
    for k in range(BANDS):
        sel = matched & (band == k)
        if sel.sum() < 50:
            continue
        ll = [np.log((1 - g) * p[sel] + g * hit[sel]).sum() for g in GRID]
        lam[k] = GRID[int(np.argmax(ll))]
    return lam


def mixed_bpc(p: np.ndarray, hit: np.ndarray, band: np.ndarray, matched: np.ndarray, lam: np.ndarray) -> float:
    g = np.where(matched, lam[band], 0.0)
    return float(-np.log2((1 - g) * p + g * hit).mean())


def study(name: str, corpora: Path, fit_chars: int) -> dict:
    card = yaml.safe_load(resolve(name).with_suffix(".yaml").read_text())
    corpus = load_corpus(corpora / card["corpus"]["file"])
    ids, split = np.asarray(corpus.ids), corpus.split
    model = CharLSTM.from_weights(load(name))
    out = {"name": name, "xz": card["heldout"]["xz_bpc"]}
    lam = None
    for part, (a, b) in (("fit", (split - fit_chars, split)), ("held", (split, len(ids)))):
        p = lstm_probs(model, ids, a, b)
        pred, length = copies(ids[a:b])
        matched, hit = pred >= 0, (pred == ids[a:b]).astype(np.float64)
        band = bands(length)
        if part == "fit":
            lam = fit(p, hit, band, matched)
            continue
        out.update(lstm=float(-np.log2(p).mean()), copy=mixed_bpc(p, hit, band, matched, lam),
                   matched=float(matched.mean()), right=float(hit[matched].mean()), lam=lam)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("styles", nargs="*", default=CODE)
    ap.add_argument("--corpora", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "corpora")
    ap.add_argument("--fit", type=int, default=200_000, help="training characters lambda is fitted on")
    args = ap.parse_args()
    torch.set_num_threads(2)
    print("| style | LSTM bpc | LSTM + copy | xz -9e | LSTM vs xz | with copy vs xz | matched | copy right | "
          "lambda at 6-7 / 16-19 / 64+ |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for name in args.styles:
        r = study(name, args.corpora, args.fit)
        print(f"| {name} | {r['lstm']:.4f} | {r['copy']:.4f} | {r['xz']:.4f} | {r['lstm'] - r['xz']:+.3f} | "
              f"{r['copy'] - r['xz']:+.3f} | {r['matched']:.0%} | {r['right']:.0%} | "
              f"{r['lam'][1]:.2f} / {r['lam'][4]:.2f} / {r['lam'][16]:.2f} |", flush=True)


if __name__ == "__main__":
    main()
