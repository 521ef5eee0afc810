"""What the audience hears: real words, variety, degenerate runs, presence of each style, and how
fast a fader move is heard, for 1 to 9 equal styles, both mixing modes, three temperatures,
lookahead off and on.

    .venv/bin/python bench/quality.py                      # the full table (about an hour)
    .venv/bin/python bench/quality.py --quick              # fewer characters and cells
    .venv/bin/python bench/quality.py --counts 8 9 --temperatures 0.8 --modes linear

Figures, per cell (one engine, default settings except those named, every style at weight 1):
- words: share of words of >= 3 letters that occur in some shipped style's corpus
- distinct: distinct words / words, in blocks of 500 words (the ratio falls as a text grows, so a
  fixed block makes cells comparable); one style alone, for comparison, is the 1-style row
- run: the longest run of one character, leaving out indentation (spaces or tabs after a newline)
- repeat: the longest stretch of text written twice, verbatim (the copy model must not recite)
- space: the share of whitespace in the text
- presence: each 40-character window goes to the style whose model finds it likeliest (the
  models read the whole text); shares per style, the smallest share, and evenness (the entropy of
  the shares over log N; 1 = even)
- responsiveness (separately): all weight on A, moved to B at character 2,000 (A to 0, or to
  --response-floor); characters from the move until the A-vs-B classifier, reading the last 40
  characters, says B and keeps saying it for 100 characters (checked every 5); median and p90 over
  the (A, B) pairs and seeds
"""
from __future__ import annotations

import argparse
import math
import re
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from instrument.core.copying import Copier  # noqa: E402
from instrument.core.ensemble import Ensemble  # noqa: E402
from instrument.core.corpusindex import CorpusIndex  # noqa: E402
from instrument.engine import Engine  # noqa: E402
from instrument.app.library import installed  # noqa: E402
from instrument.app.parts import Styles, load_styles  # noqa: E402
from instrument.base.paths import PROJECT_ROOT  # noqa: E402

# Equal-fader sets: N styles are the first N of this order (9: all nine of the first release).
ORDER = ["shakespeare", "bible", "austen", "nietzsche", "baudelaire", "speeches", "linux", "python", "latex"]
PAIRS = [("shakespeare", "bible"), ("bible", "austen"), ("austen", "nietzsche"), ("nietzsche", "speeches"),
         ("speeches", "shakespeare"), ("baudelaire", "austen"), ("linux", "bible"), ("python", "nietzsche"),
         ("bible", "baudelaire"), ("latex", "speeches")]
WINDOW = 40
CORPORA = PROJECT_ROOT.parent / "shared" / "corpora"
WORD = re.compile(r"[A-Za-z]+")


def vocabulary(styles: list[str]) -> set[str]:
    """Every word of the styles' corpora, lower-cased, spelt as the models spell them (accents
    transliterated: Baudelaire's "âme" is "ame", not "me")."""
    from instrument.core.vocab import transliterate

    words: set[str] = set()
    for info in installed():
        if info.name in styles:
            path = CORPORA / info.card["corpus"]["file"]
            text = transliterate(path.read_text(encoding="utf-8", errors="replace")).text
            words |= set(WORD.findall(text.lower()))
    return words


def play(engine: Engine, n: int, moves: dict[int, dict] | None = None) -> tuple[str, list]:
    """n characters, and for each the log-probability every active style gave it (by index)."""
    chars, logps = [], []
    while len(chars) < n:
        for address, value in (moves or {}).get(len(chars), {}).items():
            engine.params.set(address, value)
        frame = engine.step()
        chars.append(frame.char)
        full = np.full(len(engine.names), -np.inf)
        full[frame.active] = np.log(np.maximum(frame.omega[:, ord(frame.char)], 1e-30))
        logps.append(full)
    return "".join(chars), logps


class Band:
    """The loaded styles as `instrument play` has them: one ensemble, and each engine made from it
    gets the styles' copy weights and corpus memories from their cards and files."""

    def __init__(self, names: list[str]):
        self.styles: Styles = load_styles(names)
        self.names = self.styles.names
        self.ensemble = Ensemble(self.styles.models, self.names)
        self.memory = self.styles.memory()

    def engine(self, styles: list[str], settings: dict) -> Engine:
        self.ensemble.reset()
        self.memory.reset()
        engine = Engine(self.ensemble, copier=Copier(self.styles.copies, n_styles=len(self.names)), memory=self.memory)
        for name in styles:
            engine.params.set(f"/mix/{name}", 1.0)
        for address, value in settings.items():
            engine.params.set(address, value)
        return engine


