"""The shared ASCII-128 vocabulary: every model reads and predicts the same 128 symbols."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np

VOCAB_SIZE = 128
NEWLINE = ord("\n")

# Punctuation that NFKD leaves non-ASCII; accents are handled by decomposition.
_PUNCTUATION = {
    "«": '"', "»": '"', "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"',
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "´": "'",
    "—": "--", "–": "-", "‒": "-", "−": "-", "‐": "-", "‑": "-",
    "…": "...", "•": "*", "·": ".", "×": "x", "÷": "/", "±": "+/-",
    "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u2002": " ", "\u2003": " ",
    "œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "ø": "o", "Ø": "O",
    "ð": "d", "Ð": "D", "þ": "th", "Þ": "Th", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D",
    "½": "1/2", "¼": "1/4", "¾": "3/4", "©": "(c)", "®": "(R)", "™": "(TM)",
    "\r": "",  # CRLF -> LF; a lone CR is dropped with it
}

# Control characters a model may read and write; every other one is never produced.
_ALLOWED_CONTROL = {ord("\n"), ord("\t")}
PRINTABLE = np.array([c in _ALLOWED_CONTROL or 32 <= c < 127 for c in range(VOCAB_SIZE)])


@dataclass(frozen=True)
class Transliteration:
    """ASCII text and how many source characters could not be mapped (and were dropped)."""

    text: str
    dropped: int


def _ascii_for(ch: str) -> str | None:
    """The ASCII spelling of one non-ASCII or control character, or None if it has none."""
    if ch in _PUNCTUATION:
        return _PUNCTUATION[ch]
    if ord(ch) < 128:
        return ch if (ord(ch) in _ALLOWED_CONTROL or 32 <= ord(ch) < 127) else None
    stripped = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    if stripped and all(32 <= ord(c) < 127 for c in stripped):
        return stripped
    return None


def transliterate(text: str) -> Transliteration:
    """Map text onto printable ASCII plus newline and tab: accents stripped, quotes and dashes
    spelled in ASCII; what cannot be mapped is dropped and counted."""
    odd = {ch for ch in set(text) if not (32 <= ord(ch) < 127 or ord(ch) in _ALLOWED_CONTROL)}
    if not odd:
        return Transliteration(text, 0)
    table = {ord(ch): _ascii_for(ch) for ch in odd}
    dropped = sum(text.count(ch) for ch in odd if table[ord(ch)] is None)
    return Transliteration(text.translate(table), dropped)


def encode(text: str) -> np.ndarray:
    """Token ids (uint8, 0..127) of text; the text is transliterated first."""
    ascii_text = transliterate(text).text
    return np.frombuffer(ascii_text.encode("ascii"), dtype=np.uint8).copy()


def decode(ids) -> str:
    """Text of token ids; control characters other than newline and tab are never produced."""
    arr = np.asarray(ids, dtype=np.int64).ravel()
    keep = arr[(arr >= 0) & (arr < VOCAB_SIZE)]
    keep = keep[PRINTABLE[keep]]
    return keep.astype(np.uint8).tobytes().decode("ascii")
