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

    .venv/bin/python bench/copying.py python --play 4000 # and what it writes, with and without
    .venv/bin/python bench/copying.py --fade 0.9         # the copy's weight fading as one copy runs on

--play N writes N characters with each style alone (T 0.8, the plain sampler, seeds 0-2), the
LSTM alone and with the copy model reading what it has written, and measures what a listener
would notice if copying fed on itself: distinct words per word, and the longest stretch of text
written twice, verbatim.
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


def copy_at(text: bytes | bytearray, i: int, seen: dict[bytes, int]) -> tuple[int, int]:
    """What the copy model predicts for text[i] from text[:i] (-1: no match) and the match's
    length; then text[i - MIN:i] is remembered as last seen here."""
    key = bytes(text[i - MIN:i])
    k, pred, n = seen.get(key), -1, 0
    if k is not None:
        n = MIN
        while n < LONGEST and k - n - 1 >= 0 and text[k - n - 1] == text[i - n - 1]:
            n += 1
        pred = text[k]
    seen[key] = i
    return pred, n


def copies(text: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each position of text: the character the copy model predicts (-1: no match) and the
    match's length, from the text before that position only."""
    b, seen = bytes(text.astype(np.uint8)), {}
    pred, length = np.full(len(b), -1), np.zeros(len(b), dtype=np.int64)
    for i in range(MIN, len(b)):
        pred[i], length[i] = copy_at(b, i, seen)
    return pred, length


def bands(length: np.ndarray) -> np.ndarray:
    return np.minimum(length // 4, BANDS - 1)


def streaks(hit: np.ndarray) -> np.ndarray:
    """For each position, how many characters in a row just before it the copy model got right:
    how long the copy being followed has run."""
    out, run = np.zeros(len(hit)), 0
    for i, h in enumerate(hit):
        out[i] = run
        run = run + 1 if h else 0
    return out


def fit(p: np.ndarray, hit: np.ndarray, band: np.ndarray, matched: np.ndarray, fade: np.ndarray) -> np.ndarray:
    """lambda per band, the grid value that maximises the mixture's log-likelihood there (with
    the weight faded by how long the copy has run, `fade`)."""
    lam = np.zeros(BANDS)
    for k in range(BANDS):
        sel = matched & (band == k)
        if sel.sum() < 50:
            continue
        ll = [np.log((1 - g * fade[sel]) * p[sel] + g * fade[sel] * hit[sel]).sum() for g in GRID]
        lam[k] = GRID[int(np.argmax(ll))]
    return lam


def mixed_bpc(p: np.ndarray, hit: np.ndarray, band: np.ndarray, matched: np.ndarray, lam: np.ndarray,
              fade: np.ndarray) -> float:
    g = np.where(matched, lam[band] * fade, 0.0)
    return float(-np.log2((1 - g) * p + g * hit).mean())


def study(name: str, corpora: Path, fit_chars: int, fade: float) -> dict:
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
        band, faded = bands(length), fade ** streaks(matched & (hit > 0))
        if part == "fit":
            lam = fit(p, hit, band, matched, faded)
            continue
        out.update(lstm=float(-np.log2(p).mean()), copy=mixed_bpc(p, hit, band, matched, lam, faded),
                   matched=float(matched.mean()), right=float(hit[matched].mean()), lam=lam)
    return out


@torch.no_grad()
def play(model: CharLSTM, lam: np.ndarray | None, chars: int, seed: int, fade: float = 1.0,
         temperature: float = 0.8) -> str:
    """chars characters from the LSTM alone (lam None) or mixed with the copy model over its own text."""
    rng = np.random.default_rng(seed)
    model.eval()
    text = bytearray(b"\n")
    seen: dict[bytes, int] = {}
    state, x, run = None, torch.tensor([[10]]), 0
    for _ in range(chars):
        copied = -1
        logits, state = model(x, state)
        p = torch.softmax(logits[0, 0].float() / temperature, -1).numpy().astype(np.float64)
        if len(text) >= MIN:
            copied, n = copy_at(text, len(text), seen)
            if lam is not None and copied >= 0:
                g = lam[bands(np.array([n]))[0]] * fade ** run
                p = (1 - g) * p
                p[copied] += g
        c = int(min(np.searchsorted(np.cumsum(p), rng.random() * p.sum(), side="right"), 127))
        text.append(c)
        run = run + 1 if c == copied else 0
        x = torch.tensor([[c]])
    return text[1:].decode("ascii", "replace")


def longest_repeat(text: str) -> int:
    """Length of the longest stretch that occurs twice (not overlapping itself), by bisection."""
    def repeats(n: int) -> bool:
        first: dict[str, int] = {}
        for i in range(len(text) - n + 1):
            j = first.setdefault(text[i:i + n], i)
            if i - j >= n:
                return True
        return False
    lo, hi = 0, len(text) // 2
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if repeats(mid) else (lo, mid - 1)
    return lo


def distinct(text: str) -> float:
    words = text.split()
    return len(set(words)) / max(1, len(words))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("styles", nargs="*", default=CODE)
    ap.add_argument("--corpora", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "corpora")
    ap.add_argument("--fit", type=int, default=200_000, help="training characters lambda is fitted on")
    ap.add_argument("--fade", type=float, default=1.0, help="the copy's weight times this for every character "
                    "in a row it has predicted right (1: no fade)")
    ap.add_argument("--play", type=int, default=0, help="also write this many characters with each style (see above)")
    args = ap.parse_args()
    torch.set_num_threads(2)
    print("| style | LSTM bpc | LSTM + copy | xz -9e | LSTM vs xz | with copy vs xz | matched | copy right | "
          "lambda at 6-7 / 16-19 / 64+ |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    results = []
    for name in args.styles:
        r = study(name, args.corpora, args.fit, args.fade)
        print(f"| {name} | {r['lstm']:.4f} | {r['copy']:.4f} | {r['xz']:.4f} | {r['lstm'] - r['xz']:+.3f} | "
              f"{r['copy'] - r['xz']:+.3f} | {r['matched']:.0%} | {r['right']:.0%} | "
              f"{r['lam'][1]:.2f} / {r['lam'][4]:.2f} / {r['lam'][16]:.2f} |", flush=True)
        results.append(r)
    if args.play:
        print(f"\n{args.play:,} characters each, T 0.8, seeds 0-2 (distinct words per word; longest stretch "
              "written twice)\n\n| style | LSTM distinct | with copy | LSTM longest repeat | with copy |\n"
              "|---|---:|---:|---:|---:|")
        for r in results:
            model = CharLSTM.from_weights(load(r["name"]))
            alone = [play(model, None, args.play, seed) for seed in range(3)]
            copying = [play(model, r["lam"], args.play, seed, args.fade) for seed in range(3)]
            d = lambda texts: "/".join(f"{distinct(t):.2f}" for t in texts)
            n = lambda texts: "/".join(str(longest_repeat(t)) for t in texts)
            print(f"| {r['name']} | {d(alone)} | {d(copying)} | {n(alone)} | {n(copying)} |", flush=True)
            print("\n    " + copying[0][-400:].replace("\n", "\n    ") + "\n", file=sys.stderr)


if __name__ == "__main__":
    main()