DISTINCT_BLOCK = 500  # words: the ratio falls as a text grows, so it is taken over blocks of this many


def word_figures(text: str, vocab: set[str], block: int = DISTINCT_BLOCK) -> dict:
    words = [w.lower() for w in WORD.findall(text) if len(w) >= 3]
    blocks = [words[i : i + block] for i in range(0, len(words) - block + 1, block)]
    return {"words": sum(w in vocab for w in words) / max(1, len(words)),
            "distinct": float(np.mean([len(set(b)) / len(b) for b in blocks])) if blocks else float("nan")}


def longest_run(text: str) -> str:
    """The longest run of one character that is not indentation, as "LENGTH(CHAR)"."""
    best, char, i = 0, " ", 0
    while i < len(text):
        j = i
        while j < len(text) and text[j] == text[i]:
            j += 1
        indent = text[i] in " \t" and (i == 0 or text[i - 1] == "\n")
        if not indent and j - i > best:
            best, char = j - i, text[i]
        i = j
    return f"{best}({char!r})"


def longest_repeat(text: str) -> int:
    """Length of the longest stretch written twice (not overlapping itself), by bisection: a style
    that copies from its own text must not recite it."""
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


def presence(logps: list, styles: list[int]) -> dict:
    """Shares of 40-character windows won by each style, the smallest, and evenness."""
    lp = np.array(logps)[:, styles]
    wins = np.zeros(len(styles))
    for start in range(0, len(lp) - WINDOW + 1, WINDOW):
        wins[np.argmax(lp[start : start + WINDOW].sum(axis=0))] += 1
    shares = wins / max(1, wins.sum())
    nz = shares[shares > 0]
    evenness = float(-(nz * np.log(nz)).sum() / math.log(len(styles))) if len(styles) > 1 else 1.0
    return {"shares": shares, "min_share": float(shares.min()), "evenness": evenness}


def cell(band: Band, styles, settings, n, vocab) -> dict:
    names = band.names
    engine = band.engine(styles, settings)
    start = time.perf_counter()
    text, logps = play(engine, n)
    elapsed = time.perf_counter() - start
    figures = {**word_figures(text, vocab), "run": longest_run(text), "repeat": longest_repeat(text),
               "space": sum(c.isspace() for c in text) / len(text), "rate": n / elapsed, "text": text}
    figures.update(presence(logps, [names.index(s) for s in styles]))
    return figures


def score(band: Band, text: str, styles: list[int]) -> np.ndarray:
    """(len(text), len(styles)): the log-probability each style, as it plays (its memory and copy
    too), gives each character, reading the text from the start."""
    ids = np.frombuffer(text.encode("ascii", "replace"), dtype=np.uint8)
    return np.stack([-band.engine([], {}).surprise(ids, i)[:, 2] * math.log(2) for i in styles], axis=1)


def response(band: Band, a, b, settings, seed, floor=0.0, before=2000, after=400) -> int:
    """Characters after the move until the A-vs-B classifier says B and keeps saying it 100 chars.
    The move: A at 1 and B at `floor` until `before`, then A at `floor` and B at 1. The text is
    scored afterwards by both models reading it, so a style at 0 need not play to be listened for.
    A floor of 1e-3 is what earlier runs measured: inaudible to the plain sampler, but with
    lookahead a style at 1e-3 may still finish the word it was writing when the move came."""
    names = band.names
    engine = band.engine([a], {**settings, "/seed": seed})
    if floor:
        engine.params.set("/threshold", 0.0)  # a style at the floor plays
        engine.params.set(f"/mix/{b}", floor)
    text, _ = play(engine, before + after, {before: {f"/mix/{a}": floor, f"/mix/{b}": 1.0}})
    lp = score(band, text, [names.index(a), names.index(b)])
    # the window of the last 40 characters at each point after the move: B once it outweighs A
    says_b = [lp[t - WINDOW : t, 1].sum() > lp[t - WINDOW : t, 0].sum() for t in range(before, before + after)]
    for t in range(0, len(says_b) - 100):
        if all(says_b[t : t + 100 : 5]):
            return t
    return after


SOLO_BLOCK = 200  # words: 3,000 characters of one style hold 400-550 words of 3 letters or more
VERBATIM = 40   # a window of this many characters found in the style's training text is recited
LONGEST = 1024  # a verbatim stretch is followed this far


