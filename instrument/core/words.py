"""The words guard: the text keeps to words that the playing styles' corpora hold.

Alone at the defaults, the styles wrote 80-99% words found in some corpus (Baudelaire 80%, Moby
94%): "sensiment", "unenest", "pronnaissent". A style's corpus memory also keeps its text's words,
its lexicon (NAME.memory, core/memoryfile.py); this stage follows the word the committed text is
writing (a word is a run of ASCII letters, lower-cased, as bench/quality.py counts words: "Don't"
is "don" and "t", "GFP_KERNEL" is "gfp" and "kernel"), and before each draw the characters that
would coin a word are pushed down: a letter after which no word of any playing style's lexicon
begins so, and anything but a letter after a word none of them holds. /words scales the push in
e-folds (sampling.push_down): 1 leaves them out (alone, the styles then write 99.8-100% words);
0.05 makes them e times less likely. The lookahead pushes each path's draw the same way, so a path
never writes what the committed text could not.

Where a playing style has no lexicon (a memory written before lexicons were kept, or none), the
words cannot be judged and nothing is pushed; where the open word already begins no word (primed,
or written at /words 0), nothing is pushed until it ends; where no character would keep to a word,
the row is left as it is (push_down).
"""
from __future__ import annotations

import re
from bisect import bisect_left

import numpy as np

from .sampling import TOTAL, push_down

WORD = re.compile(r"[A-Za-z]+")
LETTER = np.zeros(128, dtype=bool)
LETTER[ord("a"):ord("z") + 1] = LETTER[ord("A"):ord("Z") + 1] = True
_SEPARATOR = b"\n"
_LOWER = bytes(range(ord("a"), ord("z") + 1))


class Lexicon:
    """Sorted, distinct, lower-case words."""

    def __init__(self, words):
        self.words = sorted(set(words))

    @classmethod
    def of_text(cls, text: str) -> Lexicon:
        return cls(WORD.findall(text.lower()))

    @classmethod
    def of_ids(cls, ids: np.ndarray) -> Lexicon:
        """The words of a text of the shared vocabulary's ids (core/vocab.py: ASCII codes)."""
        return cls.of_text(np.ascontiguousarray(ids, dtype=np.uint8).tobytes().decode("ascii"))

    def to_bytes(self) -> bytes:
        return _SEPARATOR.join(w.encode("ascii") for w in self.words)

    @classmethod
    def from_bytes(cls, data: bytes) -> Lexicon:
        """ValueError unless data is distinct lower-case words in order, one per line."""
        if data.translate(None, _LOWER + _SEPARATOR) or b"\n\n" in data or data[:1] == b"\n" or data[-1:] == b"\n":
            raise ValueError("words are lower-case ASCII letters, one per line")
        words = data.decode("ascii").split("\n") if data else []
        if any(a >= b for a, b in zip(words, words[1:])):
            raise ValueError("words must be distinct and in order")
        lexicon = cls.__new__(cls)
        lexicon.words = words
        return lexicon

    def __len__(self) -> int:
        return len(self.words)

    def after(self, prefix: str) -> tuple[bool, bool, str]:
        """(whether some word starts with prefix, whether prefix is a word, the letters that
        follow it in some word). One bisection per letter that follows, not one per letter of the
        alphabet: the words that start with prefix are one run of the sorted list."""
        words, n = self.words, len(prefix)
        lo = bisect_left(words, prefix)
        hi = bisect_left(words, prefix + "{", lo)  # "{" sorts after "z"
        is_word = lo < hi and words[lo] == prefix
        letters, i = [], lo + is_word
        while i < hi:
            c = words[i][n]
            letters.append(c)
            i = bisect_left(words, prefix + chr(ord(c) + 1), i, hi)
        return lo < hi, is_word, "".join(letters)


def extend_word(word: str, x: int) -> str:
    """The open word once character x is written after it ("" after anything but a letter)."""
    return word + chr(x | 32) if LETTER[x] else ""


class Words:
    """The committed text's open word, and which characters keep a word to the styles' lexicons."""

    def __init__(self, lexicons: list[Lexicon | None]):
        self.lexicons = list(lexicons)
        self.open = ""  # the committed letters of the word being written, lower-cased
        self._masks: dict[tuple, np.ndarray | None] = {}

    def reset(self) -> None:
        """The stage protocol (core/stages.py): the text is forgotten, its open word with it."""
        self.open = ""

    def accept(self, x: int, heard=None) -> None:
        """The stage protocol: x is committed (written or primed)."""
        self.open = extend_word(self.open, x)

    def along(self, paths: np.ndarray) -> list[str]:
        """For K lookahead paths (their pending characters, (K, D)): the word each leaves open."""
        words = []
        for path in paths.tolist():
            word = self.open
            for x in path:
                word = extend_word(word, x)
            words.append(word)
        return words

    def coins(self, active: tuple, word: str) -> np.ndarray | None:
        """(128,) the characters that would coin a word after the open `word`; None where nothing is
        judged (a playing style has no lexicon, the word already begins none, or every character
        would). Remembered: a piece returns to the same few thousand prefixes."""
        key = (active, word)
        if key not in self._masks:
            if len(self._masks) >= CACHE:
                self._masks.clear()
            self._masks[key] = self._coins(active, word)
        return self._masks[key]

    def _coins(self, active: tuple, word: str) -> np.ndarray | None:
        lexicons = [self.lexicons[i] for i in active]
        if not lexicons or any(lexicon is None for lexicon in lexicons):
            return None
        begun = is_word = False
        letters = set()
        for lexicon in lexicons:
            b, w, follow = lexicon.after(word)
            begun, is_word = begun or b, is_word or w
            letters.update(follow)
        if word and not begun:
            return None
        coins = LETTER.copy()
        for c in letters:
            coins[[ord(c), ord(c) - 32]] = False
        coins[~LETTER] = bool(word) and not is_word
        return None if coins.all() else coins


CACHE = 1 << 16  # open words whose pushes are remembered, per active set and word


def keep_words(p: np.ndarray, coins, level: float) -> np.ndarray:
    """p (128,) or (K, 128) with each row's coining characters (a mask, or None: nothing judged)
    pushed down level x TOTAL e-folds (rows renormalised; level 0 leaves p alone)."""
    masks = [coins] if np.ndim(p) == 1 else coins
    if level <= 0 or all(m is None for m in masks):
        return p
    out = np.array(p, dtype=np.float64)
    view = out.reshape(-1, out.shape[-1])
    for row, mask in zip(view, masks):
        if mask is not None:
            push_down(row, np.flatnonzero(mask), level * TOTAL)
    return out
