"""Reading the PCM a speech driver wrote: WAV (espeak-ng, SAPI 5) or AIFF (macOS's
NSSpeechSynthesizer writes AIFF whatever the file is called). The standard library's aifc module
is gone from Python 3.13, so AIFF is read here: a FORM container with a COMM chunk (channels,
frames, sample size, rate as an 80-bit float) and an SSND chunk of big-endian samples (AIFF-C's
"sowt" is little-endian)."""
from __future__ import annotations

import math
import struct
import wave
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PcmParams:
    channels: int
    width: int   # bytes per sample
    rate: int    # frames per second

    def seconds(self, frames: bytes) -> float:
        """How long these frames sound."""
        return len(frames) / (self.channels * self.width * self.rate)


class AudioFileError(ValueError):
    """A file that is neither WAV nor uncompressed AIFF; names the file."""


def read_pcm(path: Path) -> tuple[PcmParams, bytes]:
    """The parameters and little-endian frames of a WAV or AIFF file."""
    head = Path(path).read_bytes()[:12]
    if head[:4] == b"RIFF":
        with wave.open(str(path), "rb") as w:
            return PcmParams(w.getnchannels(), w.getsampwidth(), w.getframerate()), w.readframes(w.getnframes())
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return _read_aiff(Path(path).read_bytes())
    raise AudioFileError(f"{path}: not a WAV or AIFF file (starts {head[:4]!r})")


def _extended(b: bytes) -> float:
    """An IEEE 754 80-bit extended float (AIFF's sample rate)."""
    exponent, mantissa = struct.unpack(">HQ", b)
    sign = -1 if exponent & 0x8000 else 1
    exponent &= 0x7FFF
    if exponent == 0 and mantissa == 0:
        return 0.0
    return sign * math.ldexp(mantissa, exponent - 16383 - 63)


def _read_aiff(data: bytes) -> tuple[PcmParams, bytes]:
    kind, at = data[8:12], 12
    params, frames, little = None, None, False
    while at + 8 <= len(data):
        chunk, size = data[at : at + 4], struct.unpack(">I", data[at + 4 : at + 8])[0]
        body = data[at + 8 : at + 8 + size]
        if chunk == b"COMM":
            channels, _, bits = struct.unpack(">hIh", body[:8])
            params = PcmParams(channels, (bits + 7) // 8, int(round(_extended(body[8:18]))))
            if kind == b"AIFC":
                compression = body[18:22]
                if compression not in (b"NONE", b"sowt"):
                    raise AudioFileError(f"AIFF-C compression {compression!r} is not supported")
                little = compression == b"sowt"
        elif chunk == b"SSND":
            offset = struct.unpack(">I", body[:4])[0]
            frames = body[8 + offset :]
        at += 8 + size + (size & 1)  # chunks are padded to an even length
    if params is None or frames is None:
        raise AudioFileError("AIFF without a COMM or SSND chunk")
    if not little and params.width > 1:
        frames = _swap(frames, params.width)
    elif params.width == 1:
        frames = bytes((b + 128) & 0xFF for b in frames)  # AIFF 8-bit is signed, WAV 8-bit unsigned
    return params, frames


def _swap(frames: bytes, width: int) -> bytes:
    """Big-endian samples to little-endian."""
    import numpy as np

    usable = len(frames) - len(frames) % width
    return np.frombuffer(frames[:usable], dtype=np.uint8).reshape(-1, width)[:, ::-1].tobytes()