def style_index(band: Band, name: str) -> CorpusIndex:
    """The index of a style's training text: its memory's, or built from its corpus."""
    i = band.names.index(name)
    if band.memory.has(i):
        return band.memory.indexes[i]
    from instrument.train.corpus import load_corpus
    from instrument.train.memoryindex import reversed_bwt

    info = next(m for m in installed() if m.name == name)
    return CorpusIndex(reversed_bwt(load_corpus(CORPORA / info.card["corpus"]["file"]).train))


def verbatim(index: CorpusIndex, text: str) -> tuple[int, float]:
    """(the longest stretch of text found in the indexed corpus, the share of VERBATIM-character
    windows found there): matching statistics, the index followed up to LONGEST characters."""
    lo, hi = np.zeros((1, LONGEST), dtype=np.int64), np.zeros((1, LONGEST), dtype=np.int64)
    reach = []
    for ch in text.encode("ascii", "replace"):
        index.advance(lo, hi, np.array([ch]))
        reach.append(int(index.reach(lo, hi)[0]))
    reach = np.array(reach)
    windows = reach[VERBATIM - 1:] >= VERBATIM
    return int(reach.max(initial=0)), float(windows.mean()) if len(windows) else 0.0


def solo(band: Band, names: list[str], vocab: set[str], seeds: int, n: int, extra: dict) -> list[dict]:
    """Each style alone at the default settings: its words, and whether it recites its corpus."""
    rows = []
    for name in names:
        index = style_index(band, name)
        figures = []
        for seed in range(seeds):
            text, _ = play(band.engine([name], {"/seed": seed, **extra}), n)
            longest, windows = verbatim(index, text)
            figures.append({**word_figures(text, vocab, SOLO_BLOCK), "longest": longest, "windows": windows,
                            "repeat": longest_repeat(text), "text": text})
        row = {"name": name, "words": float(np.mean([f["words"] for f in figures])),
               "distinct": float(np.mean([f["distinct"] for f in figures])),
               "longest": statistics.median(f["longest"] for f in figures),
               "windows": float(np.mean([f["windows"] for f in figures])),
               "repeat": max(f["repeat"] for f in figures), "sample": figures[0]["text"][:300]}
        rows.append(row)
        print(f"{name}: words {row['words']:.1%} distinct {row['distinct']:.2f} longest verbatim {row['longest']} "
              f"(seeds: {[f['longest'] for f in figures]}) windows verbatim {row['windows']:.2%} "
              f"written twice {row['repeat']}", flush=True)
    return rows


def solo_table(rows: list[dict]) -> str:
    head = ("| style | words | distinct (200-word blocks) | longest verbatim in its corpus (median) | 40-char windows verbatim | "
            "longest written twice (max) |\n|---|---:|---:|---:|---:|---:|\n")
    return head + "".join(f"| {r['name']} | {r['words']:.1%} | {r['distinct']:.2f} | {r['longest']:.0f} | "
                          f"{r['windows']:.2%} | {r['repeat']} |\n" for r in rows)


# The ends of the decoding faders (issue 31), alone and in the mixes that went wrong: each with
# eight equal styles unless it names its own
EDGES = [
    ("defaults", {}), ("temperature 0.05", {"/temperature": 0.05}), ("temperature 0.3", {"/temperature": 0.3}),
    ("temperature 3", {"/temperature": 3.0}), ("top-p 0.01", {"/top_p": 0.01}), ("min-p 0.5", {"/min_p": 0.5}),
    ("cap 0.2", {"/cap": 0.2}), ("phrase 0", {"/phrase": 0.0}), ("phrase 0.95", {"/phrase": 0.95}),
    ("copy 0", {"/copy": 0.0}), ("lookahead 0", {"/lookahead": 0}), ("lookahead 16", {"/lookahead": 16}),
    ("beams 1", {"/beams": 1}), ("beams 16", {"/beams": 16}), ("product", {"/mode": "product"}),
    ("top-p 0.01, guard off", {"/top_p": 0.01, "/loop_guard": 0.0}),
    ("min-p 0.5, guard off", {"/min_p": 0.5, "/loop_guard": 0.0}),
]
CODE_MIX = ["linux", "python", "latex", "javascript", "elisp", "beeton"]
EVERY_STYLE = "every"  # the styles entry of a mix that plays every installed style
MIXES = [("code and Beeton", {"styles": CODE_MIX}), ("temperature 1.3, lookahead 0", {"/temperature": 1.3, "/lookahead": 0}),
         ("17 styles, product", {"styles": EVERY_STYLE, "/mode": "product"})]


