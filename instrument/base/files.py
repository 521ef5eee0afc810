"""Reading and writing the instrument's own small files (presets, mappings, cards, recipes,
themes, recordings) safely: whatever a file holds, it gets a clear message naming it, and nothing
else changes.

- Only regular files are read: a FIFO would block the reader forever, /dev/zero fill memory.
- Files are capped in size (a preset or a mapping is a few hundred bytes; 64 KB is generous), and
  in structure (a thousand brackets and list items), before any parsing: the parser holds Python's
  lock, and the engine's loop needs it.
- Text must be UTF-8; an error names the file and the byte.
- YAML is read without anchors and aliases: nine nested levels of `&a [*a, *a, ...]` expand to
  billions of nodes (a preset recalled over OSC took 2.9 GB and the OSC thread with it). None of
  the instrument's files needs them.
- A value quoted in a message is cut short (`brief`): an error never prints a whole value.
- Writes go to a file beside the target, then are renamed over it: a reader never sees half.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

import yaml

from ..core.weights import atomic_write  # the one write-then-rename, shared with the model files

SMALL = 64_000  # bytes: presets, mappings, cards, recipes, themes (theirs are 0.2-4 KB)


class FileProblem(ValueError):
    """A file that cannot be used; the message names it and says why."""


def brief(value, limit: int = 60) -> str:
    """repr(value), cut to `limit` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


_CONTROLS = {c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7f, 0xa0)]}  # C0, DEL and C1


def escaped(text: str, keep: str = "") -> str:
    """A text with every control character (an escape sequence's ESC, a bell, a newline) shown as
    \\xNN: a string a client or a file supplies can never drive the performer's terminal (clear
    it, retitle it, forge a line). `keep`: the controls left as they are."""
    return str(text).translate({c: v for c, v in _CONTROLS.items() if chr(c) not in keep})


def clip(text: str, limit: int = 60) -> str:
    """A text (an address, a name) with its controls escaped, cut to `limit` characters."""
    text = escaped(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_regular(path: Path, limit: int = SMALL) -> int:
    """The size of a regular file of at most `limit` bytes, or FileProblem: a FIFO would block its
    reader forever, /dev/zero fill memory, a folder is not a file."""
    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise FileProblem(f"{path}: no such file") from None
    except OSError as e:
        raise FileProblem(f"{path}: cannot read: {e.strerror or e}") from None
    if not stat.S_ISREG(info.st_mode):
        raise FileProblem(f"{path}: not a regular file (a FIFO, a device or a folder); refused")
    if info.st_size > limit:
        raise FileProblem(f"{path}: {info.st_size:,} bytes, more than the {limit:,} such a file may have")
    return info.st_size


def read_bytes(path: Path, limit: int = SMALL) -> bytes:
    """The bytes of a regular file of at most `limit` bytes, or FileProblem."""
    path = Path(path)
    check_regular(path, limit)
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as e:
        raise FileProblem(f"{path}: cannot read: {e.strerror or e}") from None
    if len(data) > limit:  # it grew between the stat and the read
        raise FileProblem(f"{path}: more than the {limit:,} bytes such a file may have")
    return data


def read_text(path: Path, limit: int = SMALL) -> str:
    data = read_bytes(path, limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise FileProblem(f"{path}: not UTF-8 text (byte {e.start}: {data[e.start:e.start + 1]!r})") from None


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml where PyYAML has it: 5x faster
MAX_NESTING_MARKS = 1000  # [ { "- " in a file: a mapping of every style has ~30, a bomb or a nest thousands
MAX_LINES = 5000


def _refuse_structure(path: Path, text: str) -> None:
    """Refuse, cheaply and before any parsing, what none of the instrument's files has: a parser
    working through 100,000 nested brackets held the Python lock for most of a second, and the
    engine with it; anchors and aliases (the "billion laughs")."""
    marks = text.count("[") + text.count("{") + text.count("- ")
    if marks > MAX_NESTING_MARKS or text.count("\n") > MAX_LINES:
        raise FileProblem(f"{path}: {marks:,} brackets and list items over {text.count(chr(10)):,} lines: "
                          f"more than such a file has (at most {MAX_NESTING_MARKS:,} and {MAX_LINES:,})")
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            line = event.start_mark.line + 1 if event.start_mark else "?"
            raise FileProblem(f"{path}: line {line}: anchors and aliases (&name, *name) are not allowed here")


def read_yaml(path: Path, limit: int = SMALL):
    """A small YAML file's contents (None for an empty one), or FileProblem naming the file."""
    text = read_text(path, limit)
    try:
        _refuse_structure(path, text)
        return yaml.load(text, Loader=_LOADER)  # noqa: S506 (a safe loader)
    except FileProblem:
        raise
    except yaml.YAMLError as e:
        raise FileProblem(f"{path}: not valid YAML: {' '.join(str(e).split())[:300]}") from None
    except ValueError as e:  # an integer of thousands of digits (over Python's limit on int(text))
        why = "a number of thousands of digits" if "digits" in str(e) else clip(str(e), 120)
        raise FileProblem(f"{path}: holds a value that cannot be read ({why})") from None
    except RecursionError:
        raise FileProblem(f"{path}: nested too deeply to be one of the instrument's files") from None


def write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_yaml(path: Path, data) -> None:
    write_text(path, yaml.safe_dump(data, sort_keys=False))


ORPHAN_AGE = 60.0  # seconds: a temporary file this old is no write in progress (one takes milliseconds)


def clear_orphans(folder: Path) -> list[Path]:
    """Remove what a write killed mid-way left in a folder (atomic_write's `.NAME.tmp`, found once
    in 20 SIGKILLs during a preset save); returns what was removed. Young ones are left alone: another
    instrument on the same folder may be writing."""
    import time

    removed = []
    try:
        candidates = list(Path(folder).glob(".*.tmp"))
    except OSError:
        return removed
    for path in candidates:
        try:
            if path.is_file() and not path.is_symlink() and time.time() - path.stat().st_mtime > ORPHAN_AGE:
                path.unlink()
                removed.append(path)
        except OSError:
            continue
    return removed