def edges(band_for, vocab: set[str], n: int, styles: list[str] | None = None, base: dict | None = None) -> list[dict]:
    """Each end of a decoding fader for n characters: words, distinct words, the longest stretch
    written twice in the last 5,000 characters, and whitespace outside indentation; then how the
    text is once the fader comes back (recovery). Eight equal styles and the mixes of issue 31;
    or, given `styles` (and `base` settings, e.g. product mode), every end inside that mix."""
    rows, base = [], base or {}
    cases = [*EDGES, *MIXES] if styles is None else EDGES
    for label, settings in cases:
        settings = dict(settings)
        playing = settings.pop("styles", styles or ORDER[:8])
        band = band_for(playing)
        playing = band.names if playing == EVERY_STYLE else playing
        text, _ = play(band.engine(playing, {"/seed": 1, **base, **settings}), n)
        figures = word_figures(text, vocab, SOLO_BLOCK)
        rows.append({"label": label, **figures, "repeat": longest_repeat(text[-5000:]),
                     "space": outdented_space(text), "sample": text[-160:],
                     **(recovery(band, playing, settings, vocab, base) if settings else {})})
        print(f"{label}: words {figures['words']:.1%} distinct {figures['distinct']:.2f} repeat "
              f"{rows[-1]['repeat']} space {rows[-1]['space']:.1%}", flush=True)
    return rows


BEFORE, AT_EDGE, SETTLE, AFTER = 1500, 1500, 200, 800  # characters of each part of a recovery run


def recovery(band, styles: list[str], settings: dict, vocab: set[str], base: dict | None = None) -> dict:
    """The mix's settings (defaults, and `base`), then the fader at its end, then back: the text
    from 200 characters after the return, for 800 (words, whitespace outside indentation, the
    longest stretch written twice since the return)."""
    base = base or {}
    engine = band.engine(styles, {"/seed": 2, **base})
    back_to = {a: base.get(a, engine.params.params[a].default) for a in settings}
    back = BEFORE + AT_EDGE
    text, _ = play(engine, back + SETTLE + AFTER, moves={BEFORE: settings, back: back_to})
    after = text[back + SETTLE :]
    return {"back_words": word_figures(after, vocab)["words"], "back_space": outdented_space(after),
            "back_repeat": longest_repeat(text[back:])}


def outdented_space(text: str) -> float:
    """Whitespace outside indentation (a line's leading spaces and tabs are code's, not a flood). A
    line of nothing but whitespace is no indentation: it all counts (the code mix's cold ends wrote
    lines of 1,971 spaces, which this measure once called 2.2% whitespace)."""
    body = "".join(line.lstrip(" \t") if line.strip() else line for line in text.split("\n"))
    return sum(c.isspace() for c in body) / max(1, len(text))


def edges_table(rows: list[dict]) -> str:
    head = ("| setting | words | distinct | longest written twice (last 5,000) | whitespace outside indentation "
            "| back: words | back: whitespace | back: longest twice |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
    return head + "".join(f"| {r['label']} | {r['words']:.1%} | {r['distinct']:.2f} | {r['repeat']} | "
                          f"{r['space']:.1%} | {_back(r)} |\n" for r in rows)


def _back(r: dict) -> str:
    if "back_words" not in r:
        return " | | "
    return f"{r['back_words']:.1%} | {r['back_space']:.1%} | {r['back_repeat']}"


def table(rows: list[dict]) -> str:
    head = "| styles | mode | T | lookahead | words | distinct | run | space | min share | evenness | chars/s |\n"
    head += "|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|\n"
    for r in rows:
        head += (f"| {r['count']} | {r['mode']} | {r['T']} | {r['look']} | {r['words']:.1%} | {r['distinct']:.2f} | "
                 f"{r['run']} | {r['space']:.1%} | {r['min_share']:.1%} | {r['evenness']:.2f} | {r['rate']:.0f} |\n")
    return head


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chars", type=int, default=20000, help="characters per cell (default 20,000)")
    ap.add_argument("--counts", type=int, nargs="+", default=[1, 2, 4, 8, 9])
    ap.add_argument("--modes", nargs="+", default=["linear", "product"])
    ap.add_argument("--temperatures", type=float, nargs="+", default=[0.5, 0.8, 1.0])
    ap.add_argument("--lookahead", type=int, nargs="+", default=[0, 8], help="depths to compare (0 = plain)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--set", nargs="*", default=[], metavar="ADDRESS=VALUE", help="other settings, e.g. /beams=4")
    ap.add_argument("--response-seeds", type=int, default=3, help="seeds for responsiveness (0: skip it)")
    ap.add_argument("--pairs", type=int, default=len(PAIRS), help="(A, B) pairs for responsiveness")
    ap.add_argument("--response-floor", type=float, default=0.0,
                    help="the weight a move leaves the old style (and gives the new one before it); default 0")
    ap.add_argument("--samples", action="store_true", help="print 300 characters of each cell")
    ap.add_argument("--quick", action="store_true", help="5,000 characters, T 0.8, 8 and 9 styles, 1 seed, 8 pairs")
    ap.add_argument("--solo", nargs="*", metavar="NAME", help="instead: each style alone at the defaults (all "
                    "installed, or those named), --seeds seeds of --chars characters: words, distinct, and how "
                    "much it recites its corpus (longest stretch found in it, share of 40-character windows)")
    ap.add_argument("--seeds", type=int, default=3, help="with --solo (default 3)")
    ap.add_argument("--edges", action="store_true", help="instead: each end of every decoding fader (and the "
                    "mixes of issue 31), eight equal styles, --chars characters (default 5,000)")
    ap.add_argument("--styles", help="with --edges: every end inside this mix instead, NAME,NAME,... or 'every' "
                    "(with --set for its settings, e.g. --set /mode=product)")
    args = ap.parse_args()
    if args.quick:
        args.chars, args.temperatures, args.counts, args.response_seeds, args.pairs = 5000, [0.8], [8, 9], 1, 8
    extra = {}
    for item in args.set:
        address, value = item.split("=", 1)
        extra[address] = float(value) if "." in value else int(value) if value.isdigit() else value
    if args.edges:
        chars = 5000 if args.chars == 20000 else args.chars
        everyone = [m.name for m in installed()]
        mix = None if args.styles is None else EVERY_STYLE if args.styles == EVERY_STYLE else args.styles.split(",")
        print(f"# The ends of the faders, {chars:,} characters each, seed 1, in {args.styles or 'eight styles'}"
              f"{', ' + str(extra) if extra else ''}\n")
        band = Band(everyone)  # every style loaded, as `instrument play` has them; a row raises its own
        rows = edges(lambda styles: band, vocabulary(everyone), chars, mix, extra)
        print("\n" + edges_table(rows))
        if args.samples:
            for r in rows:
                print(f"## {r['label']}\n\n```\n{r['sample']}\n```\n")
        return 0
    if args.solo is not None:
        names = args.solo or [m.name for m in installed()]
        band = Band(names)
        chars = 3000 if args.chars == 20000 else args.chars
        print(f"# Each style alone, {args.seeds} seeds x {chars:,} characters, settings {extra or 'default'}\n")
        rows = solo(band, names, vocabulary([m.name for m in installed()]), args.seeds, chars, extra)
        print("\n" + solo_table(rows))
        if args.samples:
            for r in rows:
                print(f"## {r['name']}\n\n```\n{r['sample']}\n```\n")
        return 0
    names = [n for n in ORDER if any(m.name == n for m in installed())]
    band = Band(names)
    vocab = vocabulary(names)
    print(f"# Quality, {args.chars:,} characters per cell, seed {args.seed}, settings {extra or 'default'}\n")
    rows = []
    for count in args.counts:
        styles = names[:count]
        for mode in args.modes:
            for temperature in args.temperatures:
                for depth in args.lookahead:
                    settings = {"/mode": mode, "/temperature": temperature, "/lookahead": depth,
                                "/seed": args.seed, **extra}
                    r = cell(band, styles, settings, args.chars, vocab)
                    r.update(count=count, mode=mode, T=temperature, look=depth or "off")
                    rows.append(r)
                    shares = " ".join(f"{s}={v:.0%}" for s, v in zip(styles, r["shares"]))
                    print(f"{count} styles {mode} T={temperature} lookahead={depth}: words {r['words']:.1%} "
                          f"distinct {r['distinct']:.2f} run {r['run']} repeat {r['repeat']} space {r['space']:.1%} "
                          f"evenness {r['evenness']:.2f} [{shares}] {r['rate']:.0f} chars/s", flush=True)
                    if args.samples:
                        print("    " + r["text"][-300:].replace("\n", "\n    "))
    print("\n" + table(rows))
    if args.response_seeds:
        print("## Responsiveness (characters from the move until B is heard and stays)\n")
        for depth in args.lookahead:
            values = [response(band, a, b, {"/lookahead": depth, **extra}, seed, args.response_floor)
                      for a, b in PAIRS[: args.pairs] for seed in range(args.response_seeds)]
            p90 = float(np.percentile(values, 90))
            print(f"- lookahead {depth or 'off'}: median {statistics.median(values):.0f}, p90 {p90:.0f} "
                  f"({len(values)} moves: {values})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
